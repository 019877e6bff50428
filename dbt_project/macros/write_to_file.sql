{#-
  Overrides dbt-duckdb's write_to_file (adapters.sql), which the external materialization
  calls to write a mart's file: `copy <relation> to '<location>' (<options>)`.

  DuckDB's COPY writes a single file in place unless told otherwise: by default ("auto") it
  goes through a temporary file only when the target already exists, so the very first build
  killed half way leaves a truncated customer_features.parquet where Feast reads it.
  `use_tmp_file true` makes every single-file write go to `tmp_<name>` in the same folder and
  rename(2) it over the target at the end: a reader sees the old whole file or the new whole
  file, never part of one. A `tmp_<name>` left by a killed build is truncated and rewritten by
  the next one. Partitioned / per-thread writes (a folder, not a file) are left as they were:
  DuckDB does not support use_tmp_file there.
  tests/reliability/test_interrupted_dbt_build.py kills a build mid-write and checks this.
-#}
{% macro write_to_file(relation, location, options) -%}
  {%- set lowered = options | lower -%}
  {%- if 'use_tmp_file' not in lowered and 'partition_by' not in lowered
        and 'per_thread_output' not in lowered -%}
    {%- set options = options ~ ', use_tmp_file true' -%}
  {%- endif -%}
  {% call statement('write_to_file') -%}
    copy {{ relation }} to '{{ location }}' ({{ options }})
  {%- endcall %}
{%- endmacro %}
