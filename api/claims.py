"""The product's four origin claims, checked against the observed repeat rates of one as-of date.

Each claim is one or more comparisons of two groups of segments ("customers averaging over
₹30,000 per order" vs "everyone else"). A comparison is *supported* when the 95 % Wilson
interval of the group claimed to repeat more lies wholly above that of the other group: the
bars of the chart do not overlap. Non-overlap is stricter than a 5 % two-proportion test, so a
"supported" seldom comes from chance (on a log generated with --no-segment-effects none is).
A group with fewer than API_INSIGHTS_MIN_CUSTOMERS customers gets *not enough data*. A claim is
supported when all its comparisons are, not supported when any comparison with enough data is
not, and otherwise has not enough data.

The segment names are the words dbt_project/models/marts/segment_repeat_rates.sql writes. The
mart is univariate: "customers with a weekend purchase" also have more orders, on average, than
those without one, so claim (d) describes who comes back, not why.
"""

from __future__ import annotations

from collections.abc import Sequence

from api.insight_schemas import Claim, Comparison, Group, Verdict
from api.segment_rates import SegmentRate, wilson_interval

HIGH_SPENDERS = ("over ₹30,000",)
THREE_PLUS_ORDERS = ("3–5 orders", "6–10 orders", "over 10 orders")
NONE = "none"
UNKNOWN = "unknown"
HIGHEST_CATEGORY, LOWEST_CATEGORY = "groceries", "electronics"

RULE = (
    "Per as-of date: a comparison is supported when the 95 % Wilson interval of the group the "
    "claim says repeats more lies wholly above the other group's; not enough data when either "
    "group has fewer than {min_customers} customers. A claim is supported when every comparison "
    "is, not supported when any comparison with enough data is not."
)


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f} %"


def _group(rows: Sequence[SegmentRate], label: str, segments: Sequence[str]) -> Group:
    chosen = [r for r in rows if r.segment in segments]
    customers = sum(r.customers for r in chosen)
    repeaters = sum(r.repeaters for r in chosen)
    low, high = wilson_interval(repeaters, customers) if customers else (None, None)
    return Group(
        label=label,
        segments=[r.segment for r in chosen],
        customers=customers,
        repeaters=repeaters,
        repeat_rate=repeaters / customers if customers else None,
        ci_low=low,
        ci_high=high,
    )


def _describe(group: Group) -> str:
    return (
        f"{group.label} {_pct(group.repeat_rate)} ({_pct(group.ci_low)}–{_pct(group.ci_high)}, "
        f"{group.customers:,} customers)"
    )


def compare(dimension: str, higher: Group, lower: Group, min_customers: int) -> Comparison:
    """One comparison and its verdict by the module's rule."""
    evidence = f"{_describe(higher)} vs {_describe(lower)}"
    small = [g.label for g in (higher, lower) if g.customers < min_customers]
    verdict: Verdict
    if small:
        verdict = "not enough data"
        reason = f"fewer than {min_customers} customers: {', '.join(small)}. {evidence}"
    elif higher.ci_low > lower.ci_high:
        verdict, reason = "supported", f"{evidence}: the intervals do not overlap"
    elif higher.repeat_rate > lower.repeat_rate:
        verdict, reason = "not supported", f"{evidence}: higher, but the intervals overlap"
    else:
        verdict, reason = "not supported", f"{evidence}: not higher"
    return Comparison(
        dimension=dimension, higher=higher, lower=lower, verdict=verdict, reason=reason
    )


def _claim(claim_id: str, words: str, comparisons: list[Comparison]) -> Claim:
    verdicts = {c.verdict for c in comparisons}
    verdict: Verdict
    if "not supported" in verdicts:
        verdict = "not supported"
        failed = [c for c in comparisons if c.verdict == "not supported"]
        summary = f"Not supported: {failed[0].reason}" + (
            f" (and {len(failed) - 1} more comparison(s) fail)" if len(failed) > 1 else ""
        )
    elif verdicts == {"supported"}:
        verdict = "supported"
        summary = (
            "Supported: "
            + "; ".join(c.reason for c in comparisons[:2])
            + (
                f"; and {len(comparisons) - 2} more comparison(s) agree"
                if len(comparisons) > 2
                else ""
            )
        )
    else:
        verdict = "not enough data"
        short = next(c for c in comparisons if c.verdict == "not enough data")
        summary = f"Not enough data: {short.reason}"
    return Claim(
        id=claim_id, claim=words, verdict=verdict, summary=summary, comparisons=comparisons
    )


def check_claims(rows: Sequence[SegmentRate], min_customers: int) -> list[Claim]:
    """The four claims on one as-of date's segment rows."""

    def segments(dimension: str) -> list[SegmentRate]:
        return [r for r in rows if r.dimension == dimension]

    def versus(dimension: str, higher: tuple[str, Sequence[str]], lower: tuple[str, Sequence[str]]):
        seg = segments(dimension)
        return compare(dimension, _group(seg, *higher), _group(seg, *lower), min_customers)

    def all_but(dimension: str, *excluded: str) -> list[str]:
        return [r.segment for r in segments(dimension) if r.segment not in (*excluded, UNKNOWN)]

    aov, orders, category = "avg_order_value", "orders_count", "favourite_category"
    high_spenders = versus(
        aov,
        ("customers averaging over ₹30,000 per order", HIGH_SPENDERS),
        ("everyone else", all_but(aov, *HIGH_SPENDERS)),
    )
    loyal = versus(
        orders,
        ("customers with 3 or more purchases", THREE_PLUS_ORDERS),
        ("customers with 1 or 2", all_but(orders, *THREE_PLUS_ORDERS)),
    )
    others = all_but(category, HIGHEST_CATEGORY, LOWEST_CATEGORY)
    categories = [
        versus(category, (HIGHEST_CATEGORY, [HIGHEST_CATEGORY]), (name, [name]))
        for name in [*others, LOWEST_CATEGORY]
    ] + [versus(category, (name, [name]), (LOWEST_CATEGORY, [LOWEST_CATEGORY])) for name in others]
    calendar = [
        versus(
            dimension,
            (f"customers with a {day} purchase", all_but(dimension, NONE)),
            ("customers with none", [NONE]),
        )
        for dimension, day in (
            ("weekend_order_share", "weekend"),
            ("holiday_order_share", "holiday"),
        )
    ]
    return [
        _claim(
            "high_spenders",
            "High spenders (over ₹30,000 average order) return more often than the rest.",
            [high_spenders],
        ),
        _claim(
            "three_plus_orders",
            "Customers with 3 or more purchases are more loyal than those with fewer.",
            [loyal],
        ),
        _claim(
            "groceries_vs_electronics",
            "Groceries have the highest repeat rate of the favourite categories, electronics "
            "the lowest.",
            categories,
        ),
        _claim(
            "weekend_and_holiday",
            "Weekend and holiday purchases are linked to more repeats.",
            calendar,
        ),
    ]
