{#- Privacy: fails when a value of `column_name` in the model (synthetic) occurs in
    `compare_column` (default: the same name) of `compare_model` (real). Values are compared
    as strings, so the two columns may differ in type; NULLs are not compared. The failing
    row says how many distinct values were found, never which: a failure must not copy a
    real value into the test's output or a stored failure table. -#}
{% test no_real_value_copied(model, column_name, compare_model, compare_column=none) %}
    {{ return(adapter.dispatch('test_no_real_value_copied', 'synthohive')(
        model, column_name, compare_model, compare_column or column_name
    )) }}
{% endtest %}

{% macro default__test_no_real_value_copied(model, column_name, compare_model, compare_column) %}
with synthetic_values as (
    select distinct {{ dbt.cast(column_name, dbt.type_string()) }} as value
    from {{ model }}
    where {{ column_name }} is not null
),

real_values as (
    select distinct {{ dbt.cast(compare_column, dbt.type_string()) }} as value
    from {{ compare_model }}
    where {{ compare_column }} is not null
),

found as (
    select count(*) as copied_values
    from synthetic_values
    inner join real_values on synthetic_values.value = real_values.value
)

select
    {{ dbt.string_literal(dbt.escape_single_quotes(column_name)) }} as column_name,
    copied_values
from found
where copied_values > 0
{% endmacro %}
