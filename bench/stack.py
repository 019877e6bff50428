"""A self-contained pipeline in one folder: raw data → dbt → Feast, for benchmarks.

Every stage writes under the given folder (RAW_DIR, DUCKDB_PATH, FEATURES_DIR, a Feast data
dir), so a benchmark never touches the repo's data/ or models/.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from ingest.paths import REPO_ROOT

BIN = Path(sys.executable).parent


@dataclass
class Stack:
    root: Path

    @property
    def raw_dir(self) -> Path:
        return self.root / "raw"

    @property
    def features_dir(self) -> Path:
        return self.root / "features"

    @property
    def feast_dir(self) -> Path:
        return self.root / "feast"

    @property
    def models_dir(self) -> Path:
        return self.root / "models"

    @property
    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "RAW_DIR": str(self.raw_dir),
            "DUCKDB_PATH": str(self.root / "warehouse.duckdb"),
            "FEATURES_DIR": str(self.features_dir),
        }

    def run(self, *cmd: str) -> float:
        """Run a product command with this stack's environment; return its wall seconds."""
        started = time.perf_counter()
        result = subprocess.run(cmd, cwd=REPO_ROOT, env=self.env, capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(
                f"{' '.join(cmd)} failed:\n{result.stdout[-3000:]}{result.stderr[-3000:]}"
            )
        return time.perf_counter() - started

    def generate(self, customers: int, seed: int = 42) -> float:
        return self.run(
            str(BIN / "python"), "-m", "ingest.generate", "--customers", str(customers),
            "--seed", str(seed), "--out", str(self.raw_dir), "--no-progress",
        )  # fmt: skip

    def dbt_build(self, dbt_vars: str | None = None) -> float:
        self.features_dir.mkdir(parents=True, exist_ok=True)
        args = [str(BIN / "dbt"), "build", "--target-path", str(self.root / "target"),
                "--log-path", str(self.root / "logs")]  # fmt: skip
        if dbt_vars:
            args += ["--vars", dbt_vars]
        return self.run(*args)

    def feature_store(self):
        """Feast over this stack's marts, applied and materialized; returns the store."""
        from feature_repo.materialize import materialize_latest
        from feature_repo.store import apply_definitions, open_store

        store = open_store(data_dir=self.feast_dir)
        self.feast_dir.mkdir(parents=True, exist_ok=True)
        apply_definitions(store, features_dir=self.features_dir)
        materialize_latest(store)
        return store
