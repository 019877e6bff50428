"""Render bench results (the dict `python -m bench` writes as JSON) as Markdown for people."""

from __future__ import annotations

import json
from typing import Any


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
            "known by then:",
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
            "| reference (DESIGN.md, same protocol) | ROC-AUC | PR-AUC | our mean ROC ratio |",
            "|---|---|---|---|",
        ]
        for name, ref in retail["references"].items():
            lines.append(
                f"| {name} | {ref['roc_auc']:.3f} | {ref['pr_auc']:.3f} | "
                f"{mean['roc_auc'] / ref['roc_auc']:.3f}× |"
            )
        lines.append("")
    return lines


def _generic(title: str, d: Any) -> list[str]:
    return [f"## {title}", "", "```json", json.dumps(d, indent=2, default=str), "```", ""]


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
    renderers = {"data": _data, "dbt": _dbt, "training": _training}
    for section in ("data", "dbt", "backfill", "feature_store", "training", "serving", "pipeline"):
        if section not in results:
            continue
        render = renderers.get(section)
        lines += render(results[section]) if render else _generic(section, results[section])
    return "\n".join(lines) + "\n"
