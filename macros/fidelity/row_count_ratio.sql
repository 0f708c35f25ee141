{#- rows(model) / rows(compare_model): the synthetic table's size relative to the real one.
    Fails with one row when the ratio is outside [min_ratio, max_ratio], or when
    compare_model is empty and the model is not (two empty relations pass). -#}
{% test row_count_ratio(model, compare_model, min_ratio=0.5, max_ratio=2.0) %}
    {%- do synthohive.check_number_argument('row_count_ratio', 'min_ratio', min_ratio, 0) -%}
    {%- do synthohive.check_number_argument('row_count_ratio', 'max_ratio', max_ratio, 0) -%}
    {%- if min_ratio > max_ratio -%}
        {{ exceptions.raise_compiler_error(
            "synthohive.row_count_ratio: min_ratio (" ~ min_ratio ~ ") must not be greater than"
            ~ " max_ratio (" ~ max_ratio ~ ")."
        ) }}
    {%- endif -%}
    {{ return(adapter.dispatch('test_row_count_ratio', 'synthohive')(
        model, compare_model, min_ratio, max_ratio
    )) }}
{% endtest %}

{% macro default__test_row_count_ratio(model, compare_model, min_ratio, max_ratio) %}
with model_rows as (
    select count(*) as n_model
    from {{ model }}
),

compare_rows as (
    select count(*) as n_compare
    from {{ compare_model }}
),

row_counts as (
    select
        n_model,
        n_compare,
        {{ synthohive.fidelity_ratio('n_model', 'n_compare') }} as statistic
    from model_rows
    cross join compare_rows
)

select
    n_model,
    n_compare,
    statistic,
    {{ min_ratio }} as min_ratio,
    {{ max_ratio }} as max_ratio
from row_counts
where statistic < {{ min_ratio }}
    or statistic > {{ max_ratio }}
    or (n_compare = 0 and n_model > 0)
{% endmacro %}
