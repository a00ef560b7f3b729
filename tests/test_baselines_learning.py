"""Each on-policy baseline learns on a small task within a CI budget (CPU, fixed seed).

Thresholds come from measurements on this code (fixed seeds make each run repeatable):

- `mpe2/simple_spread` (3 agents, 25-step episodes): a uniformly random policy returns
  -26.6 per episode (sd 8.1 over 800 episodes, so a 100-episode mean has sd 0.8).
  Trained for 48k env steps, deterministic evaluation over 100 episodes reached
  MAPPO -21.9, HAPPO -21.6; HATRPO (kl 0.02) -23.3 at 48k (seed 1: -21.5), so it gets
  64k steps: -21.8. The test asks for -23.5: six standard errors above random, a margin
  of one and a half to two return units below what they reach.
- `SafeSwimmer2x1Velocity` cut to 100-step episodes with a cost limit of 10 per episode:
  the initial policy costs about 38 per episode (it exceeds the 0.049 m/s speed
  threshold in a third of its steps; a random policy costs 41.5 and returns 1.5).
  The safe algorithms must bring the training cost from over twice the limit down to it
  (mean of the last 10 iterations: under the limit for MAPPO-L, within 1.5 times it for
  MACPO, whose CPO steps land on the constraint's boundary) without the return collapsing
  (a collapsed swimmer returns well below -10).
"""

from __future__ import annotations

import csv
import statistics
from pathlib import Path

import pytest

from baselines.config import resolve
from baselines.trainer import Trainer

MPE_THRESHOLD = -23.5
RANDOM_MPE_RETURN = -26.6


def train(tmp_path: Path, task: str, algo: str, overrides: list[str]) -> list[dict[str, str]]:
    config, sources = resolve(algo, task, task.split("/")[0], overrides=["log.tensorboard=false", *overrides])
    Trainer(config, tmp_path / f"{algo}", sources=sources).train()
    with (tmp_path / algo / "progress.csv").open() as f:
        return list(csv.DictReader(f))


MPE = [
    "steps=48000",
    "num_envs=16",
    "rollout.length=100",
    "eval.interval=0",
    "eval.episodes=100",
    "eval.num_envs=10",
    "log.interval=10",
]


@pytest.mark.parametrize(
    ("algo", "extra"),
    [("mappo", []), ("happo", []), ("hatrpo", ["train.kl_threshold=0.02", "steps=64000"])],
)
def test_cooperative_baselines_learn_simple_spread(tmp_path, algo, extra):
    rows = train(tmp_path, "mpe2/simple_spread", algo, [*MPE, *extra])
    final = float(rows[-1]["eval_return"])
    assert final > MPE_THRESHOLD, f"{algo} reached {final:.2f}; random is {RANDOM_MPE_RETURN}"
    early = statistics.mean(float(r["train_return"]) for r in rows[:3])
    late = statistics.mean(float(r["train_return"]) for r in rows[-5:])
    assert late > early + 1.0  # the training return rose as well


SAFE = [
    "env_kwargs.max_episode_steps=100",
    "rollout.length=100",
    "train.cost_limit=10",
    "eval.interval=0",
    "eval.episodes=16",
    "eval.num_envs=8",
    "log.interval=10",
]


@pytest.mark.parametrize(
    ("algo", "extra", "tolerance"),
    [
        # CPO steps to the constraint's boundary, so MACPO's cost settles at the limit, not
        # under it (measured: 37 -> 10.1 mean of the last 10 of 40 iterations, single
        # iterations 4 to 17; 11.9 over the last 10 of 60; kl_threshold 0.005 or 0.01, or 32
        # copies, settled at 12 to 14 before the value-clip fix)
        ("macpo", ["steps=64000", "num_envs=16", "train.kl_threshold=0.02"], 1.5),
        # the Lagrangian overshoots into the feasible side (measured: 40 -> 6.4)
        ("mappo_l", ["steps=40000", "num_envs=8", "train.lagrangian_lr=1.0"], 1.0),
    ],
)
def test_safe_baselines_bring_the_cost_down_to_the_limit(tmp_path, algo, extra, tolerance):
    rows = train(tmp_path, "SafeSwimmer2x1Velocity", algo, [*SAFE, *extra])
    costs = [float(r["train_cost"]) for r in rows]
    returns = [float(r["train_return"]) for r in rows]
    limit = 10.0
    assert statistics.mean(costs[:3]) > 2 * limit  # it starts well above the limit
    assert statistics.mean(costs[-10:]) < tolerance * limit, f"{algo}: last costs {costs[-10:]}"
    assert statistics.mean(returns[-10:]) > -10  # and the return did not collapse
