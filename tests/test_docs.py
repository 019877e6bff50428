"""The README and docs/ point only at things a fresh clone has.

Each check fails on a reference that went stale: a file or folder that moved, a `make` target
or `python -m` module that does not exist, a link to a missing page, or a document users do
not have (the design notes, a sibling checkout's files) — the UCI example data path is the one
place outside the repo the docs may name.
"""

from __future__ import annotations

import importlib.util
import re
from itertools import product

import pytest

from ingest.paths import REPO_ROOT

DOCS = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]
UCI_DATA = "../shared/data/online_retail.csv.gz"
# top-level folders and files whose paths the docs may name and a clone must hold
TRACKED_ROOTS = {
    "api", "backfill", "bench", "dbt_project", "docs", "feature_repo", "ingest", "modeling",
    "monitoring", "orchestration", "scoring", "spark_pipeline",
    "tests", "Dockerfile", "Makefile", "docker-compose.yml", "dbt_project.yml", "profiles.yml",
    "pyproject.toml", "backfill_submit.py", ".ci", ".sqlfluff", "requirements",
}  # fmt: skip


def _code(text: str) -> list[str]:
    """Every fenced block and inline code span of a Markdown text."""
    fenced = re.findall(r"```[a-z]*\n(.*?)```", text, flags=re.S)
    rest = re.sub(r"```[a-z]*\n.*?```", "", text, flags=re.S)
    return fenced + re.findall(r"`([^`\n]+)`", rest)


def _expand(path: str) -> list[str]:
    """`a/b.{sql,yml}` → a/b.sql, a/b.yml."""
    parts = re.split(r"\{([^}]*)\}", path)
    choices = [[p] if i % 2 == 0 else p.split(",") for i, p in enumerate(parts)]
    return ["".join(c) for c in product(*choices)]


@pytest.fixture(params=DOCS, ids=lambda p: str(p.relative_to(REPO_ROOT)))
def doc(request):
    return request.param


def test_no_reference_to_files_users_do_not_have(doc):
    text = doc.read_text().replace(UCI_DATA, "")
    assert "DESIGN.md" not in text
    assert "../shared" not in text


def test_links_resolve(doc):
    for target in re.findall(r"\]\(([^)]+)\)", doc.read_text()):
        if target.startswith(("http://", "https://", "#")):
            continue
        assert (doc.parent / target.split("#")[0]).exists(), f"{doc.name}: broken link {target}"


def test_named_paths_exist(doc):
    missing = []
    for span in _code(doc.read_text()):
        for token in re.findall(r"[\w.{},/-]+", span):
            root = token.split("/")[0]
            if root not in TRACKED_ROOTS or ("/" not in token and root != token):
                continue
            missing += [p for p in _expand(token) if not (REPO_ROOT / p).exists()]
    assert not missing, f"{doc.name} names paths a clone does not have: {missing}"


def test_make_targets_exist(doc):
    targets = set(re.findall(r"^([a-z][a-z-]*):", (REPO_ROOT / "Makefile").read_text(), re.M))
    named = {
        t for span in _code(doc.read_text()) for t in re.findall(r"\bmake ([a-z][a-z-]*)", span)
    }
    assert named <= targets, f"{doc.name}: no such make target {named - targets}"


def test_python_modules_exist(doc):
    modules = {
        m for span in _code(doc.read_text()) for m in re.findall(r"python -m ([\w.]+)", span)
    }
    missing = {m for m in modules if importlib.util.find_spec(m) is None}
    assert not missing, f"{doc.name}: no such module {missing}"
