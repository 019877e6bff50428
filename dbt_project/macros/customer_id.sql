{#-
  The one customer-id rule, in SQL. Its settings are the customer_id_* vars in
  dbt_project.yml; ingest/customer_ids.py applies the same vars in Python (API, Spark
  backfill), and tests/ingest/test_customer_ids.py proves both give the same answers.

  Null markers are compared only with ASCII ids: markers are ASCII, and DuckDB's lower()
  folds some non-ASCII letters to ASCII ('İ' -> 'i', KELVIN SIGN -> 'k') where Python and
  Java do not, so without the guard 'nİl' would be missing here and a customer in the API.
  ASCII ids are exactly those whose byte length equals their character length.
-#}

{% macro customer_id_trim_chars() -%}
    ({%- for cp in var('customer_id_trim_codepoints') -%}
        chr({{ cp }}){% if not loop.last %} || {% endif %}
    {%- endfor -%})
{%- endmacro %}

{#- The id as stored: trimmed at both ends, case kept; empty means missing. -#}
{% macro normalize_customer_id(column) -%}
    nullif(trim({{ column }}, {{ customer_id_trim_chars() }}), '')
{%- endmacro %}

{#- Why a normalised id cannot be a customer's key (null when it can). -#}
{% macro customer_id_reject_reason(id) -%}
    case
        when
            {{ id }} is null
            or (
                strlen({{ id }}) = length({{ id }})
                and lower({{ id }}) in (
                    {%- for marker in var('customer_id_null_markers') -%}
                        '{{ marker | lower | replace("'", "''") }}'{% if not loop.last %}, {% endif %}
                    {%- endfor -%}
                )
            )
            then 'missing_customer_id'
        when
            length({{ id }}) > {{ var('customer_id_max_length') }}
            or regexp_matches({{ id }}, '[\x00-\x1F\x7F-\x9F]')
            then 'invalid_customer_id'
    end
{%- endmacro %}
