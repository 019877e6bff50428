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

  The target's folder is created first (FEATURES_DIR after `rm -rf data`, or a new one):
  DuckDB's COPY does not create folders, and failed with "Cannot open file
  .../tmp_customer_features.parquet". tests/dbt/test_run_summary.py builds into a missing one.
-#}
{% macro write_to_file(relation, location, options) -%}
  {%- set lowered = options | lower -%}
  {%- if 'use_tmp_file' not in lowered and 'partition_by' not in lowered
        and 'per_thread_output' not in lowered -%}
    {%- set options = options ~ ', use_tmp_file true' -%}
  {%- endif -%}
  {{ ensure_directory(location.rsplit('/', 1)[0] if '/' in location else '') }}
  {% call statement('write_to_file') -%}
    copy {{ relation }} to '{{ location }}' ({{ options }})
  {%- endcall %}
{%- endmacro %}

{#-
  Create a local folder and its missing parents. DuckDB has no mkdir, but a partitioned COPY
  creates its target folder (one level, if missing) and, given no rows, writes no file in it;
  overwrite_or_ignore leaves an existing folder and its files alone. Remote locations
  (s3://...) have no folders to create.
-#}
{% macro ensure_directory(path) -%}
  {%- if path and '://' not in path -%}
    {%- set parts = path.split('/') -%}
    {%- for i in range(parts | length) -%}
      {%- set prefix = parts[:i + 1] | join('/') -%}
      {%- if prefix not in ('', '.', '..') and parts[i] not in ('', '.', '..') -%}
        {% call statement('ensure_directory') -%}
          copy (select 1 as part, 1 as x where false) to '{{ prefix | replace("'", "''") }}'
          (format csv, partition_by (part), overwrite_or_ignore true)
        {%- endcall %}
      {%- endif -%}
    {%- endfor -%}
  {%- endif -%}
{%- endmacro %}
