{#- Composite referential integrity: every non-null combination of `columns` in the model
    must exist as `fields` in `to`. Fails with the orphan rows. -#}
{% test relationships_composite(model, columns, to, fields) %}
  {{ return(adapter.dispatch('test_relationships_composite', 'synthohive')(model, columns, to, fields)) }}
{% endtest %}

{% macro default__test_relationships_composite(model, columns, to, fields) %}
with children as (
    select {% for c in columns %}{{ c }} as key_{{ loop.index }}{% if not loop.last %}, {% endif %}{% endfor %}
    from {{ model }}
    where {% for c in columns %}{{ c }} is not null{% if not loop.last %} and {% endif %}{% endfor %}
),

parents as (
    select {% for f in fields %}{{ f }} as key_{{ loop.index }}{% if not loop.last %}, {% endif %}{% endfor %}
    from {{ to }}
)

select children.*
from children
left join parents
    on {% for c in columns %}children.key_{{ loop.index }} = parents.key_{{ loop.index }}{% if not loop.last %} and {% endif %}{% endfor %}
where parents.key_1 is null
{% endmacro %}
