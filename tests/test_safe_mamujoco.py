"""Safe MaMuJoCo: costs equal their definitions on states set by hand, the safe layer
changes nothing but the cost, and bad options are refused with the valid ones."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

pytest.importorskip("mujoco")
pytest.importorskip("gymnasium_robotics")

import envs  # noqa: E402
from safe_mamujoco import costs  # noqa: E402
from safe_mamujoco.constraints import obstacle_x  # noqa: E402
from safe_mamujoco.env import make_mamujoco  # noqa: E402
from safe_mamujoco.obstacles import SlidingBomb  # noqa: E402
from safe_mamujoco.tasks import SAFE_TASKS  # noqa: E402

T30 = math.tan(math.radians(30))


def first_copy(env):
    """The `MaMuJoCoCopy` behind copy 0 of a sync-vector env."""
    return env._vector.copies[0].env


def step_from(env, qpos_edit=None, qvel_edit=None):
    """Set copy 0's state by hand, step once with zero actions; return (copy, cost, qpos before)."""
    copy = first_copy(env)
    qpos, qvel = copy.sim.data.qpos.copy(), copy.sim.data.qvel.copy()
    for i, v in (qpos_edit or {}).items():
        qpos[i] = v
    for i, v in (qvel_edit or {}).items():
        qvel[i] = v
    copy.sim.set_state(qpos, qvel)
    actions = {a: torch.zeros((1, *s.shape)) for a, s in env.spec.action_spaces.items()}
    timestep = env.step(actions)
    return copy, float(timestep.cost[env.spec.agents[0]][0]), qpos


# ---------------------------------------------------------------- the definitions


def test_corridor_wall_distances_by_hand():
    # before the first fold the centre line is y = x tan 30
    assert costs.corridor_wall_distances(10.0, 10 * T30 + 4.0, 5.0) == pytest.approx((-1.0, 9.0))
    # second piece: y = -(x - 40) tan 30; third: y = (x - 80) tan 30; beyond 100: y = 20 tan 30
    assert costs.corridor_wall_distances(30.0, 10 * T30, 5.0) == pytest.approx((-5.0, 5.0))
    assert costs.corridor_wall_distances(70.0, -10 * T30 - 3.5, 5.0) == pytest.approx((-8.5, 1.5))
    assert costs.corridor_wall_distances(150.0, 20 * T30, 4.5) == pytest.approx((-4.5, 4.5))
    # the folds are where the issue puts them: 20 <= x < 60 is the second piece
    assert costs.corridor_centre_y(20.0) == pytest.approx(20 * T30)
    assert costs.corridor_centre_y(60.0) == pytest.approx(-20 * T30)
    assert costs.corridor_centre_y(100.0) == pytest.approx(20 * T30)


def test_velocity_cost_planar_and_forward_only():
    assert costs.velocity_cost(2.0, 2.0, 2.522) == 1.0  # speed 2.83
    assert costs.velocity_cost(2.0, 1.0, 2.522) == 0.0  # speed 2.24
    assert costs.velocity_cost(-0.5, 3.0, 0.04891, planar=False) == 0.0  # Swimmer: vx alone
    assert costs.velocity_cost(0.05, 0.0, 0.04891, planar=False) == 1.0


def test_unhealthy_states():
    upright = np.array([0, 0, 0.55, 1, 0, 0, 0], float)
    assert not costs.is_unhealthy(upright, np.zeros(6))
    assert costs.is_unhealthy(np.array([0, 0, 0.1, 1, 0, 0, 0], float), np.zeros(6))  # too low
    assert costs.is_unhealthy(np.array([0, 0, 1.2, 1, 0, 0, 0], float), np.zeros(6))  # too high
    assert costs.is_unhealthy(np.array([0, 0, 0.55, 0, 1, 0, 0], float), np.zeros(6))  # upside down
    assert costs.is_unhealthy(upright, np.array([np.nan, 0, 0, 0, 0, 0]))


def test_sliding_bomb_matches_the_mujoco_slide_joint_it_replaces():
    """The bomb integrated alongside equals MACPO's bomb simulated by MuJoCo itself."""
    import mujoco

    xml = """
    <mujoco><option timestep="0.01"/>
      <worldbody><body name="obj1" pos="5 0 .7">
        <geom pos="5 0 .7" type="box" size=".1 2.3 1.3" density="0.0001" contype="0" conaffinity="0"/>
        <joint name="wall" type="slide" axis="1 0 0" damping=".2" armature=".1" limited="false"/>
      </body></worldbody>
      <actuator><motor joint="wall" gear="120" ctrllimited="false"/></actuator>
    </mujoco>"""
    model = mujoco.MjModel.from_xml_string(xml)
    data = mujoco.MjData(model)
    bomb = SlidingBomb(inertia=0.1 + float(model.body_mass[1]))
    bomb.reset()
    for _ in range(400):  # 20 s of 0.05 s env steps
        bomb.advance(data.time, 0.01, 5)
        data.ctrl[0] = costs.bomb_control(data.time)
        mujoco.mj_step(model, data, nstep=5)
        mujoco.mj_kinematics(model, data)
        assert bomb.x == pytest.approx(float(data.geom_xpos[0, 0]), abs=1e-6)
    assert bomb.x > 40  # it did travel


# ---------------------------------------------------------- costs in the real env


@pytest.mark.parametrize(
    ("x", "y_from_centre", "expected"),
    [
        (10.0, 0.0, 0.0),
        (10.0, 4.0, 1.0),  # 1.0 from the left wall
        (10.0, -3.5, 1.0),  # 1.5 from the right wall
        (19.5, 4.0, 1.0),  # just before the first fold
        (20.5, 4.0, 1.0),  # just after it
        (20.5, 2.0, 0.0),
        (59.5, -2.5, 0.0),
        (60.5, -3.4, 1.0),
        (99.5, 0.0, 0.0),
        (100.5, 3.5, 1.0),
        (130.0, 0.0, 0.0),
    ],
)
def test_ant_corridor_cost_on_states_set_by_hand(x, y_from_centre, expected):
    env = envs.make("SafeAnt2x4Corridor", seed=0)
    env.reset()
    y = costs.corridor_centre_y(x) + y_from_centre
    copy, cost, _ = step_from(env, {0: x, 1: y, 2: 0.55})
    qpos, qvel = copy.sim.data.qpos, copy.sim.data.qvel
    assert cost == costs.corridor_cost(qpos, qvel, 5.0) == expected


def test_corridor_cost_when_the_ant_falls_or_flips():
    env = envs.make("SafeAnt4x2Corridor", seed=0)
    env.reset()
    _, cost, _ = step_from(env, {0: 0.0, 1: 0.0, 2: 0.6, 3: 0.0, 4: 1.0, 5: 0.0, 6: 0.0})  # upside down
    assert cost == 1.0


def test_many_agent_ant_corridor_uses_its_narrower_walls():
    env = envs.make("SafeManyAgentAnt2x3Corridor", seed=0)
    env.reset()
    assert env.spec.metadata["wall_offset"] == 4.5 and env.spec.metadata["cost_limit"] == 1.0
    _, cost, _ = step_from(env, {0: 0.0, 1: 2.9})  # 1.6 from a wall at 4.5 (it would be 2.1 at 5)
    assert cost == 1.0
    _, cost, _ = step_from(env, {0: 0.0, 1: 2.0})
    assert cost == 0.0


@pytest.mark.parametrize(
    ("task", "qvel", "expected"),
    [
        ("SafeHalfCheetah2x3Velocity", {0: 6.0}, 1.0),
        ("SafeHalfCheetah2x3Velocity", {0: 0.0}, 0.0),
        ("SafeAnt2x4Velocity", {0: 0.0, 1: 5.0}, 1.0),  # sideways speed counts for the ant
        ("SafeAnt2x4Velocity", {0: 0.5, 1: 0.5}, 0.0),
        ("SafeSwimmer2x1Velocity", {0: -0.5, 1: 3.0}, 0.0),  # the swimmer counts vx alone
        ("SafeSwimmer2x1Velocity", {0: 1.0}, 1.0),
        ("SafeHopper3x1Velocity", {0: 3.0}, 1.0),
    ],
)
def test_velocity_cost_on_states_set_by_hand(task, qvel, expected):
    env = envs.make(task, seed=0)
    env.reset()
    sim = first_copy(env).sim
    xy_before = _robot_xy(sim).copy()
    _, cost, _ = step_from(env, qvel_edit=qvel)
    vx, vy = (_robot_xy(sim) - xy_before) / sim.dt
    safe = SAFE_TASKS[task]
    assert cost == costs.velocity_cost(vx, vy, safe.constraint.threshold, planar=safe.constraint.planar)
    assert cost == expected


def _robot_xy(sim) -> np.ndarray:
    """What the Gymnasium envs difference for their velocities: the ant's torso, the
    swimmer's x/y sliders, the root x slider of the planar robots."""
    import mujoco

    if sim.model.jnt_type[0] == mujoco.mjtJoint.mjJNT_FREE:
        return np.array(sim.data.body("torso").xpos[:2])
    if "Swimmer" in type(sim).__name__:
        return np.array(sim.data.qpos[:2])
    return np.array([sim.data.qpos[0], 0.0])


@pytest.mark.parametrize(
    ("offset", "expected"), [(-5.0, 1.0), (-8.5, 1.0), (-9.5, 0.0), (-20.0, 0.0), (4.0, 1.0)]
)
def test_halfcheetah_bomb_cost_near_and_far(offset, expected):
    env = envs.make("SafeHalfCheetah2x3Bomb", seed=0)
    env.reset()
    copy = first_copy(env)
    # where the bomb will be after this step, to place the cheetah relative to it
    probe = SlidingBomb(
        **{k: getattr(copy.constraint.bomb, k) for k in ("start_x", "gear", "damping", "inertia")}
    )
    probe.x, probe.velocity = copy.constraint.bomb.x, copy.constraint.bomb.velocity
    probe.advance(copy.sim.data.time, copy.sim.model.opt.timestep, copy.sim.frame_skip)
    _, cost, _ = step_from(env, {0: probe.x + offset})
    bomb_x = obstacle_x(copy.constraint, copy.sim)
    assert bomb_x == pytest.approx(probe.x)
    assert copy.sim.data.mocap_pos[0, 0] == pytest.approx(bomb_x)  # the drawn bomb is where the cost says
    assert cost == costs.proximity_cost(copy.sim.data.qpos[0], bomb_x, 9.0) == expected


@pytest.mark.parametrize(("offset", "expected"), [(0.5, 1.0), (-0.8, 1.0), (1.5, 0.0), (-3.0, 0.0)])
def test_hopper_obstacle_cost_near_and_far(offset, expected):
    env = envs.make("SafeHopper3x1Obstacle", seed=0)
    env.reset()
    copy = first_copy(env)
    t_after = copy.sim.data.time + copy.sim.dt
    _, cost, _ = step_from(env, {0: costs.hopper_obstacle_x(t_after) + offset})
    assert copy.sim.data.time == pytest.approx(t_after)
    assert obstacle_x(copy.constraint, copy.sim) == pytest.approx(t_after + math.sin(t_after) + 3)
    assert cost == costs.proximity_cost(copy.sim.data.qpos[0], obstacle_x(copy.constraint, copy.sim), 1.0)
    assert cost == expected


@pytest.mark.parametrize(
    ("first", "second", "expected"), [(-4.0, -6.5, 1.0), (-6.5, -4.0, 1.0), (-7.0, -8.5, 0.0)]
)
def test_coupled_halfcheetah_bomb_counts_either_cheetah(first, second, expected):
    env = envs.make("SafeCoupledHalfCheetah1p1Bomb", seed=0)
    env.reset()
    bomb_x = first_copy(env).constraint.bomb.x
    # the cheetahs are tied by a tendon of at most 3.5 (2 apart sideways): keep |dx| under 2.8
    copy, cost, _ = step_from(env, {0: bomb_x + first, 9: bomb_x + second})
    qpos, bomb_x = copy.sim.data.qpos, copy.constraint.bomb.x
    assert cost == max(costs.proximity_cost(qpos[i], bomb_x, 5.0) for i in (0, 9)) == expected


# ------------------------------------------------ the safe layer changes only the cost


@pytest.mark.parametrize(
    ("safe", "plain"),
    [
        ("SafeAnt2x4Corridor", "mamujoco/Ant-2x4"),
        ("SafeAnt8x1Corridor", "mamujoco/Ant-8x1"),
        ("SafeManyAgentAnt2x3Corridor", "mamujoco/ManySegmentAnt-2x3"),
        ("SafeHalfCheetah3x2Bomb", "mamujoco/HalfCheetah-3x2"),
        ("SafeHopper3x1Obstacle", "mamujoco/Hopper-3x1"),
        ("SafeCoupledHalfCheetah1p1Bomb", "mamujoco/CoupledHalfCheetah-1p1"),
        ("SafeSwimmer2x1Velocity", "mamujoco/Swimmer-2x1"),
    ],
)
def test_safe_task_rewards_equal_the_plain_task(safe, plain):
    a, b = envs.make(safe, num_envs=2, seed=3), envs.make(plain, num_envs=2, seed=3)
    assert a.spec.has_costs and not b.spec.has_costs
    ta, tb = a.reset(), b.reset()
    generator = torch.Generator().manual_seed(0)
    for _ in range(40):
        assert torch.equal(ta.state, tb.state)
        assert all(torch.equal(ta.obs[k], tb.obs[k]) for k in a.spec.agents)
        actions = envs.random_actions(a.spec, generator=generator)
        ta, tb = a.step(actions), b.step(actions)
        assert all(torch.equal(ta.reward[k], tb.reward[k]) for k in a.spec.agents)
        assert torch.equal(ta.done, tb.done)


@pytest.mark.parametrize(
    ("robot", "conf"),
    [
        ("HalfCheetah", "2x3"),
        ("Ant", "4x2"),
        ("ManySegmentAnt", "2x3"),
        ("Humanoid", "9|8"),
        ("Reacher", "2x1"),
    ],
)
def test_observations_and_rewards_equal_raw_mamujoco(robot, conf):
    """Over a trajectory, so the index map (not just the first reset it is checked on) is tested."""
    from gymnasium_robotics import mamujoco_v1

    raw = mamujoco_v1.parallel_env(robot, conf)
    env = envs.make(f"mamujoco/{robot}-{conf}", seed=5)
    raw_obs, _ = raw.reset(seed=5)
    timestep = env.reset()
    # every robot with an observation structure gathers by index (Reacher has none: it walks)
    assert (env._vector.copies[0].env._obs_index is None) == (robot == "Reacher")
    generator = torch.Generator().manual_seed(1)
    for _ in range(30):
        for agent in env.spec.agents:  # final_obs: the last of an episode that ended (Humanoid falls)
            np.testing.assert_array_equal(
                timestep.final_obs[agent][0].numpy(), raw_obs[agent].astype(np.float32)
            )
        if bool(timestep.done[0]):
            break
        actions = envs.random_actions(env.spec, generator=generator)
        raw_obs, raw_reward, *_ = raw.step({a: x[0].numpy() for a, x in actions.items()})
        timestep = env.step(actions)
        assert float(timestep.reward["agent_0"][0]) == np.float32(raw_reward["agent_0"])


def test_episode_cost_is_reported_when_the_episode_ends():
    env = envs.make("SafeHalfCheetah6x1Bomb", num_envs=2, seed=0, max_episode_steps=25)
    env.reset()
    total = torch.zeros(2)
    for step in range(25):
        timestep = env.step(envs.random_actions(env.spec))
        total += timestep.cost["agent_0"]
        assert bool(timestep.truncated.all()) == (step == 24)
        assert torch.equal(timestep.cost["agent_0"], timestep.cost["agent_5"])  # the team cost to every agent
    assert torch.equal(timestep.info["episode_cost"], total)
    assert total.sum() > 0  # the bomb comes within 9 of a cheetah that stays near the start


def test_subprocess_copies_give_the_same_costs_as_in_process():
    results = []
    for vector in ("sync", "subproc"):
        env = envs.make("SafeHopper3x1Obstacle", num_envs=2, seed=1, vector=vector)
        env.reset()
        generator = torch.Generator().manual_seed(2)
        seq = [env.step(envs.random_actions(env.spec, generator=generator)) for _ in range(30)]
        results.append(torch.stack([t.cost["agent_0"] for t in seq]))
        env.close()
    assert torch.equal(*results)


# ------------------------------------------------------------------- options & errors


def test_unknown_robot_lists_the_valid_ones():
    with pytest.raises(ValueError, match="unknown MaMuJoCo robot 'Spider'; valid robots: Ant, .*Walker2d"):
        make_mamujoco(robot="Spider", agent_conf="2x4")


def test_bad_partition_lists_the_valid_ones():
    with pytest.raises(
        ValueError, match=r"invalid partition '2x5' for Ant; valid partitions: '2x4', '2x4d', '4x2', '8x1'"
    ):
        envs.make("mamujoco/Ant-2x4", agent_conf="2x5")
    with pytest.raises(ValueError, match=r"invalid partition 'two' for ManySegmentAnt.*any 'NxM'"):
        envs.make("mamujoco/ManySegmentAnt-2x3", agent_conf="two")


def test_safe_task_refuses_another_robot_and_bad_options():
    with pytest.raises(ValueError, match="SafeAnt2x4Corridor fixes its robot and partition"):
        envs.make("SafeAnt2x4Corridor", agent_conf="4x2")
    with pytest.raises(ValueError, match="agent_obsk must be an integer >= 0"):
        envs.make("SafeAnt2x4Corridor", agent_obsk=-1)
    with pytest.raises(ValueError, match="render_mode must be None or 'rgb_array'"):
        envs.make("mamujoco/Hopper-3x1", render_mode="human")


def test_partition_and_observation_depth_are_options():
    deep = envs.make("mamujoco/HalfCheetah-6x1", agent_obsk=2)
    shallow = envs.make("mamujoco/HalfCheetah-6x1", agent_obsk=0)
    assert deep.spec.num_agents == shallow.spec.num_agents == 6
    assert all(
        deep.spec.observation_spaces[a].shape[0] > shallow.spec.observation_spaces[a].shape[0]
        for a in deep.spec.agents
    )
    assert envs.make("mamujoco/Ant-2x4", agent_conf="8x1").spec.num_agents == 8


def test_cost_limits_and_thresholds_are_in_the_spec_metadata():
    expected_limits = {
        "SafeAnt2x4Corridor": 0.2,
        "SafeManyAgentAnt3x2Corridor": 1.0,
        "SafeHalfCheetah2x3Bomb": 5.0,
    }
    for task, limit in expected_limits.items():
        assert envs.make(task).spec.metadata["cost_limit"] == limit
    assert envs.make("SafeHumanoid9|8Velocity").spec.metadata["velocity_threshold"] == 0.58
    assert envs.make("SafeWalker2d2x3Velocity").spec.metadata["velocity_threshold"] == 1.641


def test_coupled_halfcheetah_runs_on_current_mujoco_with_a_dense_tendon_jacobian():
    import mujoco

    from safe_mamujoco.coupled import dense_tendon_jacobian

    env = envs.make("mamujoco/CoupledHalfCheetah-1p1", seed=0)
    env.reset()
    for _ in range(20):
        env.step(envs.random_actions(env.spec))
    sim = first_copy(env).sim
    mujoco.mj_forward(sim.model, sim.data)  # the Jacobian and velocity of the current state
    jacobian = dense_tendon_jacobian(sim.model, sim.data)
    assert jacobian.shape == (1, sim.model.nv)
    np.testing.assert_allclose(jacobian @ sim.data.qvel, sim.data.ten_velocity, atol=1e-9)  # dl/dt = J qdot
    assert np.abs(jacobian).sum() > 0


def test_obstacles_are_in_the_scene_and_do_not_collide():
    for task, geom in (
        ("SafeAnt2x4Corridor", "safe_wall_left_0"),
        ("SafeHalfCheetah2x3Bomb", "safe_bomb_geom"),
    ):
        env = envs.make(task)
        model = first_copy(env).sim.model
        assert model.geom(geom).contype[0] == 0 and model.geom(geom).conaffinity[0] == 0


def test_render_rgb_frames_show_the_scene():
    env = envs.make("SafeHopper3x1Obstacle", seed=0, render_mode="rgb_array", width=96, height=64)
    env.reset()
    try:
        frame = env.render()
    except Exception as error:  # no EGL/OSMesa on this machine
        pytest.skip(f"offscreen rendering unavailable: {error!r}")
    assert frame.shape == (64, 96, 3) and frame.dtype == np.uint8 and frame.std() > 0
    through_worker = envs.make(
        "SafeHopper3x1Obstacle", vector="subproc", render_mode="rgb_array", width=96, height=64
    )
    through_worker.reset(seed=0)
    np.testing.assert_array_equal(through_worker.render(), frame)
    through_worker.close()
    not_made_to_render = envs.make("mamujoco/Hopper-3x1")
    not_made_to_render.reset()
    with pytest.raises(RuntimeError, match="render_mode='rgb_array'"):
        not_made_to_render.render()


def test_many_segment_ant_index_map_covers_the_root_y_that_upstream_maps_to_index_0():
    """Upstream's `observation_factorization` sends the skipped root x, y to index 0; some
    ManySegmentAnt nodes read the root's y, so only a map with the skipped qpos is exact."""
    copy = envs.make("mamujoco/ManySegmentAnt-2x3", seed=3)._vector.copies[0].env
    state, _ = copy.sim.reset(seed=3)
    walked = copy.multi._get_obs()
    upstream = {a: state[i] for a, i in copy.multi.observation_factorization.items()}
    ours = copy._obs_index.gather(state, copy.sim.data)
    assert copy._obs_index.uses_skipped_qpos
    assert not all(np.array_equal(walked[a], upstream[a]) for a in walked)
    assert all(np.array_equal(walked[a], ours[a]) for a in walked)
