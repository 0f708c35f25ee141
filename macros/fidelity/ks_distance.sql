{#- Two-sample Kolmogorov-Smirnov statistic between `column_name` in the model (synthetic)
    and `compare_column` (default: the same name) in `compare_model` (real), NULLs ignored.
    For numeric, date and timestamp columns. Fails with one row when the statistic (the
    largest gap between the two empirical CDFs, in [0, 1]) is above `threshold`. -#}
{% test ks_distance(model, column_name, compare_model, compare_column=none, threshold=0.2) %}
    {%- do synthohive.check_number_argument('ks_distance', 'threshold', threshold, 0, 1) -%}
    {{ return(adapter.dispatch('test_ks_distance', 'synthohive')(
        model, column_name, compare_model, compare_column or column_name, threshold
    )) }}
{% endtest %}

{% macro default__test_ks_distance(model, column_name, compare_model, compare_column, threshold) %}
with model_values as (
    select {{ column_name }} as point
    from {{ model }}
    where {{ column_name }} is not null
),

compare_values as (
    select {{ compare_column }} as point
    from {{ compare_model }}
    where {{ compare_column }} is not null
),

{{ synthohive.fidelity_ks_ctes('model_values', 'compare_values') }}

select
    {{ dbt.string_literal(dbt.escape_single_quotes(column_name)) }} as column_name,
    statistic,
    {{ threshold }} as threshold,
    n_model,
    n_compare
from ks_statistic
where statistic > {{ threshold }}
{% endmacro %}
