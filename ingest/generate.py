"""Generate a sample Indian-retail transaction log with known ground truth.

    python -m ingest.generate --customers 200000 --seed 42 --out data/raw
    python -m ingest.generate --customers 20000 --no-segment-effects --out /tmp/null-raw
    python -m ingest.generate --customers 20000 --shift-from 2025-10-01 --shift mix:books

Customers are simulated in fixed chunks of ``CHUNK_CUSTOMERS`` with a random stream derived
from (seed, chunk number) alone, so the output is byte-identical for the same arguments at any
scale and memory stays bounded: each chunk is formatted and appended to the Parquet files as
its own row group, and nothing holds the whole table.

Writes, in the raw landing contract (:mod:`ingest.contract`): ``transactions.parquet``,
``customers.parquet`` and ``ground_truth.parquet`` — the oracle probability
(:func:`ingest.behaviour.oracle_p_repeat`) for every customer with an order on or before each
as-of date of :func:`ingest.as_of_grid.as_of_dates` counted back from ``end_date`` (dbt's grid
rule and vars, unless --as-of-every/--as-of-count say otherwise). ``k = 0`` (T = end_date) is
included for scoring today's customers although its label window lies after the data;
label-based evaluation should use k ≥ 1.

``--shift-from DATE --shift promotion:CATEGORY`` (that category's buyers order twice as often)
and/or ``--shift mix:CATEGORY`` (the new customers are that category's buyers) change the
world from DATE on (:class:`ingest.behaviour.Shift`), to test drift monitoring on. Without
them the output is byte for byte what it was before the switch existed.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from tqdm import tqdm

from ingest import as_of_grid, behaviour, contract, dirty
from ingest.behaviour import BehaviourParams, CalendarGrid, Shift
from ingest.dbt_vars import label_window_days, snapshot_count, snapshot_every_days
from ingest.holidays import load_calendar

CHUNK_CUSTOMERS = 50_000
DEFAULT_END_DATE = date(2025, 12, 31)


@dataclass
class GenerationSummary:
    """What a run wrote; ``damage`` counts rows per damage kind (all zero in clean mode)."""

    out: Path
    customers: int
    orders: int = 0
    refunds: int = 0
    transaction_rows: int = 0
    ground_truth_rows: int = 0
    seconds: float = 0.0
    damage: Counter[str] = field(default_factory=Counter)

    def line(self) -> str:
        damaged = sum(self.damage.values())
        return (
            f"wrote {self.transaction_rows:,} transaction rows ({self.orders:,} orders, "
            f"{self.refunds:,} refunds, {damaged:,} damaged) for {self.customers:,} "
            f"customers and {self.ground_truth_rows:,} ground-truth rows to {self.out} "
            f"in {self.seconds:.1f} s"
        )


def history_start(end_date: date, years: int) -> date:
    """First day of a history of ``years`` years ending on ``end_date`` (inclusive)."""
    try:
        same_day = end_date.replace(year=end_date.year - years)
    except ValueError:  # 29 February
        same_day = end_date.replace(year=end_date.year - years, day=28)
    return same_day + timedelta(days=1)


def generate(
    customers: int,
    seed: int,
    out: Path,
    *,
    dirty_rate: float = 0.0,
    end_date: date = DEFAULT_END_DATE,
    years: int = 3,
    as_of_every: int | None = None,
    as_of_count: int | None = None,
    params: BehaviourParams | None = None,
    progress: bool = False,
) -> GenerationSummary:
    """Write the three raw files for ``customers`` customers; see the module docstring."""
    if customers < 1:
        raise ValueError("customers must be at least 1")
    if not 0.0 <= dirty_rate < 1.0:
        raise ValueError("dirty_rate must be in [0, 1)")
    params = params or BehaviourParams()
    started = time.perf_counter()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    start = history_start(end_date, years)
    as_of = as_of_grid.as_of_dates(end_date, every_days=as_of_every, count=as_of_count, first=start)
    grid = CalendarGrid.build(
        load_calendar(), start, end_date, params, horizon_days=label_window_days() + 1
    )
    summary = GenerationSummary(out=out, customers=customers)
    summary.damage.update({kind: 0 for kind in dirty.DAMAGE_KINDS})

    targets = {
        contract.TRANSACTIONS_FILE: contract.TRANSACTIONS_SCHEMA,
        contract.CUSTOMERS_FILE: contract.CUSTOMERS_SCHEMA,
        contract.GROUND_TRUTH_FILE: contract.GROUND_TRUTH_SCHEMA,
    }
    temps = {name: contract.temp_path_for(out / name) for name in targets}
    writers: dict[str, pq.ParquetWriter] = {}
    try:
        for name, schema in targets.items():
            writers[name] = pq.ParquetWriter(temps[name], schema)
        n_chunks = -(-customers // CHUNK_CUSTOMERS)
        with tqdm(total=customers, unit="customer", disable=not progress, desc="generating") as bar:
            for chunk in range(n_chunks):
                first = chunk * CHUNK_CUSTOMERS
                size = min(CHUNK_CUSTOMERS, customers - first)
                tables, counts = _generate_chunk(
                    seed, chunk, first, size, grid, params, as_of, dirty_rate, end_date
                )
                for name, table in tables.items():
                    writers[name].write_table(table)
                summary.orders += counts["orders"]
                summary.refunds += counts["refunds"]
                summary.transaction_rows += tables[contract.TRANSACTIONS_FILE].num_rows
                summary.ground_truth_rows += tables[contract.GROUND_TRUTH_FILE].num_rows
                summary.damage.update(counts["damage"])
                bar.update(size)
        for writer in writers.values():
            writer.close()
        for name in targets:
            contract.publish(temps[name], out / name)
    except BaseException:
        for writer in writers.values():
            writer.close()
        for temp in temps.values():
            contract.discard(temp)
        raise
    contract.remove_stale(out, keep=set(targets))
    summary.seconds = time.perf_counter() - started
    return summary


def _generate_chunk(
    seed: int,
    chunk: int,
    first: int,
    size: int,
    grid: CalendarGrid,
    params: BehaviourParams,
    as_of: list[date],
    dirty_rate: float,
    end_date: date,
) -> tuple[dict[str, pa.Table], dict]:
    """Simulate, format and (optionally) damage one chunk; depends only on (seed, chunk)."""
    process_stream, dirty_stream = np.random.SeedSequence([seed, chunk]).spawn(2)
    rng = np.random.default_rng(process_stream)
    people = behaviour.draw_customers(rng, size, grid, params)
    orders = behaviour.simulate_orders(rng, people, grid, params)
    refunds = behaviour.draw_refunds(rng, orders, grid, params)

    customer_ids = _customer_ids(first + np.arange(size))
    transactions = _transactions_table(customer_ids, people, orders, refunds, grid, first)
    damage: Counter[str] = Counter()
    if dirty_rate > 0:
        purchases = np.flatnonzero(~_is_refund_row(orders, refunds))
        transactions, damage = dirty.damage(
            transactions, purchases, dirty_rate, np.random.default_rng(dirty_stream), end_date
        )
    tables = {
        contract.TRANSACTIONS_FILE: transactions,
        contract.CUSTOMERS_FILE: _customers_table(customer_ids, people, grid),
        contract.GROUND_TRUTH_FILE: _ground_truth_table(
            customer_ids, people, orders, grid, as_of, params.shift
        ),
    }
    return tables, {"orders": orders.time.size, "refunds": refunds.time.size, "damage": damage}


def _customer_ids(numbers: np.ndarray) -> pa.Array:
    return _prefixed("C", numbers + 1, 7)


def _prefixed(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    digits = pc.utf8_lpad(pc.cast(pa.array(numbers, pa.int64()), pa.string()), width, "0")
    return pc.binary_join_element_wise(prefix, digits, "")


def _timestamps(grid: CalendarGrid, time_in_days: np.ndarray) -> pa.Array:
    day = np.floor(time_in_days).astype(np.int64)
    seconds = (grid.start + day).astype("datetime64[s]").astype(np.int64)
    seconds = seconds + behaviour.seconds_of_day(time_in_days)
    stamps = pa.array(seconds.astype("datetime64[s]"), pa.timestamp("s"))
    return pc.strftime(stamps, format=contract.ORDER_DATE_FORMAT)


def _amounts(paise: np.ndarray) -> pa.Array:
    """Integer paise → '1234.50' / '-99.05' without float rounding surprises."""
    magnitude = np.abs(paise)
    rupees = pc.cast(pa.array(magnitude // 100), pa.string())
    cents = pc.utf8_lpad(pc.cast(pa.array(magnitude % 100), pa.string()), 2, "0")
    text = pc.binary_join_element_wise(rupees, cents, ".")
    return pc.if_else(pa.array(paise < 0), pc.binary_join_element_wise("-", text, ""), text)


def _lookup(names: tuple[str, ...], codes: np.ndarray) -> pa.Array:
    return pc.take(pa.array(names, pa.string()), pa.array(codes))


def _row_order(orders: behaviour.Orders, refunds: behaviour.Refunds) -> np.ndarray:
    """Order purchase and refund rows by (customer, time): index < n_orders is a purchase."""
    customer = np.concatenate([orders.customer, orders.customer[refunds.order_index]])
    when = np.concatenate([orders.time, refunds.time])
    return np.lexsort((when, customer))


def _is_refund_row(orders: behaviour.Orders, refunds: behaviour.Refunds) -> np.ndarray:
    return _row_order(orders, refunds) >= orders.time.size


def _transactions_table(
    customer_ids: pa.Array,
    people: behaviour.Customers,
    orders: behaviour.Orders,
    refunds: behaviour.Refunds,
    grid: CalendarGrid,
    first: int,
) -> pa.Table:
    cities = tuple(behaviour.CITIES)
    order_ids = pc.binary_join_element_wise(
        _prefixed("O", first + orders.customer + 1, 7),
        pc.utf8_lpad(pc.cast(pa.array(orders.number), pa.string()), 4, "0"),
        "",
    )
    refund_ids = pc.binary_join_element_wise(
        order_ids.take(pa.array(refunds.order_index)), contract.REFUND_SUFFIX, ""
    )
    src = refunds.order_index
    columns = {
        "customer_id": pa.concat_arrays(
            [
                customer_ids.take(pa.array(orders.customer)),
                customer_ids.take(pa.array(orders.customer[src])),
            ]
        ),
        "order_id": pa.concat_arrays([order_ids, refund_ids]),
        "order_date": _timestamps(grid, np.concatenate([orders.time, refunds.time])),
        "amount": _amounts(np.concatenate([orders.amount_paise, refunds.amount_paise])),
        "category": _lookup(
            contract.CATEGORIES, np.concatenate([orders.category, orders.category[src]])
        ),
        "payment_method": _lookup(
            contract.PAYMENT_METHODS, np.concatenate([orders.payment, orders.payment[src]])
        ),
        "location": _lookup(
            cities, people.city[np.concatenate([orders.customer, orders.customer[src]])]
        ),
    }
    table = pa.table(columns, schema=contract.TRANSACTIONS_SCHEMA)
    return table.take(pa.array(_row_order(orders, refunds)))


def _customers_table(
    customer_ids: pa.Array, people: behaviour.Customers, grid: CalendarGrid
) -> pa.Table:
    signup = pa.array((grid.start + people.signup_day).astype("datetime64[D]"), pa.date32())
    return pa.table(
        {
            "customer_id": customer_ids,
            "signup_date": pc.strftime(pc.cast(signup, pa.timestamp("s")), format="%Y-%m-%d"),
            "age": pc.cast(pa.array(people.age), pa.string()),
            "gender": _lookup(contract.GENDERS, people.gender),
            "location": _lookup(tuple(behaviour.CITIES), people.city),
        },
        schema=contract.CUSTOMERS_SCHEMA,
    )


def _ground_truth_table(
    customer_ids: pa.Array,
    people: behaviour.Customers,
    orders: behaviour.Orders,
    grid: CalendarGrid,
    as_of: list[date],
    shift: Shift | None,
) -> pa.Table:
    who_parts, date_parts, p_parts = [], [], []
    for as_of_date in sorted(as_of):
        day = (np.datetime64(as_of_date, "D") - grid.start).astype(np.int64)
        who, p = behaviour.oracle_p_repeat(
            people, orders, grid, int(day), label_window_days(), shift
        )
        who_parts.append(who)
        date_parts.append(np.full(who.size, np.datetime64(as_of_date, "D")))
        p_parts.append(p)
    who = np.concatenate(who_parts)
    dates = np.concatenate(date_parts)
    order = np.lexsort((dates, who))
    return pa.table(
        {
            "customer_id": customer_ids.take(pa.array(who[order])),
            "as_of_date": pa.array(dates[order], pa.date32()),
            "p_repeat_30d": pa.array(np.concatenate(p_parts)[order], pa.float64()),
        },
        schema=contract.GROUND_TRUTH_SCHEMA,
    )


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m ingest.generate",
        description="Generate a sample Indian-retail transaction log (₹, UPI/COD, festival "
        "seasonality) in the raw landing contract, plus customers and the oracle "
        "ground truth. Same arguments → byte-identical files.",
    )
    parser.add_argument(
        "--customers",
        type=int,
        required=True,
        help="number of customers (about 15 orders each over 3 years)",
    )
    parser.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("data/raw"),
        help="output folder; existing files there are replaced (default data/raw)",
    )
    parser.add_argument(
        "--dirty-rate",
        type=float,
        default=0.0,
        help="share of purchase rows to damage like a messy export "
        "(duplicates, bad dates/amounts, missing ids...); default 0",
    )
    parser.add_argument(
        "--end-date",
        type=date.fromisoformat,
        default=DEFAULT_END_DATE,
        help="last day of history, YYYY-MM-DD (default 2025-12-31)",
    )
    parser.add_argument("--years", type=int, default=3, help="years of history (default 3)")
    parser.add_argument(
        "--as-of-every",
        type=int,
        default=snapshot_every_days(),
        help="days between ground-truth as-of dates (default: the dbt var "
        f"snapshot_every_days, {snapshot_every_days()})",
    )
    parser.add_argument(
        "--as-of-count",
        type=int,
        default=snapshot_count(),
        help="ground truth for end-date − k·every, k = 0..count (default: the dbt var "
        f"snapshot_count, {snapshot_count()})",
    )
    parser.add_argument(
        "--no-segment-effects",
        action="store_true",
        help="a log in which no segment predicts repeat purchases (one shared order rate, no "
        "dropout; same ~36%% 30-day repeat rate): GET /insights should then support none of "
        "the four origin claims",
    )
    parser.add_argument(
        "--shift-from",
        type=date.fromisoformat,
        default=None,
        help="change behaviour from this day on (YYYY-MM-DD), as --shift says; for testing "
        "drift monitoring",
    )
    parser.add_argument(
        "--shift",
        action="append",
        default=[],
        metavar="KIND:CATEGORY",
        help="what changes from --shift-from (repeatable): promotion:CATEGORY = that "
        "category's buyers order twice as often; mix:CATEGORY = the new customers are that "
        f"category's buyers. CATEGORY: {', '.join(contract.CATEGORIES)}",
    )
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    args = parser.parse_args(argv)
    args.shift = _shift(parser, args.shift_from, args.shift)
    return args


def _shift(parser: argparse.ArgumentParser, start: date | None, kinds: list[str]) -> Shift | None:
    if not kinds and start is None:
        return None
    if not kinds or start is None:
        parser.error("--shift and --shift-from go together")
    chosen: dict[str, str] = {}
    for text in kinds:
        kind, _, category = text.partition(":")
        if kind not in ("promotion", "mix") or category not in contract.CATEGORIES:
            parser.error(
                f"--shift {text!r}: expected promotion:CATEGORY or mix:CATEGORY, CATEGORY one of "
                + ", ".join(contract.CATEGORIES)
            )
        chosen[kind] = category
    return Shift(start, **chosen)


def main(argv: list[str] | None = None) -> None:
    args = _parse_args(argv)
    summary = generate(
        args.customers,
        args.seed,
        args.out,
        dirty_rate=args.dirty_rate,
        end_date=args.end_date,
        years=args.years,
        as_of_every=args.as_of_every,
        as_of_count=args.as_of_count,
        params=replace(
            BehaviourParams().without_segment_effects()
            if args.no_segment_effects
            else BehaviourParams(),
            shift=args.shift,
        ),
        progress=not args.no_progress,
    )
    print(summary.line())
    if args.dirty_rate > 0:
        print(
            "damaged rows by kind: "
            + ", ".join(f"{kind}={count:,}" for kind, count in sorted(summary.damage.items()))
        )


if __name__ == "__main__":
    main()
