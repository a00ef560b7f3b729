"""ShadowHandPushBlock and ShadowHandBlockStack against upstream (PKU-MARL/DexterousHands at
dc41afd): constants, hand poses, cubes and table, observation layout, reward, termination,
success, contact frictions, and scripted sanity checks that each task can be solved.

Expected values are transcribed from upstream's files (paths relative to that repository:
T/ = bidexhands/tasks/, C/ = bidexhands/cfg/, A/ = assets/) and computed here with numpy;
states are set by hand (cube poses through qpos, finger points by overriding the sensor
values the task reads, after checking those sensors measure upstream's points).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

pytest.importorskip("mujoco")
pytest.importorskip("gymnasium_robotics")

import mujoco  # noqa: E402
from bidexhands_helpers import (  # noqa: E402
    axis_angle,
    contact_frictions,
    euler_zyx,
    mjdata,
    move_base,
    place,
    same_rotation,
    set_qpos,
    upstream_finger_points,
    xyzw,
)

import envs  # noqa: E402
from bidexhands.env import BiDexHandsEnv  # noqa: E402
from bidexhands.tasks.blocks import shadow_hand_block_stack, shadow_hand_push_block  # noqa: E402

FACTORIES = {"ShadowHandPushBlock": shadow_hand_push_block, "ShadowHandBlockStack": shadow_hand_block_stack}
TASK_NAMES = tuple(FACTORIES)


def make(task: str, num_envs: int = 2) -> BiDexHandsEnv:
    return BiDexHandsEnv(FACTORIES[task](), num_envs=num_envs, seed=0, backend="mujoco")


# -- helpers -----------------------------------------------------------------------------------
def shift_hand(env, world: int, hand: int, offset) -> None:
    """Move a hand's free base by `offset` (the hand keeps its pose relative to its cube)."""
    r = env.physics.read()
    adr = env.scene.hands[hand].base_qpos[:3]
    set_qpos(env, world, {int(a): float(r.qpos[world, a]) + o for a, o in zip(adr, offset, strict=True)})


UNIT = np.array([[1.0, 0, 0], [0, 1.0, 0], [0, 0, 1.0], [-1.0, 0, 0], [0, -1.0, 0]])


def set_fingers(env, r, world: int, hand: int, centre, distance: float) -> None:
    """Put a hand's five finger points `distance` from `centre` (finger sum 5 * distance)."""
    points = np.asarray(centre) + distance * UNIT
    r.sensordata[world, env.task._fingers[hand]] = torch.tensor(points).float()


def evaluate(env, r=None):
    r = env.physics.read() if r is None else r
    return env.task.evaluate(r, env.hand_state(r))


def zero_actions(env):
    n = env.spec.num_envs
    return {a: torch.zeros(n, *env.spec.action_spaces[a].shape) for a in env.agents}


def still_actions(env):
    """No base force or torque, and finger targets at the start pose (joints at 0): the hands
    hold still (a zero action targets the middle of each joint's range, curling the fingers)."""
    low, high = env._ctrl_low, env._ctrl_high
    fingers = (2.0 * (0.0 - low) / (high - low) - 1.0).clamp(-1.0, 1.0)  # (2 hands, 20)
    n = env.spec.num_envs
    return {
        a: torch.cat((torch.zeros(n, 6), fingers[h].expand(n, 20)), dim=1) for h, a in enumerate(env.agents)
    }


# -- published constants and poses -----------------------------------------------------------
# C/ShadowHand{PushBlock,BlockStack}.yaml env block: episodeLength (6), resetPositionNoise (22),
# resetDofPosRandomInterval (24), distRewardScale (27), transition_scale (28), orientation_scale
# (29), rotRewardScale (30), rotEps (31), actionPenaltyScale (32), reachGoalBonus (33),
# fallDistance (34), fallPenalty (35), objectType (37), successTolerance (41),
# maxConsecutiveSuccesses (43)
CFG = {
    "ShadowHandPushBlock": (125, 0.0, 0.0, 20, 0.5, 0.1, 1.0, 0.1, -0.0002, 250, 0.4, 0.0, "block", 0.1, 0),
    "ShadowHandBlockStack": (250, 0.0, 0.0, 20, 0.2, 0.02, 1.0, 0.1, -0.0002, 250, 0.4, 0.0, "block", 0.1, 0),
}
# hand start poses (T/shadow_hand_push_block.py:407-413, T/shadow_hand_block_stack.py:425-430)
MOUNTS = {
    "ShadowHandPushBlock": (((0.55, 0.2, 0.8), (3.14159, 0, 1.57)), ((0.55, -0.2, 0.8), (3.14159, 0, 1.57))),
    "ShadowHandBlockStack": (((0, 0.6, 0.7), (3.14159, 0, 3.14)), ((0, -0.6, 0.7), (3.14159, 0, 0))),
}
# "object" (hand0's cube, rigid body 52) and "block" (hand1's, 53) start poses
# (push_block.py:415-422; block_stack.py:433-439); PushBlock's upstream z 0.6 puts the cube centre
# at the table top, we start it resting on it (0.6 + 0.025)
STARTS = {
    "ShadowHandPushBlock": ((0, 0.2, 0.625), (0, -0.2, 0.625)),
    "ShadowHandBlockStack": ((0, 0.1, 0.625), (0, -0.1, 0.625)),
}
CUBE_EULER = (1.57, 1.57, 0)
# object_asset_options.density (push_block.py:366, block_stack.py:383); box 0.05 (cube_multicolor1.urdf:13)
DENSITY = {"ShadowHandPushBlock": 500.0, "ShadowHandBlockStack": 100.0}
# create_box(table_dims) at (0, 0, 0.5 * table_dims.z) (push_block.py:397, 439; block_stack.py:414)
TABLE = {"ShadowHandPushBlock": (1.0, 1.0, 0.6), "ShadowHandBlockStack": (0.5, 1.0, 0.6)}


@pytest.mark.parametrize("task", TASK_NAMES)
def test_published_constants_and_hand_poses(task):
    spec = FACTORIES[task]()
    c = spec.cfg
    ours = (
        c.episode_length,
        c.reset_position_noise,
        c.reset_dof_pos_noise,
        c.dist_reward_scale,
        c.transition_scale,
        c.orientation_scale,
        c.rot_reward_scale,
        c.rot_eps,
        c.action_penalty_scale,
        c.reach_goal_bonus,
        c.fall_distance,
        c.fall_penalty,
        c.object_type,
        c.success_tolerance,
        c.max_consecutive_successes,
    )
    assert ours == CFG[task]
    assert c.reset_rotation_noise == 0.0 and c.reset_dof_vel_noise == 0.0
    assert spec.name == task and spec.max_episode_steps == CFG[task][0] and spec.dof_noise == 0.0
    assert spec.hand_point == "palm"  # compute_full_state observes right_hand_pos / left_hand_pos
    for mount, (pos, euler) in zip(spec.mounts, MOUNTS[task], strict=True):
        assert mount.pos == pytest.approx(pos, abs=1e-12)
        assert same_rotation(np.array(mount.quat), euler_zyx(*euler))
        assert mount.movable  # asset_options.fix_base_link False


@pytest.mark.parametrize("task", TASK_NAMES)
def test_cubes_table_and_starts(task):
    env = make(task)
    env.reset()
    model = env.scene.model
    r = env.physics.read()
    for i, start in enumerate(STARTS[task]):
        pos, quat = (t.double().numpy() for t in env.task.cube_pose(r, i))
        assert np.allclose(pos, start, atol=1e-6)
        assert same_rotation(quat[0], euler_zyx(*CUBE_EULER)) and same_rotation(
            quat[1], euler_zyx(*CUBE_EULER)
        )
        geom = model.geom(f"cube{i}_geom0")
        assert geom.type[0] == mujoco.mjtGeom.mjGEOM_BOX
        assert geom.size.tolist() == pytest.approx([0.025] * 3)
        assert model.body(f"cube{i}").mass[0] == pytest.approx(DENSITY[task] * 0.05**3, rel=1e-6)
    table = model.geom("table")
    assert (2 * table.size).tolist() == pytest.approx(TABLE[task])
    assert table.pos.tolist() == pytest.approx([0.0, 0.0, 0.3])
    assert model.body(int(table.bodyid[0])).name == "world"  # static (see the fidelity table)
    # the cubes rest on the table: a few steps without actions leave them where they are
    for _ in range(10):
        env.step(zero_actions(env))
    r = env.physics.read()
    for i, start in enumerate(STARTS[task]):
        assert np.allclose(env.task.cube_pose(r, i)[0].double().numpy(), start, atol=2e-3)


@pytest.mark.parametrize("task", TASK_NAMES)
def test_sizes_and_check_env(task):
    # num_obs 428 (push_block.py:141, block_stack.py:149); per agent 428 - 199 = 229
    env = make(task)
    assert env.spec.state_space.shape == (428,)
    assert all(env.spec.observation_spaces[a].shape == (229,) for a in env.agents)
    assert all(env.spec.action_spaces[a].shape == (26,) for a in env.agents)
    envs.check_env(env)


def test_finger_points_are_upstreams():
    # push_block.py:715-745: rigid bodies 7, 11, 15, 20, 25 (+ 26) + R (0, 0, 0.02)
    for task in TASK_NAMES:
        env = make(task)
        env.reset()
        model, data = mjdata(env)
        fingers = env.task.finger_pos(env.physics.read())[0].double().numpy()
        assert np.allclose(fingers, upstream_finger_points(model, data), atol=1e-5)


# -- ShadowHandPushBlock ---------------------------------------------------------------------
LEFT_GOAL = np.array([-0.2, -0.2, 0.625])  # push_block.py:747
RIGHT_GOAL = np.array([-0.2, 0.2, 0.625])  # push_block.py:749


def push_reward(f_r, f_l, right_cube, left_cube) -> float:
    """compute_hand_reward (push_block.py:1368-1398) with compute_reward's arguments
    (push_block.py:648): left_goal_pos is passed as both the left and the right target."""
    d_l = np.linalg.norm(LEFT_GOAL - left_cube)
    d_r = np.linalg.norm(LEFT_GOAL - right_cube)  # the bug: the right cube against the left goal
    return (1.2 - f_r) + (1.2 - f_l) + (5 - 5 * d_l - 5 * d_r)


def test_push_block_observation_block():
    # compute_full_state (push_block.py:841-850): object pose 7, linvel 3, 0.2 angvel 3,
    # block_right_handle_pos (body 52, hand0's cube) 3, block_left_handle_pos (body 53) 3,
    # left goal 3, right goal 3; 423-427 never written
    env = make("ShadowHandPushBlock")
    env.reset()
    q = axis_angle((0.3, 1.0, 0.2), 0.7)
    place(env, 1, 0, (0.05, 0.18, 0.7), q)
    place(env, 1, 1, (-0.1, -0.25, 0.625))
    obs, state = env._observe(env.physics.read(), None)
    state = state.double().numpy()
    block = state[:, 398:]
    assert np.allclose(block[1, 0:7], [0.05, 0.18, 0.7, *xyzw(q)], atol=1e-6)
    assert np.allclose(block[:, 7:13], 0.0, atol=1e-6)  # placed at rest
    assert np.allclose(block[1, 13:16], [0.05, 0.18, 0.7], atol=1e-6)
    assert np.allclose(block[1, 16:19], [-0.1, -0.25, 0.625], atol=1e-6)
    assert np.allclose(block[:, 19:22], LEFT_GOAL) and np.allclose(block[:, 22:25], RIGHT_GOAL)
    assert np.all(block[:, 25:] == 0.0) and block.shape[1] == 30
    assert np.allclose(obs["hand0"][:, 199:].double().numpy(), block)
    assert np.allclose(obs["hand1"][:, 199:].double().numpy(), block)


def test_push_block_reward_termination_and_success():
    env = make("ShadowHandPushBlock")
    env.reset()
    cubes = {  # (hand0's cube, hand1's cube) per copy
        0: (np.array([-0.12, -0.16, 0.625]), np.array([-0.18, -0.22, 0.625])),  # both near the left goal
        1: (np.array([-0.2, 0.2, 0.625]), np.array([-0.2, -0.2, 0.625])),  # each at its observed goal
    }
    for world, (right, left) in cubes.items():
        place(env, world, 0, right)
        place(env, world, 1, left)
    r = env.physics.read()
    sums = {0: (0.3, 0.5), 1: (1.0, 1.15)}
    for world, (right, left) in cubes.items():
        set_fingers(env, r, world, 0, right, sums[world][0] / 5)
        set_fingers(env, r, world, 1, left, sums[world][1] / 5)
    expected = [push_reward(*sums[w], *cubes[w]) for w in (0, 1)]
    outcome = evaluate(env, r)
    assert outcome.reward.tolist() == pytest.approx(expected, abs=1e-4)
    assert outcome.terminated.tolist() == [False, False]
    # successes (push_block.py:1404-1406): 1 when both goal distances <= 0.1, 0.5 when only the
    # left one is; the right cube at its observed goal is 0.4 m from the goal it is measured to
    assert env.task.success_level.tolist() == [1.0, 0.5]
    assert outcome.success.tolist() == [True, False]
    # a finger sum of 1.2 or more ends the episode (push_block.py:1400-1401)
    set_fingers(env, r, 0, 1, cubes[0][1], 1.19 / 5)
    set_fingers(env, r, 1, 0, cubes[1][0], 1.21 / 5)
    assert evaluate(env, r).terminated.tolist() == [False, True]


def test_push_block_success_latches_at_its_first_value():
    # successes = where(successes == 0, new value, successes): a 0.5 is never upgraded to 1
    env = make("ShadowHandPushBlock", num_envs=1)
    env.reset()
    place(env, 0, 1, LEFT_GOAL)  # the left cube arrives first: 0.5
    assert not bool(evaluate(env).success[0]) and float(env.task.success_level[0]) == 0.5
    place(env, 0, 0, LEFT_GOAL + (0.0, 0.06, 0.0))  # then the right one: still 0.5
    assert not bool(evaluate(env).success[0]) and float(env.task.success_level[0]) == 0.5
    env.reset()  # a new episode starts at 0
    place(env, 0, 1, LEFT_GOAL)
    place(env, 0, 0, LEFT_GOAL + (0.0, 0.06, 0.0))
    assert bool(evaluate(env).success[0]) and float(env.task.success_level[0]) == 1.0


def test_push_block_is_solvable_and_reports_success():
    """Cubes pushed side by side onto the left goal (where the published reward draws both):
    the episode succeeds and the step reward exceeds the start's."""
    env = make("ShadowHandPushBlock")
    env.reset()
    start = env.step(zero_actions(env)).reward["hand0"][0].item()
    ends = (LEFT_GOAL + (0.0, 0.03, 0.0), LEFT_GOAL + (0.0, -0.03, 0.0))
    for i, end in enumerate(ends):  # each hand goes along with its cube
        shift_hand(env, 0, i, end - np.asarray(STARTS["ShadowHandPushBlock"][i]))
        place(env, 0, i, end)
    ts = env.step(zero_actions(env))
    assert ts.reward["hand0"][0].item() > start + 2.0
    assert bool(env.succeeded[0]) and not bool(env.succeeded[1])
    assert not bool(ts.terminated[0])


# -- ShadowHandBlockStack --------------------------------------------------------------------
TARGET = np.array([0.0, 0.1, 0.625])  # goal = the object's start (block_stack.py:642, 785)
TOP = TARGET + (0.0, -0.1, 0.05)  # stack_pos1, hand1's (left) cube (block_stack.py:1406-1413)
BOTTOM = TARGET + (0.0, -0.1, 0.0)  # stack_pos2, hand0's (right) cube


def stack_reward(f_r, f_l, right_cube, left_cube) -> tuple[float, float]:
    """compute_hand_reward (block_stack.py:1406-1457): (reward, stack_rew)."""
    g1 = np.linalg.norm(TOP - left_cube)
    g2 = np.linalg.norm(BOTTOM - right_cube)
    up = (0.24 - g1 - g2) * 2 if (f_r < 0.5 and f_l < 0.5) else 0.0
    stack = (0.05 - abs(TOP[2] - left_cube[2])) * 50 if (g2 < 0.07 and g1 < 0.07) else 0.0
    return 1.5 - f_r - f_l + up + stack, stack


def test_block_stack_observation_block():
    # compute_full_state (block_stack.py:878-884): object pose 7, linvel 3, 0.2 angvel 3, block
    # pose 7, linvel 3, 0.2 angvel 3; 424-427 never written
    env = make("ShadowHandBlockStack")
    env.reset()
    q0, q1 = axis_angle((0, 0, 1), 0.4), axis_angle((1, 1, 0), 0.9)
    place(env, 0, 0, (0.01, 0.02, 0.7), q0)
    place(env, 0, 1, (-0.03, -0.05, 0.66), q1)
    _, state = env._observe(env.physics.read(), None)
    block = state[:, 398:].double().numpy()
    assert block.shape[1] == 30
    assert np.allclose(block[0, 0:7], [0.01, 0.02, 0.7, *xyzw(q0)], atol=1e-6)
    assert np.allclose(block[0, 13:20], [-0.03, -0.05, 0.66, *xyzw(q1)], atol=1e-6)
    assert np.allclose(block[0, 7:13], 0.0, atol=1e-6) and np.allclose(block[0, 20:26], 0.0, atol=1e-6)
    assert np.all(block[:, 26:] == 0.0)
    # velocities: linear at the centre of mass, angular x 0.2, after the cubes fall a few steps
    for _ in range(3):
        env.step(zero_actions(env))
    r = env.physics.read()
    block = env.task.shared_obs(r)[0].double().numpy()
    model, data = mjdata(env, 0)
    for i, start in ((0, 7), (1, 20)):
        vel = np.zeros(6)
        mujoco.mj_objectVelocity(model, data, mujoco.mjtObj.mjOBJ_BODY, model.body(f"cube{i}").id, vel, 0)
        assert np.allclose(block[start : start + 3], vel[3:], atol=1e-4)
        assert np.allclose(block[start + 3 : start + 6], 0.2 * vel[:3], atol=1e-4)


def test_block_stack_reward_termination_and_success():
    env = make("ShadowHandBlockStack")
    env.reset()
    cubes = {  # (hand0's cube, hand1's cube)
        0: (BOTTOM + (0.01, -0.02, 0.0), TOP + (0.0, 0.01, -0.015)),  # stacked, top cube 1.5 cm low
        1: (BOTTOM + (0.0, 0.05, 0.0), TOP + (0.0, 0.0, -0.04)),  # near, but the top cube 4 cm low
    }
    for world, (right, left) in cubes.items():
        place(env, world, 0, right)
        place(env, world, 1, left)
    r = env.physics.read()
    sums = {0: (0.4, 0.45), 1: (0.45, 0.55)}
    for world, (right, left) in cubes.items():
        set_fingers(env, r, world, 0, right, sums[world][0] / 5)
        set_fingers(env, r, world, 1, left, sums[world][1] / 5)
    expected = [stack_reward(*sums[w], *cubes[w]) for w in (0, 1)]
    assert expected[0][1] > 1 and 0 < expected[1][1] < 1  # copy 1 stacks, but not well enough
    outcome = evaluate(env, r)
    assert outcome.reward.tolist() == pytest.approx([e[0] for e in expected], abs=1e-4)
    # successes: stack_rew > 1 (block_stack.py:1471-1472)
    assert outcome.success.tolist() == [True, False]
    assert outcome.terminated.tolist() == [False, False]
    # resets: a finger sum >= 0.75 (block_stack.py:1459-1461)
    set_fingers(env, r, 0, 1, cubes[0][1], 0.74 / 5)
    set_fingers(env, r, 1, 0, cubes[1][0], 0.76 / 5)
    assert evaluate(env, r).terminated.tolist() == [False, True]


def test_block_stack_is_solvable_and_a_lifted_apart_pair_is_not_stacked():
    """hand1's cube set on hand0's at the stack points rests there and counts as stacked (the
    step reward far above the start's); the same top cube held up with the bottom cube left at
    its start does not."""
    env = make("ShadowHandBlockStack")
    env.reset()
    start = env.step(zero_actions(env)).reward["hand0"][0].item()
    ends = {0: (BOTTOM, TOP + (0.0, 0.0, 0.001)), 1: (STARTS["ShadowHandBlockStack"][0], TOP)}
    for world, cubes in ends.items():  # copy 1: the top cube lifted, hand0's left at its start
        for i, end in enumerate(cubes):  # each hand goes along with its cube, 3 cm higher
            shift = np.asarray(end) - np.asarray(STARTS["ShadowHandBlockStack"][i]) + (0.0, 0.0, 0.03)
            shift_hand(env, world, i, shift)
            place(env, world, i, end)
    r = env.physics.read()
    assert evaluate(env, r).success.tolist() == [True, False]
    env.succeeded[:] = False
    for _ in range(10):  # the stack stands on its own
        ts = env.step(still_actions(env))
    r = env.physics.read()
    top = env.task.cube_pose(r, 1)[0][0].double().numpy()
    assert np.allclose(top, TOP, atol=5e-3)
    assert bool(env.succeeded[0]) and not bool(env.succeeded[1])
    assert ts.reward["hand0"][0].item() > start + 2.0


# -- contact frictions (PhysX averages a contact's two shape frictions) ------------------------
def test_contacts_have_physx_friction():
    # PushBlock: table 0.5 (push_block.py:575-579), hands and cubes 1 (MJCF; Isaac Gym's default)
    env = make("ShadowHandPushBlock")
    env.reset()
    model, data = mjdata(env)
    assert contact_frictions(model, data, "cube0", "table") == {(0.5 + 1.0) / 2}
    cube = data.xpos[model.body("cube0").id]
    tip = data.site_xpos[model.site("hand0_finger_mfdistal").id]
    move_base(model, data, "hand0_", cube + (0.0, 0.0, 0.03) - tip)  # a fingertip into the cube
    assert contact_frictions(model, data, "hand0_", "cube0") == {1.0}
    # BlockStack: cubes 0.25, every hand shape 0.5, table 0.2 (block_stack.py:586-611)
    env = make("ShadowHandBlockStack")
    env.reset()
    model, data = mjdata(env)
    assert contact_frictions(model, data, "cube0", "table") == {(0.25 + 0.2) / 2}
    adr = model.jnt_qposadr[model.joint("cube1_joint").id]
    data.qpos[adr : adr + 3] = data.xpos[model.body("cube0").id] + (0.0, 0.0, 0.0495)
    mujoco.mj_forward(model, data)
    assert contact_frictions(model, data, "cube0", "cube1") == {0.25}
    cube = data.xpos[model.body("cube0").id]
    tip = data.site_xpos[model.site("hand0_finger_mfdistal").id]
    move_base(model, data, "hand0_", cube + (0.0, 0.0, 0.03) - tip)
    assert contact_frictions(model, data, "hand0_", "cube0") == {(0.5 + 0.25) / 2}


def test_block_stack_hands_collide_with_each_other():
    # both hands share collision group i with filter 0 (block_stack.py:525-526): they touch
    env = make("ShadowHandBlockStack")
    env.reset()
    model, data = mjdata(env)
    palms = [data.xpos[model.body(f"hand{h}_robot0:palm").id].copy() for h in (0, 1)]
    move_base(model, data, "hand0_", (0.0, palms[1][1] - palms[0][1] + 0.02, 0.0))  # hand0 into hand1
    pairs = {
        tuple(sorted(model.body(int(model.geom_bodyid[g])).name[:5] for g in (c.geom1, c.geom2)))
        for c in data.contact[: data.ncon]
    }
    assert ("hand0", "hand1") in pairs
    # PushBlock keeps the shared rule: no hand-hand contact
    env = make("ShadowHandPushBlock")
    env.reset()
    model, data = mjdata(env)
    move_base(model, data, "hand0_", (0.0, -0.4, 0.0))  # onto hand1
    pairs = {
        tuple(sorted(model.body(int(model.geom_bodyid[g])).name[:5] for g in (c.geom1, c.geom2)))
        for c in data.contact[: data.ncon]
    }
    assert ("hand0", "hand1") not in pairs
