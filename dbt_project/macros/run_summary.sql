{#-
  The staging summary printed at the end of every `dbt build` / `dbt run` that built
  stg_transactions__typed (an on-run-end hook in dbt_project.yml): raw rows read, kept,
  deduplicated per rule and rejected per reason, with the policies that decided them. The
  rows come from the typed model, the one every staging model filters, so the numbers add up
  to the raw row count by construction (the conservation test checks the models too).
  tests/dbt/test_run_summary.py reads it from `dbt build`'s output.
-#}
{% macro staging_summary(results) -%}
  {%- if execute -%}
    {%- set built = results | selectattr('node.name', 'equalto', 'stg_transactions__typed')
                            | selectattr('status', 'equalto', 'success') | list -%}
    {%- if built -%}
      {#- the node's own relation: ref() is not available in a hook -#}
      {%- set typed = built[0].node.relation_name -%}
      {%- set rows = run_query(
            "select case when reject_reason is not null then 'rejected' "
            ~ "when is_duplicate then 'deduplicated' else 'kept' end as outcome, "
            ~ "coalesce(reject_reason, duplicate_rule) as why, count(*) as n "
            ~ "from " ~ typed ~ " group by all order by outcome, n desc, why"
          ).rows -%}
      {%- set totals = {'kept': 0, 'deduplicated': 0, 'rejected': 0} -%}
      {%- for row in rows -%}
        {%- do totals.update({row[0]: totals[row[0]] + row[2]}) -%}
      {%- endfor -%}
      {%- set read = totals.values() | sum -%}
      {%- set lines = [
            'Staging summary: ' ~ '{:,}'.format(read) ~ ' raw rows read, '
            ~ '{:,}'.format(totals['kept']) ~ ' kept, '
            ~ '{:,}'.format(totals['deduplicated']) ~ ' deduplicated, '
            ~ '{:,}'.format(totals['rejected']) ~ ' rejected'
          ] -%}
      {%- for row in rows if row[0] != 'kept' -%}
        {%- do lines.append('  ' ~ row[0] ~ ' ' ~ row[1] ~ ': ' ~ '{:,}'.format(row[2])) -%}
      {%- endfor -%}
      {%- do lines.append(
            '  policies: min_order_date=' ~ var('min_order_date')
            ~ ', zero_amount_policy=' ~ staging_policy('zero_amount_policy')
            ~ ', duplicates_without_order_id_or_time='
            ~ staging_policy('duplicates_without_order_id_or_time')
            ~ ' (dbt_project.yml vars; rows per reason: stg_transaction_rejects)') -%}
      {{ log(lines | join('\n'), info=True) }}
    {%- endif -%}
  {%- endif -%}
{%- endmacro %}
