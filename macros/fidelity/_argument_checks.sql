{#- Argument checks shared by the synthohive generic tests. They run when dbt parses the
    project, so a bad argument stops `dbt parse` with a message that names the test, the
    argument, the value and the allowed range. -#}

{#- A number (not a boolean) between min_value and max_value; either bound may be none. -#}
{% macro check_number_argument(test_name, argument, value, min_value=none, max_value=none) %}
    {%- set is_number = value is number and value is not boolean -%}
    {%- if not is_number
          or (min_value is not none and value < min_value)
          or (max_value is not none and value > max_value) -%}
        {%- if min_value is not none and max_value is not none -%}
            {%- set expected = "a number between " ~ min_value ~ " and " ~ max_value -%}
        {%- elif min_value is not none -%}
            {%- set expected = "a number >= " ~ min_value -%}
        {%- elif max_value is not none -%}
            {%- set expected = "a number <= " ~ max_value -%}
        {%- else -%}
            {%- set expected = "a number" -%}
        {%- endif -%}
        {{ exceptions.raise_compiler_error(
            "synthohive." ~ test_name ~ ": " ~ argument ~ " must be " ~ expected
            ~ ", got " ~ (value | tojson) ~ "."
        ) }}
    {%- endif -%}
{% endmacro %}

{#- A non-empty list of column names (a plain string is a common mistake: it is refused). -#}
{% macro check_column_list_argument(test_name, argument, value) %}
    {#- a list collects problems: a `set` inside a for loop does not outlive the loop -#}
    {%- set problems = [] -%}
    {%- if value is string or value is mapping or value is not iterable or value | length == 0 -%}
        {%- do problems.append(value) -%}
    {%- else -%}
        {%- for column in value -%}
            {%- if column is not string or column | trim | length == 0 -%}
                {%- do problems.append(column) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {%- if problems -%}
        {{ exceptions.raise_compiler_error(
            "synthohive." ~ test_name ~ ": " ~ argument
            ~ " must be a non-empty list of column names, such as [col_a, col_b], got "
            ~ (value | tojson) ~ "."
        ) }}
    {%- endif -%}
{% endmacro %}

{#- A non-empty list of [column_a, column_b] pairs. -#}
{% macro check_column_pairs_argument(test_name, argument, value) %}
    {%- set problems = [] -%}
    {%- if value is string or value is mapping or value is not iterable or value | length == 0 -%}
        {%- do problems.append(value) -%}
    {%- else -%}
        {%- for pair in value -%}
            {%- if pair is string or pair is mapping or pair is not iterable
                   or pair | length != 2
                   or pair[0] is not string or pair[1] is not string -%}
                {%- do problems.append(pair) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {%- if problems -%}
        {{ exceptions.raise_compiler_error(
            "synthohive." ~ test_name ~ ": " ~ argument
            ~ " must be a non-empty list of [column_a, column_b] pairs, such as"
            ~ " [[amount, score]], got " ~ (value | tojson) ~ "."
        ) }}
    {%- endif -%}
{% endmacro %}
