"""The pipeline as Dagster assets (issue #17): dbt models, then Feast, training, scoring and
monitoring, on a daily schedule and whenever the raw log changes.

`python -m orchestration` starts the local Dagster UI and daemon (orchestration/__main__.py);
the code location is orchestration/definitions.py.
"""
