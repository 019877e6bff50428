"""Render bench results (the dict `python -m bench` writes as JSON) as Markdown for people."""

from __future__ import annotations

from typing import Any

from bench.audiences import markdown as audiences_markdown
from bench.scoring import markdown as scoring_markdown


def _f(value: Any, digits: int = 3) -> str:
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _spread(s: dict) -> str:
    return f"{s['median']:.1f} s (min {s['min']:.1f}, max {s['max']:.1f}, {s['runs']} runs)"


def _data(d: dict) -> list[str]:
    return [
        "## Data",
        "",
        "| figure | value | reference |",
        "|---|---|---|",
        f"| generate {d['customers']:,} customers | {_spread(d['generate_s'])} | "
        f"{d['reference']} |",
        f"| generator peak RSS | {d['generate_peak_rss_mb']:.0f} MB | bounded |",
        "",
    ]


def _dbt(d: dict) -> list[str]:
    return [
        "## dbt vs the same SQL run directly in DuckDB",
        "",
        "| figure | value |",
        "|---|---|",
        f"| raw rows / feature rows | {d['raw_rows']:,} / {d['feature_rows']:,} |",
        f"| `dbt build` (models + {'tests'}) | {_spread(d['dbt_build_s'])} |",
        f"| `dbt run` (models only) | {_spread(d['dbt_run_s'])} |",
        f"| compiled SQL directly in DuckDB | {_spread(d['direct_duckdb_s'])} |",
        f"| ratio build / direct | {d['build_over_direct']:.2f}× |",
        f"| ratio run / direct | {d['run_over_direct']:.2f}× |",
        f"| raw rows per second (`dbt build`) | {d['raw_rows_per_s_dbt_build']:,.0f} |",
        f"| reference | {d.get('reference', '')} |",
        "",
    ]


def _training(d: dict) -> list[str]:
    lines = ["## Model quality", ""]
    sample = d.get("sample")
    if sample:
        lines += [
            f"Sample ({sample['customers']:,} customers), held-out as-of date "
            f"{sample['test_as_of']}, chosen model **{sample['chosen']}**:",
            "",
            "| model | ROC-AUC | PR-AUC | F1 | fit s |",
            "|---|---|---|---|---|",
        ]
        for key, m in sample["models"].items():
            lines.append(
                f"| {key} | {m['roc_auc']:.4f} | {m['pr_auc']:.4f} | {m['f1']:.3f} | "
                f"{sample['fit_seconds'][key]:.1f} |"
            )
        for key, m in sample["baselines"].items():
            lines.append(f"| baseline: {key} | {m['roc_auc']:.4f} | {m['pr_auc']:.4f} | | |")
        o = sample["oracle"]
        lines += [
            f"| oracle (generator's true probability) | {o['roc_auc']:.4f} | {o['pr_auc']:.4f} "
            "| | |",
            "",
            f"Chosen model ROC-AUC / oracle ROC-AUC = **{sample['roc_auc_vs_oracle']:.3f}** "
            "(goal ≥ 0.97).",
            "",
        ]
    retail = d.get("online_retail")
    if retail:
        lines += [
            "UCI Online Retail, each as-of date scored by a model trained only on what was "
            f"known by then ({retail.get('as_of_cadence', 'monthly')} as-of dates stacked for "
            "training):",
            "",
            "| as-of date | chosen | ROC-AUC | PR-AUC | recency ROC-AUC |",
            "|---|---|---|---|---|",
        ]
        for day, r in retail["per_date"].items():
            lines.append(
                f"| {day} | {r['chosen']} | {r['model']['roc_auc']:.4f} | "
                f"{r['model']['pr_auc']:.4f} | {r['baselines']['recency']['roc_auc']:.4f} |"
            )
        mean = retail["mean"]
        lines += [
            f"| **mean** | | **{mean['roc_auc']:.4f}** | **{mean['pr_auc']:.4f}** | |",
            "",
            "| reference (bench/model_quality.py, same protocol) | ROC-AUC | PR-AUC "
            "| our mean ROC ratio |",
            "|---|---|---|---|",
        ]
        for name, ref in retail["references"].items():
            lines.append(
                f"| {name} | {ref['roc_auc']:.3f} | {ref['pr_auc']:.3f} | "
                f"{mean['roc_auc'] / ref['roc_auc']:.3f}× |"
            )
        lines.append("")
    return lines


def _backfill(d: dict) -> list[str]:
    parity = d.get("parity", {})
    return [
        "## Backfill: Spark vs dbt/DuckDB on the same as-of grid",
        "",
        "| figure | value |",
        "|---|---|",
        f"| as-of dates / feature rows | {d['as_of_dates']} / {d['feature_rows']:,} |",
        f"| Spark `{d['master']}` | {d['spark_s']:.1f} s ({d['spark_rows_per_s']:,.0f} rows/s) |",
        f"| `dbt build` | {d['dbt_build_s']:.1f} s |",
        f"| ratio Spark / dbt | {d['spark_over_dbt']:.2f}× |",
        f"| parity (every row and column) | {'equal' if parity.get('equal') else parity} |",
        f"| note | {d.get('note', '')} |",
        "",
    ]


def _feature_store(d: dict) -> list[str]:
    lines = [
        "## Feature store: materialization and online lookups",
        "",
        f"{d['customers']:,} customers into the online store, ours (`feature_repo.materialize`) "
        "against stock Feast (`store.materialize`) in the same run"
        + (
            f" (stock timed on {d['stock_customers']:,} and extrapolated linearly)"
            if d["stock_customers"] != d["customers"]
            else ""
        )
        + ". Reference: ≤ 60 s for 1,000,000 customers (issue 4).",
        "",
        "| store | stock s | ours s (min / median / max) | ours CPU s | speedup | customers/s |",
        "|---|---|---|---|---|---|",
    ]
    for name, r in d["stores"].items():
        o, c = r["ours_seconds"], r["ours_cpu_seconds"]
        lines.append(
            f"| {name} | {r['stock_seconds']:.1f}{'*' if r['stock_extrapolated'] else ''} | "
            f"{o['min']:.1f} / {o['median']:.1f} / {o['max']:.1f} | {c['median']:.1f} | "
            f"{r['speedup']:.1f}× | {r['customers_per_s']:,.0f} |"
        )
    lines += [
        "",
        "Online lookups in process (ours: `feature_repo.lookup.get_online_features`; Feast: "
        "`store.get_online_features` over the FeatureService). Reference: 1 customer ≤ 1 ms "
        "p99, 100 customers ≤ 10 ms.",
        "",
        "| store | ours 1: p50 / p99 ms | ours 100: p50 / p99 ms | Feast 1: p50 / p99 ms "
        "| Feast 100: p50 / p99 ms |",
        "|---|---|---|---|---|",
    ]
    for name, r in d["stores"].items():
        cells = [
            f"{r['lookup'][k]['p50_ms']:.2f} / {r['lookup'][k]['p99_ms']:.2f}"
            for k in ("wrapper_1", "wrapper_100", "raw_1", "raw_100")
        ]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return [*lines, ""]


def _serving_runs(label: str, d: dict) -> list[str]:
    lines = []
    for r in d["runs"]:
        lat = r["latency_ms"]
        lines.append(
            f"| {label} | closed loop, {r['connections']} conn | {r['requests_per_s']:,.0f} | "
            f"{lat['p50']:.2f} | {lat['p99']:.2f} | {lat['p999']:.2f} | {r['errors']} |"
        )
    paced = d.get("paced")
    if paced:
        lat = paced["latency_ms"]
        lines.append(
            f"| {label} | **{paced['offered_per_s']:,} req/s offered, "
            f"{paced['connections']} conn** | {paced['requests_per_s']:,.0f} | "
            f"{lat['p50']:.2f} | {lat['p99']:.2f} | {lat['p999']:.2f} | {paced['errors']} "
            f"({paced['behind_schedule']} late sends) |"
        )
    return lines


def _serving(d: dict) -> list[str]:
    variants = d if "runs" not in d else {"default": d}
    first = next(iter(variants.values()))
    lines = [
        "## Serving: predict-by-id over HTTP (`wrk`)",
        "",
        f"`{first['server_command']}`; model {first['model']['version']}; "
        f"{first['distinct_ids']:,} distinct ids cycled. Reference: ≥ 1,000 req/s, p50 ≤ 3 ms, "
        "p99 ≤ 15 ms at 32 connections, 0 errors; batch of 1,000 ≤ 50 ms server time; Feast's "
        "own feature server (features only, no model): p99 4.6 ms at ~720 req/s per pod.",
        "",
        "Caches: the API's result cache and online-feature cache (`API_RESULT_CACHE_SIZE`, "
        "`API_FEATURE_CACHE_SIZE`, default 20,000 entries each per worker, both exact: keyed by "
        'every feature value / emptied on every online-store commit); "no cache" sets both '
        "to 0, so every request reads SQLite and runs the model.",
        "",
        "| caches | load | req/s | p50 ms | p99 ms | p99.9 ms | errors |",
        "|---|---|---|---|---|---|---|",
    ]
    for label, v in variants.items():
        size = v["result_cache"]
        lines += _serving_runs(label if size.startswith("default") else f"{label} ({size})", v)
    lines += ["", "| caches | batch of 1,000: server ms (min / median / max) | "
              "client ms | server RSS MB before → after |", "|---|---|---|---|"]  # fmt: skip
    for label, v in variants.items():
        b = v["batch_1000"]
        server, client = b["server_ms"] or {}, b["client_ms"] or {}
        lines.append(
            f"| {label} | {server.get('min')} / {server.get('median')} / {server.get('max')} | "
            f"{client.get('median')} | {v['rss_mb_before']} → {v['rss_mb_after']} |"
        )
    return [*lines, ""]


def _pipeline(d: dict) -> list[str]:
    return [
        "## End to end",
        "",
        f"Fresh `make pipeline CUSTOMERS={d['customers']}` in a clean copy of the repo: "
        f"**{d['make_pipeline_s']:.0f} s**.",
        "",
    ]


def _stages(d: dict) -> list[str]:
    from bench.pipeline import markdown

    return ["## `make pipeline`, step by step", "", *markdown(d), ""]


def render_markdown(results: dict) -> str:
    m = results["machine"]
    lines = [
        f"# Benchmark results — tier {results['tier']}",
        "",
        f"Run {results['date']} on {m['cpus']} CPUs, {m['memory_gb']} GB, Python "
        f"{m['python']} ({m['platform']}); load average at start {m['load_average_at_start']}. "
        "Reproduce with `make bench` (tier s) or `python -m bench --tier m`.",
        "",
    ]
    renderers = {
        "data": _data,
        "dbt": _dbt,
        "backfill": _backfill,
        "feature_store": _feature_store,
        "training": _training,
        "serving": _serving,
        "scoring": scoring_markdown,
        "audiences": audiences_markdown,
        "pipeline": _pipeline,
        "stages": _stages,
    }
    ran = results.get("ran", {})
    for section in renderers:
        if section not in results:
            continue
        render = renderers[section]
        body = render(results[section])
        if section in ran and ran[section] != results["date"]:
            body[1:1] = ["", f"*(this section ran {ran[section]}; `--update` kept it)*"]
        lines += body
    return "\n".join(lines) + "\n"
