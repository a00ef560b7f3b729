"""PNG plots with matplotlib (Agg): learning curves, aggregate intervals, probability of improvement,
performance profiles."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from leaderboards import reference, stats

if TYPE_CHECKING:
    from leaderboards.aggregate import Leaderboard, TaskResult

CURVE_REPS = 2000  # bootstrap replicates per evaluation point of a curve


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def curve_band(runs: list[dict[str, list[float]]], metric: str, seed: int = 0):
    """Steps, mean over seeds and the 95% bootstrap interval of that mean at each evaluation.

    Seeds are aligned on the evaluations they all have (same config, same steps).
    """
    series = [
        dict(zip(r["env_steps"], r[metric], strict=True)) for r in runs if metric in r and r.get("env_steps")
    ]
    if not series:
        return None
    common = sorted(set.intersection(*(set(s) for s in series)))
    if not common:
        return None
    values = np.array([[s[x] for s in series] for x in common])  # steps x seeds
    mean = np.nanmean(values, axis=1)
    low, high = mean.copy(), mean.copy()
    if values.shape[1] > 1:
        rng = np.random.RandomState(seed)
        for i, row in enumerate(values):
            row = row[~np.isnan(row)]
            if row.size > 1:
                replicates = row[rng.choice(row.size, (CURVE_REPS, row.size))].mean(axis=1)
                low[i], high[i] = stats.percentile_interval(replicates)
    return np.array(common), mean, low, high


def plot_curves(board: Leaderboard, task: TaskResult, path: Path) -> bool:
    """Evaluation return (and cost, with its limit) against env steps for every algorithm."""
    metrics = ["return"] + (["cost"] if "cost" in task.metrics else [])
    if task.score not in ("return", "cost") and task.score in task.metrics:
        metrics.append(task.score)
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(metrics), figsize=(5.5 * len(metrics), 4), squeeze=False)
    drawn = False
    for ax, metric in zip(axes[0], metrics, strict=True):
        for algo in board.algorithms:
            runs = [r.curve for r in board.runs if r.job.task == task.task and r.job.algo == algo]
            band = curve_band(runs, metric)
            if band is None:
                continue
            steps, mean, low, high = band
            (line,) = ax.plot(steps, mean, label=f"{algo} ({len(runs)} seeds)")
            ax.fill_between(steps, low, high, color=line.get_color(), alpha=0.25, linewidth=0)
            drawn = True
        if metric == "return":
            for ref in board.suite.groups[task.group_index].reference:
                for curve in reference.curves(ref, task.task):
                    (line,) = ax.plot(
                        curve.steps,
                        curve.mean,
                        linestyle="--",
                        label=f"{curve.algorithm.upper()} ({curve.title}, reference)",
                    )
                    ax.fill_between(
                        curve.steps, curve.low, curve.high, color=line.get_color(), alpha=0.1, linewidth=0
                    )
        if task.random and metric in task.random and not math.isnan(task.random[metric]):
            ax.axhline(task.random[metric], color="grey", linestyle=":", label="random policy")
        if metric == "cost" and task.cost_limit is not None:
            ax.axhline(task.cost_limit, color="red", linestyle="--", label=f"cost limit {task.cost_limit:g}")
        ax.set_xlabel("env steps")
        ax.set_ylabel(f"evaluation {metric}")
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7)
    fig.suptitle(f"{task.task}: mean over seeds, 95% bootstrap interval", fontsize=10)
    fig.tight_layout()
    if drawn:
        fig.savefig(path, dpi=110)
    plt.close(fig)
    return drawn


def _interval_rows(ax, labels: list[str], intervals: list[stats.Interval], xlabel: str) -> None:
    y = np.arange(len(labels))
    values = np.array([i.value for i in intervals])
    errors = np.array([[i.value - i.low for i in intervals], [i.high - i.value for i in intervals]])
    ax.errorbar(values, y, xerr=errors, fmt="o", capsize=4)
    ax.set_yticks(y, labels)
    ax.set_ylim(len(labels) - 0.5, -0.5)  # first row on top
    ax.set_xlabel(xlabel)
    ax.grid(axis="x", alpha=0.3)


def plot_aggregate(board: Leaderboard, path: Path) -> bool:
    """IQM and mean of normalised scores with 95% stratified-bootstrap intervals (rliable style)."""
    if not board.aggregate:
        return False
    plt = _pyplot()
    algos = list(board.aggregate)
    fig, axes = plt.subplots(1, 2, figsize=(9, 0.6 * len(algos) + 1.5), sharey=True)
    for ax, stat in zip(axes, ("iqm", "mean"), strict=True):
        labels = [f"{a} ({board.aggregate[a]['tasks']} tasks)" for a in algos]
        _interval_rows(
            ax, labels, [board.aggregate[a][stat] for a in algos], f"normalised score, {stat.upper()}"
        )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def plot_improvement(board: Leaderboard, path: Path) -> bool:
    """P(X > Y) with 95% intervals for every ordered pair that shares tasks."""
    if not board.improvement:
        return False
    plt = _pyplot()
    pairs = list(board.improvement)
    fig, ax = plt.subplots(figsize=(6, 0.4 * len(pairs) + 1.5))
    labels = [f"P({x} > {y}) ({board.improvement[(x, y)][1]} tasks)" for x, y in pairs]
    _interval_rows(ax, labels, [board.improvement[p][0] for p in pairs], "probability of improvement")
    ax.axvline(0.5, color="grey", linestyle=":")
    ax.set_xlim(0, 1)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def plot_profiles(board: Leaderboard, path: Path) -> bool:
    """rliable's performance profile: fraction of runs with normalised score above tau, 95% bands."""
    if not board.profiles:
        return False
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    for algo, profile in board.profiles.items():
        (line,) = ax.plot(profile.taus, profile.values, label=algo)
        ax.fill_between(profile.taus, profile.low, profile.high, color=line.get_color(), alpha=0.2)
    ax.set_xlabel("normalised score tau")
    ax.set_ylabel("fraction of runs with score > tau")
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True
