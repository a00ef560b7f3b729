"""Do the safe baselines keep their cost limits? MACPO and MAPPO-L against unconstrained MAPPO
on MACPO's obstacle tasks, with the MACPO / MAPPO-L launch settings, several seeds.

The runs are the `safe_learning` leaderboard suite (leaderboards/suites/safe_learning.yaml),
run by the leaderboard machinery: finished runs are kept, an interrupted one resumes from its
last checkpoint, so the benchmark can be stopped and started again (in the background, over
several sittings) and only runs what is missing. Then, per task and algorithm, it prints the
final mean episode cost against the task's limit and the return, per seed and over seeds,
beside MAPPO's and a random policy's, and writes them as JSON:

- train cost / return: mean over the training episodes of the last 10% of iterations (at
  least 3): what the stochastic policy, the one the constraint is on, does at the end;
- eval cost / return: the final deterministic evaluation (the leaderboards' final score);
- start cost: mean training cost of the first quarter of iterations, so that the table shows
  whether a cost still over its limit was falling (start > train) or settled;
- lambda: MAPPO-L's final Lagrange multiplier (it starts at the launch settings' 0.78).

    python bench/bench_safe_learning.py                      # 1M steps, 3 seeds, 2 workers
    nohup python bench/bench_safe_learning.py --steps 2000000 > safe_learning.log 2>&1 &
    python bench/bench_safe_learning.py --dry-run            # the plan and its estimated time
    python bench/bench_safe_learning.py --no-run             # the table from the runs so far
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
from pathlib import Path
from typing import Any

import yaml
from bench_common import write_result

from leaderboards import build
from leaderboards.aggregate import RunResult, cost_limit_of, read_run
from leaderboards.plan import Job, plan
from leaderboards.suite import SUITES_DIR, load_suite

SUITE = SUITES_DIR / "safe_learning.yaml"
SAFE_ALGOS = ("macpo", "mappo_l")
FINAL_FRACTION = 0.1  # the last 10% of iterations make the final training figures
MIN_FINAL_ITERATIONS = 3
START_FRACTION = 0.25  # the first quarter of iterations make the start cost


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--suite", type=Path, default=SUITE, help="suite file (default: %(default)s)")
    p.add_argument("--steps", type=int, default=None, help="env steps per run (default: the suite's 1M)")
    p.add_argument("--seeds", type=int, default=None, help="seeds 0..N-1 (default: the suite's 3)")
    p.add_argument("--workers", type=int, default=2, help="runs in parallel (one torch thread each)")
    p.add_argument(
        "--runs-dir",
        type=Path,
        default=Path.home() / ".cache" / "marlsuite" / "safe_learning",
        help="where the runs and the suite's tables go; kept between invocations",
    )
    p.add_argument("--out", type=Path, default=Path("bench/results/safe_learning.json"))
    p.add_argument("--dry-run", action="store_true", help="print the plan and its estimated time")
    p.add_argument("--no-run", action="store_true", help="only tabulate the runs that exist")
    return p


def suite_file(suite: Path, steps: int | None, seeds: int | None, runs_dir: Path) -> Path:
    """The suite as given, or a copy beside the runs with another budget or seed count."""
    if steps is None and seeds is None:
        return suite
    data = yaml.safe_load(suite.read_text())
    if steps is not None:
        data["steps"] = steps
    if seeds is not None:
        data["seeds"] = seeds
    # inside runs/, the one folder the build keeps when it rewrites its report
    (runs_dir / "runs").mkdir(parents=True, exist_ok=True)
    path = runs_dir / "runs" / f"suite_{data['name']}_{data['steps']}steps_{data['seeds']}seeds.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def final_figures(run: RunResult) -> dict[str, float]:
    """A finished run's final evaluation cost and return and, for a training run, its final
    training cost and return (the last iterations of its progress.csv)."""
    figures = {"eval_cost": run.final["cost"], "eval_return": run.final["return"]}
    if run.job.kind == "random":
        return figures
    with (run.job.run_dir / "progress.csv").open() as handle:
        rows = [r for r in csv.DictReader(handle) if r.get("train_cost", "") not in ("", "nan")]
    window = rows[-max(MIN_FINAL_ITERATIONS, round(FINAL_FRACTION * len(rows))) :]
    start = rows[: max(1, round(START_FRACTION * len(rows)))]
    training = {
        "train_cost": statistics.mean(float(r["train_cost"]) for r in window),
        "train_return": statistics.mean(float(r["train_return"]) for r in window),
        "start_cost": statistics.mean(float(r["train_cost"]) for r in start),
    }
    if rows[-1].get("lagrange_multiplier", "") not in ("", "nan"):
        training["lagrange_multiplier"] = float(rows[-1]["lagrange_multiplier"])
    return {**training, **figures}


def tabulate(jobs: list[Job]) -> list[dict[str, Any]]:
    """One row per (task, algorithm): per-seed figures, their means, and whether the limit holds."""
    cells: dict[tuple[str, str], list[RunResult]] = {}
    for job in jobs:
        if (job.run_dir / "summary.json").exists():
            cells.setdefault((job.task, job.algo), []).append(read_run(job))
    rows = []
    for (task, algo), runs in cells.items():
        runs.sort(key=lambda run: run.job.seed)
        figures = [final_figures(run) for run in runs]
        row: dict[str, Any] = {
            "task": task,
            "algo": algo,
            "cost_limit": cost_limit_of(runs),
            "seeds": [run.job.seed for run in runs],
        }
        for key in figures[0]:
            values = [f[key] for f in figures]
            row[key] = {"mean": statistics.mean(values), "per_seed": values}
        limit = row["cost_limit"]
        if limit is not None and "train_cost" in row:
            row["keeps_limit_train"] = row["train_cost"]["mean"] <= limit
            row["keeps_limit_eval"] = row["eval_cost"]["mean"] <= limit
        rows.append(row)
    order = {name: i for i, name in enumerate((*SAFE_ALGOS, "mappo", "random"))}
    rows.sort(key=lambda r: (r["task"], order.get(r["algo"], 99)))
    return rows


def verdicts(rows: list[dict[str, Any]]) -> list[str]:
    """What the issue asks of each task: the safe algorithms at or under the limit, MAPPO over
    it, and every algorithm's training return above the random policy's."""
    lines = []
    by_task: dict[str, dict[str, dict[str, Any]]] = {}
    for row in rows:
        by_task.setdefault(row["task"], {})[row["algo"]] = row
    for task, algos in by_task.items():
        random_return = algos.get("random", {}).get("eval_return", {}).get("mean")
        for algo, row in algos.items():
            if algo == "random" or row.get("cost_limit") is None:
                continue
            cost, limit = row["train_cost"]["mean"], row["cost_limit"]
            expected = "at or under" if algo in SAFE_ALGOS else "over"
            actual = "at or under" if cost <= limit else "over"
            ok = "as expected" if actual == expected else "NOT as expected"
            line = f"{task} {algo}: train cost {cost:.3g} {actual} the limit {limit:g} ({ok})"
            if actual == "over":
                start = row["start_cost"]["mean"]
                trend = "falling" if cost < start else "not falling"
                line += f", {trend} (first quarter {start:.3g})"
            if random_return is not None:
                above = row["train_return"]["mean"] > random_return
                line += f"; return {row['train_return']['mean']:.1f} {'above' if above else 'NOT above'} random {random_return:.1f}"
            lines.append(line)
    return lines


def print_table(rows: list[dict[str, Any]]) -> None:
    head = (
        f"{'task':<42} {'algo':<8} {'limit':>6} {'start cost':>10} {'train cost':>11} {'eval cost':>10} "
        f"{'train ret':>10} {'eval ret':>9} {'lambda':>7}  per-seed train cost"
    )
    print(head)
    print("-" * len(head))
    for row in rows:

        def mean(key: str, row: dict[str, Any] = row) -> str:
            return f"{row[key]['mean']:.3g}" if key in row else "-"

        seeds = ", ".join(f"{v:.3g}" for v in row["train_cost"]["per_seed"]) if "train_cost" in row else ""
        limit = "-" if row["cost_limit"] is None else f"{row['cost_limit']:g}"
        print(
            f"{row['task']:<42} {row['algo']:<8} {limit:>6} {mean('start_cost'):>10} {mean('train_cost'):>11} "
            f"{mean('eval_cost'):>10} {mean('train_return'):>10} {mean('eval_return'):>9} "
            f"{mean('lagrange_multiplier'):>7}  {seeds}"
        )


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    path = suite_file(args.suite, args.steps, args.seeds, args.runs_dir)
    build_args = [str(path), "--out", str(args.runs_dir), "--workers", str(args.workers)]
    if args.dry_run:
        return build.main([*build_args, "--dry-run"])
    status = build.main([*build_args, *(["--no-run"] if args.no_run else [])])
    suite = load_suite(path)
    jobs = plan(suite, args.runs_dir.resolve())
    rows = tabulate(jobs)
    if not rows:
        print("no finished runs yet", file=sys.stderr)
        return status or 1
    print()
    print_table(rows)
    lines = verdicts(rows)
    print("\n".join(["", *lines]))
    steps = max(j.steps for j in jobs if j.kind == "train")
    finished = sum(1 for j in jobs if j.kind == "train" and j.status == "done")
    write_result(
        args.out,
        {
            "benchmark": "safe_learning",
            "suite": str(path),
            "steps_per_run": steps,
            "runs_finished": finished,
            "runs_planned": sum(1 for j in jobs if j.kind == "train"),
            "final_window": f"last {FINAL_FRACTION:.0%} of iterations (at least {MIN_FINAL_ITERATIONS})",
            "rows": rows,
            "verdicts": lines,
            "runs_dir": str(args.runs_dir),
        },
    )
    return status


if __name__ == "__main__":
    raise SystemExit(main())
