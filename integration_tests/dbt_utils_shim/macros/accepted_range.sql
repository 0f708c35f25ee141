{#- Fails with one row per value of column_name outside [min_value, max_value]. Nulls pass. -#}
{% test accepted_range(model, column_name, min_value=none, max_value=none, inclusive=true) %}
    {{ return(adapter.dispatch('test_accepted_range', 'dbt_utils')(model, column_name, min_value, max_value, inclusive)) }}
{% endtest %}

{% macro default__test_accepted_range(model, column_name, min_value=none, max_value=none, inclusive=true) %}
{%- if min_value is none and max_value is none -%}
    {{ exceptions.raise_compiler_error("accepted_range on " ~ model ~ "." ~ column_name ~ " needs min_value, max_value or both") }}
{%- endif -%}
{%- set lower = ">=" if inclusive else ">" -%}
{%- set upper = "<=" if inclusive else "<" %}

with validation as (
    select {{ column_name }} as tested_value
    from {{ model }}
    where {{ column_name }} is not null
),

failures as (
    select *
    from validation
    where not (
        1 = 1
        {%- if min_value is not none %}
        and tested_value {{ lower }} {{ min_value }}
        {%- endif %}
        {%- if max_value is not none %}
        and tested_value {{ upper }} {{ max_value }}
        {%- endif %}
    )
)

select * from failures
{% endmacro %}
