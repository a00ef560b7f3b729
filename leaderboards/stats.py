"""Statistics for the tables: rliable's published definitions, re-implemented on numpy.

Agarwal et al., "Deep Reinforcement Learning at the Edge of the Statistical Precipice"
(NeurIPS 2021), as implemented in `rliable` 1.2 (`metrics.py`, `library.py`):

- IQM: the 25% trimmed mean of all runs x tasks pooled (`scipy.stats.trim_mean(x, 0.25)`:
  drop `int(0.25 N)` values from each end of the sorted scores, average the rest).
- Stratified bootstrap: each replicate resamples runs with replacement *within* every
  task (independently per task cell, as rliable's `StratifiedBootstrap` does); the 95%
  interval is the 2.5 and 97.5 percentiles (numpy's linear interpolation) of the statistic
  over the replicates ("percentile" method).
- Probability of improvement P(X > Y): per task the Mann-Whitney U statistic of X against Y
  divided by n_X n_Y, i.e. P(x > y) + 0.5 P(x = y) over all pairs of runs, averaged over
  tasks; its interval resamples X and Y independently, each stratified by task.
- Performance profile (score distribution): at each threshold tau, the fraction of all runs x
  tasks whose normalised score exceeds tau (`create_performance_profile` with
  `use_score_distribution=True`), with a stratified-bootstrap interval at every tau.

Random numbers: with equal runs per task, a `numpy.random.RandomState(seed)` yields exactly
rliable's intervals after `numpy.random.seed(seed)` (rliable draws from numpy's global
legacy generator); the tests check that. Our own code never touches the global generator.
Unequal runs per task (a failed seed) are handled too, resampling each task on its own.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

DEFAULT_REPS = 50_000  # rliable's default number of bootstrap replicates
CONFIDENCE = 0.95


@dataclass(frozen=True)
class Interval:
    """A point estimate with a confidence interval."""

    value: float
    low: float
    high: float

    def as_dict(self) -> dict[str, float]:
        return {"value": self.value, "low": self.low, "high": self.high}


def iqm(scores: np.ndarray, axis: int | None = None) -> np.ndarray | float:
    """Interquartile mean: `scipy.stats.trim_mean(scores, 0.25, axis)` without scipy.

    With `axis=None` every value is pooled (runs and tasks alike), as rliable's
    `aggregate_iqm` does; with an axis, one IQM per remaining index (used on replicates).
    """
    values = np.asarray(scores, dtype=float)
    if axis is None:
        values, axis = values.reshape(-1), 0
    n = values.shape[axis]
    if n == 0:
        raise ValueError("IQM of no scores")
    cut = int(0.25 * n)
    ordered = np.sort(values, axis=axis)
    kept = np.take(ordered, np.arange(cut, n - cut), axis=axis)
    result = kept.mean(axis=axis)
    return float(result) if np.ndim(result) == 0 else result


def mean_std(values: Sequence[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (ddof=1; NaN with fewer than two values)."""
    array = np.asarray(values, dtype=float)
    if array.size == 0:
        return math.nan, math.nan
    std = float(array.std(ddof=1)) if array.size > 1 else math.nan
    return float(array.mean()), std


def percentile_interval(replicates: np.ndarray, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """The percentile bootstrap interval (arch's `conf_int(method="percentile")`)."""
    alpha = (1.0 - confidence) / 2
    low, high = np.percentile(replicates, [100 * alpha, 100 * (1 - alpha)])
    return float(low), float(high)


def _as_tasks(scores: np.ndarray | Sequence[Sequence[float]]) -> list[np.ndarray]:
    """A runs x tasks matrix, or a list with one array of runs per task (may be ragged)."""
    if isinstance(scores, np.ndarray):
        if scores.ndim != 2:
            raise ValueError(f"scores must be runs x tasks, got shape {scores.shape}")
        return [scores[:, j].astype(float) for j in range(scores.shape[1])]
    tasks = [np.asarray(task, dtype=float).reshape(-1) for task in scores]
    if not tasks or any(task.size == 0 for task in tasks):
        raise ValueError("every task needs at least one run")
    return tasks


def stratified_resamples(
    scores: np.ndarray | Sequence[Sequence[float]], reps: int, rng: np.random.RandomState
) -> np.ndarray:
    """`reps` stratified bootstrap replicates, shape (reps, total runs), task by task.

    Equal runs per task: one draw `rng.choice(n, (reps, n, m))`, the same stream as
    rliable's per-replicate `np.random.choice(n, (n, m))`. Ragged: one draw per task.
    """
    tasks = _as_tasks(scores)
    sizes = {task.size for task in tasks}
    if len(sizes) == 1:
        n, m = sizes.pop(), len(tasks)
        matrix = np.stack(tasks, axis=1)
        indices = rng.choice(n, (reps, n, m))
        return matrix[indices, np.arange(m)].reshape(reps, n * m)
    parts = [task[rng.choice(task.size, (reps, task.size))] for task in tasks]
    return np.concatenate(parts, axis=1)


def bootstrap_interval(
    scores: np.ndarray | Sequence[Sequence[float]],
    statistic: Callable[[np.ndarray], np.ndarray] | None = None,
    *,
    reps: int = DEFAULT_REPS,
    seed: int = 0,
    confidence: float = CONFIDENCE,
) -> Interval:
    """Point estimate and stratified-bootstrap percentile interval of `statistic`.

    `statistic` maps an array (replicates, runs) to one value per replicate; the default
    is the IQM. The point estimate is the statistic of the scores themselves.
    """
    statistic = statistic or (lambda x: iqm(x, axis=1))
    pooled = np.concatenate(_as_tasks(scores))[None, :]
    point = float(np.asarray(statistic(pooled)).reshape(-1)[0])
    replicates = np.asarray(statistic(stratified_resamples(scores, reps, np.random.RandomState(seed))))
    low, high = percentile_interval(replicates, confidence)
    return Interval(point, low, high)


def task_mean_statistic(sizes: Sequence[int]) -> Callable[[np.ndarray], np.ndarray]:
    """Mean over tasks of each task's mean (rliable's `aggregate_mean`) on pooled replicates."""
    bounds = np.cumsum([0, *sizes])

    def statistic(pooled: np.ndarray) -> np.ndarray:
        means = [pooled[:, a:b].mean(axis=1) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
        return np.mean(means, axis=0)

    return statistic


def improvement_probability(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """P(x > y) + 0.5 P(x = y) over all pairs, batched: x (..., n_x), y (..., n_y).

    This is the Mann-Whitney U of x against y over n_x n_y (scipy's `mannwhitneyu`
    statistic), and 0.5 where x and y are identical, as rliable defines it.
    """
    greater = (x[..., :, None] > y[..., None, :]).mean(axis=(-2, -1))
    ties = (x[..., :, None] == y[..., None, :]).mean(axis=(-2, -1))
    return greater + 0.5 * ties


def probability_of_improvement(
    scores_x: Sequence[Sequence[float]],
    scores_y: Sequence[Sequence[float]],
    *,
    reps: int = DEFAULT_REPS,
    seed: int = 0,
    confidence: float = CONFIDENCE,
) -> Interval:
    """Average over tasks of P(X > Y) on that task, with rliable's independent stratified interval.

    `scores_x[j]` and `scores_y[j]` are the runs of X and Y on task j (the same tasks, in the
    same order; run counts may differ between X and Y and between tasks).
    """
    tasks_x, tasks_y = _as_tasks(scores_x), _as_tasks(scores_y)
    if len(tasks_x) != len(tasks_y):
        raise ValueError(f"X has {len(tasks_x)} tasks and Y {len(tasks_y)}; compare on the same tasks")
    point = float(np.mean([improvement_probability(a, b) for a, b in zip(tasks_x, tasks_y, strict=True)]))
    rng = np.random.RandomState(seed)
    nx, ny = {t.size for t in tasks_x}, {t.size for t in tasks_y}
    if len(nx) == 1 and len(ny) == 1:
        # rliable's StratifiedIndependentBootstrap: per replicate, X's indices then Y's
        mx, my = np.stack(tasks_x, axis=1), np.stack(tasks_y, axis=1)
        (n_x,), (n_y,), m = nx, ny, len(tasks_x)
        index_x = np.empty((reps, n_x, m), dtype=np.int64)
        index_y = np.empty((reps, n_y, m), dtype=np.int64)
        for r in range(reps):
            index_x[r] = rng.choice(n_x, (n_x, m))
            index_y[r] = rng.choice(n_y, (n_y, m))
        res_x = np.moveaxis(mx[index_x, np.arange(m)], 2, 1)  # (reps, m, n_x)
        res_y = np.moveaxis(my[index_y, np.arange(m)], 2, 1)
        replicates = improvement_probability(res_x, res_y).mean(axis=1)
    else:
        per_task = []
        for a, b in zip(tasks_x, tasks_y, strict=True):
            res_a = a[rng.choice(a.size, (reps, a.size))]
            res_b = b[rng.choice(b.size, (reps, b.size))]
            per_task.append(improvement_probability(res_a, res_b))
        replicates = np.mean(per_task, axis=0)
    low, high = percentile_interval(replicates, confidence)
    return Interval(point, low, high)


@dataclass(frozen=True)
class Profile:
    """A performance profile: fraction of runs above each threshold, with its interval."""

    taus: np.ndarray
    values: np.ndarray
    low: np.ndarray
    high: np.ndarray

    def at(self, tau: float) -> Interval:
        """The profile at one of its thresholds."""
        i = int(np.argmin(np.abs(self.taus - tau)))
        if not math.isclose(float(self.taus[i]), tau, abs_tol=1e-9):
            raise ValueError(f"{tau} is not one of the profile's thresholds")
        return Interval(float(self.values[i]), float(self.low[i]), float(self.high[i]))


def performance_profile(
    scores: np.ndarray | Sequence[Sequence[float]],
    taus: Sequence[float] | np.ndarray,
    *,
    reps: int = DEFAULT_REPS,
    seed: int = 0,
    confidence: float = CONFIDENCE,
) -> Profile:
    """rliable's score distribution: P(score > tau) over all runs x tasks, stratified-bootstrap bands.

    The replicates are the ones `bootstrap_interval` draws with the same seed, so the profile's
    interval at each tau is the one rliable's `create_performance_profile` gives.
    """
    taus = np.asarray(taus, dtype=float)
    pooled = np.concatenate(_as_tasks(scores))
    values = (pooled[None, :] > taus[:, None]).mean(axis=1)
    replicates = stratified_resamples(scores, reps, np.random.RandomState(seed))
    low, high = np.empty_like(taus), np.empty_like(taus)
    for i, tau in enumerate(taus):  # one threshold at a time: (reps, runs) booleans, not (taus, reps, runs)
        low[i], high[i] = percentile_interval((replicates > tau).mean(axis=1), confidence)
    return Profile(taus, values, low, high)


def profile_thresholds(
    scores: Sequence[float], points: int = 101, include: Sequence[float] = ()
) -> np.ndarray:
    """Evenly spaced thresholds from min(0, lowest score) to max(1, highest score), plus `include`."""
    array = np.asarray(scores, dtype=float)
    low = min(0.0, float(array.min())) if array.size else 0.0
    high = max(1.0, float(array.max())) if array.size else 1.0
    return np.unique(np.concatenate([np.linspace(low, high, points), np.asarray(include, dtype=float)]))


def min_max_normalise(value: float | np.ndarray, low: float, high: float) -> float | np.ndarray:
    """(value - low) / (high - low): 0 at the random-policy reference, 1 at the best known."""
    if not high > low:
        raise ValueError(f"cannot normalise: the upper reference {high} does not exceed the lower {low}")
    return (np.asarray(value, dtype=float) - low) / (high - low)
