"""ShadowHandReOrientation against upstream (PKU-MARL/DexterousHands at dc41afd):
bidexhands/tasks/shadow_hand_re_orientation.py (T:) and bidexhands/cfg/ShadowHandReOrientation.yaml
(C:). Expected values are transcribed from those files; states are set by hand through qpos.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import torch

pytest.importorskip("mujoco")
pytest.importorskip("gymnasium_robotics")

import mujoco  # noqa: E402
from bidexhands_helpers import (  # noqa: E402
    axis_angle,
    euler_zyx,
    place,
    qconj,
    qmul,
    rot_dist,
    same_rotation,
    xyzw,
)

import envs  # noqa: E402
from bidexhands.env import BiDexHandsEnv  # noqa: E402
from bidexhands.tasks.re_orientation import shadow_hand_re_orientation  # noqa: E402


def make(num_envs: int = 2, seed: int = 0) -> BiDexHandsEnv:
    env = BiDexHandsEnv(shadow_hand_re_orientation(), num_envs=num_envs, seed=seed, backend="mujoco")
    return env


# -- published constants ---------------------------------------------------------------------
# C:6 episodeLength 600, C:22-25 reset noises 0.01 / 0 / 0.2 / 0, C:27 distRewardScale -10,
# C:28-29 transition/orientation scale 0.05 / 0.5, C:31-36 rotRewardScale 1, rotEps 0.1,
# actionPenaltyScale -0.0002, reachGoalBonus 500, fallDistance 0.24, fallPenalty 0,
# C:38 objectType block, C:42 successTolerance 0.1, C:44 maxConsecutiveSuccesses 0
CFG = (600, 0.01, 0.0, 0.2, 0.0, -10.0, 1.0, 0.1, -0.0002, 500.0, 0.24, 0.0, 0.1, 0, "block", 0.05, 0.5)
# T:368-373: hand0 (0, 0, 0.5) identity, hand1 (0, -1.15, 0.5) from_euler_zyx(0, 0, 3.1415);
# T:285 fix_base_link True
MOUNTS = (((0.0, 0.0, 0.5), (0.0, 0.0, 0.0)), ((0.0, -1.15, 0.5), (0.0, 0.0, 3.1415)))
# T:375-386: object = hand0 + (0, -0.39, 0.10); another object = that with y - 0.37
OBJECT_STARTS = np.array([[0.0, -0.39, 0.6], [0.0, -0.76, 0.6]])
# T:565-573: goal_states = object init states with z - 0.04
GOALS = OBJECT_STARTS - np.array([0.0, 0.0, 0.04])


def test_published_constants_and_hand_poses():
    task = shadow_hand_re_orientation()
    c = task.cfg
    ours = dataclasses.astuple(c)  # Published's fields in order, as CFG lists them
    assert ours == CFG
    assert task.max_episode_steps == 600 and task.dof_noise == 0.2
    for mount, (pos, euler) in zip(task.mounts, MOUNTS, strict=True):
        assert mount.pos == pytest.approx(pos, abs=1e-12)
        assert same_rotation(np.array(mount.quat), euler_zyx(*euler))
        assert not mount.movable


def test_sizes_and_cubes():
    # T:136-138: num_obs 422, hand block 72 + 95 + 20 = 187 -> per agent 422 - 187 = 235;
    # T:159: 20 actions per hand. cube_multicolor.urdf: box 0.05; AssetOptions density unset (T:360),
    # so Isaac Gym's default 1000
    env = make()
    assert env.spec.state_space.shape == (422,)
    assert all(env.spec.observation_spaces[a].shape == (235,) for a in env.agents)
    assert all(env.spec.action_spaces[a].shape == (20,) for a in env.agents)
    model = env.scene.model
    for i in range(2):
        geom = model.geom(f"object{i}_geom0")
        assert geom.type[0] == mujoco.mjtGeom.mjGEOM_BOX
        assert geom.size.tolist() == pytest.approx([0.025] * 3)
        assert model.body(f"object{i}").mass[0] == pytest.approx(1000.0 * 0.05**3, rel=1e-6)


def test_starts_share_one_draw_and_goals_sit_below_them():
    # reset (T:938-965): both objects take rand_floats[:, 0:3] * 0.01 and the same
    # randomize_rotation(rand_floats[:, 3], rand_floats[:, 4]); reset_target_pose (T:894-901):
    # both goals at their init positions with one new_rot
    env = make()
    env.reset(seed=3)
    r = env.physics.read()
    (p0, q0), (p1, q1) = ((t.double().numpy() for t in env.task.object_pose(r, i)) for i in range(2))
    off0, off1 = p0 - OBJECT_STARTS[0], p1 - OBJECT_STARTS[1]
    assert np.all(np.abs(off0) <= 0.01 + 1e-6) and np.allclose(off0, off1, atol=1e-6)
    assert np.allclose(q0, q1, atol=1e-6) and not np.allclose(q0[0], q0[1])
    assert not same_rotation(q0[0], np.array([1.0, 0, 0, 0]))
    goal_pos = env.task.goal_pos.double().numpy()
    goal_quat = env.task.goal_quat.double().numpy()
    assert np.allclose(goal_pos, np.broadcast_to(GOALS, goal_pos.shape), atol=1e-6)
    assert np.allclose(goal_quat[:, 0], goal_quat[:, 1])
    assert not same_rotation(goal_quat[0, 0], np.array([1.0, 0, 0, 0]))


def expected_reward(distances, thetas, actions) -> float:
    """compute_hand_reward (T:1266-1300)."""
    reward = sum(-10.0 * d for d in distances) + sum(1.0 / (abs(t) + 0.1) for t in thetas)
    reward += -0.0002 * float(np.sum(np.square(actions)))
    # goal_resets: T:1291 overwrites T:1290, so only object 2's rotation counts
    return reward + (500.0 if abs(thetas[1]) < 0.1 else 0.0)


def test_reward_counts_only_cube_two_for_the_goal_bonus():
    env = make()
    env.reset()
    actions = torch.linspace(-1.0, 1.0, 80).reshape(2, 2, 20)
    env.prev_actions = actions.clone()
    # copy 0: cube 1 exactly on its goal orientation, cube 2 0.3 rad off (no bonus upstream);
    # copy 1: cube 1 0.4 rad off, cube 2 0.05 rad off (bonus)
    turns = {0: (0.0, 0.3), 1: (0.4, 0.05)}
    shifts = {0: (np.array([0.01, 0.0, 0.0]), np.array([0.0, 0.02, 0.0])), 1: (np.zeros(3), np.zeros(3))}
    expected = []
    for world in (0, 1):
        distances, thetas = [], []
        for i in range(2):
            g = env.task.goal_quat[world, i].double().numpy()
            q = qmul(axis_angle((1.0, 0.5, -0.2), turns[world][i]), g)
            place(env, world, i, GOALS[i] + shifts[world][i], q)
            distances.append(float(np.linalg.norm(shifts[world][i])))
            thetas.append(rot_dist(q, g))
        expected.append(expected_reward(distances, thetas, actions[world].numpy()))
    r = env.physics.read()
    outcome = env.task.evaluate(r, env.hand_state(r))
    assert outcome.reward.tolist() == pytest.approx(expected, rel=1e-4)
    assert outcome.success.tolist() == [False, True]
    assert outcome.terminated.tolist() == [False, False]


def test_a_fallen_cube_ends_the_episode():
    # T:1303-1304: reset where either object's z <= 0.2
    env = make()
    for i in range(2):
        env.reset()
        place(env, 0, i, (0.5, OBJECT_STARTS[i][1], 0.205))  # beside the hands, above the line
        place(env, 1, i, (0.5, OBJECT_STARTS[i][1], 0.195))
        r = env.physics.read()
        assert env.task.evaluate(r, env.hand_state(r)).terminated.tolist() == [False, True]


def test_observation_block_at_upstreams_indices():
    # compute_full_state (T:741-757): from 2 * 187 = 374, per object: pose 7, linvel 3,
    # 0.2 * angvel 3, goal pose 7, quat_mul(object_rot, conj(goal_rot)) 4; quaternions (x, y, z, w)
    env = make(num_envs=1)
    env.reset()
    a, b = 0.25, 0.15
    q = np.array([math.cos(a), math.sin(a), 0.0, 0.0])
    place(env, 0, 1, (0.02, -0.75, 0.58), q)
    env.task.goal_quat[0, 1] = torch.tensor([math.cos(b), 0.0, math.sin(b), 0.0])
    _, state = env._observe(env.physics.read(), None)
    state = state[0].double().numpy()
    start = 374 + 24
    assert np.allclose(state[start : start + 3], (0.02, -0.75, 0.58), atol=1e-6)
    assert np.allclose(state[start + 3 : start + 7], xyzw(q), atol=1e-6)
    assert np.allclose(state[start + 7 : start + 13], 0.0, atol=1e-6)
    assert np.allclose(state[start + 13 : start + 16], GOALS[1], atol=1e-6)
    g = np.array([math.cos(b), 0.0, math.sin(b), 0.0])
    assert np.allclose(state[start + 16 : start + 20], xyzw(g), atol=1e-6)
    assert np.allclose(state[start + 20 : start + 24], xyzw(qmul(q, qconj(g))), atol=1e-6)
    goal0 = env.task.goal_quat[0, 0].double().numpy()
    assert np.allclose(state[374 + 13 : 374 + 16], GOALS[0]) and np.allclose(
        state[374 + 16 : 374 + 20], xyzw(goal0)
    )


def test_a_cube_on_its_goal_earns_the_bonus_and_redraws_both_goals():
    """Scripted sanity: cube 2 put on its goal pose at rest; the step's reward carries
    reachGoalBonus, its observation still shows the old goals, and before the next step is
    rewarded both goals get one new orientation (reset_target_pose) while the episode goes on."""
    env = make()
    env.reset(seed=1)
    zero = {a: torch.zeros(2, 20) for a in env.agents}
    for _ in range(20):  # let the cubes settle in the palms
        env.step(zero)
    r = env.physics.read()
    pos, _ = env.task.object_pose(r, 1)
    old_quat = env.task.goal_quat.clone()
    place(env, 0, 1, pos[0].double().numpy(), old_quat[0, 1].double().numpy())
    ts = env.step(zero)
    assert ts.reward["hand0"][0] > 500.0 and ts.reward["hand0"][1] < 500.0
    assert not bool(ts.terminated.any() | ts.truncated.any())
    obs_goal = ts.state[0, 374 + 24 + 16 : 374 + 24 + 20].double().numpy()
    assert np.allclose(obs_goal, xyzw(old_quat[0, 1].double().numpy()), atol=1e-6)  # old goal shown
    ts = env.step(zero)
    new_quat = env.task.goal_quat
    assert not torch.allclose(new_quat[0], old_quat[0])  # copy 0 re-drawn ...
    assert torch.allclose(new_quat[0, 0], new_quat[0, 1])  # ... one rotation for both goals
    assert torch.allclose(new_quat[1], old_quat[1])  # copy 1 untouched
    assert np.allclose(env.task.goal_pos.double().numpy()[0], GOALS, atol=1e-6)
    assert ts.reward["hand0"][0] < 500.0  # the cube is far from the new goal
    assert bool(env.succeeded[0]) and not bool(env.succeeded[1])
    assert int(env.t[0]) == 22  # the same episode


def test_check_env():
    envs.check_env(make())
