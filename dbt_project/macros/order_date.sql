{#-
  Order dates, as staging reads them. tests/backfill/test_parsing.py holds the Spark
  backfill's parser (backfill/staging.py) against these macros, compiled by dbt.

  DuckDB's strptime takes the words 'infinity', '-infinity' and 'epoch' whatever the format
  and returns 1900-01-01 for them, so a placeholder would land as a real, very old order. A
  text with a letter in it is never a date in these formats: it is not parsed at all.
-#}

{#- The order's timestamp: 'YYYY-MM-DD HH:MM:SS' or 'YYYY-MM-DD'; null when neither. -#}
{% macro parse_order_timestamp(column) -%}
    case
        when not regexp_matches({{ column }}, '[A-Za-z]')
            then coalesce(
                try_strptime(trim({{ column }}), '%Y-%m-%d %H:%M:%S'),
                try_strptime(trim({{ column }}), '%Y-%m-%d')
            )
    end
{%- endmacro %}

{#- Whether the text carries a time of day (parses with the timestamp format). -#}
{% macro has_time_of_day(column) -%}
    coalesce(
        not regexp_matches({{ column }}, '[A-Za-z]')
        and try_strptime(trim({{ column }}), '%Y-%m-%d %H:%M:%S') is not null,
        false
    )
{%- endmacro %}
