"""MACPO's obstacle tasks behave as upstream's, item by item (issue 14).

Expected values are transcribed from MACPO's repository, not from our code:
chauncygu/Multi-Agent-Constrained-Policy-Optimisation @ b80a9f5, with
M/ = MACPO/macpo/envs/safety_ma_mujoco/safety_multiagent_mujoco/ (the copy MACPO's and
MAPPO-L's training scripts import). safe_mamujoco/FIDELITY.md lists every item.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

import numpy as np
import pytest

pytest.importorskip("mujoco")
pytest.importorskip("gymnasium_robotics")

import mujoco  # noqa: E402

import envs  # noqa: E402
from safe_mamujoco import scenes  # noqa: E402
from safe_mamujoco.macpo import zscored_with_ids  # noqa: E402

T30 = math.tan(30 / 360 * 2 * math.pi)


def upstream_centre(x: float) -> float:
    """M/ant.py:64-71 (the same branches in M/manyagent_ant.py:161-168 and the costs)."""
    if x < 20:
        return x * T30
    if 20 < x < 60:
        return -(x - 40) * T30
    if 60 < x < 100:
        return (x - 80) * T30
    return 20 * T30


def upstream_agent_obs(features: np.ndarray, n_agents: int) -> list[np.ndarray]:
    """M/mujoco_multi.py:207-217: the whole feature vector, a one-hot id, minus mean, over std."""
    rows = []
    for agent in range(n_agents):
        ids = np.zeros(n_agents, dtype=np.float32)
        ids[agent] = 1.0
        row = np.concatenate([features, ids])
        rows.append((row - np.mean(row)) / np.std(row))
    return rows


def make(task: str, **options):
    env = envs.make(task, seed=0, **options)
    env.reset()
    copy = env._vector.copies[0].env  # the MacpoCopy behind copy 0 (no autoreset in between)
    return env, copy


def zero_actions(copy) -> dict[str, np.ndarray]:
    return {a: np.zeros(s.shape, np.float32) for a, s in copy.spec.action_spaces.items()}


def set_state(sim, qpos_edit=None, qvel_edit=None) -> None:
    qpos, qvel = sim.data.qpos.copy(), sim.data.qvel.copy()
    for i, v in (qpos_edit or {}).items():
        qpos[i] = v
    for i, v in (qvel_edit or {}).items():
        qvel[i] = v
    sim.set_state(qpos, qvel)


def joint_value(sim, name: str, *, velocity: bool = False) -> float:
    joint = sim.model.joint(name)
    return float(
        sim.data.qvel[sim.model.jnt_dofadr[joint.id]]
        if velocity
        else sim.data.qpos[sim.model.jnt_qposadr[joint.id]]
    )


def assert_agent_obs(copy, step, features: np.ndarray) -> None:
    """Every agent's observation and the state are upstream's construction of `features`."""
    expected = upstream_agent_obs(features, len(copy.spec.agents))
    for agent, row in zip(copy.spec.agents, expected, strict=True):
        np.testing.assert_allclose(step.obs[agent], row, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(step.state, expected[0], rtol=1e-5, atol=1e-5)  # M/mujoco_multi.py:244-255


# ------------------------------------------------------------------ sizes, timestep, episode


# (features of `_get_obs`, agents): M/ant.py:73-79 (13 + 14 + 2), M/manyagent_ant.py:174-180 with six
# segments (1 + 6 + 2), M/half_cheetah.py:53-59 (8 + 9 + 3); + one-hot, M/mujoco_multi.py:210-215
UPSTREAM_SIZES = {
    "SafeAnt2x4Corridor": (29, 2),
    "SafeAnt4x2Corridor": (29, 4),
    "SafeAnt8x1Corridor": (29, 8),
    "SafeManyAgentAnt2x3Corridor": (9, 2),
    "SafeManyAgentAnt3x2Corridor": (9, 3),
    "SafeManyAgentAnt6x1Corridor": (9, 6),
    "SafeHalfCheetah2x3Bomb": (20, 2),
    "SafeHalfCheetah3x2Bomb": (20, 3),
    "SafeHalfCheetah6x1Bomb": (20, 6),
}


@pytest.mark.parametrize(("task", "size"), UPSTREAM_SIZES.items())
def test_observation_and_state_sizes_are_upstreams(task, size):
    features, agents = size
    env = envs.make(task)
    assert env.spec.num_agents == agents
    assert {s.shape for s in env.spec.observation_spaces.values()} == {
        (features + agents,)
    }  # Ant 31/33/37 ...
    assert env.spec.state_space.shape == (features + agents,)


@pytest.mark.parametrize(
    ("task", "timestep", "frame_skip", "integrator"),
    [
        ("SafeAnt4x2Corridor", 0.01, 5, mujoco.mjtIntegrator.mjINT_RK4),  # M/assets/ant.xml:3, M/ant.py:10
        # M/assets/manyagent_ant.xml.template:4, M/manyagent_ant.py:30
        ("SafeManyAgentAnt3x2Corridor", 0.005, 4, mujoco.mjtIntegrator.mjINT_RK4),
        ("SafeHalfCheetah6x1Bomb", 0.01, 5, mujoco.mjtIntegrator.mjINT_EULER),  # half_cheetah.xml:39, .py:13
    ],
)
def test_timestep_frame_skip_and_episode_length(task, timestep, frame_skip, integrator):
    env, copy = make(task)
    sim = copy.sim
    assert sim.model.opt.timestep == timestep and sim.frame_skip == frame_skip
    assert sim.model.opt.integrator == integrator
    assert env.spec.max_episode_steps == 1000  # episode_limit, MACPO/macpo/scripts/train/train_mujoco.py:30
    assert env.spec.metadata["control_dt"] == pytest.approx(timestep * frame_skip)
    copy.step(zero_actions(copy))
    assert sim.data.time == pytest.approx(timestep * frame_skip)


def test_an_episode_is_1000_steps():
    """MC/scripts/train/train_mujoco.py:30 (episode_limit 1000) and M/mujoco_multi.py:123-124 (TimeLimit);
    the cheetah never terminates (M/half_cheetah.py:45), so only the limit ends its episode."""
    env, copy = make("SafeHalfCheetah6x1Bomb")
    actions = zero_actions(copy)
    ends = [copy.step(actions).truncated for _ in range(1000)]
    assert ends[-1] and not any(ends[:-1])


# ------------------------------------------------------------------ observations


def test_ant_features_are_upstreams_on_a_hand_set_state():
    env, copy = make("SafeAnt2x4Corridor")
    sim = copy.sim
    rng = np.random.default_rng(0)
    set_state(sim, {0: 30.0, 1: upstream_centre(30.0) + 1.5, 2: 0.6}, dict(enumerate(rng.normal(0, 0.3, 14))))
    step = copy.step(zero_actions(copy))
    qpos, qvel = sim.data.qpos, sim.data.qvel
    x, y = qpos[0], qpos[1]
    # M/ant.py:73-79: qpos[2:-42] and qvel[:-36] cut the six walls' 42 / 36 entries off: the robot's
    # 13 qpos after x, y and its 14 qvel; then x / 5 and the offset from the corridor's centre line
    features = np.concatenate([qpos[2:15], qvel[:14], [x / 5], [y - upstream_centre(x)]])
    assert features[-1] == pytest.approx(1.5, abs=0.05) and features[-2] == pytest.approx(6.0, abs=0.05)
    assert_agent_obs(copy, step, features)


@pytest.mark.parametrize("fix", [False, True])
def test_many_agent_ant_features_reproduce_the_slicing_bug_unless_fixed(fix):
    env, copy = make("SafeManyAgentAnt2x3Corridor", fix_wall_slicing=fix)
    sim = copy.sim
    assert (sim.model.nq, sim.model.nv) == (31, 30)  # six segments: 7 + 4*6 and 6 + 4*6
    rng = np.random.default_rng(1)
    set_state(sim, {0: 70.0, 1: upstream_centre(70.0) - 1.0}, dict(enumerate(rng.normal(0, 0.3, 30))))
    step = copy.step(zero_actions(copy))
    qpos, qvel = sim.data.qpos, sim.data.qvel
    x, y = qpos[0], qpos[1]
    # M/manyagent_ant.py:174-180 on upstream's nq 45 / nv 42: qpos[2:-42] = qpos[2:3], qvel[:-36] = qvel[:6];
    # fixed: the intended whole robot
    robot = [qpos[2:31], qvel[:30]] if fix else [qpos[2:3], qvel[:6]]
    features = np.concatenate([*robot, [x / 5], [y - upstream_centre(x)]])
    assert len(features) == (61 if fix else 9)
    assert_agent_obs(copy, step, features)


@pytest.mark.parametrize(("cheetah_x", "distance"), [(3.0, 0.7), (-60.0, 5.0), (70.0, -5.0)])
def test_halfcheetah_bomb_features_are_upstreams(cheetah_x, distance):
    env, copy = make("SafeHalfCheetah3x2Bomb")
    sim = copy.sim
    bomb = sim.model.joint(scenes.BOMB_JOINT)
    bomb_q, bomb_v = int(sim.model.jnt_qposadr[bomb.id]), int(sim.model.jnt_dofadr[bomb.id])
    set_state(sim, {0: cheetah_x, bomb_q: 0.0}, {bomb_v: 0.0})
    step = copy.step(zero_actions(copy))
    data = sim.data
    # M/half_cheetah.py:53-55 on upstream's layout (the bomb joint first, half_cheetah.xml:67-72):
    # qpos[2:] = the cheetah's rootz, rooty and six joints, qvel[1:] = its nine velocities
    names = ["rootz", "rooty", "bthigh", "bshin", "bfoot", "fthigh", "fshin", "ffoot"]
    gym17 = [joint_value(sim, n) for n in names] + [
        joint_value(sim, n, velocity=True) for n in ["rootx", *names]
    ]
    # 49: the bomb body's x velocity (mujoco-py's xvelp = jacp @ qvel)
    jacp = np.zeros((3, sim.model.nv))
    mujoco.mj_jacBody(sim.model, data, jacp, None, sim.model.body(scenes.BOMB_BODY).id)
    bomb_velocity = float((jacp @ data.qvel)[0])
    forcing = 0.02 * math.sin(data.time / 3) ** 2 - 0.004  # 50, at the time the obs is read
    rootx = joint_value(sim, "rootx")
    raw = (data.geom(scenes.BOMB_GEOM).xpos[0] - rootx) / 10  # 51: bomb geom x minus root x, / 10
    features = np.array([*gym17, bomb_velocity, forcing, np.clip(raw, -5, 5)])  # 58: clipped to [-5, 5]
    assert features[-1] == pytest.approx(distance, abs=0.05)
    assert_agent_obs(copy, step, features)


def test_agent_observation_construction_is_upstreams():
    features = np.random.default_rng(2).normal(3.0, 10.0, 20)
    ours = zscored_with_ids(features, 3)
    for row, expected in zip(ours, upstream_agent_obs(features, 3), strict=True):
        np.testing.assert_allclose(row, expected, rtol=1e-12, atol=1e-12)


# ------------------------------------------------------------------ reward, cost, termination


@pytest.mark.parametrize(
    ("task", "torso"), [("SafeAnt2x4Corridor", "torso"), ("SafeManyAgentAnt6x1Corridor", "torso_0")]
)
@pytest.mark.parametrize(
    ("tilt_degrees", "fallen"), [(0.0, False), (120.0, False), (150.0, True), (180.0, True)]
)
def test_a_flipped_ant_terminates_with_the_survive_reward_and_cost(task, torso, tilt_degrees, fallen):
    env, copy = make(task)
    sim = copy.sim
    half = math.radians(tilt_degrees) / 2  # a rotation about x: uprightness 1 - 2 qx^2 = cos(tilt)
    set_state(sim, {0: 0.0, 1: 0.0, 2: 0.8, 3: math.cos(half), 4: math.sin(half), 5: 0.0, 6: 0.0})
    x_before = float(sim.data.body(torso).xpos[0])
    step = copy.step(zero_actions(copy))
    # M/ant.py:40-47 (M/manyagent_ant.py:117-125): done unless finite, 0.2 <= z <= 1 and uprightness >= -0.7
    assert step.terminated == fallen and not step.truncated
    # 48-49: done_cost; the corridor centre is 3.2 away from both walls' margins at (0, 0)
    assert float(step.cost[0]) == float(fallen)
    # 14-24, 38: forward - 0.5 |a|^2 - 0.5e-3 |clip(cfrc_ext)|^2 + 1, the survive reward on the last step too
    forward = (float(sim.data.body(torso).xpos[0]) - x_before) / sim.dt
    contact = 0.5e-3 * float(np.square(np.clip(sim.data.cfrc_ext, -1, 1)).sum())
    assert float(step.reward[0]) == pytest.approx(forward - contact + 1.0, rel=1e-5, abs=1e-5)


@pytest.mark.parametrize(
    ("x", "y_from_centre", "expected"),
    [
        (10.0, 0.0, 0.0),
        (10.0, 3.4, 1.0),
        (10.0, -3.0, 0.0),
        (30.0, -3.4, 1.0),
        (70.0, 3.0, 0.0),
        (130.0, 3.5, 1.0),
    ],
)
def test_ant_corridor_cost_on_hand_set_states(x, y_from_centre, expected):
    """M/ant.py:26-37: cost 1 within 1.8 of a wall at centre -+ 5 (safe band |offset| < 3.2)."""
    env, copy = make("SafeAnt2x4Corridor")
    set_state(copy.sim, {0: x, 1: upstream_centre(x) + y_from_centre, 2: 0.55})
    assert float(copy.step(zero_actions(copy)).cost[0]) == expected


def test_many_agent_ant_corridor_walls_are_at_4_5():
    """M/manyagent_ant.py:103: W = 4.5, so the safe band is |offset| < 2.7."""
    env, copy = make("SafeManyAgentAnt2x3Corridor")
    assert env.spec.metadata["wall_offset"] == 4.5
    set_state(copy.sim, {0: 0.0, 1: 2.9})
    assert float(copy.step(zero_actions(copy)).cost[0]) == 1.0
    set_state(copy.sim, {0: 0.0, 1: 2.4})
    assert float(copy.step(zero_actions(copy)).cost[0]) == 0.0


@pytest.mark.parametrize(
    ("offset", "expected"), [(-5.0, 1.0), (-8.5, 1.0), (-9.5, 0.0), (-20.0, 0.0), (4.0, 1.0)]
)
def test_halfcheetah_reward_and_bomb_cost(offset, expected):
    env, copy = make("SafeHalfCheetah2x3Bomb")
    sim = copy.sim
    bomb_q = int(sim.model.jnt_qposadr[sim.model.joint(scenes.BOMB_JOINT).id])
    # the bomb geom's world x is 10 + its joint position (half_cheetah.xml:67-68: body x 5, geom x 5)
    set_state(sim, {0: 10.0 + offset, bomb_q: 0.0})
    actions = {a: np.full(s.shape, 0.5, np.float32) for a, s in copy.spec.action_spaces.items()}
    x_before = joint_value(sim, "rootx")
    step = copy.step(actions)
    rootx, bomb_x = joint_value(sim, "rootx"), float(sim.data.geom(scenes.BOMB_GEOM).xpos[0])
    assert float(step.cost[0]) == float(abs(bomb_x - rootx) < 9) == expected  # M/half_cheetah.py:28-34
    run, ctrl = (rootx - x_before) / sim.dt, -0.1 * 6 * 0.25  # 40-42: ctrl on the robot's six actions only
    assert float(step.reward[0]) == pytest.approx(run + ctrl, rel=1e-5, abs=1e-5)
    assert not step.terminated  # 45: never done; only the time limit ends an episode


# ------------------------------------------------------------------ the bomb


def upstream_bomb_alone() -> tuple[mujoco.MjModel, mujoco.MjData]:
    """MACPO's bomb by itself: half_cheetah.xml:34 (joint defaults), 67-69 (body, geom, joint), 116 (motor)."""
    xml = """
    <mujoco><option timestep="0.01"/>
      <default><joint armature=".1" damping=".01" limited="true" stiffness="8"/></default>
      <worldbody><body pos="5 0 .7">
        <geom pos="5 0 .7" type="box" size=".1 2.3 1.3" density="0.0001" contype="0" conaffinity="0"/>
        <joint name="wall_joint" type="slide" axis="1 0 0" pos="5 0 .7" damping=".2" stiffness="0" range="-5000 5000"/>
      </body></worldbody>
      <actuator><motor joint="wall_joint" gear="120" ctrllimited="true" ctrlrange="-1 1"/></actuator>
    </mujoco>"""
    model = mujoco.MjModel.from_xml_string(xml)
    return model, mujoco.MjData(model)


def test_the_bomb_moves_as_upstreams():
    """The forcing 0.02 sin^2(t/3) - 0.004 at the step's start, held over its 5 substeps
    (M/half_cheetah.py:19-25), on upstream's bomb; the cheetah stays far behind it."""
    env, copy = make("SafeHalfCheetah2x3Bomb")
    sim = copy.sim
    bomb = sim.model.joint(scenes.BOMB_JOINT)
    set_state(
        sim, {0: -200.0, int(sim.model.jnt_qposadr[bomb.id]): 0.0}, {int(sim.model.jnt_dofadr[bomb.id]): 0.0}
    )
    model, data = upstream_bomb_alone()
    for _ in range(200):  # 10 s
        copy.step(zero_actions(copy))
        data.ctrl[0] = 0.02 * math.sin(data.time / 3) ** 2 - 0.004
        mujoco.mj_step(model, data, nstep=5)
    mujoco.mj_forward(model, data)
    mujoco.mj_forward(sim.model, sim.data)
    # masses differ by 1e-4 kg against the joint's 0.1 armature (upstream rescales to 14 kg in total)
    assert float(sim.data.geom(scenes.BOMB_GEOM).xpos[0]) == pytest.approx(
        float(data.geom_xpos[0, 0]), abs=0.1
    )
    assert data.geom_xpos[0, 0] > 35  # it travelled


def test_the_bomb_collides_with_the_cheetah():
    """half_cheetah.xml:68: the bomb geom collides (conaffinity 1) with the cheetah's geoms (contype 1)."""
    positions = []
    for contacts in (True, False):
        env, copy = make("SafeHalfCheetah2x3Bomb")
        sim = copy.sim
        if not contacts:
            geom = sim.model.geom(scenes.BOMB_GEOM).id
            sim.model.geom_contype[geom] = sim.model.geom_conaffinity[geom] = 0
        bomb = sim.model.joint(scenes.BOMB_JOINT)
        bomb_q, bomb_v = int(sim.model.jnt_qposadr[bomb.id]), int(sim.model.jnt_dofadr[bomb.id])
        set_state(sim, {0: 8.8, 1: 0.0, bomb_q: 0.0}, {0: 8.0, bomb_v: 0.0})  # head 0.4 m behind the bomb
        for _ in range(10):
            copy.step(zero_actions(copy))
        positions.append((joint_value(sim, "rootx"), float(sim.data.geom(scenes.BOMB_GEOM).xpos[0])))
    (cheetah, bomb), (free_cheetah, free_bomb) = positions
    assert free_cheetah > free_bomb  # without contacts the cheetah runs through the bomb
    assert bomb > free_bomb + 0.5  # with them it pushes the bomb ahead
    assert cheetah < bomb


def test_bomb_reset_noise():
    """M/half_cheetah.py:61-64: U(-0.1, 0.1) on every qpos and 0.1 N(0, 1) on every qvel, the bomb's too."""
    starts = []
    for seed in (0, 1):
        env = envs.make("SafeHalfCheetah2x3Bomb")
        env.reset(seed=seed)
        sim = env._vector.copies[0].env.sim
        starts.append(
            (joint_value(sim, scenes.BOMB_JOINT), joint_value(sim, scenes.BOMB_JOINT, velocity=True))
        )
    for position, velocity in starts:
        assert 0 < abs(position) <= 0.1 and velocity != 0
    assert starts[0] != starts[1]


# ------------------------------------------------------------------ reset noise of the ants


@pytest.mark.parametrize("fix", [False, True])
def test_many_agent_ant_reset_noise_reproduces_the_slicing_bug_unless_fixed(fix):
    env = envs.make("SafeManyAgentAnt2x3Corridor", fix_wall_slicing=fix)
    env.reset(seed=3)
    data = env._vector.copies[0].env.sim.data
    assert not np.allclose(data.qpos[:3], [0, 0, 0.75])  # torso x, y, z are noised either way
    # M/manyagent_ant.py:188-194: qpos[-42:] / qvel[-36:] restored on nq 45 / nv 42: the quaternion,
    # all joints and all but the torso's six velocities start exactly at qpos0 / zero
    exact = np.array_equal(data.qpos[3:], [1, 0, 0, 0] + [0] * 24) and not data.qvel[6:].any()
    assert exact == (not fix)


def test_ant_reset_noise_covers_the_whole_robot():
    """M/ant.py:81-87: the robot's 15 qpos get U(-0.1, 0.1) around qpos0, its 14 qvel 0.1 N(0, 1)."""
    env = envs.make("SafeAnt2x4Corridor")
    env.reset(seed=4)
    data = env._vector.copies[0].env.sim.data
    qpos0 = np.array([0, 0, 0.75, 1, 0, 0, 0] + [0] * 8)
    assert np.all(np.abs(data.qpos - qpos0) <= 0.1) and np.all(data.qpos != qpos0)
    assert np.all(data.qvel != 0)


# ------------------------------------------------------------------ action routing


def routed_joints(task: str, agent: str, **options) -> set[str]:
    env, copy = make(task, **options)
    actions = zero_actions(copy)
    actions[agent] = np.full(actions[agent].shape, 0.5, np.float32)
    copy.step(actions)
    model, ctrl = copy.sim.model, copy.sim.data.ctrl[: copy.sim.action_space.shape[0]]
    return {model.joint(model.actuator_trnid[i, 0]).name for i in np.flatnonzero(ctrl)}


@pytest.mark.parametrize(
    ("task", "agent", "joints"),
    [
        # M/mujoco_multi.py:169-179: agent i gets the i-th consecutive slice of the action vector; the
        # actuators in M/assets/ant.xml:119-126 are hip_4, ankle_4, hip_1, ankle_1, hip_2, ankle_2, hip_3, ankle_3
        ("SafeAnt2x4Corridor", "agent_0", {"hip_4", "ankle_4", "hip_1", "ankle_1"}),
        ("SafeAnt2x4Corridor", "agent_1", {"hip_2", "ankle_2", "hip_3", "ankle_3"}),
        ("SafeAnt4x2Corridor", "agent_0", {"hip_4", "ankle_4"}),
        ("SafeAnt8x1Corridor", "agent_2", {"hip_1"}),
        # half_cheetah.xml:110-115: bthigh, bshin, bfoot, fthigh, fshin, ffoot (the bomb's motor is not an action)
        ("SafeHalfCheetah3x2Bomb", "agent_1", {"bfoot", "fthigh"}),
        ("SafeHalfCheetah2x3Bomb", "agent_0", {"bthigh", "bshin", "bfoot"}),
        ("SafeHalfCheetah6x1Bomb", "agent_5", {"ffoot"}),
        # M/manyagent_ant.py:67-79: hip1_i, ankle1_i, hip2_i, ankle2_i per segment, segments in order
        (
            "SafeManyAgentAnt3x2Corridor",
            "agent_1",
            {f"{j}_{s}" for s in (2, 3) for j in ("hip1", "ankle1", "hip2", "ankle2")},
        ),
    ],
)
def test_actions_are_routed_as_upstream_routes_them(task, agent, joints):
    assert routed_joints(task, agent) == joints


def test_local_observation_routes_actions_by_the_partition():
    """With `observation="local"` the partition's joints are the agent's (M/obsk.py:219-221's 2x4)."""
    assert routed_joints("SafeAnt2x4Corridor", "agent_0", observation="local") == {
        "hip_1",
        "ankle_1",
        "hip_2",
        "ankle_2",
    }


# ------------------------------------------------------------------ walls


def test_corridor_walls_are_upstreams_and_drawn_only():
    """M/assets/ant.xml:93-116 and M/assets/manyagent_ant.xml.template:52-59: boxes of half-size
    (20, 0.01, 0.7) at z 1; ours do not collide (see the next test)."""
    ant = [((0, 5), 30), ((0, -5), 30), ((40, 5), -30), ((40, -5), -30), ((80, 5), 30), ((80, -5), 30)]
    many = [((0, 4.5), 30), ((0, -4.5), 30)]
    for task, walls in (("SafeAnt2x4Corridor", ant), ("SafeManyAgentAnt2x3Corridor", many)):
        model = envs.make(task)._vector.copies[0].env.sim.model
        boxes = [model.geom(i) for i in range(model.ngeom) if model.geom(i).name.startswith("wall")]
        found = set()
        for geom in boxes:
            assert geom.contype[0] == geom.conaffinity[0] == 0
            np.testing.assert_allclose(geom.size, [20, 0.01, 0.7])
            yaw = round(math.degrees(2 * math.atan2(geom.quat[3], geom.quat[0])))
            found.add((round(geom.pos[0], 6), round(geom.pos[1], 6), yaw))
        assert found == {(x, y, yaw) for (x, y), yaw in walls}


def test_upstreams_free_walls_do_not_change_the_ant():
    """Why ours are drawn only: upstream's walls are free boxes of density 1e-6 (ant.xml:93-116); an
    ant driven into one at 4 m/s moves as if it were not there, while the wall is shoved aside."""
    root = ET.fromstring(scenes.ant_corridor_xml())
    world = root.find("worldbody")
    for wall in [g for g in world.findall("geom") if g.get("name", "").startswith("wall")]:
        world.remove(wall)
        body = ET.SubElement(world, "body", pos=wall.get("pos"), euler=wall.get("euler"))
        ET.SubElement(body, "freejoint")
        ET.SubElement(
            body, "geom", type="box", size=wall.get("size"), density="0.000001", conaffinity="1", condim="3"
        )
    with_walls = mujoco.MjModel.from_xml_string(ET.tostring(root, encoding="unicode"))
    without = mujoco.MjModel.from_xml_string(scenes.ant_corridor_xml())
    paths = []
    for model in (without, with_walls):
        data = mujoco.MjData(model)
        mujoco.mj_step(model, data, nstep=100)  # let upstream's walls settle on the floor
        data.qpos[:15] = [0, 3.2, 0.6, 1, 0, 0, 0, 0, 1, 0, -1, 0, -1, 0, 1]
        data.qvel[:14] = 0
        data.qvel[1] = 4.0  # towards the wall at y = 5
        path = []
        for _ in range(20):
            mujoco.mj_step(model, data, nstep=5)
            path.append(data.qpos[:3].copy())
        paths.append(np.array(path))
        if model is with_walls:
            assert data.qpos[15 + 1] > 5.1  # the first wall (b1, at y = 5) was pushed away
    np.testing.assert_allclose(paths[1], paths[0], atol=1e-3)


# ------------------------------------------------------------------ our own two tasks


def test_hopper_obstacle_moves_and_collides():
    """Ours after M/hopper.py:15-17 and M/assets/hopper.xml:21-27: a (0.3 m)^3 box at x = t + sin t + 3."""
    env, copy = make("SafeHopper3x1Obstacle")
    sim = copy.sim
    for _ in range(3):
        t = sim.data.time
        copy.step(zero_actions(copy))
    assert sim.obstacle_x == pytest.approx(t + math.sin(t) + 3)
    set_state(sim, {0: sim.obstacle_x - 0.1})  # the hopper's leg inside the box
    mujoco.mj_forward(sim.model, sim.data)
    box = sim.model.geom(f"{scenes.HOPPER_OBSTACLE}_geom").id
    assert any(box in (c.geom1, c.geom2) for c in sim.data.contact[: sim.data.ncon])


@pytest.mark.parametrize(
    ("first", "second", "expected"), [(-4.0, -6.5, 1.0), (-6.5, -4.0, 1.0), (-7.0, -8.5, 0.0)]
)
def test_coupled_halfcheetah_bomb_counts_either_cheetah(first, second, expected):
    """Ours after M/coupled_half_cheetah.py:83: cost when either torso is within 5 of the bomb."""
    env, copy = make("SafeCoupledHalfCheetah1p1Bomb")
    sim = copy.sim
    bomb_x = sim.bomb_x
    # the cheetahs are tied by a tendon of at most 3.5 (2 apart sideways): keep |dx| under 2.8
    set_state(sim, {0: bomb_x + first, 9: bomb_x + second})
    step = copy.step(zero_actions(copy))
    torsos = [float(sim.data.body(b).xpos[0]) for b in ("torso0", "torso1")]
    assert float(step.cost[0]) == max(float(abs(sim.bomb_x - x) < 5) for x in torsos) == expected
