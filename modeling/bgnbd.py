"""BG/NBD (Fader, Hardie & Lee 2005): the classic buy-till-you-die baseline, fitted by ML.

While alive a customer buys as a Poisson process with rate λ ~ Gamma(r, α); after every
purchase they drop out with probability p ~ Beta(a, b). From each training row's repeat
purchase days x, the time of the last of them t_x and the time since the first purchase T (all
from the FeatureService's features, in days) it gives, per customer,

    P(≥ 1 purchase in (T, T + t]) = P(alive | x, t_x, T) · (1 − ((α + T) / (α + T + t))^(r + x))

exact for the model: given alive, λ's posterior is Gamma(r + x, α + T), and dropout happens
only after a purchase, so it cannot prevent the first one in the window.

The fit maximises the log-likelihood over log-parameters with L-BFGS-B inside wide bounds; real
data can push a parameter to its bound (no repeat buyers at all, say), and the fit then stops
there instead of failing. Rows are subsampled (seeded) above `max_rows`: four parameters need
far fewer than the millions of rows a stacked training set can have.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import gammaln, logsumexp

# log-parameter bounds: e^-8 ≈ 3e-4 to e^8 ≈ 3000 days for α, wide enough for any real shop
LOG_BOUNDS = (-8.0, 8.0)
PARAMETERS = ("r", "alpha", "a", "b")


def rfm(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x, t_x, T) in days from feature rows: repeat purchase days, last minus first, tenure."""
    tenure = pd.to_numeric(frame["tenure_days"], errors="coerce").to_numpy(float)
    recency = pd.to_numeric(frame["recency_days"], errors="coerce").to_numpy(float)
    days = pd.to_numeric(frame["purchase_days"], errors="coerce").to_numpy(float)
    big_t = np.nan_to_num(np.maximum(tenure, 0.0), nan=0.0)
    t_x = np.clip(np.nan_to_num(tenure - recency, nan=0.0), 0.0, big_t)
    x = np.maximum(np.nan_to_num(days - 1.0, nan=0.0), 0.0)
    t_x = np.where(x > 0, t_x, 0.0)
    return x, t_x, big_t


def _log_likelihood(
    log_params: np.ndarray, x: np.ndarray, t_x: np.ndarray, big_t: np.ndarray, w: np.ndarray
) -> float:
    r, alpha, a, b = np.exp(log_params)
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a2 = gammaln(a + b) + gammaln(b + x) - gammaln(b) - gammaln(a + b + x)
    a3 = -(r + x) * np.log(alpha + big_t)
    repeat = x > 0
    a4 = np.where(
        repeat,
        np.log(a) - np.log(np.where(repeat, b + x - 1.0, 1.0)) - (r + x) * np.log(alpha + t_x),
        -np.inf,
    )
    ll = a1 + a2 + logsumexp(np.stack([a3, a4]), axis=0)
    return float(np.sum(w * ll))


@dataclass(frozen=True)
class BGNBD:
    """Fitted parameters; time in days."""

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float
    converged: bool
    at_bound: tuple[str, ...]
    rows: int

    @classmethod
    def fit(
        cls,
        x: np.ndarray,
        t_x: np.ndarray,
        big_t: np.ndarray,
        *,
        max_rows: int = 50_000,
        seed: int = 0,
    ) -> BGNBD:
        x, t_x, big_t = (np.asarray(v, dtype=float) for v in (x, t_x, big_t))
        if len(x) > max_rows:
            keep = np.random.default_rng(seed).choice(len(x), max_rows, replace=False)
            x, t_x, big_t = x[keep], t_x[keep], big_t[keep]
        # identical (x, t_x, T) rows are one term with a weight: fewer gammaln calls
        rows = pd.DataFrame({"x": x, "t_x": t_x, "T": big_t}).value_counts().reset_index()
        x, t_x, big_t, w = (rows[c].to_numpy(float) for c in ("x", "t_x", "T", "count"))
        n = max(w.sum(), 1.0)

        def objective(p: np.ndarray) -> float:
            value = -_log_likelihood(p, x, t_x, big_t, w) / n
            return value if np.isfinite(value) else 1e10

        mean_t = float(np.average(big_t, weights=w)) if len(w) else 1.0
        start = np.log([1.0, max(mean_t, 1.0) / 2.0, 1.0, 3.0])
        start = np.clip(start, *LOG_BOUNDS)
        result = minimize(
            objective, start, method="L-BFGS-B", bounds=[LOG_BOUNDS] * 4, options={"maxiter": 500}
        )
        params = np.exp(result.x)
        at_bound = tuple(
            name
            for name, value in zip(PARAMETERS, result.x, strict=True)
            if min(abs(value - LOG_BOUNDS[0]), abs(value - LOG_BOUNDS[1])) < 1e-3
        )
        return cls(
            *(float(v) for v in params),
            log_likelihood=float(-result.fun * n),
            converged=bool(result.success),
            at_bound=at_bound,
            rows=int(n),
        )

    @classmethod
    def fit_frame(cls, frame: pd.DataFrame, **kwargs) -> BGNBD:
        return cls.fit(*rfm(frame), **kwargs)

    def p_alive(self, x: np.ndarray, t_x: np.ndarray, big_t: np.ndarray) -> np.ndarray:
        x, t_x, big_t = (np.asarray(v, dtype=float) for v in (x, t_x, big_t))
        repeat = x > 0
        log_ratio = (
            np.log(self.a)
            - np.log(np.where(repeat, self.b + x - 1.0, 1.0))
            + (self.r + x) * (np.log(self.alpha + big_t) - np.log(self.alpha + t_x))
        )
        # 1 / (1 + e^log_ratio) without overflow; no repeat purchase means alive for sure
        return np.where(repeat, np.exp(-np.logaddexp(0.0, log_ratio)), 1.0)

    def p_purchase(
        self, x: np.ndarray, t_x: np.ndarray, big_t: np.ndarray, window_days: float
    ) -> np.ndarray:
        """P(at least one purchase in the next `window_days`) for each customer."""
        x, t_x, big_t = (np.asarray(v, dtype=float) for v in (x, t_x, big_t))
        p_none_if_alive = np.exp(
            (self.r + x) * (np.log(self.alpha + big_t) - np.log(self.alpha + big_t + window_days))
        )
        return self.p_alive(x, t_x, big_t) * (1.0 - p_none_if_alive)

    def predict_frame(self, frame: pd.DataFrame, window_days: float) -> np.ndarray:
        return self.p_purchase(*rfm(frame), window_days)

    def as_dict(self) -> dict:
        return {**asdict(self), "at_bound": list(self.at_bound), "time_unit": "days"}


def simulate(
    n: int, r: float, alpha: float, a: float, b: float, horizon: float, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x, t_x, T) of n customers drawn from a BG/NBD with these parameters (for tests)."""
    rng = np.random.default_rng(seed)
    lam = rng.gamma(r, 1.0 / alpha, n)
    p = rng.beta(a, b, n)
    big_t = rng.uniform(horizon / 4, horizon, n)
    x = np.zeros(n)
    t_x = np.zeros(n)
    for i in range(n):
        t = 0.0
        while True:
            t += rng.exponential(1.0 / lam[i])
            if t > big_t[i]:
                break
            x[i] += 1
            t_x[i] = t
            if rng.random() < p[i]:
                break
    return x, t_x, big_t
