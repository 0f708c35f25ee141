{#- Fails with one row per row of the model where the SQL expression is false (a NULL
    result passes, as in dbt_utils). On a column, the expression is appended to the
    column name: `expression: ">= 0"` checks `column_name >= 0`. -#}
{% test expression_is_true(model, expression, column_name=none) %}
    {{ return(adapter.dispatch('test_expression_is_true', 'dbt_utils')(model, expression, column_name)) }}
{% endtest %}

{% macro default__test_expression_is_true(model, expression, column_name=none) %}
{%- set condition = expression if column_name is none else column_name ~ " " ~ expression %}

select *
from {{ model }}
where not ({{ condition }})
{% endmacro %}
