"""Bi-DexHands tasks against upstream (PKU-MARL/DexterousHands): constants, starts, rewards,
terminations, success, objects and the task observation block.

Expected values are transcribed from upstream's files, cited per block (paths relative to
that repository), and computed here with our own small numpy helpers; states are set by hand
(object poses and door angles through qpos, hand points by overriding the sensor values the
task reads, after checking those sensors measure upstream's points).
"""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
import torch

pytest.importorskip("mujoco")
pytest.importorskip("gymnasium_robotics")

import mujoco  # noqa: E402
from bidexhands_helpers import (  # noqa: E402
    axis_angle,
    cfg_values,
    contact_frictions,
    euler_zyx,
    mjdata,
    move_base,
    place,
    qconj,
    qmul,
    qrot,
    rot_dist,
    same_rotation,
    set_qpos,
    upstream_finger_points,
    xyzw,
)

import envs  # noqa: E402

CATCH = (
    "ShadowHandOver",
    "ShadowHandCatchUnderarm",
    "ShadowHandCatchOver2Underarm",
    "ShadowHandCatchAbreast",
    "ShadowHandTwoCatchUnderarm",
)
DOORS = (
    "ShadowHandDoorOpenInward",
    "ShadowHandDoorOpenOutward",
    "ShadowHandDoorCloseInward",
    "ShadowHandDoorCloseOutward",
)


def make(task: str, num_envs: int = 2):
    return envs.make(f"bidexhands/{task}", num_envs=num_envs, seed=0, backend="mujoco")


# -- published constants -------------------------------------------------------------------
# bidexhands/cfg/ShadowHand<Task>.yaml, env block: episodeLength, resetPositionNoise,
# resetDofPosRandomInterval, distRewardScale, rotRewardScale, rotEps, actionPenaltyScale,
# reachGoalBonus, fallDistance, fallPenalty, successTolerance, maxConsecutiveSuccesses,
# transition_scale, orientation_scale, objectType
CFG = {
    "ShadowHandOver": (75, 0.01, 0.2, 50, 1.0, 0.1, -0.0002, 250, 0.4, 0.0, 0.1, 0, None, None, "egg"),
    "ShadowHandCatchUnderarm": (
        75,
        0.01,
        0.2,
        50,
        1.0,
        0.1,
        -0.0002,
        250,
        0.65,
        0.0,
        0.1,
        0,
        0.05,
        0.5,
        "egg",
    ),
    "ShadowHandCatchOver2Underarm": (75, 0.0, 0.0, 20, 1.0, 0.1, -0.0002, 250, 2, 0.0, 0.1, 0, 0.1, 2, "egg"),
    "ShadowHandCatchAbreast": (150, 0.0, 0.0, 50, 1.0, 0.1, -0.0002, 250, 0.65, 0.0, 0.1, 0, 0.5, 1, "egg"),
    "ShadowHandTwoCatchUnderarm": (
        75,
        0.01,
        0.2,
        50.0,
        1.0,
        0.1,
        -0.0002,
        250,
        0.65,
        0.0,
        0.1,
        0,
        0.05,
        0.5,
        "egg",
    ),
    "ShadowHandLiftUnderarm": (500, 0.0, 0.0, 20, 1.0, 0.1, -0.0002, 250, 0.4, 0.0, 0.1, 0, 0.25, 1, "pot"),
    **{t: (250, 0.0, 0.0, 20, 1.0, 0.1, -0.0002, 250, 0.4, 0.0, 0.1, 0, 0.5, 0.5, "pot") for t in DOORS},
}
# hand poses: bidexhands/tasks/shadow_hand_<task>.py, _create_envs (shadow_hand_start_pose and
# shadow_another_hand_start_pose; gymapi.Quat.from_euler_zyx(roll, pitch, yaw))
MOUNTS = {
    "ShadowHandOver": (((0, 0, 0.5), (0, 0, 0)), ((0, -1, 0.5), (0, 0, 3.1415))),
    "ShadowHandCatchUnderarm": (((0, 0, 0.5), (0, 0, 0)), ((0, -1.15, 0.5), (0, 0, 3.1415))),
    "ShadowHandCatchOver2Underarm": (((0, 0, 0.5), (1.57 + 0.1, 3.14, 0)), ((0, -0.8, 0.5), (0, 0, 3.1415))),
    "ShadowHandCatchAbreast": (((0, -0.55, 0.5), (0, 0.3925, -1.57)), ((0, -1.15, 0.5), (0, -0.3925, -1.57))),
    "ShadowHandTwoCatchUnderarm": (((0, 0, 0.5), (0, 0, 0)), ((0, -1.15, 0.5), (0, 0, 3.1415))),
    "ShadowHandLiftUnderarm": (((0, 0.05, 0.45), (0, 0, 0)), ((0, -1.25, 0.45), (0, 0, 3.14159))),
    "ShadowHandDoorOpenInward": (
        ((0.55, 0.2, 0.6), (3.14159, 1.57, 1.57)),
        ((0.55, -0.2, 0.6), (3.14159, -1.57, 1.57)),
    ),
    "ShadowHandDoorOpenOutward": (
        ((0.55, 0.2, 0.6), (3.14159, 1.57, 1.57)),
        ((0.55, -0.2, 0.6), (3.14159, -1.57, 1.57)),
    ),
    "ShadowHandDoorCloseInward": (
        ((0.9, 0.5, 0.6), (3.14159, 1.57, 1.57)),
        ((0.9, -0.5, 0.6), (3.14159, -1.57, 1.57)),
    ),
    "ShadowHandDoorCloseOutward": (
        ((0.55, 0.2, 0.6), (3.14159, 1.57, 1.57)),
        ((0.55, -0.2, 0.6), (3.14159, -1.57, 1.57)),
    ),
}


@pytest.mark.parametrize("task", sorted(CFG))
def test_published_constants_and_hand_poses(task):
    from bidexhands.tasks import TASKS

    spec = TASKS[task]()
    c = spec.cfg
    ours = cfg_values(c)
    assert ours == CFG[task]
    assert c.reset_rotation_noise == 0.0 and c.reset_dof_vel_noise == 0.0
    assert spec.max_episode_steps == CFG[task][0] and spec.dof_noise == CFG[task][2]
    for mount, (pos, euler) in zip(spec.mounts, MOUNTS[task], strict=True):
        assert mount.pos == pytest.approx(pos, abs=1e-12)
        assert same_rotation(np.array(mount.quat), euler_zyx(*euler))
        assert mount.movable == (task != "ShadowHandOver")  # asset_options.fix_base_link


# -- object-to-goal tasks ------------------------------------------------------------------
# object and goal starts: _create_envs (object_start_pose = hand + (pose_dx, pose_dy, pose_dz))
# and reset_target_pose (goal_states = object start shifted)
HAND0 = {t: np.array(MOUNTS[t][0][0], dtype=float) for t in MOUNTS}
STARTS = {
    "ShadowHandOver": ([HAND0["ShadowHandOver"] + (0, -0.39, 0.04)], [(0, -0.25, 0)]),
    "ShadowHandCatchUnderarm": ([HAND0["ShadowHandCatchUnderarm"] + (0, -0.39, 0.04)], [(0, -0.4, 0)]),
    "ShadowHandCatchOver2Underarm": (
        [HAND0["ShadowHandCatchOver2Underarm"] + (0, 0.05, 0.5)],
        [(0, -0.45, -0.45)],
    ),
    "ShadowHandCatchAbreast": ([HAND0["ShadowHandCatchAbreast"] + (-0.39, 0, 0.04)], [(0, -0.6, 0)]),
    # another object: the first start with y -= 0.39; its goal: y += 0.4
    "ShadowHandTwoCatchUnderarm": (
        [
            HAND0["ShadowHandTwoCatchUnderarm"] + (0, -0.39, 0.04),
            HAND0["ShadowHandTwoCatchUnderarm"] + (0, -0.78, 0.04),
        ],
        [(0, -0.4, 0), (0, 0.4, 0)],
    ),
}
# compute_hand_reward: resets where object z <= this
FALL_HEIGHT = {
    "ShadowHandOver": 0.2,
    "ShadowHandCatchUnderarm": 0.1,
    "ShadowHandCatchOver2Underarm": 0.3,
    "ShadowHandCatchAbreast": 0.2,
    "ShadowHandTwoCatchUnderarm": 0.2,
}


@pytest.mark.parametrize("task", CATCH)
def test_object_and_goal_starts(task):
    env = make(task)
    env.reset()
    r = env.physics.read()
    starts, goal_shifts = STARTS[task]
    noise = CFG[task][1]
    offsets = []
    for i, (start, shift) in enumerate(zip(starts, goal_shifts, strict=True)):
        pos, quat = (t.double().numpy() for t in env.task.object_pose(r, i))
        offsets.append(pos - start)
        # resetPositionNoise on x, y and z; a random rotation from randomize_rotation
        assert np.all(np.abs(pos - start) <= noise + 1e-6)
        goal = env.task.goal_pos[:, i].double().numpy()
        assert np.allclose(goal, start + np.asarray(shift), atol=1e-6)
        assert not same_rotation(quat[0], np.array([1.0, 0, 0, 0]))
        assert not same_rotation(env.task.goal_quat[0, i].double().numpy(), np.array([1.0, 0, 0, 0]))
    if noise == 0.0:
        assert np.allclose(offsets, 0.0, atol=1e-6)


def test_two_catch_shares_one_draw_between_its_eggs_and_goals():
    # shadow_hand_two_catch_underarm.py reset: both objects take rand_floats[:, 0:3] and the
    # same new_object_rot; reset_target_pose gives both goals the same new_rot
    env = make("ShadowHandTwoCatchUnderarm")
    env.reset(seed=5)
    r = env.physics.read()
    (p0, q0), (p1, q1) = (env.task.object_pose(r, i) for i in range(2))
    starts = STARTS["ShadowHandTwoCatchUnderarm"][0]
    assert torch.allclose(
        p0 - torch.tensor(starts[0]).float(), p1 - torch.tensor(starts[1]).float(), atol=1e-6
    )
    assert torch.allclose(q0, q1, atol=1e-6)
    assert torch.allclose(env.task.goal_quat[:, 0], env.task.goal_quat[:, 1])
    assert not torch.allclose(q0[0], q0[1])  # but copies differ


def catch_reward(scale, distances, thetas) -> float:
    """compute_hand_reward: sum over objects of exp(-0.2 (d * distRewardScale + rot_dist))."""
    return sum(math.exp(-0.2 * (d * scale + th)) for d, th in zip(distances, thetas, strict=True))


@pytest.mark.parametrize("task", CATCH)
def test_catch_reward_and_success_on_hand_set_poses(task):
    env = make(task)
    env.reset()
    k = len(STARTS[task][0])
    # copy 0: within the success radius (TwoCatch: d1 + d2 < 0.06, egg 2 alone beyond 0.03);
    # copy 1: just outside it
    offsets = {
        0: [np.array([0.01, -0.02, 0.005]), np.array([0.0, 0.03, -0.015])][:k],
        1: [np.array([0.0, 0.02, 0.0]), np.array([0.045, 0.0, 0.0])][:k]
        if k == 2
        else [np.array([0.0, 0.031, 0.0])],
    }
    tilt = axis_angle((1.0, 0.5, 0.0), 0.3)
    expected = []
    for world in (0, 1):
        distances, thetas = [], []
        for i in range(k):
            goal = env.task.goal_pos[world, i].double().numpy()
            g = env.task.goal_quat[world, i].double().numpy()
            q = qmul(tilt, g)
            place(env, world, i, goal + offsets[world][i], q)
            distances.append(float(np.linalg.norm(offsets[world][i])))
            thetas.append(rot_dist(q, g))
        expected.append(catch_reward(CFG[task][3], distances, thetas))
    r = env.physics.read()
    outcome = env.task.evaluate(r, env.hand_state(r))
    assert outcome.reward.tolist() == pytest.approx(expected, rel=1e-4)
    assert outcome.success.tolist() == [True, False]
    assert not bool(outcome.terminated.any())


def test_over_adds_the_goal_bonus_only_at_zero_distance():
    # shadow_hand_over.py compute_hand_reward: reward + reachGoalBonus where goal_dist <= 0
    env = make("ShadowHandOver")
    env.reset()
    for world in (0, 1):
        goal = env.task.goal_pos[world, 0].double().numpy()
        shift = 0.0 if world == 0 else 0.001
        place(env, world, 0, goal + shift, env.task.goal_quat[world, 0].double().numpy())
    r = env.physics.read()
    reward = env.task.evaluate(r, env.hand_state(r)).reward.tolist()
    assert reward[0] == pytest.approx(1.0 + 250.0, rel=1e-6)
    assert reward[1] == pytest.approx(math.exp(-0.2 * 50 * math.sqrt(3) * 0.001), rel=1e-4)


@pytest.mark.parametrize("task", CATCH)
def test_a_fallen_egg_ends_the_episode_at_upstreams_height(task):
    env = make(task)
    for i in range(len(STARTS[task][0])):
        env.reset()
        h = FALL_HEIGHT[task]
        start = STARTS[task][0][i]
        place(env, 0, i, (start[0] + 0.5, start[1], h + 0.005))  # beside the hands, above the line
        place(env, 1, i, (start[0] + 0.5, start[1], h - 0.005))
        r = env.physics.read()
        assert env.task.evaluate(r, env.hand_state(r)).terminated.tolist() == [False, True]


# shadow_hand_catch_over2underarm.py: hand root positions vs (0, 0, 0.5), (0, -0.8, 0.5);
# shadow_hand_catch_abreast.py: palm bodies (rigid body 3, 3 + 26) vs (-0.3, -0.55, 0.5),
# (-0.3, -1.15, 0.5); reset at a distance >= 0.1
DRIFT = {
    "ShadowHandCatchOver2Underarm": ("robot0:hand mount", ((0, 0, 0.5), (0, -0.8, 0.5))),
    "ShadowHandCatchAbreast": ("robot0:palm", ((-0.3, -0.55, 0.5), (-0.3, -1.15, 0.5))),
}


@pytest.mark.parametrize("task", sorted(DRIFT))
def test_drift_check_measures_upstreams_body_and_limit(task):
    body, centres = DRIFT[task]
    env = make(task)
    env.reset()
    model, data = mjdata(env)
    r = env.physics.read()
    for h, prefix in enumerate(("hand0_", "hand1_")):
        sensed = r.sensordata[0, env.task._drift_sensors[h]].double().numpy()
        assert np.allclose(sensed, data.xpos[model.body(prefix + body).id], atol=1e-5)
    assert not bool(env.task.evaluate(r, env.hand_state(r)).terminated.any())
    for h in (0, 1):
        r = env.physics.read()
        centre = torch.tensor(centres[h], dtype=torch.float32)
        r.sensordata[0, env.task._drift_sensors[h]] = centre + torch.tensor([0.0, 0.0995, 0.0])
        r.sensordata[1, env.task._drift_sensors[h]] = centre + torch.tensor([0.0, 0.0, -0.1005])
        assert env.task.evaluate(r, env.hand_state(r)).terminated.tolist() == [False, True]


def test_egg_is_upstreams_ellipsoid():
    # assets/mjcf/open_ai_assets/hand/egg.xml: ellipsoid 0.03 0.03 0.04; object asset density 500
    env = make("ShadowHandOver")
    model = env.scene.model
    geom = model.geom("object0_geom0")
    assert geom.type[0] == mujoco.mjtGeom.mjGEOM_ELLIPSOID
    assert geom.size.tolist() == pytest.approx([0.03, 0.03, 0.04])
    volume = 4.0 / 3.0 * math.pi * 0.03 * 0.03 * 0.04
    assert model.body("object0").mass[0] == pytest.approx(500.0 * volume, rel=1e-6)


@pytest.mark.parametrize("task", CATCH)
def test_catch_observation_block(task):
    # compute_full_state: object pose 7, linvel 3, vel_obs_scale (0.2) * angvel, goal pose 7,
    # quat_mul(object_rot, quat_conjugate(goal_rot)); per object (TwoCatch: object 1 then 2);
    # Isaac Gym's quaternions are (x, y, z, w)
    env = make(task)
    env.reset()
    for _ in range(3):
        env.step({a: torch.zeros(2, *env.spec.action_spaces[a].shape) for a in env.agents})
    r = env.physics.read()
    block = env.task.shared_obs(r)
    k = len(STARTS[task][0])
    assert block.shape == (2, 24 * k)
    for i in range(k):
        b = block[:, 24 * i : 24 * (i + 1)].double().numpy()
        pos, quat = (t.double().numpy() for t in env.task.object_pose(r, i))
        model, data = mjdata(env, 1)
        body = model.body(f"object{i}").id
        vel = np.zeros(6)
        mujoco.mj_objectVelocity(model, data, mujoco.mjtObj.mjOBJ_BODY, body, vel, 0)  # world frame
        goal, g = env.task.goal_pos[:, i].double().numpy(), env.task.goal_quat[:, i].double().numpy()
        assert np.allclose(b[:, 0:3], pos, atol=1e-6) and np.allclose(b[:, 3:7], xyzw(quat), atol=1e-6)
        assert np.allclose(b[1, 7:10], vel[3:], atol=1e-4) and np.allclose(
            b[1, 10:13], 0.2 * vel[:3], atol=1e-4
        )
        assert np.allclose(b[:, 13:16], goal, atol=1e-6) and np.allclose(b[:, 16:20], xyzw(g), atol=1e-6)
        assert np.allclose(b[1, 20:24], xyzw(qmul(quat[1], qconj(g[1]))), atol=1e-5)


def test_over_state_carries_hand_set_orientations_at_upstreams_indices_as_xyzw():
    # shadow_hand_over.py compute_full_state: obj_obs_start = 2 * 187 = 374: object pose
    # 374-380 (quaternion 377-380), goal pose 387-393 (quaternion 390-393), then
    # quat_mul(object_rot, quat_conjugate(goal_rot)) 394-397; Isaac Gym quaternions are (x, y, z, w)
    env = make("ShadowHandOver", num_envs=1)
    env.reset()
    a, b = 0.25, 0.15  # object turned 0.5 rad about x, goal 0.3 rad about y
    place(env, 0, 0, (0.0, -0.39, 0.6), (math.cos(a), math.sin(a), 0.0, 0.0))
    env.task.goal_quat[0, 0] = torch.tensor([math.cos(b), 0.0, math.sin(b), 0.0])
    _, state = env._observe(env.physics.read(), None)
    state = state[0].double().numpy()
    assert state.shape == (398,)
    assert np.allclose(state[377:381], [math.sin(a), 0.0, 0.0, math.cos(a)], atol=1e-6)
    assert np.allclose(state[390:394], [0.0, math.sin(b), 0.0, math.cos(b)], atol=1e-6)
    # (cos a + sin a i)(cos b - sin b j), written out as x, y, z, w
    diff = [
        math.sin(a) * math.cos(b),
        -math.cos(a) * math.sin(b),
        -math.sin(a) * math.sin(b),
        math.cos(a) * math.cos(b),
    ]
    assert np.allclose(state[394:398], diff, atol=1e-6)


# -- ShadowHandLiftUnderarm ----------------------------------------------------------------
# shadow_hand_lift_underarm.py: handles at pot + R (0, +-0.15, 0.06) (right = +0.15, hand0's);
# hands at palm (rigid body 3) + R (0, 0, 0.08) + R (0, -0.02, 0); goal = start + (0, 0, 0.4)
LIFT_START, LIFT_GOAL = np.array([0.0, 0.05 - 0.65, 0.45]), np.array([0.0, -0.6, 0.85])


def lift_handles(pos, quat):
    return pos + qrot(quat, (0, 0.15, 0.06)), pos + qrot(quat, (0, -0.15, 0.06))


def test_lift_start_goal_and_palm_points():
    env = make("ShadowHandLiftUnderarm")
    env.reset()
    r = env.physics.read()
    pos, quat = (t.double().numpy() for t in env.task.object_pose(r))
    assert np.allclose(pos, LIFT_START, atol=1e-6) and np.allclose(quat, [1, 0, 0, 0], atol=1e-6)
    assert np.allclose(env.task.goal_pos[:, 0].double().numpy(), LIFT_GOAL, atol=1e-6)
    model, data = mjdata(env)
    palms = env.task.palm_centres(r)[0].double().numpy()
    for h, prefix in enumerate(("hand0_", "hand1_")):
        palm = model.body(prefix + "robot0:palm").id
        expected = data.xpos[palm] + data.xmat[palm].reshape(3, 3) @ np.array([0.0, -0.02, 0.08])
        assert np.allclose(palms[h], expected, atol=1e-5)


def test_lift_reward_terms_termination_and_success():
    # compute_hand_reward: 0.2 - d_R - d_L + 3 (0.385 - goal_dist) if d_R < 0.08 and d_L < 0.08;
    # resets: pot z <= 0.3, d_R >= 0.2, d_L >= 0.2; successes: goal_dist < 0.05
    env = make("ShadowHandLiftUnderarm")
    env.reset()
    quat = axis_angle((0, 0, 1), 0.2)
    pots = {0: LIFT_GOAL + (0.01, -0.02, -0.03), 1: LIFT_START + (0.0, 0.0, 0.1)}
    for world, pos in pots.items():
        place(env, world, 0, pos, quat)
    palm_offsets = {  # palm centre minus handle, per copy and hand
        0: (np.array([0.03, 0.02, -0.04]), np.array([0.0, 0.0, -0.07])),
        1: (np.array([0.03, 0.02, -0.04]), np.array([0.0, 0.0, -0.09])),
    }
    r = env.physics.read()
    expected = []
    for world, pos in pots.items():
        handles = lift_handles(pos, quat)
        d = float(np.linalg.norm(LIFT_GOAL - pos))
        dists = [float(np.linalg.norm(o)) for o in palm_offsets[world]]
        for h in (0, 1):
            r.sensordata[world, env.task._palms[h]] = torch.tensor(
                handles[h] + palm_offsets[world][h]
            ).float()
        near = all(x < 0.08 for x in dists)
        expected.append(0.2 - sum(dists) + (3 * (0.385 - d) if near else 0.0))
    outcome = env.task.evaluate(r, env.hand_state(r))
    assert outcome.reward.tolist() == pytest.approx(expected, abs=1e-5)
    assert outcome.success.tolist() == [True, False]
    assert outcome.terminated.tolist() == [False, False]
    # a palm 0.2 m from its handle, or the pot down at 0.3 m, ends the episode
    handles = lift_handles(pots[1], quat)
    r.sensordata[1, env.task._palms[1]] = torch.tensor(handles[1] + (0.0, 0.0, -0.2005)).float()
    r.sensordata[0, env.task._palms[0]] += torch.tensor([0.0, 0.0, 0.0])
    assert env.task.evaluate(r, env.hand_state(r)).terminated.tolist() == [False, True]
    place(env, 0, 0, (0.0, -0.6, 0.2995), quat)
    r = env.physics.read()
    assert bool(env.task.evaluate(r, env.hand_state(r)).terminated[0])


def test_lift_observation_block():
    # compute_full_state: pot pose 7, linvel 3, 0.2 * angvel 3, right handle 3, left handle 3
    env = make("ShadowHandLiftUnderarm")
    env.reset()
    quat = axis_angle((0, 0, 1), 0.3)
    place(env, 0, 0, LIFT_START + (0, 0, 0.2), quat)
    r = env.physics.read()
    block = env.task.shared_obs(r)[0].double().numpy()
    assert block.shape == (19,)
    pos = LIFT_START + (0, 0, 0.2)
    right, left = lift_handles(pos, quat)
    assert np.allclose(block[:7], [*pos, *xyzw(quat)], atol=1e-6)
    assert np.allclose(block[13:16], right, atol=1e-5) and np.allclose(block[16:19], left, atol=1e-5)


def test_pot_table_and_lid_follow_upstreams_assets():
    # assets/mjcf/pot/mobility.urdf: link_1 (body) mass 3, link_0 (lid) mass 1, both inertia
    # ixx = iyy = 0.4, izz = 0.2 in link frames turned by rpy (pi/2, 0, -pi/2) (link z = pot -x);
    # joint_0 prismatic along link y (pot z), 0 to 0.06. Table: create_box(0.3, 0.3, 0.4) at
    # (0, -0.6, 0.2) (shadow_hand_lift_underarm.py); its friction: test_contacts_have_physx_friction.
    env = make("ShadowHandLiftUnderarm")
    model = env.scene.model
    pot, lid = model.body("object0"), model.body("pot_lid")
    assert pot.mass[0] == pytest.approx(3.0) and lid.mass[0] == pytest.approx(1.0)
    assert pot.inertia.tolist() == pytest.approx([0.2, 0.4, 0.4]) and lid.inertia.tolist() == pytest.approx(
        [0.2, 0.4, 0.4]
    )
    slide = model.joint("pot_lid_slide")
    assert slide.type[0] == mujoco.mjtJoint.mjJNT_SLIDE and slide.range.tolist() == pytest.approx([0.0, 0.06])
    assert slide.axis.tolist() == pytest.approx([0, 0, 1])
    table = model.geom("table")
    assert (2 * table.size).tolist() == pytest.approx(
        [0.3, 0.3, 0.4]
    ) and table.pos.tolist() == pytest.approx([0, -0.6, 0.2])
    # the table shares the hands' collision group with filter 0 (hands too, in this task): the
    # hands and the pot both touch it
    palm = model.geom("hand0_robot0:C_palm0")  # the palm's collision box
    for geom in (palm, model.geom("object0_geom0")):
        assert (geom.contype[0] & table.conaffinity[0]) or (table.contype[0] & geom.conaffinity[0])
    # the pot body spans the meshes' extents scaled 0.2: radius 0.118, z from -0.065 to 0.061,
    # grips at y = +-0.176 (original-21/19/22 and original-31/27.obj)
    body = model.geom("object0_geom0")
    assert body.size[0] == pytest.approx(0.118, abs=0.002)
    assert body.pos[2] - body.size[1] == pytest.approx(-0.065, abs=0.001)
    assert body.pos[2] + body.size[1] == pytest.approx(0.061, abs=0.001)
    assert abs(model.geom("object0_geom1").pos[1]) == pytest.approx(0.176, abs=0.002)


# -- doors ---------------------------------------------------------------------------------
# assets/mjcf/door/mobility.urdf: joint_0 (base -> link_0) rpy (pi/2, 0, -pi/2); joint_1
# (link_1, upstream's right door) at (-0.42653, 0.48329, 0.00846), axis (0, -1, 0); joint_2
# (link_2, left door) at (0.42041, 0.48329, 0.00560), axis (0, 1, 0); both limits [0, pi/2].
# shadow_hand_door_*.py: door root at (0, 0, 0.7), turned from_euler_zyx(0, 3.14159, 0) for the
# Inward tasks; handle points link_1 + R (0.39, -0.5, +-0.04) and link_2 + R (-0.39, -0.5,
# +-0.04), + for Inward and - for Outward; start dof positions 0 (open) or 1.57 (close).
URDF_FRAME = euler_zyx(math.pi / 2, 0, -math.pi / 2)
URDF_HINGES = (
    ((-0.4265270657166128, 0.483292, 0.008461858680020029), (0, -1, 0)),
    ((0.42040686074842226, 0.483292, 0.0055998888476049835), (0, 1, 0)),
)
DOOR_ROOT = {True: euler_zyx(0, 3.14159, 0), False: np.array([1.0, 0, 0, 0])}
INWARD = {t: "Inward" in t for t in DOORS}
CLOSING = {t: "Close" in t for t in DOORS}


def door_point(inward: bool, leaf: int, angle: float, local) -> np.ndarray:
    """World position of a point given in a leaf's frame, at hinge angle `angle`."""
    origin, axis = URDF_HINGES[leaf]
    in_frame = np.asarray(origin) + qrot(axis_angle(axis, angle), local)
    return np.array([0.0, 0.0, 0.7]) + qrot(DOOR_ROOT[inward], qrot(URDF_FRAME, in_frame))


def handle_points(task: str, angles) -> tuple[np.ndarray, np.ndarray]:
    s = 0.04 if INWARD[task] else -0.04
    return (
        door_point(INWARD[task], 0, angles[0], (0.39, -0.5, s)),
        door_point(INWARD[task], 1, angles[1], (-0.39, -0.5, s)),
    )


def set_door(env, world: int, angles) -> None:
    set_qpos(env, world, {adr: a for adr, a in zip(env.task._hinge_qpos, angles, strict=True)})


@pytest.mark.parametrize("task", DOORS)
def test_door_start_ranges_and_handle_points(task):
    env = make(task)
    env.reset()
    model = env.scene.model
    start = 1.57 if CLOSING[task] else 0.0
    r = env.physics.read()
    assert r.qpos[:, env.task._hinge_qpos].flatten().tolist() == pytest.approx([start] * 4, abs=1e-6)
    for i in range(2):
        assert model.joint(f"hinge{i}").range.tolist() == pytest.approx([0.0, math.pi / 2])
    for angles in ((0.0, 0.0), (0.3, 1.1), (1.5, 0.7)):
        set_door(env, 0, angles)
        handles = env.task.handle_pos(env.physics.read())[0].double().numpy()
        expected = handle_points(task, angles)
        assert np.allclose(handles[0], expected[0], atol=1e-5) and np.allclose(
            handles[1], expected[1], atol=1e-5
        )


@pytest.mark.parametrize("task", DOORS)
def test_door_swings_only_upstreams_way_under_a_push_or_pull(task):
    """Inward doors open towards the hands (+x), Outward ones away (upstream's README:
    OpenInward 'can only be pulled inwards', OpenOutward 'can only be pushed outwards',
    CloseInward 'initially open inwards'). A closed leaf is pulled (+x) or pushed (-x) at its
    free edge; an open one is pushed shut or further open, across the leaf."""
    env = make(task, num_envs=1)
    env.reset()
    start = 1.57 if CLOSING[task] else 0.0
    towards_hands = INWARD[task]
    for i in range(2):
        edge = door_point(INWARD[task], i, start, (0.4 if i == 0 else -0.4, -0.45, 0.0))
        # an open leaf stands out on the side it opens to
        if CLOSING[task]:
            assert (edge[0] > 0.3) if towards_hands else (edge[0] < -0.3)
    for sign in (1.0, -1.0):
        model, data = mjdata(env)
        model = copy.deepcopy(model)  # the hands stand aside: only the door and its limits act
        for g in range(model.ngeom):
            if model.body(int(model.geom_bodyid[g])).name.startswith(("hand0_", "hand1_")):
                model.geom_contype[g] = model.geom_conaffinity[g] = 0
        data.qvel[:] = 0.0
        data.qpos[env.task._hinge_qpos] = start
        for i in range(2):
            local = (0.4 if i == 0 else -0.4, -0.45, 0.0)
            edge = door_point(INWARD[task], i, start, local)
            if CLOSING[task]:  # across the open leaf, the way that would open it further
                direction = door_point(INWARD[task], i, start + 1e-3, local) - door_point(
                    INWARD[task], i, start - 1e-3, local
                )
                direction /= np.linalg.norm(direction)
            else:  # towards the hands (+x)
                direction = np.array([1.0, 0.0, 0.0])
            force = 20.0 * sign * direction
            mujoco.mj_applyFT(
                model, data, force, np.zeros(3), edge, model.body(f"leaf{i}").id, data.qfrc_applied
            )
        for _ in range(60):
            mujoco.mj_step(model, data)
        angles = data.qpos[env.task._hinge_qpos]
        # within the limits, up to the soft limit's give under the steady 20 N push (~2 mrad)
        assert bool((angles >= -5e-3).all() and (angles <= math.pi / 2 + 5e-3).all())
        if CLOSING[task]:  # only the force shutting it moves it
            assert bool((angles < start - 0.05).all()) == (sign < 0)
        else:  # only a pull opens an Inward door, only a push an Outward one
            assert bool((angles > 0.05).all()) == ((sign > 0) == towards_hands)


def finger_points(env, r) -> np.ndarray:
    return env.task.finger_pos(r).double().numpy()


def test_door_finger_points_are_upstreams():
    # shadow_hand_door_*.py: rigid bodies 7, 11, 15, 20, 25 (the distal links) + R (0, 0, 0.02)
    env = make("ShadowHandDoorOpenInward")
    env.reset()
    model, data = mjdata(env)
    fingers = finger_points(env, env.physics.read())[0]
    assert np.allclose(fingers, upstream_finger_points(model, data), atol=1e-5)


# compute_hand_reward per door task: (base, progress(s), lose sum, success(s)), s = |y_R - y_L|
DOOR_REWARD = {
    "ShadowHandDoorOpenInward": (2.0, lambda s: 2 * s, 1.5, lambda s: s > 0.5),
    "ShadowHandDoorOpenOutward": (2.0, lambda s: 2 * s, 1.5, lambda s: s > 0.5),
    "ShadowHandDoorCloseInward": (2.0, lambda s: 1 - 2 * s, 1.5, lambda s: s < 0.5),
    "ShadowHandDoorCloseOutward": (6.0, lambda s: 1 - 2 * s, 3.0, lambda s: s < 0.5),
}


@pytest.mark.parametrize("task", DOORS)
def test_door_reward_terms_success_and_termination(task):
    base, progress, lose, succeeded = DOOR_REWARD[task]
    env = make(task)
    env.reset()
    angles = {0: (1.5, 1.4), 1: (0.2, 0.35)}  # copy 0 well open, copy 1 nearly shut
    for world, a in angles.items():
        set_door(env, world, a)
    r = env.physics.read()
    # finger points 5 cm from their handles in copy 0 (sums 0.25), 20 cm in copy 1 (sums 1.0)
    unit = np.array([[1.0, 0, 0], [0, 1.0, 0], [0, 0, 1.0], [-1.0, 0, 0], [0, -1.0, 0]])
    handles = {w: handle_points(task, a) for w, a in angles.items()}
    for world, distance in ((0, 0.05), (1, 0.2)):
        for h in (0, 1):
            r.sensordata[world, env.task._fingers[h]] = torch.tensor(
                handles[world][h] + distance * unit
            ).float()
    fingers = finger_points(env, r)
    expected, success = [], []
    for world in (0, 1):
        f = [float(np.linalg.norm(fingers[world, h] - handles[world][h], axis=-1).sum()) for h in (0, 1)]
        s = abs(handles[world][0][1] - handles[world][1][1])
        near = f[0] < 0.5 and f[1] < 0.5
        expected.append(base - f[0] - f[1] + (progress(s) if near else 0.0))
        success.append(succeeded(s))
    assert success == ([False, True] if CLOSING[task] else [True, False])
    outcome = env.task.evaluate(r, env.hand_state(r))
    assert outcome.reward.tolist() == pytest.approx(expected, abs=1e-4)
    assert outcome.success.tolist() == success
    assert outcome.terminated.tolist() == [False, False]
    # hand1's fingers pulled back until their sum is just under / just over the limit
    for world, margin in ((0, -0.01), (1, 0.01)):
        target = (lose + margin) / 5
        r.sensordata[world, env.task._fingers[1]] = torch.tensor(handles[world][1] + target * unit).float()
    assert env.task.evaluate(r, env.hand_state(r)).terminated.tolist() == [False, True]


@pytest.mark.parametrize("task", ["ShadowHandDoorOpenInward", "ShadowHandDoorCloseOutward"])
def test_door_observation_block(task):
    # compute_full_state: door root pose 7 (fixed base: velocities 0), linvel 3, 0.2 angvel 3,
    # then door_left_handle_pos (link_2, hand1's), then door_right_handle_pos (link_1, hand0's)
    env = make(task)
    env.reset()
    set_door(env, 0, (0.4, 0.9))
    block = env.task.shared_obs(env.physics.read())[0].double().numpy()
    assert block.shape == (19,)
    assert np.allclose(block[:3], [0, 0, 0.7]) and np.allclose(block[3:7], xyzw(DOOR_ROOT[INWARD[task]]))
    assert np.allclose(block[7:13], 0.0)
    right, left = handle_points(task, (0.4, 0.9))
    assert np.allclose(block[13:16], left, atol=1e-5) and np.allclose(block[16:19], right, atol=1e-5)


def test_door_leaves_follow_upstreams_meshes():
    # assets/mjcf/door/textured_objs/original-12.obj (link_1's leaf) spans 0.4405 x 0.925 x
    # 0.0176 m (the doors' friction: test_contacts_have_physx_friction)
    env = make("ShadowHandDoorOpenOutward")
    model = env.scene.model
    for i in range(2):
        panel = model.geom(f"leaf{i}_panel")
        assert sorted((2 * panel.size).tolist()) == pytest.approx(
            sorted([0.4405 - 0.0001 * i, 0.925, 0.0176]), abs=2e-3
        )


# -- contact friction and object damping (PhysX's rules, upstream's values) -----------------
# Upstream's frictions: hand shapes 1 (the hand MJCF's geom friction), every door shape 0.1
# (shadow_hand_door_*.py), the Lift table and the pot's shape 0 3, the pot's other shapes Isaac
# Gym's default 1 (shadow_hand_lift_underarm.py). PhysX combines a contact's two frictions by
# their average (PxCombineMode::eAVERAGE, the default Isaac Gym keeps).
def test_contacts_have_physx_friction():
    env = make("ShadowHandLiftUnderarm")
    env.reset()
    model, data = mjdata(env)
    # the pot starts resting on the table: pot body (1) on table (3)
    assert contact_frictions(model, data, "object0_geom0", "table") == {(1.0 + 3.0) / 2}
    # a palm pressed onto the table top: hand (1) on table (3)
    palm = data.xpos[model.body("hand0_robot0:palm").id]
    move_base(model, data, "hand0_", (0.1 - palm[0], -0.6 - palm[1], 0.41 - palm[2]))
    assert contact_frictions(model, data, "hand0_", "table") == {(1.0 + 3.0) / 2}
    for task in ("ShadowHandDoorOpenInward", "ShadowHandDoorCloseOutward"):
        env = make(task)
        env.reset()
        model, data = mjdata(env)
        palm = data.xpos[model.body("hand0_robot0:palm").id]
        move_base(model, data, "hand0_", (-palm[0], 0.0, 0.0))  # palm into the closed leaf's plane
        if task.endswith("CloseOutward"):  # the leaves stand open: close them first
            data.qpos[env.task._hinge_qpos] = 0.0
            mujoco.mj_forward(model, data)
        found = contact_frictions(model, data, "hand0_", "leaf")
        assert found == {(1.0 + 0.1) / 2}, task
    env = make("ShadowHandOver")
    env.reset()
    model, data = mjdata(env)
    egg = data.xpos[model.body("object0").id]
    palm = data.xpos[model.body("hand0_robot0:palm").id]
    data.qpos[model.jnt_qposadr[model.joint("object0_joint").id] + 2] -= egg[2] - palm[2]  # into the palm
    mujoco.mj_forward(model, data)
    assert contact_frictions(model, data, "hand0_", "object0") == {1.0}


def test_objects_and_leaves_are_damped_as_isaac_gym_default_assets():
    """The egg, pot and door assets keep Isaac Gym's default rigid-body damping: angular 0.5/s,
    linear 0 (their AssetOptions never set either). PhysX damps each substep h = 1/120 s as
    w <- (1 - 0.5 h) w. Checked in free flight (no contacts): a spinning egg's spin decays at
    that rate while its horizontal speed is kept; a swinging leaf's hinge speed decays alike."""
    h, substeps = 1.0 / 120.0, 60
    keep = (1.0 - 0.5 * h) ** substeps
    env = make("ShadowHandCatchUnderarm")
    env.reset()
    model, data = mjdata(env)
    model = copy.deepcopy(model)
    model.geom_contype[:] = model.geom_conaffinity[:] = 0
    free = model.joint("object0_joint")
    qpos, dof = model.jnt_qposadr[free.id], model.jnt_dofadr[free.id]
    data.qpos[qpos : qpos + 3] = (0.0, 0.0, 2.0)
    data.qvel[dof : dof + 6] = (1.0, 0.0, 0.0, 0.0, 0.0, 10.0)  # spin about the egg's long axis
    for _ in range(substeps):
        mujoco.mj_step(model, data)
    assert data.qvel[dof] == pytest.approx(1.0, rel=1e-6)
    assert data.qvel[dof + 5] == pytest.approx(10.0 * keep, rel=2e-3)
    env = make("ShadowHandDoorOpenOutward")
    env.reset()
    model, data = mjdata(env)
    model = copy.deepcopy(model)
    model.geom_contype[:] = model.geom_conaffinity[:] = 0
    hinges = env.task._hinge_qpos
    dofs = [model.jnt_dofadr[model.joint(f"hinge{i}").id] for i in range(2)]
    data.qpos[hinges] = 0.3
    data.qvel[dofs] = 0.5
    for _ in range(substeps):
        mujoco.mj_step(model, data)
    assert data.qvel[dofs] == pytest.approx([0.5 * keep] * 2, rel=2e-3)
