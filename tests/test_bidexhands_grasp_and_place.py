"""ShadowHandGraspAndPlace against upstream (PKU-MARL/DexterousHands at dc41afd):
bidexhands/tasks/shadow_hand_grasp_and_place.py (T:), bidexhands/cfg/ShadowHandGraspAndPlace.yaml
(C:) and assets/mjcf/bucket/100454/ (mobility.urdf, textured_objs/original-1.obj). Expected values
are transcribed from those files; states are set by hand through qpos, qvel and the finger-point
sensor values the task reads.
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
    mjdata,
    qmul,
    qrot,
    same_rotation,
    upstream_finger_points,
    xyzw,
)

import envs  # noqa: E402
from bidexhands.env import BiDexHandsEnv  # noqa: E402
from bidexhands.tasks.grasp_and_place import shadow_hand_grasp_and_place  # noqa: E402


def make(num_envs: int = 2) -> BiDexHandsEnv:
    return BiDexHandsEnv(shadow_hand_grasp_and_place(), num_envs=num_envs, seed=0, backend="mujoco")


# -- helpers -----------------------------------------------------------------------------------
def set_state(env, world: int, edits: dict[int, float], qvel: dict[int, float] | None = None) -> None:
    """Write qpos (and qvel) entries of one copy and recompute its sensors."""
    r = env.physics.read()
    qpos = r.qpos[world : world + 1].double().clone()
    vel = torch.zeros(1, env.scene.model.nv, dtype=torch.float64)
    for adr, value in edits.items():
        qpos[0, adr] = value
    for adr, value in (qvel or {}).items():
        vel[0, adr] = value
    env.physics.set_state(torch.tensor([world]), qpos, vel, torch.zeros(1, env.scene.model.nu))


def place(env, world: int, index: int, pos, quat=(1.0, 0.0, 0.0, 0.0)) -> None:
    adr = env.task._adr[index]
    set_state(env, world, {adr + k: float(v) for k, v in enumerate((*pos, *quat))})


# -- published constants ---------------------------------------------------------------------
# C:6 episodeLength 500, C:19-25 all noises 0, C:27-29 distRewardScale 20, transition 0.5,
# orientation 0.1, C:30-35 rotRewardScale 1, rotEps 0.1, actionPenaltyScale -0.0002,
# reachGoalBonus 250, fallDistance 0.4, fallPenalty 0, C:37 objectType pot, C:41
# successTolerance 0.1, C:43 maxConsecutiveSuccesses 0
CFG = (500, 0.0, 0.0, 0.0, 0.0, 20.0, 1.0, 0.1, -0.0002, 250.0, 0.4, 0.0, 0.1, 0, "pot", 0.5, 0.1)
# T:423-429: both hands from_euler_zyx(3.14159, 0, 1.57) at (0.55, +-0.2, 0.8); T:301 free bases
MOUNTS = (((0.55, 0.2, 0.8), (3.14159, 0.0, 1.57)), ((0.55, -0.2, 0.8), (3.14159, 0.0, 1.57)))
BUCKET_START = np.array([0.0, 0.2, 0.6])  # T:431-433, identity
CUBE_START = np.array([0.0, -0.2, 0.6])  # T:436-438
CUBE_QUAT = euler_zyx(1.57, 1.57, 0.0)
LINK_QUAT = euler_zyx(math.pi / 2, 0.0, -math.pi / 2)  # mobility.urdf joint_1 rpy (link_1 = body 53)


def test_published_constants_and_hand_poses():
    task = shadow_hand_grasp_and_place()
    c = task.cfg
    ours = dataclasses.astuple(c)  # Published's fields in order, as CFG lists them
    assert ours == CFG
    assert task.max_episode_steps == 500 and task.dof_noise == 0.0
    assert task.hand_point == "palm"  # T:820, 841: right_hand_pos / left_hand_pos, the palm points
    for mount, (pos, euler) in zip(task.mounts, MOUNTS, strict=True):
        assert mount.pos == pytest.approx(pos, abs=1e-12)
        assert same_rotation(np.array(mount.quat), euler_zyx(*euler))
        assert mount.movable


def test_sizes_starts_and_table():
    # T:140-142: num_obs 425, hand block 199 -> per agent 226; T:164: 26 actions per hand
    env = make()
    assert env.spec.state_space.shape == (425,)
    assert all(env.spec.observation_spaces[a].shape == (226,) for a in env.agents)
    assert all(env.spec.action_spaces[a].shape == (26,) for a in env.agents)
    env.reset()
    r = env.physics.read()
    (bp, bq), (cp, cq) = ((t.double().numpy() for t in env.task.object_pose(r, i)) for i in range(2))
    assert np.allclose(bp, BUCKET_START, atol=1e-6) and np.allclose(bq, [1, 0, 0, 0], atol=1e-6)
    assert np.allclose(cp, CUBE_START, atol=1e-6)
    assert all(same_rotation(q, CUBE_QUAT) for q in cq)
    # T:413, 454-455: create_box(1.0, 1.0, 0.6) at (0, 0, 0.3)
    model = env.scene.model
    table = model.geom("table")
    assert table.size.tolist() == pytest.approx([0.5, 0.5, 0.3]) and table.pos.tolist() == pytest.approx(
        [0.0, 0.0, 0.3]
    )
    assert table.bodyid[0] == 0
    # cube_multicolor1.urdf: box 0.05, at the task's AssetOptions density 500 (T:375)
    cube = model.geom("object1_geom0")
    assert cube.type[0] == mujoco.mjtGeom.mjGEOM_BOX and cube.size.tolist() == pytest.approx([0.025] * 3)
    assert model.body("object1").mass[0] == pytest.approx(500.0 * 0.05**3, rel=1e-6)


def bucket_ray(model, data, pnt, vec) -> float:
    geomid = np.zeros(1, dtype=np.int32)
    distance = mujoco.mj_ray(model, data, np.asarray(pnt, float), np.asarray(vec, float), None, 1, -1, geomid)
    assert model.geom(int(geomid[0])).name.startswith("object0_"), "ray missed the bucket"
    return distance


def test_bucket_is_an_open_container_to_the_meshs_extents():
    # original-1.obj x 0.1 turned by joint_1's rpy (pi/2, 0, -pi/2), in the bucket's root frame:
    # axis near (0.0017, 0.0011); outer surface radius 0.030 at z = -0.0529 to 0.057 at z = 0.044;
    # cavity floor at z = -0.019 (radius 0.034) widening to radius 0.052 at the rim
    env = make(num_envs=1)
    env.reset()
    model, data = mjdata(env)
    adr = env.task._adr[0]
    root = np.array([-0.6, 0.0, 1.2])  # lifted clear of the table, the cube and the hands
    data.qpos[adr : adr + 7] = (*root, 1.0, 0.0, 0.0, 0.0)
    mujoco.mj_forward(model, data)
    axis = root + np.array([0.0017, 0.0011, 0.0])
    down, up = (0.0, 0.0, -1.0), (0.0, 0.0, 1.0)
    assert 0.2 - bucket_ray(model, data, axis + (0, 0, 0.2), down) == pytest.approx(-0.019, abs=1e-3)
    assert bucket_ray(model, data, axis - (0, 0, 0.2), up) - 0.2 == pytest.approx(-0.0529, abs=1e-3)
    # the rim, 5 cm out; the wall at mid height (z = 0.0125) from outside and from inside
    assert 0.2 - bucket_ray(model, data, axis + (0.0545, 0, 0.2), down) == pytest.approx(0.044, abs=1.5e-3)
    side = axis + (0.0, 0.0, 0.0125)
    outer = 0.030 + (0.057 - 0.030) * (0.0125 + 0.0529) / (0.044 + 0.0529)
    inner = 0.034 + (0.052 - 0.034) * (0.0125 + 0.019) / (0.044 + 0.019)
    assert 0.3 - bucket_ray(model, data, side + (0.3, 0, 0), (-1.0, 0, 0)) == pytest.approx(outer, abs=1.5e-3)
    assert bucket_ray(model, data, side, (0, 1.0, 0)) == pytest.approx(inner, abs=1.5e-3)
    # every part at the object density 500 (T:375)
    volume = 0.0
    for g in range(model.ngeom):
        if model.geom(g).name.startswith("object0_"):
            size = model.geom_size[g]
            if model.geom_type[g] == mujoco.mjtGeom.mjGEOM_CYLINDER:
                volume += math.pi * size[0] ** 2 * 2 * size[1]
            else:
                volume += 8 * size[0] * size[1] * size[2]
    assert model.body("object0").mass[0] == pytest.approx(500.0 * volume, rel=1e-6)


def test_finger_points_are_upstreams():
    # T:725-755: rigid bodies 7, 11, 15, 20, 25 (+ 26), the distal links, + R (0, 0, 0.02)
    env = make()
    env.reset()
    model, data = mjdata(env)
    fingers = env.task.finger_pos(env.physics.read())[0].double().numpy()
    assert np.allclose(fingers, upstream_finger_points(model, data), atol=1e-5)


def test_reward_termination_and_success_on_hand_set_states():
    # compute_hand_reward (T:1371-1413): f_R = sum of hand0's finger points' distances to
    # block_right_handle_pos (the bucket), f_L hand1's to block_left_handle_pos (the cube);
    # r = exp(-10 f_R) + exp(-10 f_L) + 2 exp(-10 |bucket - cube|); reset at f >= 1.5;
    # success |bucket - cube| < 0.2
    env = make()
    env.reset()
    cubes = {0: BUCKET_START + (0.05, -0.1, 0.1), 1: BUCKET_START + (0.0, -0.25, 0.05)}
    for world, pos in cubes.items():
        place(env, world, 1, pos)
    r = env.physics.read()
    unit = np.array([[1.0, 0, 0], [0, 1.0, 0], [0, 0, 1.0], [-1.0, 0, 0], [0, -1.0, 0]])
    targets = {w: (BUCKET_START, cubes[w]) for w in (0, 1)}
    spread = {0: (0.03, 0.06), 1: (0.1, 0.2)}  # per copy, hand0's and hand1's finger distance
    expected = []
    for world in (0, 1):
        for h in (0, 1):
            points = targets[world][h] + spread[world][h] * unit
            r.sensordata[world, env.task._fingers[h]] = torch.tensor(points).float()
        f = [5 * spread[world][h] for h in (0, 1)]
        gap = float(np.linalg.norm(cubes[world] - BUCKET_START))
        expected.append(math.exp(-10 * f[0]) + math.exp(-10 * f[1]) + 2 * math.exp(-10 * gap))
    outcome = env.task.evaluate(r, env.hand_state(r))
    assert outcome.reward.tolist() == pytest.approx(expected, rel=1e-4)
    assert outcome.success.tolist() == [True, False]  # gaps 0.15 and 0.255
    assert outcome.terminated.tolist() == [False, False]
    for world, h in ((0, 0), (1, 1)):  # one hand's fingers just past the limit
        r.sensordata[world, env.task._fingers[h]] = torch.tensor(targets[world][h] + 0.301 * unit).float()
    assert env.task.evaluate(r, env.hand_state(r)).terminated.tolist() == [True, True]
    r.sensordata[0, env.task._fingers[0]] = torch.tensor(targets[0][0] + 0.299 * unit).float()
    assert env.task.evaluate(r, env.hand_state(r)).terminated.tolist() == [False, True]


def test_observation_block():
    # compute_full_state (T:849-856), from 2 * 199 = 398: object (bucket root) pose 7, linvel 3,
    # 0.2 * angvel 3, block_right_handle (rigid body 53, link_1) pos 3 and rot 4,
    # block_left_handle (rigid body 54, the cube) pos 3 and rot 4; quaternions (x, y, z, w)
    env = make(num_envs=1)
    env.reset()
    q = axis_angle((0.3, -0.2, 1.0), 0.7)
    adr = env.task._adr[0]
    dof = env.scene.model.jnt_dofadr[env.scene.model.joint("object0_joint").id]
    v, w_local = (0.1, -0.2, 0.3), (1.0, 2.0, -1.0)  # free joint: origin velocity (world), body rates
    cube, cube_q = (0.2, -0.1, 0.65), axis_angle((0, 1, 0), 0.4)
    cadr = env.task._adr[1]
    edits = {adr + k: float(x) for k, x in enumerate((0.1, 0.25, 0.7, *q))}
    edits.update({cadr + k: float(x) for k, x in enumerate((*cube, *cube_q))})
    set_state(env, 0, edits, {dof + k: x for k, x in enumerate((*v, *w_local))})
    _, state = env._observe(env.physics.read(), None)
    b = state[0, 398:].double().numpy()
    assert b.shape == (27,)
    assert np.allclose(b[0:3], (0.1, 0.25, 0.7), atol=1e-6) and np.allclose(b[3:7], xyzw(q), atol=1e-6)
    assert np.allclose(b[7:10], v, atol=1e-5)  # the root link's own velocity, not its COM's
    assert np.allclose(b[10:13], 0.2 * qrot(q, w_local), atol=1e-5)
    assert np.allclose(b[13:16], (0.1, 0.25, 0.7), atol=1e-6)  # joint_1's origin is 0
    assert np.allclose(b[16:20], xyzw(qmul(q, LINK_QUAT)), atol=1e-6)
    assert np.allclose(b[20:23], cube, atol=1e-6) and np.allclose(b[23:27], xyzw(cube_q), atol=1e-6)


def test_cube_put_in_the_bucket_succeeds_with_a_higher_reward():
    """Scripted sanity: hand1 carried over to the bucket and the cube let go 9 cm above it; the
    cube comes to rest inside (on the floor, below the rim), the copy succeeds without ending,
    and its reward is far above the start's."""
    env = make()
    env.reset()
    zero = {a: torch.zeros(2, 26) for a in env.agents}
    start = env.step(zero).reward["hand0"].clone()
    for _ in range(20):  # the bucket and the cube rise out of the table top (upstream's starts)
        env.step(zero)
    r = env.physics.read()
    bucket = r.qpos[0, env.task._adr[0] : env.task._adr[0] + 3].double().numpy()
    assert bucket[2] == pytest.approx(0.6 + 0.0529, abs=2e-3)  # at rest on its foot
    base = env.scene.hands[1].base_qpos
    cadr = env.task._adr[1]
    edits = {int(base[1]): float(r.qpos[0, base[1]]) + 0.4}
    edits.update({cadr + k: float(x) for k, x in enumerate((*(bucket + (0, 0, 0.09)), 1.0, 0, 0, 0))})
    set_state(env, 0, edits)
    for _ in range(30):
        ts = env.step(zero)
    assert not bool(ts.terminated.any())
    r = env.physics.read()
    cube = r.qpos[0, cadr : cadr + 3].double().numpy()
    bucket = r.qpos[0, env.task._adr[0] : env.task._adr[0] + 3].double().numpy()
    assert np.linalg.norm(cube[:2] - bucket[:2]) < 0.01
    assert -0.019 + 0.025 - 1e-3 < cube[2] - bucket[2] < 0.044  # on the floor, below the rim
    assert bool(env.succeeded[0]) and not bool(env.succeeded[1])
    assert float(ts.reward["hand0"][0]) > 1.5 > 20 * float(start[0])


def test_check_env():
    envs.check_env(make())
