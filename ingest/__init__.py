"""Raw landing zone: the sample-data generator and the loader for real transaction logs.

Both commands write ``data/raw/`` in the raw landing contract defined in :mod:`ingest.contract`;
dbt staging is the first place that types and cleans that text.
"""
