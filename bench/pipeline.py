"""`make pipeline`, stage by stage, at a given scale: wall, CPU and peak memory of each step.

    python -m bench.pipeline --customers 1000000 --workdir /tmp/scale-1m
                             [--stages generate,dbt,apply,materialize,train,score] [--json F]

Each stage is the very command `make pipeline` runs (`python -m ingest.generate`, `dbt build`,
`feast -c feature_repo apply`, `python -m feature_repo.materialize`, `python -m modeling.train`,
`python -m scoring`), started as a child process with every data folder under --workdir
(RAW_DIR, DUCKDB_PATH, FEATURES_DIR, MODELS_DIR, SCORES_DIR, and a copy of the Feast yaml whose
registry and SQLite online store live there too, named by FEAST_FS_YAML_FILE_PATH), so the
repo's data/ and models/ are never touched. Per stage: wall seconds (a monotonic clock around
the child), user + system CPU and peak RSS from the kernel's accounting of that child and the
children it waited for (`os.wait4`), the same figures `/usr/bin/time -v` prints. The peak is
the largest single process, not a sum. `--stages` reruns some steps on a workdir that has the
earlier ones (e.g. only `train` after a change to training).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

from ingest.paths import REPO_ROOT

BIN = Path(sys.executable).parent
STAGES = ("generate", "dbt", "apply", "materialize", "train", "score")


def stage_commands(customers: int, workdir: Path) -> dict[str, list[str]]:
    python = str(BIN / "python")
    return {
        "generate": [python, "-m", "ingest.generate", "--customers", str(customers),
                     "--out", str(workdir / "raw"), "--no-progress"],
        "dbt": [str(BIN / "dbt"), "build", "--target-path", str(workdir / "target"),
                "--log-path", str(workdir / "logs")],
        "apply": [str(BIN / "feast"), "-c", "feature_repo", "apply"],
        "materialize": [python, "-m", "feature_repo.materialize"],
        "train": [python, "-m", "modeling.train"],
        "score": [python, "-m", "scoring", "--no-progress"],
    }  # fmt: skip


def feast_yaml(workdir: Path) -> Path:
    """The default Feast yaml with its registry and online store moved under workdir."""
    config = yaml.safe_load((REPO_ROOT / "feature_repo" / "feature_store.yaml").read_text())
    config["registry"] = str(workdir / "registry.db")
    config["online_store"]["path"] = str(workdir / "online_store.db")
    path = workdir / "feature_store.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def environment(workdir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "RAW_DIR": str(workdir / "raw"),
        "DUCKDB_PATH": str(workdir / "warehouse.duckdb"),
        "FEATURES_DIR": str(workdir / "features"),
        "MODELS_DIR": str(workdir / "models"),
        "SCORES_DIR": str(workdir / "scores"),
        "FEAST_FS_YAML_FILE_PATH": str(feast_yaml(workdir)),
    }


# Started first, small, it starts the command and waits for it (os.wait4), then writes the
# command's wall, CPU and peak RSS to the fd it is given and exits with the command's code.
# Not the command straight from this process: Linux keeps the parent's RSS high-water mark
# in a child across exec (vfork or fork), so every command would report at least this
# process's own peak, e.g. a stage of `python -m bench` run after its in-process sections.
LAUNCHER = """
import json, os, subprocess, sys, time
started = time.perf_counter()
child = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(child.pid, 0)
figures = {"wall_s": time.perf_counter() - started, "cpu_s": usage.ru_utime + usage.ru_stime,
           "peak_rss_kb": usage.ru_maxrss}
with os.fdopen(int(sys.argv[1]), "w") as answer:
    json.dump(figures, answer)
code = os.waitstatus_to_exitcode(status)
sys.exit(code if code >= 0 else 128 - code)
"""


def run_measured(
    cmd: list[str], log: Path, env: dict[str, str] | None = None, cwd: Path = REPO_ROOT
) -> dict[str, float]:
    """Run one command to completion, its output into `log`: its wall seconds, CPU seconds and
    peak RSS (kB) from the kernel's accounting of that one child and the children it waited
    for (`os.wait4`), taken by LAUNCHER.

    Not `getrusage(RUSAGE_CHILDREN)`: its ru_maxrss is the largest of every child this process
    ever waited for, so a small command measured after a big one would report the big one's
    peak. `python -m bench` and `python -m bench.pipeline` both measure through here.
    """
    read, write = os.pipe()
    with log.open("w") as out, os.fdopen(read) as answer:
        try:
            launcher = subprocess.Popen(
                [sys.executable, "-I", "-c", LAUNCHER, str(write), *cmd],
                cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, pass_fds=(write,),
            )  # fmt: skip
        finally:
            os.close(write)  # the launcher's copy is the only writer: EOF when it is done
        figures = answer.read()
        returncode = launcher.wait()
    if returncode != 0:
        tail = log.read_text()[-3000:]
        raise RuntimeError(f"{' '.join(cmd)} exited {returncode}; log {log}:\n{tail}")
    return json.loads(figures)


def measure(cmd: list[str], env: dict[str, str], log: Path) -> dict:
    """Run one command to completion; its wall, CPU and peak RSS (this child's tree)."""
    figures = run_measured(cmd, log, env)
    return {
        "wall_s": round(figures["wall_s"], 1),
        "cpu_s": round(figures["cpu_s"], 1),
        "peak_rss_gb": round(figures["peak_rss_kb"] / 1024**2, 2),
    }


def run(customers: int, workdir: Path, stages: list[str]) -> dict:
    workdir = workdir.resolve()
    (workdir / "features").mkdir(parents=True, exist_ok=True)
    env = environment(workdir)
    commands = stage_commands(customers, workdir)
    results = {"customers": customers, "load_before": os.getloadavg()[0], "stages": {}}
    for stage in stages:
        print(f"{stage}: {' '.join(commands[stage])}", file=sys.stderr, flush=True)
        figures = measure(commands[stage], env, workdir / f"{stage}.log")
        results["stages"][stage] = figures
        print(f"  {figures}", file=sys.stderr, flush=True)
    results["load_after"] = os.getloadavg()[0]
    return results


def markdown(result: dict) -> list[str]:
    rows = [f"| {stage} | {f['wall_s']:,.1f} s | {f['cpu_s']:,.1f} s | {f['peak_rss_gb']:.2f} GB |"
            for stage, f in result["stages"].items()]  # fmt: skip
    total = sum(f["wall_s"] for f in result["stages"].values())
    peak = max(f["peak_rss_gb"] for f in result["stages"].values())
    return [
        f"{result['customers']:,} customers (load {result['load_before']:.1f} before, "
        f"{result['load_after']:.1f} after)",
        "",
        "| stage | wall | CPU | peak RSS |",
        "|---|---|---|---|",
        *rows,
        f"| **total** | **{total:,.1f} s** | | **{peak:.2f} GB** |",
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.pipeline",
        description="Time every stage of `make pipeline` at --customers, in --workdir: wall, "
        "CPU and peak RSS per stage (the figures /usr/bin/time -v prints).",
    )
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--workdir", type=Path, required=True, help="every data folder goes here")
    parser.add_argument("--stages", default=",".join(STAGES), help="comma-separated, in order")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args(argv)
    stages = [s for s in args.stages.split(",") if s]
    unknown = sorted(set(stages) - set(STAGES))
    if unknown:
        parser.error(f"unknown stages {unknown}; choose from {', '.join(STAGES)}")
    result = run(args.customers, args.workdir, stages)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    print("\n".join(markdown(result)))


if __name__ == "__main__":
    main()
