{#- SQL building blocks shared by the fidelity tests. -#}

{#- numerator / denominator as a double; NULL when the denominator is 0 (no division error
    on Postgres, Snowflake or BigQuery). -#}
{% macro fidelity_ratio(numerator, denominator) %}
    {{ return(adapter.dispatch('fidelity_ratio', 'synthohive')(numerator, denominator)) }}
{% endmacro %}

{% macro default__fidelity_ratio(numerator, denominator) -%}
    {{ dbt.cast(numerator, dbt.type_float()) }} / nullif({{ dbt.cast(denominator, dbt.type_float()) }}, 0)
{%- endmacro %}

{#- dbt.type_float() is `float`, which DuckDB reads as 4-byte REAL. -#}
{% macro duckdb__fidelity_ratio(numerator, denominator) -%}
    cast({{ numerator }} as double) / nullif(cast({{ denominator }} as double), 0)
{%- endmacro %}


{#- Pearson correlation of the non-NULL pairs; NULL where it is undefined (fewer than two
    pairs, a constant column). Postgres returns NULL there; DuckDB and BigQuery return NaN
    for a zero variance, mapped to NULL below. (Snowflake does not document the case.) -#}
{% macro fidelity_corr(column_a, column_b) %}
    {{ return(adapter.dispatch('fidelity_corr', 'synthohive')(column_a, column_b)) }}
{% endmacro %}

{% macro default__fidelity_corr(column_a, column_b) -%}
    corr({{ dbt.cast(column_a, dbt.type_float()) }}, {{ dbt.cast(column_b, dbt.type_float()) }})
{%- endmacro %}

{#- no cast: `float` is 4-byte REAL on DuckDB, and corr() takes doubles -#}
{% macro duckdb__fidelity_corr(column_a, column_b) -%}
    case
        when isnan(corr({{ column_a }}, {{ column_b }})) then null
        else corr({{ column_a }}, {{ column_b }})
    end
{%- endmacro %}

{#- BigQuery's CORR returns NaN for a zero variance, and NaN compares false with anything -#}
{% macro bigquery__fidelity_corr(column_a, column_b) -%}
    if(
        is_nan(corr(cast({{ column_a }} as float64), cast({{ column_b }} as float64))),
        null,
        corr(cast({{ column_a }} as float64), cast({{ column_b }} as float64))
    )
{%- endmacro %}


{#- CTEs for the two-sample Kolmogorov-Smirnov statistic between the `point` columns of two
    relations (CTE names) that hold no NULLs. The statistic only depends on the order of the
    values, so any orderable type works (numbers, dates, timestamps) without a cast.
    Defines ks_statistic(n_model, n_compare, statistic): the largest distance between the two
    empirical CDFs, evaluated at every distinct value of either sample; 1 when exactly one
    sample is empty, 0 when both are. Ends without a comma. -#}
{% macro fidelity_ks_ctes(model_values, compare_values) -%}
ks_points as (
    select point, 1 as from_model, 0 as from_compare
    from {{ model_values }}
    union all
    select point, 0 as from_model, 1 as from_compare
    from {{ compare_values }}
),

ks_counts as (
    select
        point,
        sum(from_model) as n_model,
        sum(from_compare) as n_compare
    from ks_points
    group by point
),

ks_cumulative as (
    select
        sum(n_model) over (
            order by point rows between unbounded preceding and current row
        ) as cumulative_model,
        sum(n_compare) over (
            order by point rows between unbounded preceding and current row
        ) as cumulative_compare,
        sum(n_model) over () as total_model,
        sum(n_compare) over () as total_compare
    from ks_counts
),

ks_differences as (
    select
        total_model,
        total_compare,
        abs(
            {{ synthohive.fidelity_ratio('cumulative_model', 'total_model') }}
            - {{ synthohive.fidelity_ratio('cumulative_compare', 'total_compare') }}
        ) as difference
    from ks_cumulative
),

ks_statistic as (
    select
        coalesce(max(total_model), 0) as n_model,
        coalesce(max(total_compare), 0) as n_compare,
        case
            when coalesce(max(total_model), 0) = 0 and coalesce(max(total_compare), 0) = 0
                then 0.0
            when coalesce(max(total_model), 0) = 0 or coalesce(max(total_compare), 0) = 0
                then 1.0
            else max(difference)
        end as statistic
    from ks_differences
)
{%- endmacro %}
