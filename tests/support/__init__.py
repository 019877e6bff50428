"""What the tests start around the product: free loopback ports, a real redis-server, waiting
for a server to answer /health.

The benchmarks (`python -m bench`, run from the repo root) import these too, so "how we start
Redis" is written once; the dependency points from bench to the tests' support code, never from
the tests to bench.
"""
