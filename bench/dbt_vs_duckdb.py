"""`dbt build` against the same SQL run directly in DuckDB, on the same raw data.

The direct run takes dbt's own compiled SQL (target/compiled) and executes it model by model in
dependency order — seeds loaded from their CSVs, tables created, marts copied to Parquet — in a
fresh DuckDB file with no tests and no dbt start-up. The ratio is what dbt costs on top.

`python -m bench.dbt_vs_duckdb --raw-dir data/raw [--repeat 3]`
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import duckdb

from bench.stack import Stack


def _topological(manifest: dict) -> list[dict]:
    nodes = {
        uid: node
        for uid, node in manifest["nodes"].items()
        if node["resource_type"] in ("model", "seed")
    }
    done: list[str] = []
    seen: set[str] = set()

    def visit(uid: str) -> None:
        if uid in seen or uid not in nodes:
            return
        seen.add(uid)
        for parent in nodes[uid]["depends_on"].get("nodes", []):
            visit(parent)
        done.append(uid)

    for uid in sorted(nodes):
        visit(uid)
    return [nodes[uid] for uid in done]


def run_direct(stack: Stack, workdir: Path) -> float:
    """Execute dbt's compiled SQL straight in DuckDB; return wall seconds."""
    target = stack.root / "target"
    manifest = json.loads((target / "manifest.json").read_text())
    db_dir = workdir / "direct"
    db_dir.mkdir(parents=True, exist_ok=True)
    out_dir = workdir / "direct_features"
    out_dir.mkdir(exist_ok=True)
    # the compiled SQL names the database after the warehouse file's stem
    started = time.perf_counter()
    con = duckdb.connect(str(db_dir / "warehouse.duckdb"))
    for node in _topological(manifest):
        name = node["alias"] or node["name"]
        if node["resource_type"] == "seed":
            types = node["config"].get("column_types") or {}
            path = Path(node["root_path"]) / node["original_file_path"]
            columns = ", ".join(f"'{k}': '{v}'" for k, v in types.items())
            options = f", types = {{{columns}}}" if types else ""
            con.execute(f"create or replace table main.{name} as "
                        f"select * from read_csv('{path}', header = true{options})")  # fmt: skip
            continue
        compiled = target / "compiled" / node["package_name"] / node["original_file_path"]
        sql = compiled.read_text()
        if node["config"]["materialized"] == "external":
            con.execute(f"create or replace table main.{name} as {sql}")
            con.execute(f"copy main.{name} to '{out_dir / name}.parquet' (format parquet)")
        else:
            con.execute(f"create or replace table main.{name} as {sql}")
    con.close()
    return time.perf_counter() - started


def measure(raw_dir: Path, repeat: int = 3, dbt_vars: str | None = None) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-dbt-") as tmp:
        stack = Stack(Path(tmp) / "stack")
        stack.root.mkdir(parents=True)
        (stack.root / "raw").symlink_to(Path(raw_dir).resolve())
        builds, runs, direct = [], [], []
        for i in range(repeat):
            (stack.root / "warehouse.duckdb").unlink(missing_ok=True)
            builds.append(stack.dbt_build(dbt_vars))
            runs.append(stack.run(*_dbt(stack, "run", dbt_vars)))
            direct.append(run_direct(stack, Path(tmp) / f"direct{i}"))
        rows = duckdb.sql(
            f"select count(*) from read_parquet('{stack.features_dir}/customer_features.parquet')"
        ).fetchall()[0][0]
        raw_rows = duckdb.sql(
            f"select count(*) from read_parquet('{Path(raw_dir) / 'transactions.parquet'}')"
        ).fetchall()[0][0]
    summary = {
        "dbt_build_s": _spread(builds),
        "dbt_run_s": _spread(runs),
        "direct_duckdb_s": _spread(direct),
        "feature_rows": rows,
        "raw_rows": raw_rows,
    }
    summary["build_over_direct"] = (
        summary["dbt_build_s"]["median"] / summary["direct_duckdb_s"]["median"]
    )
    summary["run_over_direct"] = (
        summary["dbt_run_s"]["median"] / summary["direct_duckdb_s"]["median"]
    )
    summary["raw_rows_per_s_dbt_build"] = raw_rows / summary["dbt_build_s"]["median"]
    return summary


def _dbt(stack: Stack, command: str, dbt_vars: str | None) -> list[str]:
    from bench.stack import BIN

    args = [str(BIN / "dbt"), command, "--target-path", str(stack.root / "target"),
            "--log-path", str(stack.root / "logs")]  # fmt: skip
    return args + (["--vars", dbt_vars] if dbt_vars else [])


def _spread(values: list[float]) -> dict[str, float]:
    return {
        "min": min(values),
        "median": statistics.median(values),
        "max": max(values),
        "runs": len(values),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.dbt_vs_duckdb",
        description="Time `dbt build` / `dbt run` against dbt's compiled SQL run directly in "
        "DuckDB, on one raw folder.",
    )
    parser.add_argument("--raw-dir", type=Path, default=Path("data/raw"))
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    print(json.dumps(measure(args.raw_dir, args.repeat), indent=2))


if __name__ == "__main__":
    main()
