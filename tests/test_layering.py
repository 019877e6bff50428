"""The dependency between the suite and the benchmarks points one way: bench imports the
services the tests start (tests/support), the tests never import bench. Only tests/bench,
which tests the benchmarks themselves, may."""

from __future__ import annotations

import ast

from ingest.paths import REPO_ROOT

TESTS = REPO_ROOT / "tests"


def _imports_bench(path) -> list[int]:
    lines = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names = [node.module or ""]
        else:
            continue
        if any(name == "bench" or name.startswith("bench.") for name in names):
            lines.append(node.lineno)
    return lines


def test_the_tests_do_not_import_bench():
    offenders = {
        str(path.relative_to(REPO_ROOT)): lines
        for path in sorted(TESTS.rglob("*.py"))
        if TESTS / "bench" not in path.parents and (lines := _imports_bench(path))
    }
    assert not offenders, f"import the services from tests.support instead: {offenders}"
