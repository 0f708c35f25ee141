{#- Total variation distance between the category frequencies of `column_name` in the model
    (synthetic) and `compare_column` (default: the same name) in `compare_model` (real):
    half the sum over categories of |share in model - share in compare_model|, in [0, 1].
    NULL is a category of its own. Values are compared as strings, so the two columns may
    differ in type. Fails with one row when the distance is above `threshold`. -#}
{% test tvd(model, column_name, compare_model, compare_column=none, threshold=0.2) %}
    {%- do synthohive.check_number_argument('tvd', 'threshold', threshold, 0, 1) -%}
    {{ return(adapter.dispatch('test_tvd', 'synthohive')(
        model, column_name, compare_model, compare_column or column_name, threshold
    )) }}
{% endtest %}

{% macro default__test_tvd(model, column_name, compare_model, compare_column, threshold) %}
with tvd_points as (
    select {{ dbt.cast(column_name, dbt.type_string()) }} as category, 1 as from_model, 0 as from_compare
    from {{ model }}
    union all
    select {{ dbt.cast(compare_column, dbt.type_string()) }} as category, 0 as from_model, 1 as from_compare
    from {{ compare_model }}
),

-- group by keeps NULL as one group of its own on every warehouse
tvd_counts as (
    select
        category,
        sum(from_model) as n_model,
        sum(from_compare) as n_compare
    from tvd_points
    group by category
),

tvd_shares as (
    select
        sum(n_model) over () as total_model,
        sum(n_compare) over () as total_compare,
        {{ synthohive.fidelity_ratio('n_model', 'sum(n_model) over ()') }} as share_model,
        {{ synthohive.fidelity_ratio('n_compare', 'sum(n_compare) over ()') }} as share_compare
    from tvd_counts
),

tvd_statistic as (
    select
        coalesce(max(total_model), 0) as n_model,
        coalesce(max(total_compare), 0) as n_compare,
        count(*) as n_categories,
        case
            when coalesce(max(total_model), 0) = 0 and coalesce(max(total_compare), 0) = 0
                then 0.0
            when coalesce(max(total_model), 0) = 0 or coalesce(max(total_compare), 0) = 0
                then 1.0
            else 0.5 * sum(abs(share_model - share_compare))
        end as statistic
    from tvd_shares
)

select
    {{ dbt.string_literal(dbt.escape_single_quotes(column_name)) }} as column_name,
    statistic,
    {{ threshold }} as threshold,
    n_model,
    n_compare,
    n_categories
from tvd_statistic
where statistic > {{ threshold }}
{% endmacro %}
