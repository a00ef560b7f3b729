"""Run a suite's missing runs, then write its tables: `python -m leaderboards.build SUITE`.

SUITE is a name in `leaderboards/suites/` (listed below) or a path to a suite YAML file.
Every (task, algorithm, seed) whose resolved config has no finished run directory is run,
on a local process pool (default) or on Ray; failed runs are reported with their log and
the rest go on; then the results are aggregated into `leaderboards/<suite>/` (README.md,
CSV, marl-eval JSON, plots). Running it again runs only what is still missing.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from leaderboards import reference
from leaderboards.launchers import Outcome, run_local
from leaderboards.plan import Job, estimate, plan, run_status
from leaderboards.suite import SuiteError, load_suite, suite_names

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_DIR = PACKAGE_DIR.parent

EXAMPLES = """examples:
  python -m leaderboards.build smoke --dry-run
  python -m leaderboards.build smoke --workers 2
  python -m leaderboards.build mamujoco-laptop --workers 2        # real results in about 1.5 h
  python -m leaderboards.build safe_mamujoco --launcher ray --address auto
  python -m leaderboards.build safe_mamujoco --launcher ray --address auto --dry-run   # per-node plan
  python -m leaderboards.build smax --launcher ray --address auto --storage s3://bucket/marlsuite
  python -m leaderboards.build my_suite.yaml --out results/my_suite
"""


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m leaderboards.build",
        description=f"{__doc__}\nsuites: {', '.join(suite_names())}",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("suite", help="suite name (leaderboards/suites/NAME.yaml) or path to a suite file")
    p.add_argument(
        "--dry-run", action="store_true", help="list what would run and its estimated cost, run nothing"
    )
    p.add_argument("--launcher", choices=("local", "ray"), default="local")
    p.add_argument(
        "--workers", type=int, default=None, help="local: parallel runs (default: CPU count / CPUs per run)"
    )
    p.add_argument(
        "--address", default=None, help="ray: cluster address, e.g. auto (default: start a local Ray)"
    )
    p.add_argument(
        "--retries",
        type=int,
        default=2,
        help="ray: attempts after the first for a run whose node is lost or whose process is killed; "
        "each resumes from the run's last checkpoint (default 2)",
    )
    p.add_argument(
        "--sync-seconds",
        type=float,
        default=30.0,
        help="ray: how often a running run's checkpoints, progress.csv and logs reach the store (default 30)",
    )
    p.add_argument(
        "--storage",
        default=None,
        help="ray: a pyarrow.fs URI (shared path, s3://, gs://) the runs stream to "
        "(default: the head's run directories, no shared filesystem needed)",
    )
    p.add_argument("--out", type=Path, default=None, help="output folder (default leaderboards/<suite>)")
    p.add_argument("--no-run", action="store_true", help="only aggregate the runs that exist")
    return p


def duration(seconds: float) -> str:
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days}d{hours:02d}h"
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"


def describe_plan(jobs: list[Job], workers: int) -> list[str]:
    todo = [j for j in jobs if j.status != "done"]
    lines = []
    for job in todo:
        what = "resume" if job.status == "partial" else "run"
        steps = f"{job.steps:>13,} steps" if job.kind == "train" else f"{job.episodes:>7} episodes"
        lines.append(f"  {what:<6} {job.label:<60} {steps}  {job.command()}")
    est = estimate(jobs)
    trains = [j for j in todo if j.kind == "train"]
    lines.append(
        f"to run: {len(trains)} training run(s), {est.env_steps:,} env steps"
        + (f", plus {len(todo) - len(trains)} random-policy reference(s)" if len(todo) > len(trains) else "")
    )
    if est.serial_seconds is not None and todo:
        lines.append(
            f"estimated time: {duration(est.serial_seconds)} for one run at a time, about "
            f"{duration(est.serial_seconds / max(1, min(workers, len(todo))))} with {workers} in parallel "
            f"(throughput from: {'; '.join(est.sources) or 'start-up only'}; plus about 10 s start-up per run); "
            "on Ray, divide by the number of runs the cluster fits at once"
        )
    elif est.unknown:
        lines.append(
            f"estimated time: unknown for {len(est.unknown)} run(s) (no measured or stated throughput; "
            "add estimate.steps_per_second to the suite group)"
        )
    return lines


def default_workers(jobs: list[Job]) -> int:
    cpus = max((j.cpus for j in jobs), default=1.0)
    return max(1, int((os.cpu_count() or 1) // max(cpus, 1.0)))


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        suite = load_suite(args.suite)
        for g, group in enumerate(suite.groups):
            reference.check_ids(group.reference, f"{suite.path.name}: groups[{g}].reference")
        out_dir = (args.out or PACKAGE_DIR / suite.name).resolve()
        jobs = plan(suite, out_dir)
    except SuiteError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    workers = args.workers or default_workers(jobs)
    todo = [j for j in jobs if j.status != "done"]
    todo.sort(key=lambda j: (j.kind != "train", -j.steps))  # long runs first, references last
    print(
        f"suite {suite.name} ({suite.path}): {len(jobs)} runs planned, {len(jobs) - len(todo)} finished, "
        f"{len(todo)} to run; output in {out_dir}"
    )
    if args.dry_run:
        print("\n".join(describe_plan(jobs, workers)))
        if args.launcher == "ray":
            from leaderboards.ray_launcher import node_plan

            print("\n".join(node_plan(jobs, args.address)))
        return 0
    if args.retries < 0 or args.sync_seconds <= 0:
        print("error: --retries must be >= 0 and --sync-seconds > 0", file=sys.stderr)
        return 2
    failed: list[Outcome] = []
    if todo and not args.no_run:
        counter = {"n": 0}

        def report(outcome: Outcome) -> None:
            counter["n"] += 1
            head = f"[{counter['n']}/{len(todo)}] {outcome.job.label}"
            if outcome.ok:
                print(f"{head}: done in {outcome.seconds:.0f} s", flush=True)
                return
            failed.append(outcome)
            print(f"{head}: FAILED ({outcome.error}); log {outcome.log}, last lines:", flush=True)
            print("    " + outcome.tail().replace("\n", "\n    "), flush=True)

        where = "Ray" if args.launcher == "ray" else f"{workers} local worker(s)"
        print(f"running {len(todo)} run(s) on {where}", flush=True)
        if args.launcher == "ray":
            from leaderboards.ray_launcher import ClusterError, RayOptions, run_ray

            options = RayOptions(args.address, args.retries, args.sync_seconds, args.storage)
            try:
                run_ray(todo, out_dir, report, options)
            except ClusterError as error:
                print(f"error: {error}", file=sys.stderr)
                return 2
        else:
            run_local(todo, workers, report)
        for job in jobs:
            job.status = run_status(job)
    from leaderboards.aggregate import build_leaderboard  # numpy only, no torch
    from leaderboards.report import write_all

    board = build_leaderboard(suite, jobs)
    command = f"python -m leaderboards.build {args.suite}"
    written = write_all(board, out_dir, command)
    if out_dir == (PACKAGE_DIR / suite.name).resolve():  # the committed report: its headline too
        from leaderboards.headline import update_readme

        link = out_dir.relative_to(REPO_DIR).as_posix() + "/README.md"
        if update_readme(REPO_DIR / "README.md", board, link):
            print(f"updated the {suite.name} headline table in {REPO_DIR / 'README.md'}")
    print(
        f"wrote {len(written)} files to {out_dir}: "
        + ", ".join(p.relative_to(out_dir).as_posix() for p in written)
    )
    if failed:
        print(
            f"{len(failed)} run(s) failed (the tables use the {len(board.runs)} finished ones):",
            file=sys.stderr,
        )
        for outcome in failed:
            print(f"  {outcome.job.label}: {outcome.error}; log {outcome.log}", file=sys.stderr)
        return 1
    if board.missing:
        print(f"{len(board.missing)} planned run(s) have no result (see README)", file=sys.stderr)
        return 1 if not args.no_run else 0
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
