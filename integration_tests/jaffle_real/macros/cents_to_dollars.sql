{#- An integer amount of cents as dollars, a numeric with `scale` decimals. Dispatched
    (project namespace first) because integer division and numeric casts differ. -#}
{% macro cents_to_dollars(column_name, scale=2) %}
    {{ return(adapter.dispatch('cents_to_dollars')(column_name, scale)) }}
{% endmacro %}

{% macro default__cents_to_dollars(column_name, scale=2) -%}
    cast(({{ column_name }}) / 100.0 as numeric(16, {{ scale }}))
{%- endmacro %}

{#- Postgres: cast first, then divide, so the division is exact numeric arithmetic. -#}
{% macro postgres__cents_to_dollars(column_name, scale=2) -%}
    (cast({{ column_name }} as numeric(16, {{ scale }})) / 100)
{%- endmacro %}
