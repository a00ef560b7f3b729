"""Read finished runs and compute the leaderboard: per-task cells, normalised aggregates, P(X > Y),
performance profiles.

Per task and algorithm, each final evaluation metric (the last `eval_*` row of the run,
written to `summary.json`) gets mean +- sample std over seeds and the IQM with a 95%
stratified-bootstrap interval. Across tasks, the group's score metric is min-max
normalised per task: 0 at the random-policy reference (measured with the same env
settings) or a stated number, 1 at the best known result, which is the best mean over
seeds among this suite's algorithms on that task unless the suite states a number. Tasks
where the best does not beat the lower reference are left out of the aggregate (noted).
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from leaderboards import reference, stats
from leaderboards.plan import Job
from leaderboards.suite import Suite

LOWER_IS_BETTER = {"cost"}
PROFILE_TABLE_TAUS = (0.25, 0.5, 0.75, 1.0)  # the profile's values printed in the README
SKIPPED_METRICS = {"length"}


@dataclass
class RunResult:
    job: Job
    final: dict[str, float]  # metric (without the eval_ prefix) -> value
    env_steps: int
    curve: dict[str, list[float]]  # env_steps and eval metrics at every evaluation
    manifest: dict[str, Any]


@dataclass
class Cell:
    values: list[float]
    mean: float
    std: float
    iqm: stats.Interval


@dataclass
class TaskResult:
    task: str
    family: str
    group: str
    group_index: int
    score: str
    seeds: tuple[int, ...]
    env_steps: list[int]
    cost_limit: float | None
    metrics: list[str]
    cells: dict[str, dict[str, Cell]]  # metric -> algo -> cell
    random: dict[str, float] | None
    norm_low: float | None = None
    norm_high: float | None = None
    norm_note: str = ""
    best: dict[str, list[str]] = field(default_factory=dict)
    references: list[reference.ReferenceValue] = field(default_factory=list)

    @property
    def normalisable(self) -> bool:
        return self.norm_low is not None and self.norm_high is not None and self.norm_high > self.norm_low


@dataclass
class Leaderboard:
    suite: Suite
    algorithms: list[str]
    tasks: list[TaskResult]
    runs: list[RunResult]
    missing: list[Job]
    aggregate: dict[str, dict[str, Any]]  # algo -> {iqm, mean, tasks, runs, breaks_limit}
    improvement: dict[tuple[str, str], tuple[stats.Interval, int]]  # (x, y) -> P(X > Y), tasks
    profiles: dict[str, stats.Profile] = field(default_factory=dict)  # algo -> score distribution


def read_run(job: Job) -> RunResult:
    summary = json.loads((job.run_dir / "summary.json").read_text())
    final = {k[5:]: float(v) for k, v in summary.get("final", {}).items() if k.startswith("eval_")}
    manifest_path = job.run_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    curve: dict[str, list[float]] = {}
    progress = job.run_dir / "progress.csv"
    if progress.exists():
        with open(progress) as handle:
            for row in csv.DictReader(handle):
                if row.get("eval_return", "") in ("", "nan"):
                    continue
                curve.setdefault("env_steps", []).append(float(row["env_steps"]))
                for key, value in row.items():
                    if key.startswith("eval_"):
                        curve.setdefault(key[5:], []).append(
                            float(value) if value not in ("", None) else math.nan
                        )
    if job.kind == "random":
        manifest.setdefault("env_metadata", summary.get("env_metadata", {}))
    return RunResult(job, final, int(summary.get("env_steps", 0)), curve, manifest)


def cost_limit_of(runs: list[RunResult]) -> float | None:
    """The cost limit the runs were held to, from their manifests (None without one)."""
    for run in runs:
        limit = run.manifest.get("cost_limit") or run.manifest.get("env_metadata", {}).get("cost_limit")
        if isinstance(limit, int | float):
            return float(limit)
    return None


def _metric_order(names: set[str]) -> list[str]:
    head = [m for m in ("return", "cost") if m in names]
    return head + sorted(names - set(head) - SKIPPED_METRICS)


def build_leaderboard(suite: Suite, jobs: list[Job]) -> Leaderboard:
    reps, seed = suite.bootstrap["reps"], suite.bootstrap["seed"]
    done = [j for j in jobs if j.status == "done"]
    runs = [read_run(j) for j in done if j.kind == "train"]
    randoms = {j.task: read_run(j) for j in done if j.kind == "random"}
    algorithms: list[str] = []
    for group in suite.groups:
        algorithms += [a for a in group.algorithms if a not in algorithms]
    task_order: list[tuple[str, int]] = []
    for job in jobs:
        if job.kind == "train" and (job.task, job.group) not in task_order:
            task_order.append((job.task, job.group))
    tasks = []
    for task, g in task_order:
        group = suite.groups[g]
        task_runs = [r for r in runs if r.job.task == task]
        references = [v for ref in group.reference for v in reference.final_values(ref, task)]
        metrics = _metric_order({m for r in task_runs for m in r.final} | {v.metric for v in references})
        cells: dict[str, dict[str, Cell]] = {}
        for metric in metrics:
            for algo in group.algorithms:
                values = [r.final[metric] for r in task_runs if r.job.algo == algo and metric in r.final]
                values = [v for v in values if not math.isnan(v)]
                if not values:
                    continue
                mean, std = stats.mean_std(values)
                interval = stats.bootstrap_interval([values], reps=reps, seed=seed)
                cells.setdefault(metric, {})[algo] = Cell(values, mean, std, interval)
        random = randoms[task].final if task in randoms else None
        result = TaskResult(
            task=task,
            family=task_runs[0].job.family if task_runs else "",
            group=group.name,
            group_index=g,
            score=group.score,
            seeds=group.seeds,
            env_steps=sorted({r.env_steps for r in task_runs}),
            cost_limit=cost_limit_of(task_runs),
            metrics=metrics,
            cells=cells,
            random=random,
        )
        _normalisation(result, group.normalize)
        result.best = {metric: _best(result, metric) for metric in metrics}
        result.references = references
        tasks.append(result)
    aggregate = _aggregate(tasks, algorithms, reps, seed)
    improvement = _improvement(tasks, algorithms, reps, seed)
    missing = [j for j in jobs if j.status != "done"]
    profiles = _profiles(tasks, algorithms, reps, seed)
    return Leaderboard(suite, algorithms, tasks, runs, missing, aggregate, improvement, profiles)


def _normalisation(task: TaskResult, spec: dict[str, Any]) -> None:
    cells = task.cells.get(task.score, {})
    if spec["min"] == "random":
        if task.random is None or task.score not in task.random or math.isnan(task.random[task.score]):
            task.norm_note = "no random-policy reference"
            return
        task.norm_low = task.random[task.score]
    else:
        task.norm_low = float(spec["min"])
    if spec["max"] == "best":
        if not cells:
            task.norm_note = "no finished run"
            return
        # the same rule as the tables' bold: on a task with a cost limit, the best safe result
        task.norm_high = max(c.mean for c in _contenders(task, task.score).values())
    else:
        task.norm_high = float(spec["max"])
    if not task.normalisable:
        task.norm_note = (
            f"the best known {task.score} ({task.norm_high:.4g}) does not exceed the lower reference "
            f"({task.norm_low:.4g})"
        )


def breaks_cost_limit(task: TaskResult, algo: str) -> bool:
    """Whether the algorithm's mean final cost is over the task's limit (False without a limit)."""
    cost = task.cells.get("cost", {}).get(algo)
    return task.cost_limit is not None and cost is not None and cost.mean > task.cost_limit


def _contenders(task: TaskResult, metric: str) -> dict[str, Cell]:
    """The cells that may be called best: on a task with a cost limit, a return or score
    counts only for algorithms within the limit (all of them when none is)."""
    cells = task.cells.get(metric, {})
    if metric in LOWER_IS_BETTER or task.cost_limit is None:
        return dict(cells)
    safe = {a: c for a, c in cells.items() if not breaks_cost_limit(task, a)}
    return safe or dict(cells)


def _best(task: TaskResult, metric: str) -> list[str]:
    """Algorithms to print in bold: best mean among the contenders (`_contenders`)."""
    candidates = _contenders(task, metric)
    if not candidates:
        return []
    sign = -1.0 if metric in LOWER_IS_BETTER else 1.0
    top = max(sign * c.mean for c in candidates.values())
    return [
        a for a, c in candidates.items() if math.isclose(sign * c.mean, top, rel_tol=1e-12, abs_tol=1e-12)
    ]


def normalised_scores(task: TaskResult, algo: str) -> list[float]:
    cell = task.cells.get(task.score, {}).get(algo)
    if cell is None or not task.normalisable:
        return []
    return [float(v) for v in stats.min_max_normalise(cell.values, task.norm_low, task.norm_high)]


def _aggregate(
    tasks: list[TaskResult], algorithms: list[str], reps: int, seed: int
) -> dict[str, dict[str, Any]]:
    out = {}
    for algo in algorithms:
        per_task = [s for s in (normalised_scores(t, algo) for t in tasks) if s]
        if not per_task:
            continue
        out[algo] = {
            # tasks whose cost limit the algorithm's mean breaks: it cannot be the best overall
            "breaks_limit": [
                t.task for t in tasks if algo in t.cells.get(t.score, {}) and breaks_cost_limit(t, algo)
            ],
            "iqm": stats.bootstrap_interval(per_task, reps=reps, seed=seed),
            "mean": stats.bootstrap_interval(
                per_task, stats.task_mean_statistic([len(s) for s in per_task]), reps=reps, seed=seed
            ),
            "tasks": len(per_task),
            "runs": sum(len(s) for s in per_task),
        }
    return out


def _profiles(
    tasks: list[TaskResult], algorithms: list[str], reps: int, seed: int
) -> dict[str, stats.Profile]:
    """Each algorithm's score distribution over the normalised scores of the aggregate, on shared thresholds."""
    per_algo = {a: [s for s in (normalised_scores(t, a) for t in tasks) if s] for a in algorithms}
    per_algo = {a: scores for a, scores in per_algo.items() if scores}
    pooled = [v for scores in per_algo.values() for task in scores for v in task]
    taus = stats.profile_thresholds(pooled, include=PROFILE_TABLE_TAUS)
    return {
        a: stats.performance_profile(scores, taus, reps=reps, seed=seed) for a, scores in per_algo.items()
    }


def _improvement(
    tasks: list[TaskResult], algorithms: list[str], reps: int, seed: int
) -> dict[tuple[str, str], tuple[stats.Interval, int]]:
    """P(X > Y) on the score metric over the tasks both ran (invariant to normalisation)."""
    out = {}
    for x in algorithms:
        for y in algorithms:
            if x == y:
                continue
            common = [t for t in tasks if x in t.cells.get(t.score, {}) and y in t.cells.get(t.score, {})]
            if not common:
                continue
            xs = [t.cells[t.score][x].values for t in common]
            ys = [t.cells[t.score][y].values for t in common]
            out[(x, y)] = (stats.probability_of_improvement(xs, ys, reps=reps, seed=seed), len(common))
    return out


def aggregate_best(board: Leaderboard) -> list[str]:
    """The algorithms to bold in the aggregate: best IQM among those that keep every cost limit
    (the per-task rule); among all when none does."""
    safe = {a: v for a, v in board.aggregate.items() if not v["breaks_limit"]}
    contenders = safe or board.aggregate
    if not contenders:
        return []
    top = max(v["iqm"].value for v in contenders.values())
    return [a for a, v in contenders.items() if math.isclose(v["iqm"].value, top)]


def leaderboard_dict(board: Leaderboard) -> dict[str, Any]:
    """Everything in the tables, as plain data (written to leaderboard.json)."""
    return {
        "suite": board.suite.name,
        "algorithms": board.algorithms,
        "tasks": [
            {
                "task": t.task,
                "family": t.family,
                "group": t.group,
                "score": t.score,
                "seeds": list(t.seeds),
                "env_steps": t.env_steps,
                "cost_limit": t.cost_limit,
                "random": t.random,
                "normalisation": {"low": t.norm_low, "high": t.norm_high, "note": t.norm_note},
                "best": t.best,
                "cells": {
                    m: {
                        a: {"values": c.values, "mean": c.mean, "std": c.std, "iqm": c.iqm.as_dict()}
                        for a, c in by_algo.items()
                    }
                    for m, by_algo in t.cells.items()
                },
                "references": [r.__dict__ for r in t.references],
            }
            for t in board.tasks
        ],
        "aggregate": {
            a: {
                "iqm": v["iqm"].as_dict(),
                "mean": v["mean"].as_dict(),
                "tasks": v["tasks"],
                "runs": v["runs"],
                "breaks_cost_limit_on": v["breaks_limit"],
            }
            for a, v in board.aggregate.items()
        },
        "aggregate_best": aggregate_best(board),
        "probability_of_improvement": [
            {"x": x, "y": y, **interval.as_dict(), "tasks": n}
            for (x, y), (interval, n) in board.improvement.items()
        ],
        "performance_profiles": {
            a: {
                "tau": p.taus.tolist(),
                "value": p.values.tolist(),
                "low": p.low.tolist(),
                "high": p.high.tolist(),
            }
            for a, p in board.profiles.items()
        },
        "missing_runs": [j.label for j in board.missing],
    }


def write_json(path: Path, data: Any) -> None:
    """JSON with NaN and infinities written as null (strict JSON readers reject NaN)."""
    path.write_text(json.dumps(_finite(data), indent=2, default=_json_default, allow_nan=False) + "\n")


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def _json_default(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
