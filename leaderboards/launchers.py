"""The local launcher (a process pool) and what every launcher shares: one Python process per run.

Runs go through `python -m baselines.run ... --out DIR` (or `leaderboards.random_policy`)
in a child process, so this process never imports torch or jax, a crashed run cannot take
the others down, and each run's output lands in `DIR/launcher.log`. The Ray launcher is
`leaderboards.ray_launcher`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from leaderboards.plan import Job, config_hash

LOG_NAME = "launcher.log"
TAIL_LINES = 25


@dataclass
class Outcome:
    job: Job
    ok: bool
    returncode: int
    seconds: float
    log: Path
    error: str = ""

    def tail(self, lines: int = TAIL_LINES) -> str:
        if not self.log.exists():
            return ""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def child_env(cpus: float) -> dict[str, str]:
    """Thread counts pinned to the run's CPUs so parallel runs do not oversubscribe cores."""
    threads = str(max(1, int(cpus)))
    env = dict(os.environ)
    for key in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        env[key] = threads
    env.setdefault("PYTHONUNBUFFERED", "1")
    # the child must import this checkout's packages even when it is not installed
    root = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
    return env


def die_with_parent() -> None:
    """In the child, before exec: SIGKILL it when the launching process dies (Linux), so a killed
    Ray worker or launcher leaves no orphaned training run behind."""
    import ctypes
    import signal

    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def execute(args: list[str], run_dir: Path, cpus: float) -> int:
    """Run one job's command with its output appended to `run_dir/launcher.log`."""
    run_dir.mkdir(parents=True, exist_ok=True)
    with open(run_dir / LOG_NAME, "a") as log:
        log.write(f"$ {sys.executable} {' '.join(args)}\n")
        log.flush()
        proc = subprocess.run(
            [sys.executable, *args],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=child_env(cpus),
            preexec_fn=die_with_parent if sys.platform == "linux" else None,
        )
        log.write(f"[exit status {proc.returncode}]\n")
    return proc.returncode


def check_result(job: Job) -> str:
    """'' when the run finished with the config it was planned with, else what is wrong."""
    if not (job.run_dir / "summary.json").exists():
        return "no summary.json: the run did not finish"
    if job.kind == "train":
        import yaml

        written = yaml.safe_load((job.run_dir / "config.yaml").read_text())
        if config_hash(written) != job.config_hash:
            return (
                f"the run's config.yaml hashes to {config_hash(written)}, not the planned {job.config_hash}: "
                "baselines.run resolved a different config from the planner"
            )
    return ""


def prepare(job: Job) -> None:
    """Before a fresh start: clear what a failed attempt left, keeping its log."""
    if job.status != "missing" or not job.run_dir.exists():
        return
    for path in job.run_dir.iterdir():
        if path.name == LOG_NAME:
            continue
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()


# ------------------------------------------------------------------ local


def run_local(jobs: list[Job], workers: int, report: Callable[[Outcome], None]) -> list[Outcome]:
    """A pool of `workers` threads, each waiting on one child process at a time."""

    def one(job: Job) -> Outcome:
        start = time.perf_counter()
        prepare(job)
        code = execute(job.args(str(job.run_dir)), job.run_dir, job.cpus)
        error = f"exit status {code}" if code != 0 else check_result(job)
        return Outcome(job, not error, code, time.perf_counter() - start, job.run_dir / LOG_NAME, error)

    outcomes = []
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        futures = [pool.submit(one, job) for job in jobs]
        for future in as_completed(futures):
            outcome = future.result()
            report(outcome)
            outcomes.append(outcome)
    return outcomes
