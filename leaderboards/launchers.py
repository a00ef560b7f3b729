"""Launchers: a local process pool (default) and Ray. Every run is its own Python process.

Runs go through `python -m baselines.run ... --out DIR` (or `leaderboards.random_policy`)
in a child process, so this process never imports torch or jax, a crashed run cannot take
the others down, and each run's output lands in `DIR/launcher.log`. On Ray each run is a
task asking for the run's CPUs and GPUs; it works in a temporary directory on whichever
node it lands on and sends the run directory back as a tar archive, which is unpacked into
the suite's directory here (so a multi-node cluster needs no shared filesystem).
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


def execute(args: list[str], run_dir: Path, cpus: float) -> int:
    """Run one job's command with its output appended to `run_dir/launcher.log`."""
    run_dir.mkdir(parents=True, exist_ok=True)
    with open(run_dir / LOG_NAME, "a") as log:
        log.write(f"$ {sys.executable} {' '.join(args)}\n")
        log.flush()
        proc = subprocess.run(
            [sys.executable, *args], stdout=log, stderr=subprocess.STDOUT, env=child_env(cpus)
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


# -------------------------------------------------------------------- Ray


def pack(directory: Path) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        tar.add(directory, arcname=".")
    return buffer.getvalue()


def unpack(archive: bytes, directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
        tar.extractall(directory, filter="data")


def ray_task(args: list[str], archive: bytes | None, cpus: float) -> dict[str, Any]:
    """Body of a Ray task: run the job in a scratch directory on this node and return it packed.

    `args` holds the placeholder `{out}` for the run directory. `archive` is the run's
    directory so far (an interrupted run to resume), or None.
    """
    import platform

    scratch = Path(tempfile.mkdtemp(prefix="marlsuite-run-"))
    try:
        run_dir = scratch / "run"
        if archive is not None:
            unpack(archive, run_dir)
        code = execute([a.replace("{out}", str(run_dir)) for a in args], run_dir, cpus)
        return {"returncode": code, "archive": pack(run_dir), "node": platform.node()}
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def run_ray(jobs: list[Job], address: str | None, report: Callable[[Outcome], None]) -> list[Outcome]:
    """Each job a Ray task with `num_cpus`/`num_gpus` from the suite; results gathered here.

    Uses the Ray instance this process is already connected to if there is one, otherwise
    `ray.init(address=address)` (`auto`: an existing cluster; None: start a local one).
    """
    import ray  # imported only for this launcher; Ray itself does not import torch

    started = False
    if not ray.is_initialized():
        ray.init(address=address, log_to_driver=False)
        started = True
    try:
        pending: dict[Any, tuple[Job, float]] = {}
        remote = ray.remote(max_retries=0)(ray_task)
        for job in jobs:
            prepare(job)
            archive = pack(job.run_dir) if job.run_dir.exists() else None  # to resume, and the old log
            options = remote.options(num_cpus=job.cpus, num_gpus=job.gpus)
            ref = options.remote(job.args("{out}"), archive, job.cpus)
            pending[ref] = (job, time.perf_counter())
        outcomes = []
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            job, start = pending.pop(done[0])
            try:
                result = ray.get(done[0])
            except Exception as error:  # the task itself died (node lost, out of memory, ...)
                job.run_dir.mkdir(parents=True, exist_ok=True)
                with open(job.run_dir / LOG_NAME, "a") as log:
                    log.write(f"[ray task failed: {error!r}]\n")
                outcome = Outcome(
                    job, False, -1, time.perf_counter() - start, job.run_dir / LOG_NAME, repr(error)
                )
            else:
                if job.run_dir.exists():
                    shutil.rmtree(job.run_dir)  # the archive holds the whole directory, old log included
                unpack(result["archive"], job.run_dir)
                code = result["returncode"]
                error = f"exit status {code} on {result['node']}" if code != 0 else check_result(job)
                outcome = Outcome(
                    job, not error, code, time.perf_counter() - start, job.run_dir / LOG_NAME, error
                )
            report(outcome)
            outcomes.append(outcome)
        return outcomes
    finally:
        if started:
            ray.shutdown()
