"""Env steps per second and peak memory of the Bi-DexHands tasks, per task, backend and batch size,
next to the raw physics throughput of the same scene in the same run, and each task's speed
relative to ShadowHandOver's at the same backend and batch size (`vs_over`).

- env: `envs.make(..., validate_actions=False)` stepped with pre-drawn random actions (drawing
  is not timed), autoreset included.
- raw: the same compiled scene and batch stepped without any task logic: `mujoco.batch.Batch`
  calling `mj_step` `substeps` times per env step (mujoco), or `mjw.step` `substeps` times
  (warp; as one CUDA graph on a GPU). `overhead` is env time per step over raw time per step,
  minus one. The two loops alternate `--repeats` times and the best of each is kept, which
  evens out load from other processes.
- task_logic_share: the part of env step time spent outside the backend's `step` (observation,
  reward, reset logic in torch), measured inside the same env loop, so immune to load drift
  between the two loops; on the mujoco backend `step` includes the position/velocity stage
  that leaves sensors current, which raw `mj_step` skips.

Each (backend, num_envs) runs in its own process, so `peak_rss_mib` (VmHWM) and, on CUDA,
`peak_device_mib` belong to that configuration alone.

    python bench/bench_bidexhands.py --num-envs 1 64 1024 4096 --out bench/results/bidexhands.json
    python bench/bench_bidexhands.py --tasks all --num-envs 1 64 1024 --backends mujoco \
        --out bench/results/bidexhands_tasks_mujoco_cpu.json   # every task (ShadowHandOver first)
    python bench/bench_bidexhands.py --num-envs 1 64 --backends mujoco warp --steps 20   # small
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import torch
from bench_common import write_result

REFERENCE_TASK = "ShadowHandOver"


def peak_rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def measure(task: str, backend: str, num_envs: int, steps: int, device: str, seed: int, repeats: int) -> dict:
    """One configuration, in this process: env steps/s, raw steps/s, peak memory."""
    import mujoco

    import envs

    device = torch.device(device)
    env = envs.make(
        f"bidexhands/{task}",
        num_envs=num_envs,
        device=device,
        seed=seed,
        backend=backend,
        validate_actions=False,
    )
    env.reset()
    generator = torch.Generator().manual_seed(seed)
    widths = {a: env.spec.action_spaces[a].shape[0] for a in env.spec.agents}
    actions = [
        {a: (2 * torch.rand(num_envs, n, generator=generator) - 1).to(device) for a, n in widths.items()}
        for _ in range(steps + 2)
    ]
    physics, substeps, model = env.physics, env.scene.substeps, env.scene.model
    low = torch.as_tensor(model.actuator_ctrlrange[:, 0], dtype=torch.float32, device=device)
    high = torch.as_tensor(model.actuator_ctrlrange[:, 1], dtype=torch.float32, device=device)
    ctrl = [
        low + torch.rand(num_envs, model.nu, generator=generator).to(device) * (high - low) for _ in actions
    ]
    if backend == "mujoco":
        batch = physics.batch
        bound = batch.bind("ctrl")

        def raw_step(c: torch.Tensor) -> None:
            bound[:] = c.numpy()
            batch.step(nstep=substeps)

    else:
        import mujoco_warp as mjw
        import warp as wp

        graph = None

        def substeps_only() -> None:
            for _ in range(substeps):
                mjw.step(physics.m, physics.d)

        def raw_work() -> None:
            nonlocal graph
            if physics.wp_device == "cpu":
                substeps_only()
                return
            if graph is None:  # captured as a CUDA graph, like the env's step
                with wp.ScopedCapture() as capture:
                    substeps_only()
                graph = capture.graph
            wp.capture_launch(graph)

        def raw_step(c: torch.Tensor) -> None:
            physics._ctrl.copy_(c)
            physics._run(raw_work)

    def timed(step, inputs) -> float:
        _sync(device)
        start = time.perf_counter()
        for x in inputs:
            step(x)
        _sync(device)
        return steps * num_envs / (time.perf_counter() - start)

    # time spent inside the backend's step during env steps: the rest is the task's torch logic
    physics_step, in_physics = physics.step, [0.0]

    def clocked_physics_step(c: torch.Tensor) -> None:
        _sync(device)
        start = time.perf_counter()
        physics_step(c)
        _sync(device)
        in_physics[0] += time.perf_counter() - start

    physics.step = clocked_physics_step
    timed(env.step, actions[:2])  # warm-up: kernel compilation, CUDA graph capture
    timed(raw_step, ctrl[:2])
    # alternate the two so that load from other processes hits both alike; keep the best of each
    env_sps = raw_sps = 0.0
    logic_share = 1.0
    for _ in range(repeats):
        in_physics[0] = 0.0
        start = time.perf_counter()
        sps = timed(env.step, actions[2:])
        logic_share = min(logic_share, 1.0 - in_physics[0] / (time.perf_counter() - start))
        env_sps = max(env_sps, sps)
        raw_sps = max(raw_sps, timed(raw_step, ctrl[2:]))

    row = {
        "task": task,
        "backend": backend,
        "num_envs": num_envs,
        "device": str(device),
        "steps": steps,
        "repeats": repeats,
        "env_steps_per_second": round(env_sps, 1),
        "raw_steps_per_second": round(raw_sps, 1),
        "overhead_vs_raw": round(raw_sps / env_sps - 1.0, 4),
        "task_logic_share": round(logic_share, 4),
        "peak_rss_mib": round(peak_rss_mib(), 1),
        "substeps": substeps,
        "timestep": float(model.opt.timestep),
    }
    if backend == "mujoco":
        row["threads"] = physics.batch.nthread
    if device.type == "cuda":
        free, total = torch.cuda.mem_get_info(device)
        row["device_used_mib"] = round((total - free) / 2**20, 1)
    row["mujoco"] = mujoco.__version__
    return row


def _task_list(names: list[str]) -> list[str]:
    from bidexhands.registration import TASK_DESCRIPTIONS

    chosen = list(TASK_DESCRIPTIONS) if names == ["all"] else names
    unknown = [name for name in chosen if name not in TASK_DESCRIPTIONS]
    if unknown:
        raise SystemExit(f"unknown Bi-DexHands tasks {unknown}; available: {', '.join(TASK_DESCRIPTIONS)}")
    return [REFERENCE_TASK] + [name for name in chosen if name != REFERENCE_TASK]


def _run_child(task: str, backend: str, num_envs: int, args: argparse.Namespace) -> dict:
    """One configuration in its own process (so peak memory is its own); its row."""
    command = [sys.executable, __file__, "--single", task, backend, str(num_envs), "--steps", str(args.steps)]
    command += ["--device", args.device, "--seed", str(args.seed)]
    command += ["--torch-threads", str(args.torch_threads), "--repeats", str(args.repeats)]
    done = subprocess.run(command, capture_output=True, text=True)
    label = f"{task:<40} {backend:<7} num_envs={num_envs:<5}"
    if done.returncode != 0:
        tail = done.stderr.strip().splitlines()[-3:]
        print(f"{label} failed: {' | '.join(tail)}", flush=True)
        return {"task": task, "backend": backend, "num_envs": num_envs, "error": tail}
    row = json.loads(done.stdout.strip().splitlines()[-1])
    print(
        f"{label} env {row['env_steps_per_second']:>9.0f} steps/s   "
        f"raw {row['raw_steps_per_second']:>9.0f} steps/s   overhead {row['overhead_vs_raw']:+.1%}   "
        f"task logic {row['task_logic_share']:.1%}   peak RSS {row['peak_rss_mib']:.0f} MiB",
        flush=True,
    )
    return row


def _add_reference_ratios(rows: list[dict]) -> None:
    """`vs_over`: env steps/s over ShadowHandOver's at the same backend and batch size."""
    reference = {
        (row["backend"], row["num_envs"]): row["env_steps_per_second"]
        for row in rows
        if row["task"] == REFERENCE_TASK and "error" not in row
    }
    for row in rows:
        over = reference.get((row["backend"], row["num_envs"]))
        if over and "error" not in row:
            row["vs_over"] = round(row["env_steps_per_second"] / over, 3)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--tasks",
        nargs="+",
        default=[REFERENCE_TASK],
        help="Bi-DexHands task names, or 'all' (ShadowHandOver is always measured first, as the reference)",
    )
    parser.add_argument("--num-envs", type=int, nargs="+", default=[1, 64, 1024, 4096])
    parser.add_argument("--backends", nargs="+", default=["mujoco", "warp"], choices=["mujoco", "warp"])
    parser.add_argument("--steps", type=int, default=50, help="env steps per measurement")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs of each loop; the best is kept")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("bench/results/bidexhands.json"))
    parser.add_argument("--torch-threads", type=int, default=1, help="torch intra-op threads (0: default)")
    parser.add_argument("--single", nargs=3, metavar=("TASK", "BACKEND", "NUM_ENVS"), help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.single:  # a child process: one configuration, JSON on the last line
        # the task logic is many small tensor ops: torch's own thread pool only competes with
        # the physics threads for the cores (set 0 to keep torch's default)
        if args.torch_threads > 0:
            torch.set_num_threads(args.torch_threads)
        task, backend, num_envs = args.single
        row = measure(task, backend, int(num_envs), args.steps, args.device, args.seed, args.repeats)
        row["torch_threads"] = torch.get_num_threads()
        print(json.dumps(row))
        return

    tasks = _task_list(args.tasks)
    rows = []
    for task in tasks:
        for backend in args.backends:
            for num_envs in args.num_envs:
                rows.append(_run_child(task, backend, num_envs, args))
    _add_reference_ratios(rows)
    result = {
        "benchmark": "bidexhands_steps_per_second",
        "tasks": tasks,
        "reference_task": REFERENCE_TASK,
        "results": rows,
    }
    gpu = torch.cuda.get_device_name() if args.device.startswith("cuda") else None
    write_result(args.out, result, machine_extra={"device": args.device, "gpu": gpu})


if __name__ == "__main__":
    main()
