"""`python -m orchestration`: the local Dagster UI and daemon over orchestration/definitions.py.

It replaces itself with `dagster dev` (webserver, daemon for the schedule and the sensor, and a
code server), listening on loopback by default. DAGSTER_HOME (runs, schedules' and sensors'
state, logs) is data/dagster in the checkout, never ~/.dagster; its dagster.yaml is written
with telemetry off the first time, and left alone after that.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ingest.paths import REPO_ROOT

DEFAULT_HOME = REPO_ROOT / "data" / "dagster"
INSTANCE_YAML = """\
# Written by `python -m orchestration` the first time; edit freely, it is not rewritten.
telemetry:
  enabled: false
"""


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m orchestration",
        description="Start the local Dagster UI (dagster dev: webserver + daemon) over the "
        "pipeline's assets: the dbt models, feast_online_store, model, customer_scores and "
        "monitoring_report, with the daily schedule and the raw-files sensor. Folders come "
        "from RAW_DIR, DUCKDB_PATH, FEATURES_DIR, MODELS_DIR and SCORES_DIR as for every stage.",
    )
    p.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: %(default)s)"
    )
    p.add_argument("--port", type=int, default=3000, help="port of the UI (default: %(default)s)")
    p.add_argument(
        "--home",
        type=Path,
        default=DEFAULT_HOME,
        help="DAGSTER_HOME: runs, schedule and sensor state, logs (default: %(default)s)",
    )
    return p


def prepare_home(home: Path) -> Path:
    """DAGSTER_HOME, created, with a dagster.yaml turning telemetry off unless one exists."""
    home = home.resolve()
    home.mkdir(parents=True, exist_ok=True)
    instance = home / "dagster.yaml"
    if not instance.exists():
        instance.write_text(INSTANCE_YAML)
    return home


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    home = prepare_home(args.home)
    bin_dir = Path(sys.executable).parent
    # dbt on PATH for the code server: orchestration/dbt.py sees to it when it loads
    env = {**os.environ, "DAGSTER_HOME": str(home)}
    command = [
        str(bin_dir / "dagster"), "dev",
        "-m", "orchestration.definitions",
        "--working-directory", str(REPO_ROOT),
        "--host", args.host, "--port", str(args.port),
    ]  # fmt: skip
    print(f"Dagster UI at http://{args.host}:{args.port} (DAGSTER_HOME={home})", flush=True)
    os.chdir(REPO_ROOT)
    os.execve(command[0], command, env)


if __name__ == "__main__":
    main()
