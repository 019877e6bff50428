"""Step 7 of a training run, in words and numbers: metrics.json and the printed comparison.

metrics.json holds every model's and baseline's validation and test metrics (with their
cross-validation folds), the oracle when known, the per-slice metrics of the chosen model,
the gate's verdict, the label rows sampled before the join, and each stage's seconds and
memory; the same figures are printed as one table at the end of the run.
"""

from __future__ import annotations

from datetime import date

from modeling.baselines import Reference
from modeling.fitting import FittedModel
from modeling.sampling import Sampling
from modeling.selection import Gate


def cv_protocol(folds: int, window: int, test_date: date, max_rows: int) -> str:
    return (
        f"expanding window by as-of date, up to {folds} folds; a fold trains on "
        f"dates whose {window}-day label window ends by its validation date; only dates "
        f"whose label window ends by the test date {test_date}; at most "
        f"{max_rows or 'all'} training and validation rows per fold (seeded samples); "
        "raw (uncalibrated) scores"
    )


def run_metrics(
    *,
    fitted: dict[str, FittedModel],
    baselines: dict[str, Reference],
    oracle: Reference | None,
    chosen: str,
    chosen_on: str,
    gate: Gate,
    slices: dict,
    test_date: date,
    protocol: str,
    sampling: Sampling | None = None,
) -> dict:
    """metrics.json of one run (the stage seconds and memory are added when the run ends).

    `sampling` says which label rows were drawn before the join, per part and as-of date."""
    return {
        "selection_metric": gate.metric,
        "chosen_on": chosen_on,
        "chosen": chosen,
        "models": {key: model.entry for key, model in fitted.items()},
        "baselines": {key: baseline.entry for key, baseline in baselines.items()},
        "oracle": oracle.entry if oracle else None,
        "cv_protocol": protocol,
        "slices": {"model": chosen, "date": str(test_date), **slices},
        "gate": gate.as_dict(),
        "sampling": sampling.as_dict() if sampling else None,
    }


def print_comparison(metrics: dict, test_date: str) -> None:
    def cv(entry: dict, name: str) -> str:
        summary = entry.get("cv", {}).get(name)
        if not summary or not summary["n"]:
            return f"{'':>15}"
        return f"{summary['mean']:>8.4f}±{summary['sd']:.3f}"

    judge = "CV fold mean" if metrics.get("chosen_on") == "cv" else "validation date"
    print(
        f"\nmodel comparison on the held-out as-of date {test_date} (CV: mean±sd over folds; "
        f"* = chosen by {judge} {metrics['selection_metric']}):"
    )
    print(
        f"  {'model':<52} {'ROC-AUC':>8} {'PR-AUC':>8} {'F1':>6} {'CV ROC-AUC':>15} "
        f"{'CV PR-AUC':>15}"
    )
    rows = [(k == metrics["chosen"], e) for k, e in metrics["models"].items()]
    rows += [(False, e) for e in metrics["baselines"].values()]
    if metrics.get("oracle"):
        rows.append((False, metrics["oracle"]))
    for chosen, e in rows:
        t = e["test"]
        f1 = f"{t['f1']:>6.3f}" if "f1" in t else f"{'':>6}"
        print(
            f" {'*' if chosen else ' '}{e['name']:<52} {t['roc_auc']:>8.4f} {t['pr_auc']:>8.4f} "
            f"{f1} {cv(e, 'roc_auc')} {cv(e, 'pr_auc')}"
        )
