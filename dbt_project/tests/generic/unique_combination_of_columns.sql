-- Fails with every combination of the columns that occurs more than once: the grain test of
-- a model keyed by several columns (customer × as-of date, customer × day, ...).
--
-- Named and called as dbt_utils' test of the same name (which this project cannot install:
-- `dbt deps` downloads from hub.getdbt.com). Why not dbt's own `unique` on
-- "row(customer_id, as_of_date)": DuckDB groups a STRUCT 1.2-1.4x slower than the columns
-- themselves (at 1M customers the unique tests of the intermediate models took ~28 s).
-- NULLs count as values, as they do in a STRUCT: two rows with the same NULL are a duplicate.

{% test unique_combination_of_columns(model, combination_of_columns) %}

{%- set columns = combination_of_columns | join(', ') %}

with

grouped as (

    select {{ columns }}, count(*) as n_records
    from {{ model }}
    group by {{ columns }}
    having count(*) > 1

)

select * from grouped

{% endtest %}
