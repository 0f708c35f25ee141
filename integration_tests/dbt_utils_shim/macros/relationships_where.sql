{#- Like the built-in relationships test, restricted to the child rows that match
    from_condition and the parent rows that match to_condition. -#}
{% test relationships_where(model, column_name, to, field, from_condition="1=1", to_condition="1=1") %}
    {{ return(adapter.dispatch('test_relationships_where', 'dbt_utils')(model, column_name, to, field, from_condition, to_condition)) }}
{% endtest %}

{% macro default__test_relationships_where(model, column_name, to, field, from_condition="1=1", to_condition="1=1") %}

with children as (
    select {{ column_name }} as from_field
    from {{ model }}
    where {{ column_name }} is not null
      and {{ from_condition }}
),

parents as (
    select {{ field }} as to_field
    from {{ to }}
    where {{ to_condition }}
),

failures as (
    select children.from_field
    from children
    left join parents
        on children.from_field = parents.to_field
    where parents.to_field is null
)

select * from failures
{% endmacro %}
