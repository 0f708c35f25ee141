{#- Fails with one row per combination of the given columns that occurs more than once. -#}
{% test unique_combination_of_columns(model, combination_of_columns, quote_columns=false) %}
    {{ return(adapter.dispatch('test_unique_combination_of_columns', 'dbt_utils')(model, combination_of_columns, quote_columns)) }}
{% endtest %}

{% macro default__test_unique_combination_of_columns(model, combination_of_columns, quote_columns=false) %}
{%- set columns = [] -%}
{%- for column in combination_of_columns -%}
    {%- do columns.append(adapter.quote(column) if quote_columns else column) -%}
{%- endfor -%}
{%- set column_list = columns | join(', ') %}

with validation as (
    select
        {{ column_list }},
        count(*) as n_rows
    from {{ model }}
    group by {{ column_list }}
),

failures as (
    select *
    from validation
    where n_rows > 1
)

select * from failures
{% endmacro %}
