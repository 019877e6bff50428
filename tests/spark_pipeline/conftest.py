"""The backfill tests' local Spark session and standalone cluster, shared (not copied): the
Spark pipeline runs on the same ones."""

from tests.backfill.conftest import spark  # noqa: F401  (the fixture)
from tests.backfill.test_cluster import standalone_cluster  # noqa: F401  (the fixture)
