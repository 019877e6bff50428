"""How synthetic customers behave, and the Bayes-optimal forecast ("oracle") that follows from it.

The process is a BG/NBD-like "buy till you die" model in continuous time, measured in days
since the first day of history:

* Customer *i* arrives with a first order at a uniform time in the history.
* While alive, orders arrive as an inhomogeneous Poisson process with intensity
  ``λ_i · m(t)``: ``λ_i`` is the latent rate (gamma-distributed, shifted by the preferred
  category and by being a high spender) and ``m(t)`` the calendar multiplier (weekend, holiday,
  festival season), constant within a calendar day.
* Right after its *j*-th order the customer drops out for good with probability ``q_ij`` =
  ``p_i`` (beta-distributed, shifted by category and spend) × a loyalty factor when ``j ≥ 3``
  × a factor when that order fell on a weekend or holiday. Dropping out is silent.

Every effect the issue asks for is a parameter of :class:`BehaviourParams`, so the tests can
check that each one is visible in the data the generator writes, and
:meth:`BehaviourParams.without_segment_effects` turns them all off at once, so the tests can
also check that what GET /insights finds disappears when the effects are not there.

A :class:`Shift` changes the world from a date on (drift monitoring is tested on it): a
promotion (one category's buyers order more often) or a new category mix of the customers who
arrive. It draws no random numbers, so without one the output is unchanged, and the oracle
integrates the promotion's intensity.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, timedelta

import numpy as np

from ingest.contract import CATEGORIES, GENDERS, PAYMENT_METHODS
from ingest.holidays import Calendar

SECONDS_PER_DAY = 86_400

#: Relative order volume by hour of day (evening peak, quiet nights); within a day the
#: intensity is shaped like this, which leaves every day-level integral unchanged.
HOURLY_WEIGHTS = np.array(
    [
        1.0,
        0.6,
        0.4,
        0.3,
        0.3,
        0.4,
        0.8,
        1.5,
        2.5,
        3.5,
        4.0,
        4.5,
        5.0,
        5.0,
        4.5,
        4.0,
        4.0,
        4.5,
        5.5,
        6.5,
        7.0,
        6.5,
        4.5,
        2.5,
    ]
)

#: Indian cities and their share of customers (metros first, as in most Indian e-commerce).
CITIES: dict[str, float] = {
    "Mumbai": 0.13,
    "Delhi": 0.13,
    "Bengaluru": 0.12,
    "Hyderabad": 0.08,
    "Chennai": 0.08,
    "Kolkata": 0.07,
    "Pune": 0.07,
    "Ahmedabad": 0.05,
    "Jaipur": 0.04,
    "Lucknow": 0.04,
    "Surat": 0.03,
    "Kochi": 0.03,
    "Chandigarh": 0.03,
    "Indore": 0.03,
    "Bhopal": 0.02,
    "Nagpur": 0.02,
    "Coimbatore": 0.02,
    "Patna": 0.01,
}


#: The shared daily order rate of :meth:`BehaviourParams.without_segment_effects`: with the
#: calendar's multipliers (a 30-day window sums to 31–50 multiplier-days, 34 on average over
#: 2025) it gives a 30-day repeat rate of about 36 %, the default process's.
NO_EFFECTS_RATE_PER_DAY = 0.013


def _by_category(values: dict[str, float]) -> np.ndarray:
    return np.array([values[c] for c in CATEGORIES])


@dataclass(frozen=True)
class Shift:
    """A change of behaviour from ``start`` on (``--shift-from``/``--shift``); both kinds at once
    are allowed, and neither draws a random number.

    ``promotion``: customers who prefer that category order ``promotion_rate_factor`` times as
    often from the start of that day; their intensity is ``λ_i · m(t) · f(t)``, so the
    integrated multiplier is ``M(t) + (f − 1) · max(M(t) − M(s), 0)``. Most customers of a
    3-year log have silently dropped out, so even a large factor moves the population's
    features little (orders_30d: PSI 0.02 at ×2, 0.24 at ×8 after 90 days, 3,000 customers).

    ``mix``: the new customers from the start on are that category's buyers: the customers who
    prefer it arrive (first order) between the start and the end of history instead of across
    all of it (their arrival times squeezed into that span, in the same order), so before the
    start the shop has almost none of them and afterwards many: the category mix changes.
    """

    start: date
    promotion: str | None = None
    mix: str | None = None
    promotion_rate_factor: float = 2.0

    def __post_init__(self) -> None:
        for category in (self.promotion, self.mix):
            if category is not None and category not in CATEGORIES:
                raise ValueError(f"unknown category {category!r}: one of {', '.join(CATEGORIES)}")
        if self.promotion_rate_factor <= 0:
            raise ValueError("promotion_rate_factor must be positive")

    def start_day(self, grid: CalendarGrid) -> int:
        day = (np.datetime64(self.start, "D") - grid.start).astype(np.int64)
        return int(np.clip(day, 0, grid.n_days))

    def arrivals(
        self, first_day: np.ndarray, category: np.ndarray, grid: CalendarGrid
    ) -> np.ndarray:
        """First-order times with the ``mix`` category's buyers moved after the start."""
        if self.mix is None:
            return first_day
        start = self.start_day(grid)
        moved = start + first_day * (grid.n_days - start) / grid.n_days
        return np.where(category == CATEGORIES.index(self.mix), moved, first_day)

    def rate_factors(self, customers: Customers) -> np.ndarray | None:
        """Each customer's rate factor from the start on; None without a promotion."""
        if self.promotion is None:
            return None
        hit = customers.category == CATEGORIES.index(self.promotion)
        return np.where(hit, self.promotion_rate_factor, 1.0)

    def integral_to(self, grid: CalendarGrid, t: np.ndarray, factor: np.ndarray) -> np.ndarray:
        """``M(t)`` of customers whose rate is multiplied by ``factor`` from the start on."""
        before = grid.integral_to(t)
        at_start = grid.cumulative[self.start_day(grid)]
        return before + (factor - 1.0) * np.maximum(before - at_start, 0.0)

    def time_at(self, grid: CalendarGrid, integral: np.ndarray, factor: np.ndarray) -> np.ndarray:
        """Inverse of :meth:`integral_to`."""
        at_start = grid.cumulative[self.start_day(grid)]
        plain = np.where(integral > at_start, at_start + (integral - at_start) / factor, integral)
        return grid.time_at(plain)


@dataclass(frozen=True)
class BehaviourParams:
    """Every knob of the customer process; defaults give ~15 orders per customer in 3 years."""

    rate_shape: float = 1.5
    rate_scale_per_day: float = 0.023
    max_rate_per_day: float = 0.6
    dropout_alpha: float = 1.5
    dropout_beta: float = 20.0
    max_dropout: float = 0.95
    loyal_from_order: int = 3
    loyal_dropout_factor: float = 0.5
    weekend_holiday_dropout_factor: float = 0.5
    # "High spender" = latent mean order value above this; their observed average order
    # is the noisy view of it that dbt features and models get to see.
    high_spender_threshold_inr: float = 30_000.0
    high_spender_rate_factor: float = 1.6
    high_spender_dropout_factor: float = 0.4
    weekend_rate_factor: float = 1.15
    holiday_rate_factor: float = 1.8
    festival_season_rate_factor: float = 1.5
    spend_median_inr: float = 3_500.0
    spend_sigma: float = 1.35
    order_amount_sigma: float = 0.5
    min_order_inr: float = 20.0
    preferred_category_share: float = 0.75
    preferred_payment_share: float = 0.85
    refund_rate: float = 0.02
    category_share: dict[str, float] = field(
        default_factory=lambda: {
            "groceries": 0.30,
            "fashion": 0.20,
            "electronics": 0.12,
            "home": 0.13,
            "beauty": 0.15,
            "books": 0.10,
        }
    )
    category_rate_factor: dict[str, float] = field(
        default_factory=lambda: {
            "groceries": 1.4,
            "fashion": 1.0,
            "electronics": 0.6,
            "home": 0.9,
            "beauty": 1.1,
            "books": 0.9,
        }
    )
    category_dropout_factor: dict[str, float] = field(
        default_factory=lambda: {
            "groceries": 0.6,
            "fashion": 1.0,
            "electronics": 1.8,
            "home": 1.1,
            "beauty": 0.9,
            "books": 1.0,
        }
    )
    category_spend_factor: dict[str, float] = field(
        default_factory=lambda: {
            "groceries": 0.6,
            "fashion": 1.0,
            "electronics": 1.6,
            "home": 1.3,
            "beauty": 0.7,
            "books": 0.5,
        }
    )
    payment_share: dict[str, float] = field(
        default_factory=lambda: {
            "upi": 0.45,
            "card": 0.20,
            "cod": 0.15,
            "wallet": 0.10,
            "netbanking": 0.10,
        }
    )
    gender_share: dict[str, float] = field(
        default_factory=lambda: {"female": 0.48, "male": 0.49, "other": 0.03}
    )
    # a change of behaviour from a date on (None: the same world throughout)
    shift: Shift | None = None

    def without_segment_effects(self) -> BehaviourParams:
        """A world where no segment says anything about the next 30 days, at about the same
        marginal 30-day repeat rate (~36 %).

        The origin's four claims (high spenders, 3+ orders, groceries vs electronics,
        weekend/holiday buyers return more) are each an effect on the order rate or the
        dropout here; neutral factors alone would not remove them from observed data, since
        a buy-till-you-die history always says something: customers with more orders are the
        faster and the still-alive ones. So every customer gets one shared order rate
        (a gamma of shape 10⁶: a spread of 0.1 %) and never drops out, which makes each
        customer's orders a Poisson process whose next 30 days are independent of everything
        before (order count, spend, category, weekend or holiday share, payment, city).
        Spend, category and payment mixes stay as they are, and the calendar still makes
        weekends, holidays and the festival season busier for everyone.
        """
        neutral = dict.fromkeys(CATEGORIES, 1.0)
        shape = 1e6
        return replace(
            self,
            rate_shape=shape,
            rate_scale_per_day=NO_EFFECTS_RATE_PER_DAY / shape,
            max_dropout=0.0,
            loyal_dropout_factor=1.0,
            weekend_holiday_dropout_factor=1.0,
            high_spender_rate_factor=1.0,
            high_spender_dropout_factor=1.0,
            category_rate_factor=neutral,
            category_dropout_factor=dict(neutral),
        )


@dataclass(frozen=True)
class CalendarGrid:
    """The history's days with their rate multipliers, and ``M(t) = ∫_0^t m(s) ds``.

    ``m`` runs past the end of history far enough to cover the 30-day window of the last
    as-of date, so the oracle can integrate over it.
    """

    start: np.datetime64
    n_days: int
    multiplier: np.ndarray
    cumulative: np.ndarray
    weekend_or_holiday: np.ndarray

    @classmethod
    def build(
        cls, calendar: Calendar, start: date, end: date, params: BehaviourParams, horizon_days: int
    ) -> CalendarGrid:
        n_days = (end - start).days + 1
        calendar.warn_missing_seasons(start, end + timedelta(days=horizon_days))
        days = np.datetime64(start, "D") + np.arange(n_days + horizon_days + 1)
        weekend = ((days.astype(np.int64) + 3) % 7) >= 5
        holiday = calendar.is_holiday(days)
        season = calendar.in_festival_season(days)
        multiplier = (
            np.where(weekend, params.weekend_rate_factor, 1.0)
            * np.where(holiday, params.holiday_rate_factor, 1.0)
            * np.where(season, params.festival_season_rate_factor, 1.0)
        )
        cumulative = np.concatenate([[0.0], np.cumsum(multiplier)])
        return cls(np.datetime64(start, "D"), n_days, multiplier, cumulative, weekend | holiday)

    def integral_to(self, t: np.ndarray) -> np.ndarray:
        """``M(t)``; piecewise linear because ``m`` is constant within a day."""
        return np.interp(t, np.arange(self.cumulative.size), self.cumulative)

    def time_at(self, integral: np.ndarray) -> np.ndarray:
        """Inverse of ``M``: the time at which the integrated multiplier reaches a value."""
        return np.interp(integral, self.cumulative, np.arange(self.cumulative.size))


@dataclass
class Customers:
    """Latent parameters and demographics of one chunk of customers (index = local id)."""

    rate: np.ndarray
    dropout: np.ndarray
    spend: np.ndarray
    high_spender: np.ndarray
    category: np.ndarray
    payment: np.ndarray
    city: np.ndarray
    age: np.ndarray
    gender: np.ndarray
    first_time: np.ndarray
    signup_day: np.ndarray


@dataclass
class Orders:
    """Orders sorted by (customer, time); ``time`` is in days since the start of history."""

    customer: np.ndarray
    time: np.ndarray
    number: np.ndarray
    dropout_after: np.ndarray
    amount_paise: np.ndarray
    category: np.ndarray
    payment: np.ndarray


@dataclass
class Refunds:
    """Refund rows: a negative amount some days after the order at ``order_index``."""

    order_index: np.ndarray
    time: np.ndarray
    amount_paise: np.ndarray


def draw_customers(
    rng: np.random.Generator, n: int, grid: CalendarGrid, params: BehaviourParams
) -> Customers:
    """Draw latent parameters; the category and spend shifts are applied here, once."""
    category = rng.choice(len(CATEGORIES), n, p=_normalised(params.category_share))
    payment = rng.choice(len(PAYMENT_METHODS), n, p=_normalised(params.payment_share))
    spend = (
        params.spend_median_inr
        * _by_category(params.category_spend_factor)[category]
        * rng.lognormal(0.0, params.spend_sigma, n)
    )
    high = spend > params.high_spender_threshold_inr
    rate = (
        rng.gamma(params.rate_shape, params.rate_scale_per_day, n)
        * _by_category(params.category_rate_factor)[category]
        * np.where(high, params.high_spender_rate_factor, 1.0)
    )
    dropout = (
        rng.beta(params.dropout_alpha, params.dropout_beta, n)
        * _by_category(params.category_dropout_factor)[category]
        * np.where(high, params.high_spender_dropout_factor, 1.0)
    )
    city = rng.choice(len(CITIES), n, p=_normalised(CITIES))
    age = np.clip(np.round(18 + rng.gamma(4.0, 4.5, n)), 18, 80).astype(np.int64)
    gender = rng.choice(len(GENDERS), n, p=_normalised(params.gender_share))
    first_day = rng.uniform(0, grid.n_days, n)
    if params.shift is not None:
        first_day = params.shift.arrivals(first_day, category, grid)
    signup_lead = np.where(rng.random(n) < 0.4, 0.0, rng.exponential(90.0, n))
    signup_day = np.floor(first_day - signup_lead).astype(np.int64)
    return Customers(
        rate=np.minimum(rate, params.max_rate_per_day),
        dropout=np.minimum(dropout, params.max_dropout),
        spend=spend,
        high_spender=high,
        category=category,
        payment=payment,
        city=city,
        age=age,
        gender=gender,
        first_time=first_day,
        signup_day=signup_day,
    )


def simulate_orders(
    rng: np.random.Generator, customers: Customers, grid: CalendarGrid, params: BehaviourParams
) -> Orders:
    """Run the buy-till-you-die process for all customers at once, one order number per step.

    Each step records the current order of every still-active customer, decides dropout, and
    draws the next arrival by inverting ``M``: with ``E ~ Exp(1)`` the next order is at
    ``M⁻¹(M(t) + E/λ)``, which is exact for an inhomogeneous Poisson process.
    """
    who, when, number, q_after = [], [], [], []
    shift = params.shift
    boost = shift.rate_factors(customers) if shift else None
    active = np.arange(customers.first_time.size)
    t = customers.first_time
    n = 1
    while active.size:
        special = grid.weekend_or_holiday[t.astype(np.int64)]
        q = customers.dropout[active].copy()
        if n >= params.loyal_from_order:
            q *= params.loyal_dropout_factor
        q = np.minimum(
            np.where(special, q * params.weekend_holiday_dropout_factor, q), params.max_dropout
        )
        who.append(active)
        when.append(t)
        number.append(np.full(active.size, n, dtype=np.int64))
        q_after.append(q)
        alive = rng.random(active.size) >= q
        active, t = active[alive], t[alive]
        gap = rng.standard_exponential(active.size) / customers.rate[active]
        if boost is None:
            t = grid.time_at(grid.integral_to(t) + gap)
        else:
            factor = boost[active]
            t = shift.time_at(grid, shift.integral_to(grid, t, factor) + gap, factor)
        inside = t < grid.n_days
        active, t = active[inside], t[inside]
        n += 1

    customer = np.concatenate(who)
    order = np.argsort(customer, kind="stable")  # steps are chronological per customer
    customer = customer[order]
    n_orders = customer.size
    preferred = rng.random(n_orders) < params.preferred_category_share
    category = np.where(
        preferred, customers.category[customer], rng.integers(0, len(CATEGORIES), n_orders)
    )
    preferred = rng.random(n_orders) < params.preferred_payment_share
    payment = np.where(
        preferred, customers.payment[customer], rng.integers(0, len(PAYMENT_METHODS), n_orders)
    )
    sigma = params.order_amount_sigma
    amount = customers.spend[customer] * rng.lognormal(-(sigma**2) / 2, sigma, n_orders)
    amount_paise = np.round(np.maximum(amount, params.min_order_inr) * 100).astype(np.int64)
    return Orders(
        customer=customer,
        time=np.concatenate(when)[order],
        number=np.concatenate(number)[order],
        dropout_after=np.concatenate(q_after)[order],
        amount_paise=amount_paise,
        category=category,
        payment=payment,
    )


def draw_refunds(
    rng: np.random.Generator, orders: Orders, grid: CalendarGrid, params: BehaviourParams
) -> Refunds:
    """A small share of orders is refunded (fully or partly) 1–21 days later, inside history."""
    picked = np.flatnonzero(rng.random(orders.time.size) < params.refund_rate)
    time = orders.time[picked] + rng.uniform(1.0, 21.0, picked.size)
    share = np.where(rng.random(picked.size) < 0.6, 1.0, rng.uniform(0.2, 0.9, picked.size))
    amount = -np.maximum(np.round(orders.amount_paise[picked] * share), 1).astype(np.int64)
    inside = time < grid.n_days
    return Refunds(order_index=picked[inside], time=time[inside], amount_paise=amount[inside])


def seconds_of_day(time: np.ndarray) -> np.ndarray:
    """Map the uniform within-day fraction of ``time`` to a realistic clock time (seconds).

    The map is monotone, so an order's written timestamp still determines how much of its
    day's intensity lay after it — the quantity the oracle needs.
    """
    cdf = np.concatenate([[0.0], np.cumsum(HOURLY_WEIGHTS) / HOURLY_WEIGHTS.sum()])
    fraction = time - np.floor(time)
    seconds = np.interp(fraction, cdf, np.arange(25) * 3600.0)
    return np.minimum(np.floor(seconds), SECONDS_PER_DAY - 1).astype(np.int64)


def oracle_p_repeat(
    customers: Customers,
    orders: Orders,
    grid: CalendarGrid,
    as_of_day: int,
    window_days: int,
    shift: Shift | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Bayes-optimal P(≥1 order in (T, T+window]) given latent parameters and history to T.

    ``T`` is the end of day ``as_of_day`` (time ``as_of_day + 1``); the window covers the next
    ``window_days`` whole days. Returns (local customer ids with ≥1 order by T, probability).

    Derivation. Fix a customer with rate ``λ`` whose last order on or before ``T`` is at
    ``t_last`` and whose dropout probability right after that order is ``q`` (known: it
    depends on ``p_i``, the order number and whether that day was a weekend/holiday). Deaths
    only happen at orders, so the customer is alive at ``T`` iff they survived the draw after
    ``t_last``. The history says "no order in (t_last, T]", which has likelihood
    ``exp(-Λ)`` with ``Λ = λ ∫_{t_last}^{T} m(s) ds`` if alive and 1 if dead. Bayes:

        P(alive | H) = (1-q) e^{-Λ} / ((1-q) e^{-Λ} + q) = 1 / (1 + q/(1-q) · e^{Λ}).

    Earlier orders carry no further information about being alive now (they were all
    survived), and given alive the Poisson process is memoryless, so

        P(≥1 order in (T, T+w] | H) = P(alive | H) · (1 − exp(−λ ∫_T^{T+w} m(s) ds)).

    A dropout after an order inside the window does not matter: the first order already
    counts. This uses what an ideal model could infer — parameters plus observed history —
    not the simulator's hidden alive flag. ``Λ`` uses the exact simulated order time; the
    written timestamp (whole seconds) differs by less than a second. Under a ``shift``'s
    promotion both integrals are of its intensity (raised from its start for those it hits).
    """
    n_customers = customers.rate.size
    span = grid.cumulative.size + 1.0
    key = orders.customer * span + orders.time
    t_end = float(as_of_day + 1)
    last = np.searchsorted(key, np.arange(n_customers) * span + t_end, side="left") - 1
    seen = last >= 0
    seen[seen] = orders.customer[last[seen]] == np.flatnonzero(seen)
    who = np.flatnonzero(seen)
    last = last[seen]
    rate = customers.rate[who]
    q = orders.dropout_after[last]
    boost = shift.rate_factors(customers) if shift else None
    if boost is None:
        since = rate * (grid.cumulative[as_of_day + 1] - grid.integral_to(orders.time[last]))
        ahead = rate * (
            grid.cumulative[as_of_day + 1 + window_days] - grid.cumulative[as_of_day + 1]
        )
    else:
        factor = boost[who]
        now, end = (
            shift.integral_to(grid, np.full(who.size, t), factor)
            for t in (as_of_day + 1.0, as_of_day + 1.0 + window_days)
        )
        since = rate * (now - shift.integral_to(grid, orders.time[last], factor))
        ahead = rate * (end - now)
    with np.errstate(divide="ignore"):  # q = 0 (nobody drops out): log odds −inf, alive
        log_odds_dead = np.log(q) - np.log1p(-q) + since
    p_alive = np.exp(-np.logaddexp(0.0, log_odds_dead))  # 1 / (1 + e^{log odds}), no overflow
    return who, p_alive * -np.expm1(-ahead)


def _normalised(shares: dict[str, float]) -> np.ndarray:
    values = np.array(list(shares.values()), dtype=float)
    return values / values.sum()
