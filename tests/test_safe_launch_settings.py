"""The safe baselines' MuJoCo launch settings, transcribed from the two upstream scripts (not
from our YAML): chauncygu/Multi-Agent-Constrained-Policy-Optimisation,
MAPPO-Lagrangian/mappo_lagrangian/scripts/train_mujoco.sh (Ant-v2 2x4), and
MACPO/macpo/scripts/train_mujoco.sh (read from the fork xiaoBOSS97/Multi-Agent-Constrained-
Policy-Optimisation at 605209c), plus the constants fixed in MACPO's r_macpo.py. These are
what `python -m baselines.run --env SafeAnt2x4Corridor --algo macpo` and the safe_learning
benchmark train with."""

from __future__ import annotations

import pytest

from baselines.config import resolve

pytest.importorskip("mujoco", reason="Safe MaMuJoCo needs the mujoco extra: pip install -e '.[mujoco]'")

TASK = "safe_mamujoco/SafeAnt2x4Corridor"

# both scripts: --lr 9e-5 --critic_lr 5e-3 --std_x_coef 1 --std_y_coef 5e-1
# --n_rollout_threads 16 --num_mini_batch 40 --episode_length 1000 --num_env_steps 10000000
# --agent_obsk 1; train_mujoco.py: episode_limit 1000
COMMON = {
    "num_envs": 16,
    "steps": 10_000_000,
    "rollout.length": 1000,
    "env_kwargs.max_episode_steps": 1000,
    "env_kwargs.agent_obsk": 1,
    "train.lr": 9e-5,
    "train.critic_lr": 5e-3,
    "train.critic_minibatches": 40,
    "model.std_x_coef": 1.0,
    "model.std_y_coef": 0.5,
}
# MACPO script: --ppo_epoch 1 --kl_threshold 0.0065 --line_search_fraction 0.5 --fraction_coef 0.27;
# r_macpo.train(): one CPO step per mini-batch (40), one pass; trpo_update(): the step's norm
# capped at 0.5, ls_step 10 (config.py), conjugate_gradient(nsteps=10), damping 0.1 * p
MACPO = {
    "train.actor_minibatches": 40,
    "train.critic_epoch": 1,
    "train.kl_threshold": 0.0065,
    "train.backtrack_coeff": 0.5,
    "train.step_fraction": 0.27,
    "train.max_step_norm": 0.5,
    "train.ls_steps": 10,
    "train.cg_iters": 10,
    "train.cg_damping": 0.1,
}
# MAPPO-L script: --ppo_epoch 5 --lamda_lagr 0.78 (the actor and both critics step in the same
# ppo_epoch x num_mini_batch loop)
MAPPO_L = {
    "train.ppo_epoch": 5,
    "train.critic_epoch": 5,
    "train.actor_minibatches": 40,
    "train.lagrangian_init": 0.78,
}


def value(config, dotted: str):
    node = config
    for part in dotted.split("."):
        node = getattr(node, part) if not isinstance(node, dict) else node[part]
    return node


@pytest.mark.parametrize(
    ("algo", "expected"), [("macpo", {**COMMON, **MACPO}), ("mappo_l", {**COMMON, **MAPPO_L})]
)
def test_safe_baselines_take_the_upstream_ant_2x4_launch_settings(algo, expected):
    config, _ = resolve(algo, TASK, "safe_mamujoco")
    wrong = {
        key: (value(config, key), want)
        for key, want in expected.items()
        if value(config, key) != pytest.approx(want)
    }
    assert not wrong, f"{algo}: (ours, upstream) {wrong}"
