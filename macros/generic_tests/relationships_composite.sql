{#- Composite referential integrity: every non-null combination of `columns` in the model
    must exist as `fields` in `to`. Fails with the orphan rows. -#}
{% test relationships_composite(model, columns, to, fields) %}
  {%- do synthohive.check_column_list_argument('relationships_composite', 'columns', columns) -%}
  {%- do synthohive.check_column_list_argument('relationships_composite', 'fields', fields) -%}
  {%- if columns | length != fields | length -%}
    {{ exceptions.raise_compiler_error(
        "synthohive.relationships_composite: columns " ~ (columns | tojson) ~ " and fields "
        ~ (fields | tojson) ~ " must have the same length."
    ) }}
  {%- endif -%}
  {{ return(adapter.dispatch('test_relationships_composite', 'synthohive')(model, columns, to, fields)) }}
{% endtest %}

{% macro default__test_relationships_composite(model, columns, to, fields) %}
with children as (
    select {{ columns | join(', ') }}
    from {{ model }}
    where {% for c in columns %}{{ c }} is not null{% if not loop.last %} and {% endif %}{% endfor %}
),

parents as (
    select {% for f in fields %}{{ f }} as parent_key_{{ loop.index }}{% if not loop.last %}, {% endif %}{% endfor %}
    from {{ to }}
)

-- the orphans, under the child's column names
select children.*
from children
left join parents
    on {% for c in columns %}children.{{ c }} = parents.parent_key_{{ loop.index }}{% if not loop.last %} and {% endif %}{% endfor %}
where parents.parent_key_1 is null
{% endmacro %}
