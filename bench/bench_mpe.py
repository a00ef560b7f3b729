"""Steps per second of an MPE task: the suite API vs. the raw PettingZoo loop.

Both loops step the same scenario with pre-drawn random actions (drawing is not
timed) and reset finished episodes, so the difference is the suite's own cost:
action validation, batching, autoreset bookkeeping and the numpy -> torch hand-off.

    python bench/bench_mpe.py --steps 5000 --out bench/results/mpe.json
"""

from __future__ import annotations

import time
from functools import partial

import numpy as np
import torch
from bench_common import (
    best_of_interleaved,
    cycled,
    overhead_row,
    random_steps,
    suite_steps_per_second,
    suite_vs_raw_parser,
    write_result,
)
from mpe2 import simple_spread_v3

import envs

SCENARIO = "simple_spread"


def raw_pettingzoo(steps: int, seed: int) -> float:
    """Env steps per second of one ParallelEnv in a plain Python loop."""
    env = simple_spread_v3.parallel_env(max_cycles=25)
    env.reset(seed=seed)
    rng = np.random.default_rng(seed)
    actions = cycled(lambda: {a: int(rng.integers(5)) for a in env.possible_agents}, steps)
    start = time.perf_counter()
    for action in actions:
        if not env.agents:
            env.reset()
        env.step(action)
    elapsed = time.perf_counter() - start
    env.close()
    return steps / elapsed


def suite(steps: int, seed: int, num_envs: int, vector: str, validate: bool) -> float:
    """Env steps per second (copies x steps) through `envs.make` and `step`."""
    env = envs.make(
        f"mpe2/{SCENARIO}", num_envs=num_envs, vector=vector, seed=seed, validate_actions=validate
    )
    return suite_steps_per_second(env, random_steps(env.spec, steps, seed))


def main() -> None:
    parser = suite_vs_raw_parser(__doc__, steps=5000, out="bench/results/mpe.json")
    args = parser.parse_args()
    torch.set_num_threads(1)

    rows = []

    def record(label: str, copies: int, sps: float, reference: float | None) -> None:
        rows.append(overhead_row(label, copies, sps, reference, width=32))

    per_copy = max(args.steps // args.copies, 200)
    runs = {
        ("raw PettingZoo loop", 1): partial(raw_pettingzoo, args.steps, args.seed),
        ("suite sync", 1): partial(suite, args.steps, args.seed, 1, "sync", True),
        ("suite sync, no validation", 1): partial(suite, args.steps, args.seed, 1, "sync", False),
    }
    for vector in ("sync", "subproc"):  # per env step, vs. one raw env
        runs[(f"suite {vector}", args.copies)] = partial(
            suite, per_copy, args.seed, args.copies, vector, True
        )
    best = best_of_interleaved(args.repeats, runs)
    raw = best[("raw PettingZoo loop", 1)]
    for (label, copies), sps in best.items():
        record(label, copies, sps, None if label.startswith("raw") else raw)

    result = {
        "benchmark": "mpe_steps_per_second",
        "task": f"mpe2/{SCENARIO}",
        "steps": args.steps,
        "repeats": args.repeats,
        "results": rows,
    }
    write_result(args.out, result)


if __name__ == "__main__":
    main()
