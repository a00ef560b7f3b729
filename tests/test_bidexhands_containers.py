"""ShadowHandBottleCap, ShadowHandSwingCup and ShadowHandKettle against upstream
(PKU-MARL/DexterousHands at dc41afd): constants, starts, joints, observation blocks, rewards,
terminations, success, and one scripted solution per task.

Expected values are transcribed from upstream's files, cited per block (T/ = bidexhands/tasks/,
C/ = bidexhands/cfg/, A/ = assets/mjcf/), and computed here with small numpy helpers; states are
set by hand (object poses and joints through qpos, hand points by overriding the sensor values
the task reads, after checking those sensors measure upstream's points).
"""

from __future__ import annotations

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
    euler_zyx,
    mjdata,
    qmul,
    qrot,
    rot_dist,
    same_rotation,
    set_qpos,
    upstream_finger_points,
    xyzw,
)

import envs  # noqa: E402
from bidexhands.env import BiDexHandsEnv  # noqa: E402
from bidexhands.tasks.bottle_cap import shadow_hand_bottle_cap  # noqa: E402
from bidexhands.tasks.kettle import shadow_hand_kettle  # noqa: E402
from bidexhands.tasks.swing_cup import shadow_hand_swing_cup  # noqa: E402

FACTORIES = {
    "ShadowHandBottleCap": shadow_hand_bottle_cap,
    "ShadowHandSwingCup": shadow_hand_swing_cup,
    "ShadowHandKettle": shadow_hand_kettle,
}
PREFIXES = ("hand0_", "hand1_")


def make(task: str, num_envs: int = 2) -> BiDexHandsEnv:
    return BiDexHandsEnv(FACTORIES[task](), num_envs=num_envs, seed=0, backend="mujoco")


# -- an object placed by its free joint's qpos address -------------------------------------
def place(env, world: int, adr: int, pos, quat=(1.0, 0.0, 0.0, 0.0)) -> None:
    set_qpos(env, world, {adr + k: float(v) for k, v in enumerate((*pos, *quat))})


def joint_adr(env, name: str) -> int:
    model = env.scene.model
    return int(model.jnt_qposadr[model.joint(name).id])


def set_fingers(env, r, world: int, hand: int, target, distance: float) -> float:
    """Put a hand's five finger points `distance` from `target`; returns their summed distance."""
    unit = np.array([[1.0, 0, 0], [0, 1.0, 0], [0, 0, 1.0], [-1.0, 0, 0], [0, -1.0, 0]])
    points = np.asarray(target) + distance * unit
    r.sensordata[world, env.task._fingers[hand]] = torch.tensor(points).float()
    return 5 * distance


def set_palm(env, r, world: int, hand: int, point) -> None:
    """Override a hand's palm point (HandState.palm_pos, sensed columns 102-104 of its row)."""
    r.sensordata[world, env._sensor_idx[hand, 102:105]] = torch.tensor(point).float()


def hold(env) -> dict[str, torch.Tensor]:
    """Actions keeping every finger at its reset target and the bases unpushed."""
    qpos = env.physics.read().qpos
    targets = qpos[:, env._act_qpos.flatten()].view(-1, 2, 20)
    fingers = 2 * (targets - env._ctrl_low) / (env._ctrl_high - env._ctrl_low) - 1
    actions = torch.cat((torch.zeros(qpos.shape[0], 2, 6), fingers.clamp(-1, 1)), dim=-1)
    return {"hand0": actions[:, 0], "hand1": actions[:, 1]}


# -- published constants, mounts, sizes ------------------------------------------------------
# C/ShadowHand<Task>.yaml env block: episodeLength, resetPositionNoise, resetDofPosRandomInterval,
# distRewardScale, rotRewardScale, rotEps, actionPenaltyScale, reachGoalBonus, fallDistance,
# fallPenalty, successTolerance, maxConsecutiveSuccesses, transition_scale, orientation_scale,
# objectType
CFG = {
    "ShadowHandBottleCap": (125, 0.0, 0.0, 20, 1.0, 0.1, -0.0002, 250, 0.4, 0.0, 0.1, 0, 0.1, 0.1, "pot"),
    "ShadowHandSwingCup": (300, 0.0, 0.0, 20, 5.0, 0.1, -0.0002, 250, 0.4, 0.0, 0.1, 0, 0.1, 0.1, "pot"),
    "ShadowHandKettle": (125, 0.0, 0.0, 20, 1.0, 0.1, -0.0002, 250, 0.4, 0.0, 0.1, 0, 0.5, 0.1, "pot"),
}
# _create_envs: shadow_hand_start_pose / shadow_another_hand_start_pose (p, from_euler_zyx)
MOUNTS = {
    "ShadowHandBottleCap": (
        ((0, -1.05, 0.5), (0.5, 3.14159, 3.14159)),
        ((0, -0.25, 0.45), (0, 1.57 - 0.7, 0)),
    ),
    "ShadowHandSwingCup": (
        ((0.35, 0.2, 0.8), (3.14159, 1.57, 1.57)),
        ((0.35, -0.2, 0.8), (3.14159, -1.57, 1.57)),
    ),
    "ShadowHandKettle": (
        ((0.55, 0.2, 0.6), (3.14159, 1.57, 1.57)),
        ((0.55, -0.2, 0.6), (3.14159, -1.57, 1.57)),
    ),
}
# num_obs (T/shadow_hand_bottle_cap.py:141 420, swing_cup 417, kettle 417); per agent num_obs - 199
SIZES = {"ShadowHandBottleCap": (221, 420), "ShadowHandSwingCup": (218, 417), "ShadowHandKettle": (218, 417)}


@pytest.mark.parametrize("task", sorted(FACTORIES))
def test_published_constants_and_hand_poses(task):
    spec = FACTORIES[task]()
    c = spec.cfg
    ours = cfg_values(c)
    assert ours == CFG[task]
    assert c.reset_rotation_noise == 0.0 and c.reset_dof_vel_noise == 0.0
    assert spec.max_episode_steps == CFG[task][0] and spec.dof_noise == 0.0
    assert spec.hand_point == "palm"  # compute_full_state observes right_hand_pos / left_hand_pos
    for mount, (pos, euler) in zip(spec.mounts, MOUNTS[task], strict=True):
        assert mount.pos == pytest.approx(pos, abs=1e-12)
        assert same_rotation(np.array(mount.quat), euler_zyx(*euler))
        assert mount.movable  # asset_options.fix_base_link = False


@pytest.mark.parametrize("task", sorted(FACTORIES))
def test_sizes_and_conformance(task):
    env = make(task)
    ts = env.reset()
    agent_obs, state = SIZES[task]
    assert {a: tuple(o.shape) for a, o in ts.obs.items()} == {
        "hand0": (2, agent_obs),
        "hand1": (2, agent_obs),
    }
    assert tuple(ts.state.shape) == (2, state)
    assert env.task.shared_obs_dim == state - 2 * 199
    envs.check_env(env)


def test_palm_and_finger_points_are_upstreams():
    # compute_observations: right/left_hand_pos = rigid body 3 (+26) + R (0, 0, 0.08) + R (0, -0.02, 0);
    # finger points = rigid bodies 7, 11, 15, 20, 25 (+26) + R (0, 0, 0.02)
    env = make("ShadowHandSwingCup")
    env.reset()
    model, data = mjdata(env)
    r = env.physics.read()
    palms = env.hand_state(r).palm_pos[0].double().numpy()
    fingers = env.task.finger_pos(r)[0].double().numpy()
    for h, prefix in enumerate(PREFIXES):
        palm = model.body(prefix + "robot0:palm").id
        expected = data.xpos[palm] + data.xmat[palm].reshape(3, 3) @ np.array([0.0, -0.02, 0.08])
        assert np.allclose(palms[h], expected, atol=1e-5)
    assert np.allclose(fingers, upstream_finger_points(model, data), atol=1e-5)


# -- ShadowHandBottleCap ---------------------------------------------------------------------
# T/shadow_hand_bottle_cap.py:417-424: the bottle root at hand0 + (0, 0.45, 0), from_euler_zyx(0, -0.7, 0)
BOTTLE_START = np.array([0.0, -1.05 + 0.45, 0.5])
BOTTLE_QUAT = euler_zyx(0.0, -0.7, 0.0)
# A/bottle_cap/mobility.urdf: joint_2 (prismatic, link_1 -> link_0_helper) origin (0.00701, 0,
# 0.00754) in link_1, turned from the root by joint_1 rpy (pi/2, 0, -pi/2): link (x, y, z) =
# root (-z, -x, y); axis (0, 1, 0) = the root's z; limits [0, 0.064]. joint_0 continuous, same axis.
CAP_JOINT = np.array([-0.007542109902568375, -0.007005959241653967, 0.0])
CAP_TRAVEL = 0.064


def bottle_points(pos, quat, slide: float):
    """bottle_pos (the root), bottle_cap_pos (root + R (0, 0, 0.15)), bottle_cap_up (body 55)."""
    return pos, pos + qrot(quat, (0, 0, 0.15)), pos + qrot(quat, CAP_JOINT + (0, 0, slide))


def test_bottle_cap_start_thumb_pose_and_cap_joints():
    env = make("ShadowHandBottleCap")
    env.reset()
    r = env.physics.read()
    pos, quat = (t.double().numpy() for t in env.task.object_pose(r))
    assert np.allclose(pos, BOTTLE_START, atol=1e-6) and same_rotation(quat[0], BOTTLE_QUAT)
    # T:209-211 shadow_hand_default_dof_pos, written to both hands at every reset (T:1023-1026)
    # and sent as their position targets (T:1038-1042)
    default = np.zeros(24)
    default[19], default[20], default[23] = -1.04, 1.2, -1.57
    for hand in env.scene.hands:
        assert np.allclose(r.qpos[:, hand.qpos].double().numpy(), default, atol=1e-6)
    ctrl = env.physics._ctrl  # reset targets = reset joint positions
    for hand in env.scene.hands:
        joints = env.scene.model.actuator_trnid[hand.actuators, 0]
        q = r.qpos[0, env.scene.model.jnt_qposadr[joints]].double().numpy()
        assert np.allclose(np.asarray(ctrl[0, hand.actuators]), q, atol=1e-6)
    model, data = mjdata(env)
    slide, twist = model.joint("cap_slide"), model.joint("cap_twist")
    assert slide.type[0] == mujoco.mjtJoint.mjJNT_SLIDE and twist.type[0] == mujoco.mjtJoint.mjJNT_HINGE
    assert slide.range.tolist() == pytest.approx([0.0, CAP_TRAVEL]) and not twist.limited[0]
    axis = qrot(BOTTLE_QUAT, (0, 0, 1))  # the bottle's axis, tilted 0.7 rad about y
    s = float(r.qpos[0, joint_adr(env, "cap_slide")])
    for j, shift in ((slide, 0.0), (twist, s)):  # through joint_2's origin; the twist rides the slide
        assert np.allclose(data.xaxis[j.id], axis, atol=1e-6)
        anchor = BOTTLE_START + qrot(BOTTLE_QUAT, CAP_JOINT + (0, 0, shift))
        assert np.allclose(data.xanchor[j.id], anchor, atol=1e-6)
    # the cap starts seated on the neck (see the fidelity notes): u = 1.4 cm, no success
    assert 0.0 < s < 0.015
    bottle, _, cap_up = bottle_points(pos[0], quat[0], s)
    assert np.linalg.norm(cap_up - bottle) < 0.03
    assert not bool(env.task.evaluate(r, env.hand_state(r)).success.any())


def test_bottle_follows_the_meshes_and_upstreams_masses():
    # A/bottle_cap/bounding_box.json x 0.15: y (the root's z) from -0.1256 to 0.1496 (cap top),
    # x and z -0.0385..0.0406; original-7.obj (cap) r 0.0129, y 0.1393..0.1496. Masses: density
    # 500 x the summed convex hulls (original-2/3/4/5/8 0.377 kg + original-6, missing, as the
    # bounding box's cylinder below original-2 0.243 kg; cap 2.6 g)
    env = make("ShadowHandBottleCap")
    model, data = mjdata(env)
    body = model.geom("object0_geom0")  # a capsule along the bottle's axis
    assert body.type[0] == mujoco.mjtGeom.mjGEOM_CAPSULE
    bottom = body.pos[2] - body.size[1] - body.size[0]
    cap = model.geom("cap_geom")
    cap_top = model.body("bottle_cap").pos[2] + cap.pos[2] + cap.size[1]
    assert bottom == pytest.approx(-0.1256, abs=1e-3) and cap_top == pytest.approx(0.1496, abs=1e-3)
    assert 2 * model.geom("object0_geom0").size[0] == pytest.approx(0.079, abs=0.002)
    assert cap.size[0] == pytest.approx(0.0129, abs=5e-4)
    assert model.body("object0").mass[0] == pytest.approx(0.377 + 0.243, abs=0.005)
    assert model.body("bottle_cap").mass[0] == pytest.approx(0.0026, abs=2e-4)


def test_bottle_contacts_have_physx_friction():
    # T:578-582: every bottle shape friction 100; hand shapes 1, the table Isaac Gym's default 1;
    # PhysX averages a contact's two frictions: 50.5 against a hand or the table, 100 cap on neck
    env = make("ShadowHandBottleCap")
    env.reset()
    model, data = mjdata(env)
    assert model.opt.cone == mujoco.mjtCone.mjCONE_ELLIPTIC
    found = {}
    for c in data.contact[: data.ncon]:
        names = tuple(sorted((model.geom(c.geom1).name[:7], model.geom(c.geom2).name[:7])))
        found.setdefault(names, set()).add(round(float(c.friction[0]), 6))
    assert found[("hand1_r", "object0")] == {50.5}  # the bottle starts in hand1's palm
    assert found[("cap_geo", "object0")] == {100.0}  # the cap seated on the neck
    adr = env.task._adr[0]
    place(env, 0, adr, (0.0, -0.6, 0.1 + 0.0395), euler_zyx(math.pi / 2, 0.0, 0.0))  # lying on the table
    model, data = mjdata(env)
    table = {
        round(float(c.friction[0]), 6)
        for c in data.contact[: data.ncon]
        if "table" in (model.geom(c.geom1).name, model.geom(c.geom2).name)
    }
    assert table == {50.5}


def test_bottle_cap_observation_block():
    # compute_full_state (T:817-823): bottle pose 7, linvel 3, 0.2 angvel 3, bottle_pos 3,
    # bottle_cap_pos 3, bottle_cap_up 3; quaternion (x, y, z, w)
    env = make("ShadowHandBottleCap")
    env.reset()
    quat = qmul(axis_angle((1, 0, 0), 0.4), BOTTLE_QUAT)
    pos = BOTTLE_START + (0.02, 0.01, 0.05)
    place(env, 0, env.task._adr[0], pos, quat)
    set_qpos(env, 0, {joint_adr(env, "cap_slide"): 0.04})
    r = env.physics.read()
    block = env.task.shared_obs(r)[0].double().numpy()
    assert block.shape == (22,)
    assert np.allclose(block[:3], pos, atol=1e-6) and np.allclose(block[3:7], xyzw(quat), atol=1e-6)
    assert np.allclose(block[7:13], 0.0, atol=1e-6)
    bottle, cap, cap_up = bottle_points(pos, quat, 0.04)
    assert np.allclose(block[13:16], bottle, atol=1e-6)
    assert np.allclose(block[16:19], cap, atol=1e-5) and np.allclose(block[19:22], cap_up, atol=1e-5)


def test_bottle_cap_reward_termination_and_success():
    # compute_hand_reward (T:1385-1416): d_R = |cap_pos - right palm|, d_L = |bottle_pos - left
    # palm|, f_R = finger sum of hand0 to cap_pos, u = |cap_up - bottle_pos|;
    # r = 2 - f_R - d_L + 30 u [f_R <= 0.3]; resets: cap_pos z <= 0.5, d_R >= 0.5, d_L >= 0.2;
    # success u > 0.03
    env = make("ShadowHandBottleCap")
    env.reset()
    slides = {0: 0.035, 1: 0.02}
    for world, s in slides.items():
        set_qpos(env, world, {joint_adr(env, "cap_slide"): s})
    r = env.physics.read()
    pos, quat = (t.double().numpy() for t in env.task.object_pose(r))
    expected = []
    for world, (finger, left) in {0: (0.05, 0.1), 1: (0.07, 0.15)}.items():
        bottle, cap, cap_up = bottle_points(pos[world], quat[world], slides[world])
        f = set_fingers(env, r, world, 0, cap, finger)
        set_palm(env, r, world, 0, cap + (0.0, 0.0, 0.1))
        set_palm(env, r, world, 1, bottle + (0.0, left, 0.0))
        u = float(np.linalg.norm(cap_up - bottle))
        expected.append(2.0 - f - left + (30 * u if f <= 0.3 else 0.0))
    outcome = env.task.evaluate(r, env.hand_state(r))
    assert outcome.reward.tolist() == pytest.approx(expected, abs=1e-4)
    assert expected[0] > expected[1] + 0.2  # copy 1's fingers are too far (f 0.35) for the lift term
    assert outcome.success.tolist() == [True, False]  # u 0.036 and 0.022
    assert outcome.terminated.tolist() == [False, False]
    bottle, cap, _ = bottle_points(pos[1], quat[1], slides[1])
    set_palm(env, r, 1, 1, bottle + (0.0, 0.0, 0.2005))  # hand1 lets go
    assert env.task.evaluate(r, env.hand_state(r)).terminated.tolist() == [False, True]
    set_palm(env, r, 1, 1, bottle + (0.0, 0.0, 0.19))
    set_palm(env, r, 1, 0, cap + (0.0, 0.5005, 0.0))  # hand0 leaves the cap
    assert env.task.evaluate(r, env.hand_state(r)).terminated.tolist() == [False, True]
    set_palm(env, r, 1, 0, cap + (0.0, 0.49, 0.0))
    assert env.task.evaluate(r, env.hand_state(r)).terminated.tolist() == [False, False]
    place(env, 1, env.task._adr[0], pos[1] - (0.0, 0.0, 0.6147 - 0.4995), quat[1])  # cap point at 0.4995
    r2 = env.physics.read()
    assert bool(env.task.evaluate(r2, env.hand_state(r2)).terminated[1])


def test_scripted_pull_lifts_the_cap_to_success():
    """A force along the bottle's axis on the cap slides it up its joint: success is reported at
    the episode's end, and with hand0's fingers on the cap the reward beats the seated cap's."""
    env = make("ShadowHandBottleCap", num_envs=1)
    env.reset()
    r = env.physics.read()
    pos, quat = (t[0].double().numpy() for t in env.task.object_pose(r))
    cap_body = env.scene.model.body("bottle_cap").id
    axis = qrot(quat, (0, 0, 1))
    wrench = torch.tensor([[[*(0.2 * axis), 0.0, 0.0, 0.0]]])
    env.physics.apply_wrench(np.array([cap_body]), wrench)  # stays on until replaced
    before = None
    for _ in range(6):
        actions = hold(env)
        if before is None:
            r0 = env.physics.read()
            _, cap0, _ = bottle_points(pos, quat, float(r0.qpos[0, joint_adr(env, "cap_slide")]))
            set_fingers(env, r0, 0, 0, cap0, 0.04)
            before = float(env.task.evaluate(r0, env.hand_state(r0)).reward[0])
        env.step(actions)
    r = env.physics.read()
    assert float(r.qpos[0, joint_adr(env, "cap_slide")]) > 0.03
    assert bool(env.succeeded[0])
    pos, quat = (t[0].double().numpy() for t in env.task.object_pose(r))
    _, cap, _ = bottle_points(pos, quat, float(r.qpos[0, joint_adr(env, "cap_slide")]))
    set_fingers(env, r, 0, 0, cap, 0.04)
    assert float(env.task.evaluate(r, env.hand_state(r)).reward[0]) > before + 0.4


# -- ShadowHandSwingCup ----------------------------------------------------------------------
# T/shadow_hand_swing_cup.py:431-433 cup (0, 0, 0.6) from_euler_zyx(0, 0, 1.57) on a fixed
# 0.3 x 0.3 x 0.6 table at (0, 0, 0.3) (T:413-421, 452); T:1000-1008 goal rotation
# quat_from_angle_axis(1.5 pi, z) for every copy
CUP_QUAT = euler_zyx(0.0, 0.0, 1.57)
GOAL_QUAT = axis_angle((0, 0, 1), 1.5 * math.pi)
# A/cup: new-0.obj (foot) reaches down to y = -0.0843 (x 0.1): the root rests 0.0843 above the top
CUP_REST = np.array([0.0, 0.0, 0.6 + 0.0843])
# compute_observations (T:706-716): right = body 52 (root) + R (0.062, 0, 0); left = body 53
# (link_1: at the root, its z = the root's -x) + R_53 (0, 0, 0.06)
HANDLES = ((0.062, 0.0, 0.0), (-0.06, 0.0, 0.0))


def test_swing_cup_start_goal_and_lid():
    env = make("ShadowHandSwingCup")
    env.reset()
    r = env.physics.read()
    pos, quat = (t.double().numpy() for t in env.task.object_pose(r))
    assert np.allclose(pos[:, :2], 0.0, atol=1e-6) and np.allclose(pos[:, 2], CUP_REST[2], atol=5e-4)
    assert same_rotation(quat[0], CUP_QUAT) and same_rotation(
        env.task.goal_quat[0].double().numpy(), GOAL_QUAT
    )
    # the goal is half a turn away: theta = pi (README calls it 90 degrees)
    assert rot_dist(quat[0], GOAL_QUAT) == pytest.approx(math.pi, abs=2e-3)
    model, data = mjdata(env)
    lid = model.joint("lid_slide")  # A/cup/mobility.urdf joint_0: prismatic, axis (0, 1, 0), [0, 0.108]
    assert lid.type[0] == mujoco.mjtJoint.mjJNT_SLIDE and lid.range.tolist() == pytest.approx([0.0, 0.108])
    assert (
        np.allclose(data.xaxis[lid.id], [0, 0, 1], atol=1e-6) and r.qpos[0, joint_adr(env, "lid_slide")] == 0
    )
    # the two handles (original-5.obj and its copy on link_2, rpy (pi/2, 0, pi/2)) reach out to
    # mesh z 0.0877, i.e. the root's x = -0.0877 (link_1) and +0.0877 (link_2)
    assert geom_span(model, "object0", 0) == pytest.approx((-0.0877, 0.0877), abs=0.004)
    # masses: 500 x the summed hulls, body 1.077 kg (original-2, new-0, new-1, two handles), lid 48 g
    assert model.body("object0").mass[0] == pytest.approx(1.077, abs=0.005)
    assert model.body("cup_lid").mass[0] == pytest.approx(0.048, abs=0.002)


def test_swing_cup_observation_block():
    # compute_full_state (T:855-859): cup pose 7, linvel 3, 0.2 angvel 3, right handle 3, left handle 3
    env = make("ShadowHandSwingCup")
    env.reset()
    quat = qmul(axis_angle((0, 0, 1), 0.7), axis_angle((1, 0, 0), 0.2))
    pos = CUP_REST + (0.03, -0.02, 0.1)
    place(env, 0, env.task._adr[0], pos, quat)
    block = env.task.shared_obs(env.physics.read())[0].double().numpy()
    assert block.shape == (19,)
    assert np.allclose(block[:3], pos, atol=1e-6) and np.allclose(block[3:7], xyzw(quat), atol=1e-6)
    assert np.allclose(block[13:16], pos + qrot(quat, HANDLES[0]), atol=1e-5)
    assert np.allclose(block[16:19], pos + qrot(quat, HANDLES[1]), atol=1e-5)


def swing_reward(f_r, f_l, theta) -> float:
    """compute_hand_reward (T:1396-1414): rot = 1 / (|theta| + 0.1) * 5 - 1;
    r = -f_R - f_L + rot [f_R < 0.4 and f_L < 0.4]."""
    rot = 1.0 / (abs(theta) + 0.1) * 5.0 - 1.0
    return -f_r - f_l + (rot if f_r < 0.4 and f_l < 0.4 else 0.0)


def test_swing_cup_reward_termination_and_success():
    # resets: cup z <= 0.3 (T:1416); success: rot_dist < 0.785 (T:1421-1422)
    env = make("ShadowHandSwingCup")
    env.reset()
    quats = {0: qmul(axis_angle((0, 0, 1), 0.7), GOAL_QUAT), 1: qmul(axis_angle((0, 0, 1), 0.8), GOAL_QUAT)}
    for world, q in quats.items():
        place(env, world, env.task._adr[0], CUP_REST, q)
    r = env.physics.read()
    expected = []
    for world, (d_r, d_l) in {0: (0.06, 0.07), 1: (0.06, 0.085)}.items():
        q = quats[world]
        f_r = set_fingers(env, r, world, 0, CUP_REST + qrot(q, HANDLES[0]), d_r)
        f_l = set_fingers(env, r, world, 1, CUP_REST + qrot(q, HANDLES[1]), d_l)
        expected.append(swing_reward(f_r, f_l, rot_dist(q, GOAL_QUAT)))
    outcome = env.task.evaluate(r, env.hand_state(r))
    assert outcome.reward.tolist() == pytest.approx(expected, abs=1e-3)
    assert outcome.success.tolist() == [True, False]
    assert not bool(outcome.terminated.any())
    place(env, 0, env.task._adr[0], (0.5, 0.0, 0.3005), CUP_QUAT)
    place(env, 1, env.task._adr[0], (0.5, 0.0, 0.2995), CUP_QUAT)
    r = env.physics.read()
    assert env.task.evaluate(r, env.hand_state(r)).terminated.tolist() == [False, True]


def test_scripted_turn_to_the_goal_yaw_succeeds_and_outscores_the_start():
    env = make("ShadowHandSwingCup")
    env.reset()
    place(env, 1, env.task._adr[0], CUP_REST, GOAL_QUAT)  # copy 1 turned half a turn to the goal
    r = env.physics.read()
    for world, q in ((0, CUP_QUAT), (1, GOAL_QUAT)):
        for h in (0, 1):
            set_fingers(env, r, world, h, CUP_REST + qrot(q, HANDLES[h]), 0.05)
    outcome = env.task.evaluate(r, env.hand_state(r))
    assert outcome.success.tolist() == [False, True]
    assert float(outcome.reward[1]) > float(outcome.reward[0]) + 40.0  # 5 / 0.1 - 1 vs 5 / (pi + 0.1) - 1
    env.step(hold(env))  # the env latches it
    assert env.succeeded.tolist() == [False, True]


# -- ShadowHandKettle ------------------------------------------------------------------------
# T/shadow_hand_kettle.py:443-445 bucket (0, -0.3, 0.5) identity; 458-460 kettle (0, 0, 0.5)
# from_euler_zyx(0, 0, 1.57); compute_observations (T:771-787): handle = body 52 + R (0.15, 0, 0),
# spout = body 52 + R (-0.2, 0, 0.07), bucket point = body 55 + R (0, 0, -0.1)
KETTLE_START, KETTLE_QUAT = np.array([0.0, 0.0, 0.5]), euler_zyx(0.0, 0.0, 1.57)
BUCKET_START = np.array([0.0, -0.3, 0.5])


def kettle_points(kettle_pos, kettle_quat, bucket_pos, bucket_quat=(1.0, 0.0, 0.0, 0.0)):
    return (
        kettle_pos + qrot(kettle_quat, (0.15, 0, 0)),
        kettle_pos + qrot(kettle_quat, (-0.2, 0, 0.07)),
        bucket_pos + qrot(bucket_quat, (0, 0, -0.1)),
    )


def test_kettle_starts_lid_and_observation_block():
    env = make("ShadowHandKettle")
    env.reset()
    r = env.physics.read()
    pos, quat = (t.double().numpy() for t in env.task.object_pose(r))
    bucket = env.task._bucket
    assert np.allclose(pos, KETTLE_START, atol=1e-6) and same_rotation(quat[0], KETTLE_QUAT)
    assert np.allclose(r.qpos[:, bucket : bucket + 3].double().numpy(), BUCKET_START, atol=1e-6)
    assert np.allclose(r.qpos[:, bucket + 3 : bucket + 7].double().numpy(), [1, 0, 0, 0], atol=1e-6)
    model, data = mjdata(env)
    lid = model.joint("lid_slide")  # A/kettle/mobility.urdf joint_0: prismatic (0, 1, 0), [0, 0.032]
    assert lid.type[0] == mujoco.mjtJoint.mjJNT_SLIDE and lid.range.tolist() == pytest.approx([0.0, 0.032])
    assert np.allclose(data.xaxis[lid.id], [0, 0, 1], atol=1e-6)
    # compute_full_state (T:926-930): kettle pose 7, linvel 3, 0.2 angvel 3, handle 3, bucket point 3
    kq = qmul(axis_angle((1, 0, 0), 0.5), KETTLE_QUAT)
    bq = axis_angle((0, 1, 0), 0.3)
    place(env, 0, env.task._adr[0], KETTLE_START + (0, 0, 0.2), kq)
    place(env, 0, bucket, BUCKET_START + (0, 0, 0.3), bq)
    block = env.task.shared_obs(env.physics.read())[0].double().numpy()
    handle, _, point = kettle_points(KETTLE_START + (0, 0, 0.2), kq, BUCKET_START + (0, 0, 0.3), bq)
    assert block.shape == (19,)
    assert np.allclose(block[:3], KETTLE_START + (0, 0, 0.2), atol=1e-6) and np.allclose(
        block[3:7], xyzw(kq), atol=1e-6
    )
    assert np.allclose(block[13:16], handle, atol=1e-5) and np.allclose(block[16:19], point, atol=1e-5)


def test_kettle_reward_termination_and_success():
    # compute_hand_reward (T:1459-1497): f_R (hand0 to the handle), f_L (hand1 to the bucket point);
    # up = 0.5 - 2 |bucket point - spout| [f_R < 0.7 and f_L < 0.7]; r = 1 + up - f_R - f_L;
    # resets: bucket point z <= 0.2; success: |bucket point - spout| < 0.05
    env = make("ShadowHandKettle")
    env.reset()
    r = env.physics.read()
    expected, success = [], []
    for world, (d_r, d_l) in {0: (0.1, 0.12), 1: (0.1, 0.145)}.items():
        handle, spout, point = kettle_points(KETTLE_START, KETTLE_QUAT, BUCKET_START)
        f_r = set_fingers(env, r, world, 0, handle, d_r)
        f_l = set_fingers(env, r, world, 1, point, d_l)
        d = float(np.linalg.norm(point - spout))
        expected.append(1.0 - f_r - f_l + ((0.5 - 2 * d) if f_r < 0.7 and f_l < 0.7 else 0.0))
        success.append(d < 0.05)
    outcome = env.task.evaluate(r, env.hand_state(r))
    assert outcome.reward.tolist() == pytest.approx(expected, abs=1e-4)
    assert outcome.success.tolist() == success == [False, False]
    assert not bool(outcome.terminated.any())
    bucket = env.task._bucket
    place(env, 0, bucket, (0.5, -0.3, 0.3005))  # bucket point at 0.2005 and 0.1995
    place(env, 1, bucket, (0.5, -0.3, 0.2995))
    r = env.physics.read()
    assert env.task.evaluate(r, env.hand_state(r)).terminated.tolist() == [False, True]


def test_scripted_spout_over_the_bucket_point_succeeds():
    env = make("ShadowHandKettle")
    env.reset()
    # copy 1: the bucket held up, the kettle's spout 3 cm from its point (kettle root = target -
    # R (-0.2, 0, 0.07)); copy 0 stays at the start (spout 0.2 m away)
    bucket_pos = BUCKET_START + (0.0, 0.0, 0.3)
    _, _, point = kettle_points(KETTLE_START, KETTLE_QUAT, bucket_pos)
    kettle_pos = point + (0.0, 0.0, 0.03) - qrot(KETTLE_QUAT, (-0.2, 0, 0.07))
    place(env, 1, env.task._bucket, bucket_pos)
    place(env, 1, env.task._adr[0], kettle_pos, KETTLE_QUAT)
    r = env.physics.read()
    for world, (k, b) in {0: (KETTLE_START, BUCKET_START), 1: (kettle_pos, bucket_pos)}.items():
        handle, _, point = kettle_points(k, KETTLE_QUAT, b)
        set_fingers(env, r, world, 0, handle, 0.05)
        set_fingers(env, r, world, 1, point, 0.05)
    outcome = env.task.evaluate(r, env.hand_state(r))
    assert outcome.success.tolist() == [False, True]
    assert float(outcome.reward[1]) - float(outcome.reward[0]) == pytest.approx(2 * (0.197 - 0.03), abs=2e-3)
    env.step(hold(env))
    assert env.succeeded.tolist() == [False, True]


def test_kettle_lid_keeps_its_place_across_an_autoreset():
    # T:1161-1186: a reset writes DOF states for the hands only; the kettle's lid DOF keeps its
    # position into the next episode
    env = make("ShadowHandKettle")
    env.reset()
    lid = joint_adr(env, "lid_slide")
    bucket = env.task._bucket
    # copy 0's bucket beside the table, its point down at 0.15: the episode ends
    set_qpos(env, 0, {lid: 0.03, bucket: 0.5, bucket + 2: 0.25})
    set_qpos(env, 1, {lid: 0.03})
    before = env.physics.read().qpos[:, lid].clone()
    ts = env.step(hold(env))
    assert ts.terminated.tolist() == [True, False]
    r = env.physics.read()
    assert np.allclose(r.qpos[0, bucket : bucket + 3].double().numpy(), BUCKET_START, atol=1e-6)  # reset
    # the new episode's lid starts where the old one left it (after one step of sliding down)
    assert 0.02 < float(r.qpos[0, lid]) <= float(before[0])
    # a reset the caller asks for starts every lid closed (reproducible seeds)
    env.reset(seed=0)
    assert env.physics.read().qpos[:, lid].tolist() == [0.0, 0.0]


def geom_span(model, prefix: str, axis: int) -> tuple[float, float]:
    """Lowest and highest coordinate along `axis` (body frame) of the boxes and cylinders whose
    names start with `prefix`."""
    values = []
    signs = np.array([[sx, sy, sz] for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)])
    for g in range(model.ngeom):
        if not model.geom(g).name.startswith(prefix):
            continue
        size = model.geom_size[g].copy()
        if model.geom_type[g] == mujoco.mjtGeom.mjGEOM_CYLINDER:
            size = np.array([size[0], size[0], size[1]])
        elif model.geom_type[g] != mujoco.mjtGeom.mjGEOM_BOX:
            continue
        rot = np.zeros(9)
        mujoco.mju_quat2Mat(rot, model.geom_quat[g])
        values.extend((signs * size @ rot.reshape(3, 3).T + model.geom_pos[g])[:, axis])
    return min(values), max(values)


def test_kettle_and_bucket_follow_the_meshes():
    # A/kettle (x 0.2): body original-1.obj r 0.114 at its widest, y -0.0738..0.0687; handle
    # (original-2.obj) out to the root's x = 0.17. A/bucket/100454 (x 0.1): y -0.0529..0.0445,
    # rim r 0.057. Table create_box(0.5, 1.0, 0.4) at (0, 0, 0.2).
    env = make("ShadowHandKettle")
    model = env.scene.model
    radii = [
        model.geom_size[g][0]
        for g in range(model.ngeom)
        if model.geom(g).name.startswith("object0") and model.geom_type[g] == mujoco.mjtGeom.mjGEOM_CYLINDER
    ]
    assert max(radii) == pytest.approx(0.114, abs=0.003)
    assert geom_span(model, "object0", 2) == pytest.approx((-0.0738, 0.0687), abs=2e-3)
    assert geom_span(model, "object0", 0)[1] == pytest.approx(0.17, abs=0.005)
    assert geom_span(model, "bucket", 2) == pytest.approx((-0.0529, 0.0445), abs=2e-3)
    assert geom_span(model, "bucket", 0)[1] == pytest.approx(0.057, abs=0.006)  # an octagon round the rim
    table = model.geom("table")
    assert (2 * table.size).tolist() == pytest.approx(
        [0.5, 1.0, 0.4]
    ) and table.pos.tolist() == pytest.approx([0, 0, 0.2])
