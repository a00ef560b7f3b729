"""The Ray launcher: each run a Ray task, on any node of a cluster, surviving lost nodes.

- **Code.** The head ships its own copy of marlsuite's five packages with Ray's `py_modules`
  (exactly what the head imports, uncommitted edits included, cached per content hash on
  each node), so a node needs the dependencies but never the checkout. Dependencies are not
  shipped (torch, MuJoCo and JAX are large and built per platform): every task first
  compares its node's package versions with the head's and the build stops with the
  differences when they disagree, because a run's manifest must say what made it.
- **Progress.** While a run trains, its checkpoints, `progress.csv` and logs are sent every
  `sync_seconds` to a store (`leaderboards.run_store`): the head's own run directory by
  default, or a `pyarrow.fs` URI.
- **Faults.** A run whose node is lost or whose process is killed is submitted again (up to
  `retries` times); the new attempt starts from the store's copy and resumes from its last
  checkpoint, and the trainer's exact resume makes its `progress.csv` identical to an
  uninterrupted run's.
"""

from __future__ import annotations

import json
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from leaderboards.launchers import LOG_NAME, Outcome, check_result, child_env, execute, prepare
from leaderboards.plan import Job, job_seconds
from leaderboards.run_store import FsStore, HeadStore, RunStore, Syncer, read_tree, unpack

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("envs", "baselines", "safe_mamujoco", "bidexhands", "leaderboards")
NOT_SHIPPED = ["__pycache__", "*.pyc", "runs/", ".pytest_cache"]  # run outputs stay on the head
COMMIT_VARIABLE = "MARLSUITE_GIT_COMMIT"  # the head's commit, for the manifests of shipped code


class ClusterError(RuntimeError):
    """The cluster cannot run the suite as asked (e.g. a node's packages differ from the head's)."""


@dataclass
class RayOptions:
    address: str | None = None  # None: this process's Ray, or a new local one; "auto": a running cluster
    retries: int = 2  # further attempts of a run whose node was lost or whose process was killed
    sync_seconds: float = 30.0  # how often a running run's new files reach the store
    storage: str | None = None  # a pyarrow.fs URI; None: the head's run directories


@dataclass
class TaskSpec:
    """What one attempt of one run needs on its node."""

    key: str  # run directory relative to the suite's
    fresh_args: list[str]  # with "{out}" for the run directory
    resume_args: list[str] | None
    cpus: float
    store: RunStore
    head_versions: dict[str, str]
    sync_seconds: float
    attempt: int
    note: str = ""


# ------------------------------------------------------------------ versions


MANIFEST_CODE = (
    "import json, platform; from envs.manifest import git_commit, package_versions; "
    "print(json.dumps({'packages': package_versions(), 'python': platform.python_version(), "
    "'commit': git_commit()}))"
)


def machine_manifest() -> dict[str, Any]:
    """This machine's package versions and commit, as `envs.manifest` gives them to a run.

    Read in a child process: importing `envs` imports torch, which the launcher never does.
    """
    proc = subprocess.run(
        [sys.executable, "-c", MANIFEST_CODE], capture_output=True, text=True, env=child_env(1)
    )
    if proc.returncode != 0:
        raise ClusterError(
            f"could not read the package versions on {platform.node()}:\n{proc.stderr[-2000:]}"
        )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def node_versions(manifest: dict[str, Any]) -> dict[str, str]:
    """What a run's manifest records, less marlsuite itself (shipped from the head)."""
    versions = {k: v for k, v in manifest["packages"].items() if k != "marlsuite"}
    versions["python"] = manifest["python"]
    return versions


def public(version: str | None) -> str | None:
    """A version without its local label: torch's `2.13.0+cpu` and `2.13.0+cu128` are one release
    (a CPU head may drive GPU nodes; the run's manifest records its device)."""
    return version.split("+", 1)[0] if version else version


def version_mismatches(head: dict[str, str], node: dict[str, str]) -> list[str]:
    """`name: node X, head Y` for every package whose version differs (or is missing on one side)."""
    return [
        f"{name}: {node.get(name, 'not installed')} on the node, {head.get(name, 'not installed')} on the head"
        for name in sorted(set(head) | set(node))
        if public(head.get(name)) != public(node.get(name))
    ]


def pins(head: dict[str, str], node: dict[str, str] | None = None) -> list[str]:
    """`name==version` of the head's packages (those the node lacks or has in another version)."""
    node = node or {}
    return [
        f"{n}=={public(v)}"
        for n, v in sorted(head.items())
        if n != "python" and public(node.get(n)) != public(v)
    ]


def install_hint(head: dict[str, str], node: dict[str, str]) -> str:
    wanted = pins(head, node)
    return f"pip install {' '.join(wanted)}" if wanted else f"use Python {head['python']}"


# ---------------------------------------------------------------- the task


def ray_task(spec: TaskSpec) -> dict[str, Any]:
    """One attempt of one run, in a scratch directory on whichever node Ray chose."""
    import ray

    where = {"node_id": ray.get_runtime_context().get_node_id(), "host": platform.node()}
    mine = node_versions(machine_manifest())
    mismatches = version_mismatches(spec.head_versions, mine)
    if mismatches:
        return {**where, "mismatches": mismatches, "hint": install_hint(spec.head_versions, mine)}
    scratch = Path(tempfile.mkdtemp(prefix="marlsuite-run-"))
    try:
        run_dir = scratch / "run"
        archive = spec.store.snapshot(spec.key)
        if archive is not None:
            unpack(archive, run_dir)
        run_dir.mkdir(parents=True, exist_ok=True)
        if (run_dir / "summary.json").exists():  # finished and stored before its node was lost
            return {**where, "returncode": 0}
        resume = spec.resume_args is not None and (run_dir / "checkpoints" / "latest.pt").exists()
        if not resume:  # what an attempt without a checkpoint left is of no use
            for path in run_dir.iterdir():
                if path.name != LOG_NAME:
                    shutil.rmtree(path) if path.is_dir() else path.unlink()
        args = spec.resume_args if resume else spec.fresh_args
        with open(run_dir / LOG_NAME, "a") as log:
            if spec.note:
                log.write(f"[{spec.note}]\n")
            start = "resuming from its last checkpoint" if resume else "from the start"
            log.write(
                f"[attempt {spec.attempt} on node {where['node_id']} ({where['host']}), {start}; code from {ROOT}]\n"
            )
        syncer = Syncer(run_dir, lambda files: spec.store.put(spec.key, files), spec.sync_seconds)
        syncer.start()
        try:
            code = execute([a.replace("{out}", str(run_dir)) for a in args], run_dir, spec.cpus)
        finally:
            syncer.stop()
        return {**where, "returncode": code}
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def code_runtime_env(commit: str | None) -> dict[str, Any]:
    """This process's copy of the packages, shipped to every node, and the head's commit."""
    env: dict[str, Any] = {"py_modules": [str(ROOT / name) for name in PACKAGES], "excludes": NOT_SHIPPED}
    if commit:
        env["env_vars"] = {COMMIT_VARIABLE: commit}
    return env


# ---------------------------------------------------------------- the head


def connect(address: str | None, runtime_env: dict[str, Any] | None = None) -> bool:
    """Connect to Ray unless already connected; True when this call started the connection.

    Ray ships local directories only for a whole job, so the code goes with this connection.
    """
    import ray

    if ray.is_initialized():
        return False
    ray.init(address=address, runtime_env=runtime_env, log_to_driver=False)
    return True


def relative_key(job: Job, root: Path) -> str:
    return job.run_dir.resolve().relative_to(root.resolve()).as_posix()


def run_ray(
    jobs: list[Job],
    root: Path,
    report: Callable[[Outcome], None],
    options: RayOptions | None = None,
    say: Callable[[str], None] = print,
) -> list[Outcome]:
    """Run `jobs` (whose run directories lie under `root`) as Ray tasks; see the module docstring.

    Raises ClusterError when a node's package versions differ from this process's: the other
    runs are cancelled (what they had sent to the store is kept, so a rerun resumes them).
    """
    import ray

    options = options or RayOptions()
    manifest = machine_manifest()
    head = node_versions(manifest)
    started = connect(options.address, code_runtime_env(manifest["commit"]))
    task_env: dict[str, Any] = {}
    if not started:
        say(
            "using this process's Ray connection: its runtime_env decides how marlsuite's code reaches "
            "the nodes (the launcher ships it only on a connection it makes, with --address)"
        )
        task_env = {"env_vars": {COMMIT_VARIABLE: manifest["commit"] or "unknown"}}
    try:
        store: RunStore = FsStore(options.storage) if options.storage else HeadStore(root)
        remote = ray.remote(max_retries=0)(ray_task)  # retried here, to say why and resume
        pending: dict[Any, tuple[Job, int, float]] = {}

        def submit(job: Job, attempt: int, started_at: float, note: str = "") -> None:
            spec = TaskSpec(
                key=relative_key(job, root),
                fresh_args=job.fresh_args("{out}"),
                resume_args=job.resume_args("{out}"),
                cpus=job.cpus,
                store=store,
                head_versions=head,
                sync_seconds=options.sync_seconds,
                attempt=attempt,
                note=note,
            )
            task = remote.options(
                num_cpus=job.cpus, num_gpus=job.gpus, **({"runtime_env": task_env} if task_env else {})
            )
            pending[task.remote(spec)] = (job, attempt, started_at)

        for job in jobs:
            prepare(job)
            key = relative_key(job, root)
            if isinstance(store, FsStore) and job.run_dir.is_dir() and not store.has_files(key):
                store.put(key, read_tree(job.run_dir))  # a partial run from here
            submit(job, 1, time.perf_counter())

        outcomes = []
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            job, attempt, started_at = pending.pop(done[0])
            try:
                result = ray.get(done[0])
                lost = "" if result.get("returncode", 0) >= 0 else f"killed by signal {-result['returncode']}"
            except Exception as error:  # the node died, the worker crashed, ...
                first = (str(error).strip().splitlines() or [""])[0].split(". ")[0]
                result, lost = {}, f"{type(error).__name__}: {first}"
            if "mismatches" in result:
                for ref in pending:
                    ray.cancel(ref, force=True)
                raise ClusterError(
                    f"node {result['host']} ({result['node_id']}) has other package versions than the head, "
                    "whose versions the runs' manifests must record:\n  "
                    + "\n  ".join(result["mismatches"])
                    + f"\ninstall the head's versions on that node ({result['hint']}) or leave it out of the cluster"
                )
            if lost and attempt <= options.retries:
                note = f"attempt {attempt} lost ({lost}); attempt {attempt + 1} of {options.retries + 1}"
                say(f"{job.label}: {note}")
                submit(job, attempt + 1, started_at, note)
                continue
            key = relative_key(job, root)
            store.download(key, job.run_dir)
            seconds = time.perf_counter() - started_at
            if lost:
                job.run_dir.mkdir(parents=True, exist_ok=True)
                with open(job.run_dir / LOG_NAME, "a") as log:
                    log.write(f"[attempt {attempt} lost ({lost}); no retries left]\n")
                error = f"{lost}, after {attempt} attempt(s)"
                outcomes.append(Outcome(job, False, -1, seconds, job.run_dir / LOG_NAME, error))
            else:
                code = result["returncode"]
                error = f"exit status {code} on {result['host']}" if code != 0 else check_result(job)
                outcomes.append(Outcome(job, not error, code, seconds, job.run_dir / LOG_NAME, error))
            report(outcomes[-1])
        return outcomes
    finally:
        if started:
            ray.shutdown()


# ------------------------------------------------------------------ dry run


def node_plan(jobs: list[Job], address: str | None) -> list[str]:
    """Per live node: how many of these runs fit at once, and an estimate of what it would run.

    Ray places tasks as resources free up; the estimate assigns the longest runs first to the
    slot that frees up first, which is what that amounts to when runs take their estimated time.
    """
    import ray

    started = connect(address)
    try:
        nodes = [n for n in ray.nodes() if n.get("Alive")]
    finally:
        if started:
            ray.shutdown()
    todo = [j for j in jobs if j.status != "done"]
    cpus = max((j.cpus for j in todo), default=1.0)
    gpus = max((j.gpus for j in todo), default=0.0)
    slots: list[tuple[float, int]] = []  # (busy until, node index)
    names, fits = [], []
    for index, node in enumerate(nodes):
        resources = node.get("Resources", {})
        fit = int(resources.get("CPU", 0) // max(cpus, 1e-9))
        if gpus > 0:
            fit = min(fit, int(resources.get("GPU", 0) // gpus))
        names.append(f"{node.get('NodeManagerHostname', '?')} {node['NodeID'][:8]}")
        fits.append((fit, resources))
        slots += [(0.0, index)] * fit
    lines = [
        f"Ray cluster: {len(nodes)} live node(s), {len(slots)} run(s) at once ({cpus:g} CPU, {gpus:g} GPU each)"
    ]
    if not slots:
        return [*lines, "  no node has the resources one run asks for: nothing would start"]
    counts = [0] * len(nodes)
    seconds = [0.0] * len(nodes)
    known = True
    for job in sorted(todo, key=lambda j: -(job_seconds(j) or 0.0)):
        slots.sort()
        busy, index = slots.pop(0)
        length = job_seconds(job)
        known &= length is not None
        slots.append((busy + (length or 0.0), index))
        counts[index] += 1
        seconds[index] = max(seconds[index], busy + (length or 0.0))
    from leaderboards.build import duration

    for index, name in enumerate(names):
        fit, resources = fits[index]
        when = f", busy about {duration(seconds[index])}" if known and counts[index] else ""
        lines.append(
            f"  {name}: {resources.get('CPU', 0):g} CPU, {resources.get('GPU', 0):g} GPU -> {fit} at once, "
            f"about {counts[index]} run(s){when}"
        )
    if known:
        lines.append(f"  the suite would take about {duration(max(seconds))} on this cluster")
    return lines


if __name__ == "__main__":
    # `pip install $(python -m leaderboards.ray_launcher)` on a node: the head's versions
    print(" ".join(pins(node_versions(machine_manifest()))))
