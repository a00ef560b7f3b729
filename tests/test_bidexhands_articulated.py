"""ShadowHandSwitch, ShadowHandPen and ShadowHandScissors against upstream
(PKU-MARL/DexterousHands at dc41afd): constants, hand poses, object starts, the articulated
joints' axes, origins and ranges, the reward points, reward, termination, success, the shared
block, the Switch's carried-over rockers, and one scripted check per task that it can be solved.

Expected values are transcribed from upstream's files, cited per block (paths relative to that
repository: T/ = bidexhands/tasks/, C/ = bidexhands/cfg/, A/ = assets/mjcf/), and computed here
with small numpy helpers; states are set by hand (qpos), hand points by overriding the sensor
values the task reads.
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
from bidexhands_helpers import axis_angle, euler_zyx, mjdata, qrot, set_qpos, upstream_finger_points, xyzw  # noqa: E402

import envs  # noqa: E402
from bidexhands.env import BiDexHandsEnv  # noqa: E402
from bidexhands.tasks.pen import shadow_hand_pen  # noqa: E402
from bidexhands.tasks.scissors import shadow_hand_scissors  # noqa: E402
from bidexhands.tasks.switch import shadow_hand_switch  # noqa: E402

FACTORIES = {
    "ShadowHandSwitch": shadow_hand_switch,
    "ShadowHandPen": shadow_hand_pen,
    "ShadowHandScissors": shadow_hand_scissors,
}
TASKS = tuple(FACTORIES)


def make(task: str, num_envs: int = 2) -> BiDexHandsEnv:
    env = BiDexHandsEnv(FACTORIES[task](), num_envs=num_envs, seed=0, backend="mujoco")
    env.reset()
    return env


# -- helpers -----------------------------------------------------------------------------------
def joint_qpos(env, name: str) -> int:
    model = env.scene.model
    return int(model.jnt_qposadr[model.joint(name).id])


# -- upstream's objects ----------------------------------------------------------------------
# Each mobility.urdf fixes link_1 to "base" by joint_1 with rpy (pi/2, 0, -pi/2)
# (A/switch/102872/mobility.urdf:111-115, A/pen/mobility.urdf joint_1, A/scissors/10495/mobility.urdf:88-92).
URDF_TURN = euler_zyx(math.pi / 2, 0, -math.pi / 2)
# T/shadow_hand_switch.py:425-432: "object" (0, 0.2, 0.65), "switch" (0, -0.2, 0.65), both
# from_euler_zyx(3.141592, 1.57, 0), fix_base_link True (T:377). A/switch/102872/mobility.urdf:54-60:
# joint_0 revolute, origin (0.0502285, -0.010859, 0.041670), axis (-1, 0, 0), limits [0, 0.5585].
SWITCH_ROOTS = ((0.0, 0.2, 0.65), (0.0, -0.2, 0.65))
SWITCH_QUAT = euler_zyx(3.141592, 1.57, 0)
SWITCH_HINGE = ((0.05022849999999996, -0.010858965876808951, 0.041670398045619433), (-1, 0, 0))
SWITCH_RANGE = (0.0, 0.5585053606381855)
# T/shadow_hand_pen.py:427-429: (0, 0, 0.6), from_euler_zyx(1.57, 1.57, 0) (objectType "pot", so
# the pen branch at T:436-437 does not apply). A/pen/mobility.urdf:42-48: joint_0 prismatic,
# origin 0, axis (0, -1, 0), limits [0, 0.492].
PEN_QUAT = euler_zyx(1.57, 1.57, 0)
PEN_SLIDE = ((0.0, 0.0, 0.0), (0, -1, 0))
PEN_RANGE = (0.0, 0.492)
# T/shadow_hand_scissors.py:431-433: (0, 0, 0.6), from_euler_zyx(0, 0, 1.57).
# A/scissors/10495/mobility.urdf:30-37: joint_0 revolute, origin (-0.0698251662, 0, 0.0034203226),
# axis (0, 1, 0), limits [-0.5969026, 0.4]; reset to -0.59 (T:1078).
SCISSORS_QUAT = euler_zyx(0, 0, 1.57)
SCISSORS_HINGE = ((-0.0698251662, 0.0, 0.0034203225936), (0, 1, 0))
SCISSORS_RANGE = (-0.5969026041820605, 0.4)


def in_world(root, quat, local):
    """A point given in link_1's frame (the URDF's) of an object at `root`, turned by `quat`."""
    return np.asarray(root) + qrot(quat, qrot(URDF_TURN, local))


def switch_button(i: int, angle: float) -> np.ndarray:
    # T/shadow_hand_switch.py:695-705: body 54 / 57 (link_0) + R (0, -0.02, 0) + R (-0.05, 0, 0)
    origin, axis = SWITCH_HINGE
    local = np.asarray(origin) + qrot(axis_angle(axis, angle), (-0.05, -0.02, 0.0))
    return in_world(SWITCH_ROOTS[i], SWITCH_QUAT, local)


def pen_points(travel: float) -> tuple[np.ndarray, np.ndarray]:
    # T/shadow_hand_pen.py:710-720: right = body 54 (cap) + R (0, -0.1, 0); left = body 53
    # (pen body) + R (0, 0.07, 0)
    origin, axis = PEN_SLIDE
    cap = np.asarray(origin) + travel * np.asarray(axis, dtype=float) + np.array([0.0, -0.1, 0.0])
    return in_world((0, 0, 0.6), PEN_QUAT, cap), in_world((0, 0, 0.6), PEN_QUAT, (0.0, 0.07, 0.0))


def scissors_points(angle: float) -> tuple[np.ndarray, np.ndarray]:
    # T/shadow_hand_scissors.py:713-723: right = body 54 (link_0) + R (0, 0, 0) + R (0.2, 0, 0)
    # + R (0, 0, -0.1); left = body 53 (link_1) + R (0.15, 0, 0) + R (0, 0, 0.1)
    origin, axis = SCISSORS_HINGE
    right = np.asarray(origin) + qrot(axis_angle(axis, angle), (0.2, 0.0, -0.1))
    return in_world((0, 0, 0.6), SCISSORS_QUAT, right), in_world((0, 0, 0.6), SCISSORS_QUAT, (0.15, 0.0, 0.1))


JOINTS = {  # our joint name, its upstream (origin, axis), range, object root pose, start value
    "ShadowHandSwitch": ("switch0_hinge", SWITCH_HINGE, SWITCH_RANGE, (SWITCH_ROOTS[0], SWITCH_QUAT), 0.0),
    "ShadowHandPen": ("pen_cap_slide", PEN_SLIDE, PEN_RANGE, ((0, 0, 0.6), PEN_QUAT), 0.0),
    "ShadowHandScissors": (
        "scissors_pivot",
        SCISSORS_HINGE,
        SCISSORS_RANGE,
        ((0, 0, 0.6), SCISSORS_QUAT),
        -0.59,
    ),
}


def set_joint(env, world: int, task: str, value: float, second: float | None = None) -> None:
    edits = {joint_qpos(env, JOINTS[task][0]): value}
    if task == "ShadowHandSwitch":
        edits[joint_qpos(env, "switch1_hinge")] = value if second is None else second
    set_qpos(env, world, edits)


def expected_points(task: str, value: float, second: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    if task == "ShadowHandSwitch":
        return switch_button(0, value), switch_button(1, value if second is None else second)
    return pen_points(value) if task == "ShadowHandPen" else scissors_points(value)


# -- published constants -----------------------------------------------------------------------
# C/ShadowHand{Switch,Pen,Scissors}.yaml env block: episodeLength (125, 125, 150), resetPositionNoise
# 0, resetRotationNoise 0, resetDofPosRandomInterval 0, resetDofVelRandomInterval 0,
# distRewardScale 20, rotRewardScale 1, rotEps 0.1, actionPenaltyScale -0.0002, reachGoalBonus
# 250, fallDistance 0.4, fallPenalty 0, successTolerance 0.1, maxConsecutiveSuccesses 0,
# transition_scale 0.5, orientation_scale 0.1, objectType "pot".
EPISODE = {"ShadowHandSwitch": 125, "ShadowHandPen": 125, "ShadowHandScissors": 150}


@pytest.mark.parametrize("task", TASKS)
def test_published_constants_hand_poses_and_sizes(task):
    env = make(task)
    cfg = env.task.cfg
    assert (cfg.episode_length, env.spec.max_episode_steps) == (EPISODE[task], EPISODE[task])
    assert (cfg.reset_position_noise, cfg.reset_rotation_noise) == (0.0, 0.0)
    assert (cfg.reset_dof_pos_noise, cfg.reset_dof_vel_noise) == (0.0, 0.0)
    assert (cfg.dist_reward_scale, cfg.rot_reward_scale, cfg.rot_eps) == (20, 1.0, 0.1)
    assert (cfg.action_penalty_scale, cfg.reach_goal_bonus) == (-0.0002, 250)
    assert (cfg.fall_distance, cfg.fall_penalty, cfg.success_tolerance) == (0.4, 0.0, 0.1)
    assert (cfg.max_consecutive_successes, cfg.object_type) == (0, "pot")
    assert (cfg.transition_scale, cfg.orientation_scale) == (0.5, 0.1)
    # T:417-423 (switch; pen T:419-425, scissors T:423-429): hands at (0.55, +-0.2, 0.8), both
    # from_euler_zyx(3.14159, 0, 1.57), free moving bases; the base observes the palm point
    for mount, y in zip(env.task.mounts, (0.2, -0.2), strict=True):
        assert mount.movable and mount.pos == pytest.approx((0.55, y, 0.8))
        assert np.allclose(mount.quat, euler_zyx(3.14159, 0, 1.57), atol=1e-9)
    assert env.task.hand_point == "palm"
    # T:140 num_obs 417 = 2 x 199 + 19; each agent sees 417 - 199 = 218
    assert all(env.spec.observation_spaces[a].shape == (218,) for a in env.agents)
    assert env.spec.state_space.shape == (417,)
    assert all(env.spec.action_spaces[a].shape == (26,) for a in env.agents)
    envs.check_env(env)


@pytest.mark.parametrize("task", TASKS)
def test_joint_axis_origin_range_and_start(task):
    env = make(task)
    name, (origin, axis), limits, (root, quat), start = JOINTS[task]
    model, data = mjdata(env)
    j = model.joint(name).id
    assert model.jnt_range[j].tolist() == pytest.approx(list(limits))
    assert bool(model.jnt_limited[j])
    assert np.allclose(data.xaxis[j], qrot(quat, qrot(URDF_TURN, axis)), atol=1e-6)
    assert np.allclose(data.xanchor[j], in_world(root, quat, origin), atol=1e-6)
    # no spring and no drive on the object's joint (drive mode NONE, T:382 / T:384)
    assert model.jnt_stiffness[j] == 0.0
    assert not any(model.actuator_trnid[a, 0] == j for a in range(model.nu))
    r = env.physics.read()
    assert r.qpos[:, joint_qpos(env, name)].tolist() == pytest.approx([start, start])
    if task != "ShadowHandSwitch":  # the free object's start pose (resetPositionNoise 0, no rotation)
        adr = env.scene.free_joints[env.task.root_name]
        pose = r.qpos[0, adr : adr + 7].double().numpy()
        assert np.allclose(pose[:3], root) and np.allclose(pose[3:], quat, atol=1e-6)


@pytest.mark.parametrize("task", TASKS)
def test_reward_points_follow_the_joint(task):
    env = make(task)
    _, _, (lo, hi), _, _ = JOINTS[task]
    for value in (lo, 0.3 * lo + 0.7 * hi, hi):
        set_joint(env, 0, task, value, second=lo if task == "ShadowHandSwitch" else None)
        points = env.task.points(env.physics.read())[0].double().numpy()
        right, left = expected_points(task, value, second=lo if task == "ShadowHandSwitch" else None)
        assert np.allclose(points[0], right, atol=1e-5) and np.allclose(points[1], left, atol=1e-5)


def test_finger_points_are_upstreams():
    # T/shadow_hand_switch.py:717-748: rigid bodies 7, 11, 15, 20, 25 (+ 26) + R (0, 0, 0.02)
    env = make("ShadowHandPen")
    model, data = mjdata(env)
    fingers = env.task.finger_pos(env.physics.read())[0].double().numpy()
    assert np.allclose(fingers, upstream_finger_points(model, data), atol=1e-5)


def put_fingers(env, r, world: int, points, distances) -> None:
    """Each hand's five finger points at distances[h] from its point (sums 5 x distance)."""
    unit = np.array([[1.0, 0, 0], [0, 1.0, 0], [0, 0, 1.0], [-1.0, 0, 0], [0, -1.0, 0]])
    for h in (0, 1):
        r.sensordata[world, env.task._fingers[h]] = torch.tensor(points[h] + distances[h] * unit).float()


# compute_hand_reward, per task: reward(f_R, f_L, right, left, joint), early reset(f_R, f_L, ...),
# success(right, left, joint)
def switch_terms(fr, fl, right, left, q):
    # T/shadow_hand_switch.py:1391-1404
    up = (1.4 - (right[2] + left[2])) * 50
    return 2 - fr - fl + up, fr <= 0, 1.4 - (right[2] + left[2]) > 0.05


def pen_terms(fr, fl, right, left, q):
    # T/shadow_hand_pen.py:1404-1428
    d = np.linalg.norm(right - left)
    up = d * 5 - 0.8 if (fr < 0.75 and fl < 0.75) else 0.0
    rr, rl = math.exp(-10 * fr), math.exp(-10 * fl)
    return up + rr + rl, rr <= 0 or fr >= 1.5 or fl >= 1.5, d * 5 > 1.5


def scissors_terms(fr, fl, right, left, q):
    # T/shadow_hand_scissors.py:1406-1431
    up = (0.59 + q) * 5 if (fr < 0.7 and fl < 0.7) else 0.0
    return 2 + up - fr - fl, up < -0.5 or fr >= 1.75 or fl >= 1.75, q > -0.3


TERMS = {"ShadowHandSwitch": switch_terms, "ShadowHandPen": pen_terms, "ShadowHandScissors": scissors_terms}
# per task: joint values of copies 0 and 1, and finger distances (hand0, hand1) per copy
CASES = {
    "ShadowHandSwitch": ((0.0, 0.5), ((0.02, 0.05), (0.1, 0.2))),
    "ShadowHandPen": ((0.25, 0.05), ((0.02, 0.1), (0.1, 0.2))),
    "ShadowHandScissors": ((-0.2, -0.5), ((0.05, 0.12), (0.1, 0.2))),
}


@pytest.mark.parametrize("task", TASKS)
def test_reward_termination_and_success_on_hand_set_states(task):
    env = make(task)
    values, distances = CASES[task]
    for world, v in enumerate(values):
        set_joint(env, world, task, v)
    r = env.physics.read()
    expected = []
    for world, v in enumerate(values):
        right, left = expected_points(task, v)
        put_fingers(env, r, world, (right, left), distances[world])
        fr, fl = 5 * distances[world][0], 5 * distances[world][1]
        expected.append(TERMS[task](fr, fl, right, left, v))
    outcome = env.task.evaluate(r, env.hand_state(r))
    assert outcome.reward.tolist() == pytest.approx([e[0] for e in expected], abs=1e-4)
    assert outcome.terminated.tolist() == [bool(e[1]) for e in expected]
    assert outcome.success.tolist() == [bool(e[2]) for e in expected]
    # the early reset: one finger sum just under, the other just over upstream's limit
    limit = {"ShadowHandPen": 1.5, "ShadowHandScissors": 1.75}.get(task)
    if limit is not None:
        for world, margin in ((0, -0.01), (1, 0.01)):
            right, left = expected_points(task, values[world])
            put_fingers(env, r, world, (right, left), ((limit + margin) / 5, 0.05))
        assert env.task.evaluate(r, env.hand_state(r)).terminated.tolist() == [False, True]


@pytest.mark.parametrize("task", TASKS)
def test_shared_block(task):
    # compute_full_state (switch T:844-848, pen T:859-863, scissors T:862-866): object root pose 7
    # (quaternion x, y, z, w) | linvel 3 | 0.2 angvel 3 | right point 3 | left point 3
    env = make(task)
    _, _, (lo, hi), (root, quat), _ = JOINTS[task]
    value = 0.5 * (lo + hi)
    set_joint(env, 0, task, value)
    r = env.physics.read()
    block = env.task.shared_obs(r)[0].double().numpy()
    assert block.shape == (19,)
    assert np.allclose(block[:3], root, atol=1e-6) and np.allclose(block[3:7], xyzw(quat), atol=1e-6)
    assert np.allclose(block[7:13], 0.0)
    right, left = expected_points(task, value)
    assert np.allclose(block[13:16], right, atol=1e-5) and np.allclose(block[16:19], left, atol=1e-5)
    state = env.step({a: torch.zeros(2, 26) for a in env.agents}).state
    assert torch.equal(state[:, -19:], env.task.shared_obs(env.physics.read()).clamp(-5, 5))


def test_free_objects_report_their_root_velocity():
    env = make("ShadowHandScissors")
    adr = env.scene.free_joints["scissors"]
    qpos, qvel = env.physics.read().qpos[:1].double(), torch.zeros(1, env.scene.model.nv, dtype=torch.float64)
    qpos[0, adr + 2] += 0.1  # off the table, moving
    dof = int(env.scene.model.jnt_dofadr[env.scene.model.joint("scissors_joint").id])
    qvel[0, dof : dof + 6] = torch.tensor([0.3, -0.2, 0.1, 0.0, 0.0, 1.0], dtype=torch.float64)
    env.physics.set_state(torch.tensor([0]), qpos, qvel, torch.zeros(1, env.scene.model.nu))
    block = env.task.shared_obs(env.physics.read())[0].double().numpy()
    assert np.allclose(block[7:10], [0.3, -0.2, 0.1], atol=1e-5)
    assert np.allclose(block[10:13], [0.0, 0.0, 0.2], atol=1e-5)  # angvel x 0.2


# -- the switches keep their angle into the next episode -----------------------------------------
def test_switch_angles_carry_over_an_autoreset_but_not_env_reset():
    # T/shadow_hand_switch.py:1008-1101: the reset writes no object_dof_pos; the dof-state write
    # (T:1092-1094) sends back the current values, so a rocker keeps its angle
    env = make("ShadowHandSwitch")
    zero = {a: torch.zeros(2, 26) for a in env.agents}
    for _ in range(EPISODE["ShadowHandSwitch"] - 1):
        ts = env.step(zero)
    set_joint(env, 0, "ShadowHandSwitch", 0.2, second=0.45)
    set_joint(env, 1, "ShadowHandSwitch", 0.05, second=0.3)
    ts = env.step(zero)
    assert ts.truncated.all()
    # the new episode's switches stand where the last one left them: same button points
    assert torch.allclose(ts.state[:, -6:], ts.final_state[:, -6:], atol=1e-6)
    angles = env.physics.read().qpos[:, [joint_qpos(env, "switch0_hinge"), joint_qpos(env, "switch1_hinge")]]
    assert bool((angles > 0.02).all())
    env.reset()
    angles = env.physics.read().qpos[:, [joint_qpos(env, "switch0_hinge"), joint_qpos(env, "switch1_hinge")]]
    assert angles.abs().max() == 0.0


# -- scripted checks that each task can be solved -----------------------------------------------
def hands_aside(model: mujoco.MjModel) -> mujoco.MjModel:
    model = copy.deepcopy(model)
    for g in range(model.ngeom):
        if model.body(int(model.geom_bodyid[g])).name.startswith(("hand0_", "hand1_")):
            model.geom_contype[g] = model.geom_conaffinity[g] = 0
    return model


def push(
    env, body: str, point, force, steps: int = 60, start: dict[str, float] | None = None
) -> mujoco.MjData:
    """Step one copy (hands aside) under a constant force at a world point of `body`."""
    model, data = mjdata(env)
    model = hands_aside(model)
    for name, value in (start or {}).items():
        data.qpos[joint_qpos(env, name)] = value
    mujoco.mj_forward(model, data)
    for _ in range(steps):
        data.qfrc_applied[:] = 0.0
        mujoco.mj_applyFT(
            model,
            data,
            np.asarray(force, float),
            np.zeros(3),
            np.asarray(point, float),
            model.body(body).id,
            data.qfrc_applied,
        )
        mujoco.mj_step(model, data)
    return data


def test_switch_pressed_gives_a_higher_reward_and_success_is_out_of_its_range():
    env = make("ShadowHandSwitch", num_envs=1)
    # gravity tips a free rocker to its upper limit (its centre of mass lies beyond the hinge)
    data = push(env, "switch0_rocker", (0, 0.2, 0.7), (0, 0, 0), steps=120)
    assert data.qpos[joint_qpos(env, "switch0_hinge")] == pytest.approx(SWITCH_RANGE[1], abs=0.01)
    # a hand pressing the near half (towards the hands, +x) down turns it back to 0 (within the
    # soft limit's give under the 1 N press)
    data = push(
        env,
        "switch0_rocker",
        switch_button(0, SWITCH_RANGE[1]),
        (0, 0, -1.0),
        start={"switch0_hinge": SWITCH_RANGE[1]},
    )
    assert data.qpos[joint_qpos(env, "switch0_hinge")] == pytest.approx(0.0, abs=0.01)
    # with the fingers on the buttons, pressed switches score 50 x 2 x 1.06 cm more than released
    rewards = []
    for angle in (SWITCH_RANGE[1], 0.0):
        set_joint(env, 0, "ShadowHandSwitch", angle)
        r = env.physics.read()
        put_fingers(env, r, 0, expected_points("ShadowHandSwitch", angle), (0.01, 0.01))
        outcome = env.task.evaluate(r, env.hand_state(r))
        rewards.append(outcome.reward.item())
        assert not outcome.success.item()
    drop = switch_button(0, SWITCH_RANGE[1])[2] - switch_button(0, 0.0)[2]
    assert rewards[1] - rewards[0] == pytest.approx(50 * 2 * drop, abs=1e-3)
    # the success test 1.4 - (z_R + z_L) > 0.05 needs the buttons 1.7 cm below their lowest
    # point (the hinge's height, 0.6917 m); their range gives at most 1.4 - 1.3834 = 0.0166
    assert 1.4 - 2 * switch_button(0, 0.0)[2] == pytest.approx(0.0166, abs=2e-4)
    r = env.physics.read()
    r.sensordata[0, env.task._points[:, 2]] = torch.tensor([0.674, 0.674])
    assert env.task.evaluate(r, env.hand_state(r)).success.item()


def test_pen_cap_pulled_along_its_slide_counts_as_open():
    env = make("ShadowHandPen", num_envs=1)
    # pulling the cap towards hand0 (+y) slides it off: the joint has no drive or spring
    right, _ = pen_points(0.0)
    data = push(env, "pen_cap", right, (0, 1.0, 0), steps=40)
    travel = data.qpos[joint_qpos(env, "pen_cap_slide")]
    assert travel > 0.13  # the cap has cleared the pen (5 |R - L| > 1.5 needs 0.13)
    # with the fingers on both points, an open pen scores and succeeds; a closed one does not
    results = []
    for travel in (0.0, 0.2):
        set_joint(env, 0, "ShadowHandPen", travel)
        r = env.physics.read()
        put_fingers(env, r, 0, pen_points(travel), (0.02, 0.02))
        outcome = env.task.evaluate(r, env.hand_state(r))
        results.append((outcome.reward.item(), outcome.success.item()))
    assert results[0][1] is False and results[1][1] is True
    assert results[1][0] - results[0][0] == pytest.approx(5 * 0.2, abs=1e-4)


def test_scissors_opened_past_minus_0_3_count_as_success():
    env = make("ShadowHandScissors", num_envs=1)
    # pushing link_0's loop away from link_1's (+y) opens the scissors about their pivot
    right, _ = scissors_points(-0.59)
    data = push(env, "scissors_link0", right, (0, 1.0, 0), steps=40, start={"scissors_pivot": -0.59})
    assert data.qpos[joint_qpos(env, "scissors_pivot")] > -0.3
    results = []
    for angle in (-0.59, -0.25):
        set_joint(env, 0, "ShadowHandScissors", angle)
        r = env.physics.read()
        put_fingers(env, r, 0, scissors_points(angle), (0.05, 0.05))
        outcome = env.task.evaluate(r, env.hand_state(r))
        results.append((outcome.reward.item(), outcome.success.item()))
    assert results[0][1] is False and results[1][1] is True
    assert results[1][0] - results[0][0] == pytest.approx(5 * 0.34, abs=1e-4)


# -- objects ----------------------------------------------------------------------------------
def world_extent(model, data, prefix: str) -> np.ndarray:
    """(3, 2) world bounding box of the geoms whose names start with `prefix`."""
    lo, hi = np.full(3, np.inf), np.full(3, -np.inf)
    for g in range(model.ngeom):
        if not model.geom(g).name.startswith(prefix):
            continue
        size, kind = model.geom_size[g], model.geom_type[g]
        rot = data.geom_xmat[g].reshape(3, 3)
        if kind == mujoco.mjtGeom.mjGEOM_BOX:
            half = np.abs(rot) @ size
        else:  # capsule along its z
            half = np.abs(rot[:, 2]) * size[1] + size[0]
        lo, hi = np.minimum(lo, data.geom_xpos[g] - half), np.maximum(hi, data.geom_xpos[g] + half)
    return np.stack([lo, hi], axis=1)


def test_objects_span_upstreams_meshes_and_tables():
    # mesh extents (obj vertices x the URDF scale, placed by joint_1 and the start pose):
    # pen (A/pen/textured_objs, x 0.2) from its tip (original-16, y -0.1589) to its end
    # (original-9, y 0.2) along world y, the cap (original-14) to -0.1718: 0.372 m in all;
    # switch box (A/switch/102872/textured_objs/original-7.obj, x 0.1) 0.1025 x 0.1449 x 0.1024 m;
    # scissors (A/scissors/10495, x 0.3) at joint angle 0 (the meshes' pose) from the blade tip
    # (new-3, x -0.3036) to the loops (original-3, 0.1791); bars' corners may pass a tip by 3 mm
    env = make("ShadowHandPen", num_envs=1)
    model, data = mjdata(env)
    pen = world_extent(model, data, "pen_")
    assert pen[1, 1] - pen[1, 0] == pytest.approx(0.372, abs=2e-3)
    assert model.body("pen_link1").mass + model.body("pen_cap").mass == pytest.approx(0.0779, abs=1e-3)
    env = make("ShadowHandSwitch", num_envs=1)
    model, data = mjdata(env)
    box = world_extent(model, data, "switch0_box")
    assert (box[:, 1] - box[:, 0]).tolist() == pytest.approx([0.1449, 0.1025, 0.1024], abs=1e-3)
    env = make("ShadowHandScissors", num_envs=1)
    set_joint(env, 0, "ShadowHandScissors", 0.0)
    model, data = mjdata(env)
    scissors = world_extent(model, data, "scissors_")
    assert scissors[0].tolist() == pytest.approx([-0.3036, 0.1791], abs=4e-3)
    # tables: create_box(0.5, 1.0, 0.55) for the switch (T/shadow_hand_switch.py:407), (0.5, 1.0,
    # 0.6) for the pen and scissors, standing on the ground
    for task, height in (("ShadowHandSwitch", 0.55), ("ShadowHandScissors", 0.6)):
        model = make(task, num_envs=1).scene.model
        table = model.geom("table")
        assert table.size.tolist() == pytest.approx([0.25, 0.5, height / 2])
        assert table.pos.tolist() == pytest.approx([0.0, 0.0, height / 2])


def test_pen_and_scissors_reset_to_their_start():
    for task in ("ShadowHandPen", "ShadowHandScissors"):
        env = make(task, num_envs=1)
        name, _, _, (root, quat), start = JOINTS[task]
        adr = env.scene.free_joints[env.task.root_name]
        set_qpos(env, 0, {adr: 0.1, adr + 1: -0.05, adr + 2: 0.7, joint_qpos(env, name): 0.1})
        env.reset()
        r = env.physics.read()
        assert np.allclose(r.qpos[0, adr : adr + 3].double().numpy(), root)
        assert np.allclose(r.qpos[0, adr + 3 : adr + 7].double().numpy(), quat, atol=1e-6)
        assert r.qpos[0, joint_qpos(env, name)].item() == pytest.approx(start)
