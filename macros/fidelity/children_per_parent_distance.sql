{#- Kolmogorov-Smirnov statistic between the children-per-parent distributions of a foreign
    key: for every non-NULL `parent_field` of `parent_model`, the number of rows of the model
    whose `column_name` points to it (zero included), in the synthetic pair (model,
    parent_model) and in the real pair (compare_model on compare_column, compare_parent_model
    on compare_parent_field; the names default to column_name and parent_field). Children
    whose key matches no parent are not counted. Fails with one row when the statistic is
    above `threshold`. -#}
{% test children_per_parent_distance(
    model, column_name, parent_model, parent_field, compare_model, compare_parent_model,
    compare_column=none, compare_parent_field=none, threshold=0.2
) %}
    {%- do synthohive.check_number_argument('children_per_parent_distance', 'threshold', threshold, 0, 1) -%}
    {{ return(adapter.dispatch('test_children_per_parent_distance', 'synthohive')(
        model, column_name, parent_model, parent_field, compare_model, compare_parent_model,
        compare_column or column_name, compare_parent_field or parent_field, threshold
    )) }}
{% endtest %}

{% macro default__test_children_per_parent_distance(
    model, column_name, parent_model, parent_field, compare_model, compare_parent_model,
    compare_column, compare_parent_field, threshold
) %}
with model_parents as (
    select distinct {{ parent_field }} as parent_key
    from {{ parent_model }}
    where {{ parent_field }} is not null
),

model_children as (
    select {{ column_name }} as parent_key
    from {{ model }}
    where {{ column_name }} is not null
),

-- the left join keeps parents without children, with a count of 0
model_counts as (
    select
        model_parents.parent_key,
        count(model_children.parent_key) as point
    from model_parents
    left join model_children
        on model_children.parent_key = model_parents.parent_key
    group by model_parents.parent_key
),

compare_parents as (
    select distinct {{ compare_parent_field }} as parent_key
    from {{ compare_parent_model }}
    where {{ compare_parent_field }} is not null
),

compare_children as (
    select {{ compare_column }} as parent_key
    from {{ compare_model }}
    where {{ compare_column }} is not null
),

compare_counts as (
    select
        compare_parents.parent_key,
        count(compare_children.parent_key) as point
    from compare_parents
    left join compare_children
        on compare_children.parent_key = compare_parents.parent_key
    group by compare_parents.parent_key
),

count_means as (
    select
        (select avg(point) from model_counts) as mean_children_model,
        (select avg(point) from compare_counts) as mean_children_compare
),

{{ synthohive.fidelity_ks_ctes('model_counts', 'compare_counts') }}

select
    {{ dbt.string_literal(dbt.escape_single_quotes(column_name)) }} as column_name,
    ks_statistic.statistic,
    {{ threshold }} as threshold,
    ks_statistic.n_model as n_parents_model,
    ks_statistic.n_compare as n_parents_compare,
    count_means.mean_children_model,
    count_means.mean_children_compare
from ks_statistic
cross join count_means
where ks_statistic.statistic > {{ threshold }}
{% endmacro %}
