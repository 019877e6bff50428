"""A customer_scores file as `python -m scoring` writes it (scoring.schema.SCHEMA), made up.

The scorer is built beside /audiences, so its tests and benchmark write their own file:
realistic rows (a skewed probability, tiers by the API's cut-offs, the scorer's band words,
the generator's categories and payment methods, a few missing attributes) from a seed.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ingest.contract import CATEGORIES, PAYMENT_METHODS, temp_path_for
from modeling.decision import ACTIONS
from scoring.bands import band_labels
from scoring.schema import SCHEMA

AS_OF = date(2025, 12, 1)
LOCATIONS = ("Mumbai", "Delhi", "Bengaluru", "Chennai", "Kolkata", "Hyderabad", "Pune")
REASONS = (
    "Last order {r} days ago — usually orders every 40 days",
    "Ordered {o} times in the last year",
    "Spends ₹{a:,.0f} per order on average",
    "Mostly buys {c}",
)


def scores_table(
    customers: int, seed: int = 7, as_of: date = AS_OF, model_version: str = "test-model-1"
) -> pa.Table:
    rng = np.random.default_rng(seed)
    probability = np.round(rng.beta(1.3, 2.2, customers), 6)
    tier = np.where(probability >= 0.6, "high", np.where(probability >= 0.3, "medium", "low"))
    aov = np.round(rng.lognormal(8.2, 1.1, customers), 2)
    orders = rng.geometric(0.25, customers).astype(np.int64)
    recency = rng.integers(0, 400, customers)
    category = rng.choice(np.array(CATEGORIES, dtype=object), customers)
    reasons = [
        rng.choice(np.array(REASONS, dtype=object), customers) for _ in range(3)
    ]  # templates; filled below with each customer's numbers
    numbers = list(zip(recency, orders, aov, category, strict=True))
    filled = [
        [t.format(r=r, o=o, a=a, c=c) for t, (r, o, a, c) in zip(col, numbers, strict=True)]
        for col in reasons
    ]
    missing = rng.random(customers) < 0.02  # a few customers without a location
    location = rng.choice(np.array(LOCATIONS, dtype=object), customers)
    location[missing] = None
    columns = {
        "customer_id": [f"C{i:07d}" for i in range(1, customers + 1)],
        "as_of_date": np.full(customers, as_of),
        "model_version": np.full(customers, model_version, dtype=object),
        "probability": probability,
        "tier": tier.astype(object),
        "will_repeat": probability >= 0.3,
        "action": np.array([ACTIONS[t] for t in tier], dtype=object),
        "reason_1": filled[0],
        "reason_2": filled[1],
        "reason_3": filled[2],
        "aov_band": band_labels("avg_order_value", aov),
        "orders_band": band_labels("orders_count", orders.astype(float)),
        "recency_band": band_labels("recency_days", recency.astype(float)),
        "favourite_category": category,
        "preferred_payment_method": rng.choice(np.array(PAYMENT_METHODS, dtype=object), customers),
        "location": location,
        "avg_order_value": aov,
        "orders_count": orders,
        "recency_days": recency.astype(np.int64),
        "scored_at": np.full(customers, datetime(2025, 12, 2, 3, 0, tzinfo=UTC)),
    }
    return pa.Table.from_pydict(
        {name: pa.array(columns[name], type=SCHEMA.field(name).type) for name in SCHEMA.names},
        schema=SCHEMA,
    )


def write_scores(path: Path, table: pa.Table) -> Path:
    """Written as the scorer publishes it: a temporary sibling renamed into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = temp_path_for(path)
    pq.write_table(table, temp)
    temp.replace(path)
    return path
