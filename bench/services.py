"""Transitional name: the services live in tests/support/services.py (one implementation for
the suite and the benchmarks). Import them from there; this module goes once no caller is left.
"""

from tests.support.services import ServiceMissing, free_port, redis_server, wait_until_ready

__all__ = ["ServiceMissing", "free_port", "redis_server", "wait_until_ready"]
