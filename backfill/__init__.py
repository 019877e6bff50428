"""PySpark backfill: the dbt marts recomputed for long histories and many as-of dates.

A regular package (not a namespace one) so that a zip of it works with spark-submit's
--py-files: zipimport cannot import namespace packages.
"""
