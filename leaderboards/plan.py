"""From a suite to jobs: resolved configs, their hashes, run directories and what is left to run.

A run is identified by the SHA-256 of its resolved config (`baselines.config.resolve`,
canonical JSON), so changing a budget, an override or a default in the config layers makes
a new run directory and leaves the old results alone. A run is finished when its directory
holds `summary.json`; one with `checkpoints/latest.pt` but no summary was interrupted and
is resumed (`baselines.run --resume`); anything else starts from scratch.
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from leaderboards.suite import Group, Suite, SuiteError, flatten_overrides

HASH_CHARS = 10
STARTUP_SECONDS = 10.0  # per run: interpreter, torch and simulator imports (measured: 5-10 s here)


@dataclass
class Job:
    """One run to have: a training run (task, algo, seed) or a task's random-policy reference."""

    kind: str  # "train" or "random"
    task: str
    family: str
    algo: str  # "random" for the reference
    seed: int
    group: int
    steps: int
    config: dict[str, Any]
    overrides: list[str]
    resources: dict[str, float]
    estimate: dict[str, Any]
    run_dir: Path
    config_hash: str
    extra: str | None = None
    episodes: int = 0
    status: str = "missing"  # done | partial | missing
    measured_sps: float | None = field(default=None, repr=False)

    @property
    def label(self) -> str:
        what = "random policy" if self.kind == "random" else f"{self.algo} seed {self.seed}"
        return f"{self.task} {what}"

    def args(self, out: str) -> list[str]:
        """The command line (after the interpreter) that produces this run in `out`."""
        if self.kind == "random":
            return [
                "-m",
                "leaderboards.random_policy",
                "--env",
                self.task,
                "--env-kwargs",
                json.dumps(self.config["env_kwargs"], sort_keys=True),
                "--episodes",
                str(self.episodes),
                "--num-envs",
                str(min(self.episodes, 4)),
                "--seed",
                str(self.seed),
                "--out",
                out,
            ]
        return self.resume_args(out) if self.status == "partial" else self.fresh_args(out)

    def fresh_args(self, out: str) -> list[str]:
        """The command that starts this run from scratch in `out`."""
        if self.kind == "random":
            return self.args(out)
        args = ["-m", "baselines.run", "--env", self.task, "--algo", self.algo, "--seed", str(self.seed)]
        args += ["--steps", str(self.steps)]
        for override in self.overrides:
            args += ["--set", override]
        return [*args, "--out", out]

    def resume_args(self, out: str) -> list[str] | None:
        """The command that continues an interrupted run in `out` (None: a reference, never resumed)."""
        return None if self.kind == "random" else ["-m", "baselines.run", "--resume", out]

    def command(self) -> str:
        """For people: the same command with this run's directory."""
        return " ".join(shlex.quote(a) for a in ["python", *self.args(str(self.run_dir))])

    @property
    def gpus(self) -> float:
        default = 1.0 if str(self.config.get("device", "cpu")).startswith("cuda") else 0.0
        return float(self.resources.get("gpus", default))

    @property
    def cpus(self) -> float:
        return float(self.resources.get("cpus", max(1, int(self.config.get("torch_threads", 1)))))


# Config keys added after runs existed, left out of the hash at their default: older runs keep
# their identity (their config.yaml lacks the key) and nothing else changes for them.
NEUTRAL_DEFAULTS = {"exact_resume": False}
# Section keys added later that only some algorithms read: left out at their default for the
# others, whose results they cannot change (a QMIX run's hash does change: its results do).
SECTION_NEUTRAL_DEFAULTS = {
    "offpolicy": ({"normalize_state": True, "bootstrap_truncated": True}, frozenset({"qmix"})),
}


def config_hash(config: dict[str, Any]) -> str:
    config = {k: v for k, v in config.items() if not (k in NEUTRAL_DEFAULTS and v == NEUTRAL_DEFAULTS[k])}
    for section, (defaults, readers) in SECTION_NEUTRAL_DEFAULTS.items():
        if isinstance(config.get(section), dict) and config.get("algo") not in readers:
            config[section] = {
                k: v for k, v in config[section].items() if not (k in defaults and v == defaults[k])
            }
    text = json.dumps(config, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:HASH_CHARS]


def task_dir_name(task: str) -> str:
    """`safe_mamujoco/SafeHumanoid9|8Velocity` -> `safe_mamujoco__SafeHumanoid9_8Velocity`."""
    return task.replace("/", "__").replace("|", "_")


def run_status(job: Job) -> str:
    """done, partial (resume it) or missing; a run whose config.yaml is not the planned one is missing."""
    if job.kind == "random":
        return "done" if (job.run_dir / "summary.json").exists() else "missing"
    config_path = job.run_dir / "config.yaml"
    if not config_path.exists() or _yaml_hash(config_path) != job.config_hash:
        return "missing"
    if (job.run_dir / "summary.json").exists():
        return "done"
    if (job.run_dir / "checkpoints" / "latest.pt").exists():
        return "partial"
    return "missing"


def _yaml_hash(path: Path) -> str:
    try:
        return config_hash(yaml.safe_load(path.read_text()))
    except yaml.YAMLError:
        return ""


def resolve_requests(requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Run `leaderboards.resolve` in a child process (it imports torch; this process must not)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "resolved.json"
        proc = subprocess.run(
            [sys.executable, "-m", "leaderboards.resolve", str(out)],
            input=json.dumps(requests),
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONWARNINGS": "ignore"},
        )
        if proc.returncode != 0 or not out.exists():
            raise RuntimeError(f"resolving the suite's configs failed:\n{proc.stderr[-3000:]}")
        return json.loads(out.read_text())


def plan(suite: Suite, out_dir: Path) -> list[Job]:
    """Every job of the suite, with its status in `out_dir/runs`."""
    requests, where = [], []
    for g, group in enumerate(suite.groups):
        for task in group.tasks:
            for algo in group.algorithms:
                overrides = flatten_overrides(group.overrides_for(algo))
                for seed in group.seeds:
                    requests.append(
                        {
                            "task": task,
                            "algo": algo,
                            "seed": seed,
                            "steps": group.steps,
                            "overrides": overrides,
                        }
                    )
                    where.append((g, group))
    resolved = resolve_requests(requests)
    jobs: list[Job] = []
    for request, result, (g, group) in zip(requests, resolved, where, strict=True):
        if not result["ok"]:
            raise SuiteError(
                f"{suite.path.name}: groups[{g}] ({group.name}), task {request['task']!r}, "
                f"algorithm {request['algo']!r}: {result['error']}"
            )
        jobs.append(_train_job(result, request, g, group, out_dir))
    jobs += _random_jobs(suite, jobs, out_dir)
    _check_duplicates(jobs, suite)
    for job in jobs:
        job.status = run_status(job)
    _attach_measured_throughput(jobs)
    return jobs


def _train_job(result: dict[str, Any], request: dict[str, Any], g: int, group: Group, out_dir: Path) -> Job:
    config = result["config"]
    digest = config_hash(config)
    run_dir = (
        out_dir / "runs" / task_dir_name(result["task"]) / request["algo"] / f"seed{request['seed']}-{digest}"
    )
    return Job(
        kind="train",
        task=result["task"],
        family=result["family"],
        algo=request["algo"],
        seed=request["seed"],
        group=g,
        steps=int(config["steps"]),
        config=config,
        overrides=request["overrides"],
        resources=group.resources,
        estimate=group.estimate_for(request["algo"]),
        run_dir=run_dir,
        config_hash=digest,
        extra=result.get("extra"),
    )


def _random_jobs(suite: Suite, jobs: list[Job], out_dir: Path) -> list[Job]:
    """One random-policy reference per task whose group normalises from `random`."""
    out: dict[str, Job] = {}
    for job in jobs:
        group = suite.groups[job.group]
        if group.normalize["min"] != "random" or job.task in out:
            continue
        episodes, seed = suite.random_reference["episodes"], suite.random_reference["seed"]
        identity = {"kind": "random", "task": job.task, "env_kwargs": job.config["env_kwargs"]}
        identity.update(episodes=episodes, seed=seed)
        digest = config_hash(identity)
        out[job.task] = Job(
            kind="random",
            task=job.task,
            family=job.family,
            algo="random",
            seed=seed,
            group=job.group,
            steps=0,
            config={"env_kwargs": job.config["env_kwargs"], "device": "cpu"},
            overrides=[],
            resources={"cpus": 1, "gpus": 0},
            estimate={},
            run_dir=out_dir / "runs" / task_dir_name(job.task) / "random" / digest,
            config_hash=digest,
            extra=job.extra,
            episodes=episodes,
        )
    return list(out.values())


def _check_duplicates(jobs: list[Job], suite: Suite) -> None:
    seen: dict[tuple[str, str, int], Job] = {}
    for job in jobs:
        if job.kind != "train":
            continue
        key = (job.task, job.algo, job.seed)
        if key in seen:
            raise SuiteError(
                f"{suite.path.name}: {job.task} {job.algo} seed {job.seed} appears in groups "
                f"{seen[key].group} and {job.group}; a (task, algorithm, seed) may be listed once"
            )
        seen[key] = job


def _attach_measured_throughput(jobs: list[Job]) -> None:
    """Finished runs of the same task and algorithm tell how fast the missing seeds will go."""
    measured: dict[tuple[str, str], list[float]] = {}
    for job in jobs:
        if job.kind == "train" and job.status == "done":
            summary = json.loads((job.run_dir / "summary.json").read_text())
            if summary.get("env_steps_per_second"):
                measured.setdefault((job.task, job.algo), []).append(float(summary["env_steps_per_second"]))
    for job in jobs:
        values = measured.get((job.task, job.algo))
        job.measured_sps = sum(values) / len(values) if values else None


@dataclass
class Estimate:
    runs: int
    env_steps: int
    serial_seconds: float | None  # None: no throughput known for some run
    unknown: list[str]
    sources: list[str]


def estimate(jobs: list[Job]) -> Estimate:
    """Env steps left and a time estimate from measured or stated throughput."""
    todo = [j for j in jobs if j.status != "done"]
    seconds, unknown, sources = 0.0, [], set()
    for job in todo:
        if job.kind == "train" and job.measured_sps:
            sources.add("measured by finished runs of the same task and algorithm in this suite")
        elif job.kind == "train" and job.estimate.get("steps_per_second"):
            sources.add(str(job.estimate.get("source", "the suite file's estimate")))
        job_time = job_seconds(job)
        if job_time is None:
            unknown.append(job.label)
            continue
        seconds += job_time
    env_steps = sum(j.steps for j in todo)
    return Estimate(len(todo), env_steps, None if unknown else seconds, unknown, sorted(sources))


def job_seconds(job: Job) -> float | None:
    """Estimated wall time of what is left of one run (None: no throughput known)."""
    if job.kind == "random":
        return STARTUP_SECONDS
    sps = job.measured_sps or job.estimate.get("steps_per_second")
    if not sps:
        return None
    left = max(0, job.steps - _steps_done(job)) if job.status == "partial" else job.steps
    return STARTUP_SECONDS + left / float(sps)


def _steps_done(job: Job) -> int:
    progress = job.run_dir / "progress.csv"
    if not progress.exists():
        return 0
    lines = progress.read_text().strip().splitlines()
    if len(lines) < 2:
        return 0
    header = lines[0].split(",")
    try:
        return int(float(lines[-1].split(",")[header.index("env_steps")]))
    except (ValueError, IndexError):
        return 0
