"""`python -m modeling.rollback` refuses, changing nothing, when the history gives it nowhere
to go; a run of rollbacks walks back through the promotions, not back and forth."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from modeling import promotions
from modeling.rollback import REFUSED, RollbackRefused, rollback
from modeling.rollback import main as rollback_main
from tests.conftest import REPO_ROOT


@pytest.fixture
def three_versions(trained_models, tmp_path):
    """The session's model copied as versions a, b and c (distinct folders, real artifacts);
    c in models/current."""
    source = (trained_models / "current").resolve()
    models_dir = tmp_path / "models"
    models_dir.mkdir()
    for name in ("a", "b", "c"):
        shutil.copytree(source, models_dir / name)
    (models_dir / "current").symlink_to("c")
    return models_dir


def test_no_history_exits_2_with_a_message(three_versions):
    result = subprocess.run(
        [sys.executable, "-m", "modeling.rollback", "--models-dir", str(three_versions)],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == REFUSED == 2
    assert "rollback refused: no promotion history (promotions.jsonl)" in result.stderr
    assert promotions.current_version(three_versions) == "c"
    assert not promotions.history_path(three_versions).exists()


def test_rollbacks_walk_back_through_the_promotions(three_versions, capsys):
    for version, previous in (("a", None), ("b", "a"), ("c", "b")):
        promotions.record(
            three_versions, action="promote", version=version, previous=previous, reason="test"
        )
    assert rollback_main(["--models-dir", str(three_versions)]) == 0
    out = capsys.readouterr().out
    assert "rolled back: models/current → b (was c)" in out
    assert "POST" in out and "/admin/reload" in out  # the reload hint
    assert promotions.current_version(three_versions) == "b"
    assert rollback(three_versions)["version"] == "a"  # what b replaced, not c again
    with pytest.raises(RollbackRefused, match="records no earlier model"):
        rollback(three_versions)  # a was the first
    assert [(e["action"], e["version"], e["previous"]) for e in promotions.read(three_versions)][
        3:
    ] == [("rollback", "b", "c"), ("rollback", "a", "b")]


def test_a_damaged_or_missing_previous_model_is_not_restored(three_versions):
    promotions.record(three_versions, action="promote", version="c", previous="b", reason="t")
    (three_versions / "b" / "estimator.ubj").write_bytes(b"not a model")
    with pytest.raises(RollbackRefused, match="b cannot be restored"):
        rollback(three_versions)
    shutil.rmtree(three_versions / "b")
    with pytest.raises(RollbackRefused, match="no longer in"):
        rollback(three_versions)
    assert promotions.current_version(three_versions) == "c"
    assert len(promotions.read(three_versions)) == 1


def test_a_damaged_history_line_is_skipped(three_versions):
    promotions.record(three_versions, action="promote", version="c", previous="b", reason="t")
    with promotions.history_path(three_versions).open("a") as history:
        history.write('{"action": "promote", "version": "c", "previous": "a"\n')  # cut short
        history.write(json.dumps({"action": "promote", "version": 7}) + "\n")
    assert rollback(three_versions)["version"] == "b"
