"""`python -m bench.pipeline` times the very steps of `make pipeline`, in a folder of its own."""

from __future__ import annotations

import sys

import pytest

from bench.__main__ import timed_child
from bench.pipeline import main, run
from ingest.paths import REPO_ROOT

pytestmark = pytest.mark.slow


def test_each_stage_runs_in_the_workdir_and_is_measured(tmp_path, capsys):
    data_before = sorted(p.name for p in (REPO_ROOT / "data").iterdir())
    result = run(300, tmp_path, ["generate", "dbt", "apply"])
    assert list(result["stages"]) == ["generate", "dbt", "apply"]
    for figures in result["stages"].values():
        assert figures["wall_s"] > 0 and figures["peak_rss_gb"] > 0.01
    # the marts and the registry were written under the workdir, nowhere else
    assert (tmp_path / "features" / "customer_features.parquet").is_file()
    assert (tmp_path / "registry.db").is_file()
    assert sorted(p.name for p in (REPO_ROOT / "data").iterdir()) == data_before


def test_a_failing_stage_says_which_and_shows_its_log(tmp_path):
    # materialize before apply: there is no registry in this workdir
    with pytest.raises(RuntimeError, match=r"feature_repo\.materialize exited"):
        run(300, tmp_path, ["materialize"])


def test_unknown_stages_are_refused(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["--workdir", str(tmp_path), "--stages", "generate,fit"])
    assert "unknown stages ['fit']" in capsys.readouterr().err


def test_a_small_child_after_a_big_one_reports_its_own_peak(tmp_path):
    """`python -m bench` measures each child alone (os.wait4), not the largest child this
    process ever waited for (RUSAGE_CHILDREN), which would give the small one 400 MB."""
    big = timed_child([sys.executable, "-c", "b = b'x' * (400 * 2**20)"], tmp_path / "big.log")
    small = timed_child([sys.executable, "-c", "pass"], tmp_path / "small.log")
    assert big["peak_rss_mb"] > 400
    assert small["peak_rss_mb"] < 100 and small["seconds"] > 0


def test_this_process_s_own_peak_does_not_show_in_a_child(tmp_path):
    """Linux keeps a parent's RSS high-water mark in its child across exec: measured straight
    from here, `python -c pass` would report this process's 300 MB peak."""
    peak = b"x" * (300 * 2**20)
    del peak
    small = timed_child([sys.executable, "-c", "pass"], tmp_path / "small.log")
    assert small["peak_rss_mb"] < 100


def test_a_failing_child_shows_its_log(tmp_path):
    with pytest.raises(RuntimeError, match=r"exited 3; log .*\n.*gone wrong"):
        timed_child(
            [sys.executable, "-c", "import sys; print('gone wrong', file=sys.stderr); sys.exit(3)"],
            tmp_path / "failing.log",
        )
