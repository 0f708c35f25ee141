{#- |share of NULLs in `column_name` of the model (synthetic) - share of NULLs in
    `compare_column` (default: the same name) of `compare_model` (real)|, in [0, 1].
    Fails with one row when the difference is above `threshold`. -#}
{% test null_rate_difference(model, column_name, compare_model, compare_column=none, threshold=0.1) %}
    {%- do synthohive.check_number_argument('null_rate_difference', 'threshold', threshold, 0, 1) -%}
    {{ return(adapter.dispatch('test_null_rate_difference', 'synthohive')(
        model, column_name, compare_model, compare_column or column_name, threshold
    )) }}
{% endtest %}

{% macro default__test_null_rate_difference(model, column_name, compare_model, compare_column, threshold) %}
with model_nulls as (
    select
        count(*) as n_rows,
        sum(case when {{ column_name }} is null then 1 else 0 end) as n_nulls
    from {{ model }}
),

compare_nulls as (
    select
        count(*) as n_rows,
        sum(case when {{ compare_column }} is null then 1 else 0 end) as n_nulls
    from {{ compare_model }}
),

null_rates as (
    select
        model_nulls.n_rows as n_model,
        compare_nulls.n_rows as n_compare,
        {{ synthohive.fidelity_ratio('model_nulls.n_nulls', 'model_nulls.n_rows') }} as null_rate_model,
        {{ synthohive.fidelity_ratio('compare_nulls.n_nulls', 'compare_nulls.n_rows') }} as null_rate_compare
    from model_nulls
    cross join compare_nulls
),

null_rate_statistic as (
    select
        n_model,
        n_compare,
        null_rate_model,
        null_rate_compare,
        case
            when n_model = 0 and n_compare = 0 then 0.0
            when n_model = 0 or n_compare = 0 then 1.0
            else abs(null_rate_model - null_rate_compare)
        end as statistic
    from null_rates
)

select
    {{ dbt.string_literal(dbt.escape_single_quotes(column_name)) }} as column_name,
    null_rate_model,
    null_rate_compare,
    statistic,
    {{ threshold }} as threshold,
    n_model,
    n_compare
from null_rate_statistic
where statistic > {{ threshold }}
{% endmacro %}
