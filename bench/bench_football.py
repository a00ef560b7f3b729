"""Steps per second of Google Research Football: the suite API vs. raw gfootball.

`academy_3_vs_1_with_keeper` with 3 controlled players and `simple115v2`
observations. Both sides use the same pre-drawn random actions (not timed) and reset
finished episodes:

- raw: `gfootball.env.create_environment(...)` stepped in a Python loop, one game,
  or N games one after another in this process;
- suite: `envs.make("football/...")` with the subprocess vector (one worker per
  game, the default) and, for one copy, the in-process vector.

    python bench/bench_football.py --out bench/results/football.json
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from bench_common import overhead_row, suite_steps_per_second, write_result

import envs

SCENARIO = "academy_3_vs_1_with_keeper"
AGENTS = 3


def raw_gfootball(copies: int, steps: int, seed: int) -> float:
    """Env steps per second of `copies` raw games stepped in turn in this process."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import gfootball.env as football

        games = [
            football.create_environment(
                env_name=SCENARIO,
                representation="simple115v2",
                rewards="scoring",
                number_of_left_players_agent_controls=AGENTS,
            )
            for _ in range(copies)
        ]
    for game in games:
        game.reset()
    actions = np.random.default_rng(seed).integers(0, 19, size=(steps, copies, AGENTS))
    start = time.perf_counter()
    for step in actions:
        for game, action in zip(games, step, strict=True):
            _, _, done, _ = game.step(action.tolist())
            if done:
                game.reset()
    elapsed = time.perf_counter() - start
    for game in games:
        game.close()
    return steps * copies / elapsed


def suite(copies: int, steps: int, seed: int, vector: str) -> float:
    """Env steps per second (copies x steps) through `envs.make` and `step`."""
    env = envs.make(f"football/{SCENARIO}", num_envs=copies, vector=vector, seed=seed)
    drawn = torch.from_numpy(np.random.default_rng(seed).integers(0, 19, size=(steps + 1, AGENTS, copies)))
    return suite_steps_per_second(
        env, [dict(zip(env.spec.agents, step.unbind(0), strict=True)) for step in drawn]
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--steps", type=int, default=1000, help="steps per copy and measurement")
    parser.add_argument("--repeats", type=int, default=2, help="runs per configuration; the best is kept")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("bench/results/football.json"))
    args = parser.parse_args()
    torch.set_num_threads(1)

    rows = []

    def record(label: str, copies: int, sps: float, reference: float | None) -> None:
        rows.append(overhead_row(label, copies, sps, reference, width=36))

    for copies in (1, 4):
        configs = {"raw gfootball, in turn": lambda c=copies: raw_gfootball(c, args.steps, args.seed)}
        for vector in ("sync", "subproc") if copies == 1 else ("subproc",):
            configs[f"suite {vector}"] = lambda c=copies, v=vector: suite(c, args.steps, args.seed, v)
        # Round-robin, so that load from other processes hits every configuration alike.
        runs = {label: [] for label in configs}
        for _ in range(args.repeats):
            for label, run in configs.items():
                runs[label].append(run())
        raw = max(runs["raw gfootball, in turn"])
        for label, results in runs.items():
            record(label, copies, max(results), None if label.startswith("raw") else raw)

    result = {
        "benchmark": "football_steps_per_second",
        "task": f"football/{SCENARIO}",
        "steps_per_copy": args.steps,
        "repeats": args.repeats,
        "results": rows,
    }
    write_result(args.out, result)


if __name__ == "__main__":
    main()
