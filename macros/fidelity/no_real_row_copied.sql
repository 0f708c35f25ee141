{#- Fails with the rows of the model (synthetic) that equal some row of `compare_model`
    (real) on every column in `columns`. Rows with a NULL in any of the columns are not
    compared (plain equality, not NULL-safe). -#}
{% test no_real_row_copied(model, compare_model, columns) %}
    {%- do synthohive.check_column_list_argument('no_real_row_copied', 'columns', columns) -%}
    {{ return(adapter.dispatch('test_no_real_row_copied', 'synthohive')(model, compare_model, columns)) }}
{% endtest %}

{% macro default__test_no_real_row_copied(model, compare_model, columns) %}
with synthetic_rows as (
    select {{ columns | join(', ') }}
    from {{ model }}
    where {% for column in columns %}{{ column }} is not null{% if not loop.last %} and {% endif %}{% endfor %}
),

real_rows as (
    select distinct {{ columns | join(', ') }}
    from {{ compare_model }}
    where {% for column in columns %}{{ column }} is not null{% if not loop.last %} and {% endif %}{% endfor %}
)

select
    {%- for column in columns %}
    synthetic_rows.{{ column }}{{ "," if not loop.last }}
    {%- endfor %}
from synthetic_rows
inner join real_rows
    on {% for column in columns %}synthetic_rows.{{ column }} = real_rows.{{ column }}{% if not loop.last %}
    and {% endif %}{% endfor %}
{% endmacro %}
