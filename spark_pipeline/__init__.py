"""The whole product on Spark, for data beyond one machine: backfill → point-in-time training set
→ a sample fitted on the driver → every customer scored → features into Redis.

A regular package (not a namespace one) so that a zip of it works with --py-files, as the
backfill's does.
"""
