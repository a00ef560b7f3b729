"""Episode returns of untrained-like policies on the Bi-DexHands tasks, to set beside the first
points of the published curves (FIDELITY.md, "Learning evidence 5(a)").

Why: a published curve's first point (upstream's `train_episode_rewards/aver_rewards`, an
undiscounted episode return of the team reward) is the score of a barely trained policy. What
near-untrained policies score here checks the reward scale, episode lengths and terminations
before any learning is compared.

Policies (actions clipped to [-1, 1], as upstream's wrapper does):
  zero    a = 0, the untrained Gaussian's mean
  random  a ~ U(-1, 1)
  gauss   a ~ N(0, 0.366), upstream's MARL initial std (sigmoid(1) * std_y_coef 0.5)

Per task and policy: mean return and length over the finished episodes, and `first`, the mean
return of the episodes that ended in the first 8-step rollout window that had any ending (what
upstream's first logged point averages; with a few copies instead of upstream's 2048 it is only
indicative).

    python -m bidexhands.untrained_returns --out untrained.json            # all ten tasks
    python -m bidexhands.untrained_returns --tasks ShadowHandOver --episodes 1
"""

from __future__ import annotations

import argparse
import json
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from bidexhands.tasks import TASKS
from envs.manifest import run_manifest

MARL_INIT_STD = 0.5 / (1.0 + math.exp(-1.0))  # sigmoid(log_std 1 / std_x_coef 1) * std_y_coef 0.5
POLICIES = ("zero", "random", "gauss")
ROLLOUT = 8  # steps between upstream's logged points (cfg/happo/config.yaml episode_length)


@dataclass(frozen=True)
class Score:
    task: str
    policy: str
    mean_return: float
    mean_length: float
    first_window_return: float
    episodes: int
    seconds: float


def draw(policy: str, shape: tuple[int, ...], generator: torch.Generator) -> torch.Tensor:
    if policy == "zero":
        return torch.zeros(shape)
    if policy == "random":
        return 2.0 * torch.rand(shape, generator=generator) - 1.0
    return torch.clamp(MARL_INIT_STD * torch.randn(shape, generator=generator), -1.0, 1.0)


def score(task: str, policy: str, episodes: int, num_envs: int, seed: int) -> Score:
    """Steps `num_envs` copies until each has finished `episodes` episodes."""
    import envs

    start = time.perf_counter()
    env = envs.make(f"bidexhands/{task}", num_envs=num_envs, seed=seed, backend="mujoco")
    generator = torch.Generator().manual_seed(seed)
    env.reset(seed=seed)
    running = torch.zeros(num_envs, dtype=torch.float64)
    length = torch.zeros(num_envs, dtype=torch.long)
    finished = torch.zeros(num_envs, dtype=torch.long)
    returns: list[float] = []
    lengths: list[int] = []
    first: list[float] = []
    first_window: int | None = None
    step = 0
    while bool((finished < episodes).any()):
        actions = {
            a: draw(policy, (num_envs, *env.spec.action_spaces[a].shape), generator) for a in env.agents
        }
        ts = env.step(actions)
        step += 1
        running += ts.reward[env.agents[0]].double().cpu()  # the team reward, the same for every agent
        length += 1
        for i in torch.nonzero((ts.terminated | ts.truncated).cpu()).flatten().tolist():
            if finished[i] < episodes:
                returns.append(float(running[i]))
                lengths.append(int(length[i]))
                window = (step - 1) // ROLLOUT
                first_window = window if first_window is None else first_window
                if window == first_window:
                    first.append(float(running[i]))
            finished[i] += 1
            running[i], length[i] = 0.0, 0
    env.close()
    return Score(
        task=task,
        policy=policy,
        mean_return=sum(returns) / len(returns),
        mean_length=sum(lengths) / len(lengths),
        first_window_return=sum(first) / len(first),
        episodes=len(returns),
        seconds=time.perf_counter() - start,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="+", default=list(TASKS), choices=list(TASKS), metavar="TASK")
    parser.add_argument("--policies", nargs="+", default=list(POLICIES), choices=POLICIES)
    parser.add_argument("--episodes", type=int, default=8, help="episodes per copy (default 8)")
    parser.add_argument("--num-envs", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, help="write the scores and the run manifest as JSON")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    scores = []
    print("task | policy | return | length | first-window return | episodes | s")
    for task in args.tasks:
        for policy in args.policies:
            s = score(task, policy, args.episodes, args.num_envs, args.seed)
            scores.append(s)
            print(
                f"{s.task} | {s.policy} | {s.mean_return:.3f} | {s.mean_length:.1f} | "
                f"{s.first_window_return:.3f} | {s.episodes} | {s.seconds:.0f}",
                flush=True,
            )
    if args.out:
        manifest = run_manifest(seed=args.seed, num_envs=args.num_envs, episodes_per_copy=args.episodes)
        args.out.write_text(
            json.dumps({"manifest": manifest, "scores": [asdict(s) for s in scores]}, indent=2)
        )
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
