{#- For each [column_a, column_b] in `pairs`: |Pearson correlation in the model (synthetic)
    - Pearson correlation in `compare_model` (real)|, in [0, 2], over the rows where both
    columns are non-NULL. Fails with one row per pair whose difference is above `threshold`,
    or whose correlation is defined (two or more pairs, no constant column) on one side only
    (statistic NULL). -#}
{% test correlation_difference(model, pairs, compare_model, threshold=0.3) %}
    {%- do synthohive.check_column_pairs_argument('correlation_difference', 'pairs', pairs) -%}
    {%- do synthohive.check_number_argument('correlation_difference', 'threshold', threshold, 0, 2) -%}
    {{ return(adapter.dispatch('test_correlation_difference', 'synthohive')(
        model, pairs, compare_model, threshold
    )) }}
{% endtest %}

{% macro default__test_correlation_difference(model, pairs, compare_model, threshold) %}
with model_correlations as (
    select
    {%- for pair in pairs %}
        {{ synthohive.fidelity_corr(pair[0], pair[1]) }} as correlation_{{ loop.index }}{{ "," if not loop.last }}
    {%- endfor %}
    from {{ model }}
),

compare_correlations as (
    select
    {%- for pair in pairs %}
        {{ synthohive.fidelity_corr(pair[0], pair[1]) }} as correlation_{{ loop.index }}{{ "," if not loop.last }}
    {%- endfor %}
    from {{ compare_model }}
),

pair_correlations as (
    {%- for pair in pairs %}
    select
        {{ dbt.string_literal(dbt.escape_single_quotes(pair[0])) }} as column_a,
        {{ dbt.string_literal(dbt.escape_single_quotes(pair[1])) }} as column_b,
        model_correlations.correlation_{{ loop.index }} as correlation_model,
        compare_correlations.correlation_{{ loop.index }} as correlation_compare
    from model_correlations
    cross join compare_correlations
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

pair_differences as (
    select
        column_a,
        column_b,
        correlation_model,
        correlation_compare,
        abs(correlation_model - correlation_compare) as statistic
    from pair_correlations
)

select
    column_a,
    column_b,
    correlation_model,
    correlation_compare,
    statistic,
    {{ threshold }} as threshold
from pair_differences
where statistic > {{ threshold }}
    or (correlation_model is null and correlation_compare is not null)
    or (correlation_model is not null and correlation_compare is null)
{% endmacro %}
