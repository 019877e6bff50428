"""Bad input to `python -m spark_pipeline` is refused at once, with a message saying what to
change, before a Spark session starts or a backfill runs for minutes. (In process: a Spark
session started by mistake would show as a step in the log.)"""

from __future__ import annotations

import pytest

from spark_pipeline.__main__ import main
from spark_pipeline.fit import train_argv

BASE = ["--raw", "raw", "--redis", "127.0.0.1:1", "--start", "2024-01-01"]


def _run(*args: str) -> int | str:
    """main's exit status (or SystemExit's code) for these arguments, in this process."""
    try:
        return main([*BASE, *args])
    except SystemExit as refused:
        return refused.code


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--out", "hdfs://namenode/runs/1"], "give --work, a folder on this machine"),
        (["--out", "out", "--sample-rows", "-1"], "--sample-rows must be 0 (all) or more"),
        (["--out", "out", "--train", "--models-dir /elsewhere"], "--train must not set"),
        (["--out", "out", "--train", "--models nope"], "nope"),
    ],
)
def test_refused_before_spark_starts(args, message, capsys, caplog):
    status = _run(*args)
    assert status != 0
    said = f"{status}\n{capsys.readouterr().err}"
    assert message in said
    assert "[1/5]" not in caplog.text  # no step started


def test_train_flags_point_modeling_train_at_the_sample(tmp_path):
    argv = train_argv(tmp_path / "s", tmp_path / "m", 30, tmp_path / "raw", "--models xgb")
    assert argv[:2] == ["--models", "xgb"]
    pairs = dict(zip(argv[2::2], argv[3::2], strict=True))
    assert pairs == {
        "--features-dir": str(tmp_path / "s"),
        "--feast-data-dir": str(tmp_path / "s" / "feast"),
        "--models-dir": str(tmp_path / "m"),
        "--label-window-days": "30",
        "--raw-dir": str(tmp_path / "raw"),
    }
