{#-
  The staging policies set in dbt_project.yml vars, checked when a model compiles: a typo
  ('rejects', 'exact') fails the build with the allowed values instead of silently falling
  through to some other behaviour.
-#}

{% macro staging_policy(name) -%}
    {%- set allowed = {
        'zero_amount_policy': ['reject', 'keep'],
        'duplicates_without_order_id_or_time': ['exact_row', 'same_values', 'keep'],
    }[name] -%}
    {%- set value = var(name) -%}
    {%- if value not in allowed -%}
        {{ exceptions.raise_compiler_error(
            "var " ~ name ~ " is '" ~ value ~ "'; allowed: " ~ allowed | join(", ")) }}
    {%- endif -%}
    {{- value -}}
{%- endmacro %}

{#- The min_order_date var as a timestamp literal, checked to be a real date. -#}
{% macro min_order_timestamp() -%}
    {%- set value = var('min_order_date') | string -%}
    {%- if not modules.re.fullmatch('[0-9]{4}-[0-9]{2}-[0-9]{2}', value) -%}
        {{ exceptions.raise_compiler_error(
            "var min_order_date is '" ~ value ~ "'; expected YYYY-MM-DD") }}
    {%- endif -%}
    cast('{{ value }}' as timestamp)
{%- endmacro %}
