"""Steps per second of SMAX `3m`: the suite API vs. JaxMARL's own batched step.

Both sides run `num_envs` copies under `jax.jit(jax.vmap(...))` from a Python loop,
with the same pre-drawn random actions (drawing is not timed; an attack on an enemy
out of range does nothing in SMAX, so unmasked actions are fine with validation off):

- raw: `jit(vmap(HeuristicEnemySMAX.step))` (JaxMARL's autoreset step, final
  observation lost), results left as JAX arrays: the issue's reference;
- raw, waiting: the same loop, waiting for each step's observations, rewards and dones
  before dispatching the next step, as any learner must (its policy reads them); the
  ratio to it says what the suite adds beyond that wait;
- suite: `envs.make("smax/3m").step`, which also keeps the final observation, returns
  action masks and episode statistics, and hands everything to torch (zero-copy), then
  waits for the results as a learner must (the raw loop never reads its results, so JAX
  overlaps each step's dispatch with the previous step's work);
- suite + masks: with action validation on and actions drawn from the masks each
  step by `envs.random_actions` (timed: it is what a random policy costs).

JIT compile time (first reset + two steps: JaxMARL's reset state carries a weak type,
so its second step compiles again; the suite strips it) is reported separately.

    python bench/bench_smax.py --out bench/results/smax.json
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import torch
from bench_common import write_result
from jaxmarl.environments.smax import HeuristicEnemySMAX, map_name_to_scenario

import envs
from envs.manifest import package_versions

MAP = "3m"
WAITING = "raw, waiting for each step"


def _actions(num_envs: int, steps: int, seed: int) -> np.ndarray:
    """(steps, agents, num_envs) random actions, ignoring masks."""
    n_actions = 5 + 3
    return np.random.default_rng(seed).integers(0, n_actions, size=(steps, 3, num_envs), dtype=np.int32)


def raw_jaxmarl(num_envs: int, steps: int, seed: int, wait: bool = False) -> tuple[float, float]:
    """(compile seconds, env steps per second) of JaxMARL's vmapped autoreset step; `wait`:
    block on each step's results before dispatching the next."""
    env = HeuristicEnemySMAX(scenario=map_name_to_scenario(MAP))

    def step_one(key, state, actions):
        key, sub = jax.random.split(key)
        obs, state, reward, done, info = env.step(
            sub, state, {a: actions[i] for i, a in enumerate(env.agents)}
        )
        return key, state, obs, reward, done

    reset = jax.jit(jax.vmap(lambda key: env.reset(key)[1]))
    step = jax.jit(jax.vmap(step_one, in_axes=(0, 0, 1)))
    actions = [jnp.asarray(a) for a in _actions(num_envs, steps + 2, seed)]
    keys = jax.vmap(jax.random.PRNGKey)(jnp.arange(num_envs) + seed)
    start = time.perf_counter()
    states = reset(keys)
    for action in actions[:2]:  # the reset state has a weak type: the 2nd step compiles again
        keys, states, *_ = step(keys, states, action)
    jax.block_until_ready(states)
    compile_seconds = time.perf_counter() - start
    start = time.perf_counter()
    for action in actions[2:]:
        keys, states, obs, reward, done = step(keys, states, action)
        if wait:
            jax.block_until_ready((obs, reward, done))
    jax.block_until_ready((states, obs, reward, done))
    return compile_seconds, steps * num_envs / (time.perf_counter() - start)


def suite(num_envs: int, steps: int, seed: int, masked: bool) -> tuple[float, float]:
    """(compile seconds, env steps per second) through `envs.make("smax/3m")`."""
    env = envs.make(f"smax/{MAP}", num_envs=num_envs, seed=seed, validate_actions=masked)
    agents = env.spec.agents
    drawn = torch.from_numpy(_actions(num_envs, steps + 1, seed)).long()
    actions = [dict(zip(agents, step.unbind(0), strict=True)) for step in drawn]
    start = time.perf_counter()
    timestep = env.reset()
    for _ in range(2):
        timestep = env.step({a: torch.full((num_envs,), 4) for a in agents})  # stop: always allowed
    compile_seconds = time.perf_counter() - start
    generator = torch.Generator().manual_seed(seed)
    start = time.perf_counter()
    for action in actions[1:]:
        if masked:
            action = envs.random_actions(env.spec, timestep.action_mask, generator)
        timestep = env.step(action)
    elapsed = time.perf_counter() - start
    env.close()
    return compile_seconds, steps * num_envs / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--copies", type=int, nargs="+", default=[1, 64, 1024])
    parser.add_argument(
        "--steps", type=int, nargs="+", default=[400, 200, 50], help="steps per copies setting"
    )
    parser.add_argument(
        "--repeats", type=int, default=3, help="timed runs per configuration; the best is kept"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("bench/results/smax.json"))
    args = parser.parse_args()
    torch.set_num_threads(1)

    rows = []
    for copies, steps in zip(args.copies, args.steps, strict=True):
        configs = {
            "raw JaxMARL jit(vmap(step))": lambda c=copies, s=steps: raw_jaxmarl(c, s, args.seed),
            WAITING: lambda c=copies, s=steps: raw_jaxmarl(c, s, args.seed, wait=True),
            "suite, no validation": lambda c=copies, s=steps: suite(c, s, args.seed, masked=False),
            "suite, masked random actions": lambda c=copies, s=steps: suite(c, s, args.seed, masked=True),
        }
        # Round-robin over the configurations, so that load from other processes on the
        # machine hits them alike; the best run of each is kept.
        runs = {label: [] for label in configs}
        for _ in range(args.repeats):
            for label, run in configs.items():
                runs[label].append(run())
        reference = waiting = None
        for label, results in runs.items():
            compile_seconds = results[0][0]  # the first run compiles; later ones hit the cache
            sps = max(r[1] for r in results)
            row = {
                "config": label,
                "copies": copies,
                "steps": steps,
                "compile_seconds": round(compile_seconds, 3),
                "steps_per_second": round(sps, 1),
            }
            if reference is None:
                reference = sps
            else:
                row["overhead_vs_raw"] = round(reference / sps - 1.0, 4)
                row["ratio_to_raw"] = round(sps / reference, 3)
            if label == WAITING:
                waiting = sps
            elif waiting is not None:
                row["ratio_to_raw_waiting"] = round(sps / waiting, 3)
            rows.append(row)
            extra = (
                f"  {row['ratio_to_raw']:.2f}x raw (overhead {row['overhead_vs_raw']:+.1%})"
                if "overhead_vs_raw" in row
                else ""
            )
            if "ratio_to_raw_waiting" in row:
                extra += f", {row['ratio_to_raw_waiting']:.2f}x raw waiting"
            print(
                f"{label:<30} copies={copies:<5} compile {compile_seconds:6.2f} s {sps:>11.0f} steps/s{extra}",
                flush=True,
            )

    result = {
        "benchmark": "smax_steps_per_second",
        "task": f"smax/{MAP}",
        "repeats": args.repeats,
        "results": rows,
    }
    write_result(args.out, result, packages={**package_versions(), "jax": jax.__version__})


if __name__ == "__main__":
    main()
