{#- An md5 hash over the given columns (or expressions), each cast to text with NULL
    replaced by a placeholder and the parts joined with '-', so that (1, null) and
    (null, 1) hash differently. Same signature and same hash as dbt_utils'. -#}
{% macro generate_surrogate_key(field_list) %}
    {{ return(adapter.dispatch('generate_surrogate_key', 'dbt_utils')(field_list)) }}
{% endmacro %}

{% macro default__generate_surrogate_key(field_list) %}
{%- set null_placeholder = "" if var('surrogate_key_treat_nulls_as_empty_strings', false) else "_dbt_utils_surrogate_key_null_" -%}
{%- set parts = [] -%}
{%- for field in field_list -%}
    {%- if not loop.first -%}
        {%- do parts.append("'-'") -%}
    {%- endif -%}
    {%- do parts.append("coalesce(" ~ dbt.cast(field, dbt.type_string()) ~ ", '" ~ null_placeholder ~ "')") -%}
{%- endfor -%}
{{ dbt.hash(dbt.concat(parts)) }}
{%- endmacro %}
