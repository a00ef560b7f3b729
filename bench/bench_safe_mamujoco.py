"""Steps per second of safe tasks through the suite API vs. the raw env of the same model,
in the same run.

The raw loop steps the env the task is built on, with numpy actions, reset when an
episode ends: for a velocity task the Gymnasium-Robotics `mamujoco_v1.parallel_env(robot,
partition)` (dicts of actions; the cost is what the suite adds), for an obstacle task the
MACPO scene's single-robot env (`safe_mamujoco.macpo.build_scene_env`: the same MuJoCo
model, bomb and timestep, with reward and cost; one flat action, so what the suite adds is
the agent split, MACPO's per-agent observations, validation, autoreset and torch). The
suite loop is `envs.make(task)` with costs, validation, autoreset and torch tensors. Actions are drawn before timing (both
loops cycle through the same number of distinct batches, see `bench_common.ACTION_POOL`), and
the configurations take turns in each round, so a slow spell on a shared machine
does not land on the raw loop alone. A ratio of 1.0 means the safe task runs as fast
as the raw reward-only env.

    python bench/bench_safe_mamujoco.py --steps 3000 --out bench/results/safe_mamujoco.json
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from functools import partial

import numpy as np
import torch
from bench_common import (
    best_of_interleaved,
    cycled,
    random_steps,
    suite_steps_per_second,
    suite_vs_raw_parser,
    write_result,
)

import envs
from safe_mamujoco.tasks import SAFE_TASKS

DEFAULT_TASKS = (
    "SafeHalfCheetah2x3Bomb",
    "SafeAnt2x4Corridor",
    "SafeHopper3x1Velocity",
    "SafeManyAgentAnt2x3Corridor",
)


def raw_mamujoco(task: str, steps: int, seed: int) -> float:
    """Env steps per second of the raw `mamujoco_v1` env of the task's robot and partition."""
    from gymnasium_robotics import mamujoco_v1

    safe = SAFE_TASKS[task]
    env = mamujoco_v1.parallel_env(safe.robot, safe.agent_conf)
    env.reset(seed=seed)
    rng = np.random.default_rng(seed)
    actions = cycled(
        lambda: {
            a: rng.uniform(-1, 1, env.action_space(a).shape).astype(np.float32) for a in env.possible_agents
        },
        steps,
    )
    start = time.perf_counter()
    for action in actions:
        _, _, terminated, truncated, _ = env.step(action)
        if any(terminated.values()) or any(truncated.values()):
            env.reset()
    elapsed = time.perf_counter() - start
    env.close()
    return steps / elapsed


def raw_scene(task: str, steps: int, seed: int) -> float:
    """Env steps per second of an obstacle task's own single-robot scene env, 1000-step episodes."""
    from safe_mamujoco.env import EPISODE_STEPS
    from safe_mamujoco.macpo import build_scene_env
    from safe_mamujoco.robots import resolve

    safe = SAFE_TASKS[task]
    robot, _ = resolve(safe.robot, safe.agent_conf)
    env = build_scene_env(robot.scenario, safe.agent_conf)
    env.reset(seed=seed)
    rng = np.random.default_rng(seed)
    actions = cycled(lambda: rng.uniform(-1, 1, env.action_space.shape), steps)
    start, length = time.perf_counter(), 0
    for action in actions:
        _, _, terminated, _, _ = env.step(action)
        length += 1
        if terminated or length == EPISODE_STEPS:
            env.reset()
            length = 0
    elapsed = time.perf_counter() - start
    env.close()
    return steps / elapsed


def raw_reference(task: str) -> tuple[str, Callable[[str, int, int], float]]:
    """The raw env a task is built on: its label and its timing loop."""
    if SAFE_TASKS[task].constraint is None:
        return "raw scene env", raw_scene
    return "raw mamujoco_v1", raw_mamujoco


def suite(task: str, steps: int, seed: int, num_envs: int, vector: str, validate: bool) -> float:
    """Env steps per second (copies x steps) of the safe task through `envs.make`."""
    env = envs.make(task, num_envs=num_envs, vector=vector, seed=seed, validate_actions=validate)
    return suite_steps_per_second(env, random_steps(env.spec, steps, seed))


def main() -> None:
    parser = suite_vs_raw_parser(__doc__, steps=3000, out="bench/results/safe_mamujoco.json")
    parser.add_argument("--tasks", nargs="+", default=list(DEFAULT_TASKS), choices=sorted(SAFE_TASKS))
    args = parser.parse_args()
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore")

    rows = []
    for task in args.tasks:
        configs = [
            ("suite sync", 1, True),
            ("suite sync, no validation", 1, False),
            ("suite sync", args.copies, True),
        ]
        raw_label, raw_loop = raw_reference(task)
        runs = {"raw": partial(raw_loop, task, args.steps, args.seed)}
        for label, copies, validate in configs:
            steps = args.steps if copies == 1 else max(args.steps // copies, 200)
            runs[(label, copies, validate)] = partial(suite, task, steps, args.seed, copies, "sync", validate)
        best = best_of_interleaved(args.repeats, runs)
        raw = best.pop("raw")
        print(f"{task}: {raw_label} {raw:,.0f} steps/s", flush=True)
        rows.append({"task": task, "config": raw_label, "copies": 1, "steps_per_second": round(raw, 1)})
        for (label, copies, _), sps in best.items():
            ratio = sps / raw
            rows.append(
                {
                    "task": task,
                    "config": label,
                    "copies": copies,
                    "steps_per_second": round(sps, 1),
                    "ratio_to_raw": round(ratio, 3),
                }
            )
            print(f"  {label:<28} copies={copies:<3} {sps:>9,.0f} steps/s  {ratio:.2f}x raw", flush=True)

    result = {
        "benchmark": "safe_mamujoco_steps_per_second",
        "steps": args.steps,
        "repeats": args.repeats,
        "results": rows,
    }
    write_result(args.out, result)


if __name__ == "__main__":
    main()
