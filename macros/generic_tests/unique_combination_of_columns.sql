{#- Composite-key uniqueness: fails with every combination that appears more than once.
    The synthohive namespace keeps generated YAML free of dbt Hub dependencies. -#}
{% test unique_combination_of_columns(model, combination_of_columns) %}
  {%- do synthohive.check_column_list_argument(
      'unique_combination_of_columns', 'combination_of_columns', combination_of_columns
  ) -%}
  {{ return(adapter.dispatch('test_unique_combination_of_columns', 'synthohive')(model, combination_of_columns)) }}
{% endtest %}

{% macro default__test_unique_combination_of_columns(model, combination_of_columns) %}
{%- set columns_csv = combination_of_columns | join(', ') %}
with combinations as (
    select {{ columns_csv }}, count(*) as n_rows
    from {{ model }}
    group by {{ columns_csv }}
)
select *
from combinations
where n_rows > 1
{% endmacro %}
