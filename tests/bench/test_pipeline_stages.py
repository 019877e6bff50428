"""`python -m bench.pipeline` times the very steps of `make pipeline`, in a folder of its own."""

from __future__ import annotations

import pytest

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
