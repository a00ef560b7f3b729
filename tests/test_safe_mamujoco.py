"""Safe MaMuJoCo: cost definitions on values set by hand, the velocity tasks' safe layer
changes nothing but the cost, the obstacle tasks' options, and bad options are refused
with the valid ones. Upstream fidelity of the obstacle tasks: test_safe_mamujoco_fidelity.py."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

pytest.importorskip("mujoco")
pytest.importorskip("gymnasium_robotics")

import envs  # noqa: E402
from safe_mamujoco import costs  # noqa: E402
from safe_mamujoco.env import make_mamujoco  # noqa: E402
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
    # MACPO's pieces are open intervals (M/ant.py:28-35): x exactly 20, 60 or >= 100 takes 20 tan 30
    assert costs.corridor_centre_y(20.0) == pytest.approx(20 * T30)
    assert costs.corridor_centre_y(60.0) == pytest.approx(20 * T30)
    assert costs.corridor_centre_y(59.99) == pytest.approx(-19.99 * T30)
    assert costs.corridor_centre_y(100.0) == pytest.approx(20 * T30)


def test_velocity_cost_planar_and_forward_only():
    assert costs.velocity_cost(2.0, 2.0, 2.522) == 1.0  # speed 2.83
    assert costs.velocity_cost(2.0, 1.0, 2.522) == 0.0  # speed 2.24
    assert costs.velocity_cost(-0.5, 3.0, 0.04891, planar=False) == 0.0  # Swimmer: vx alone
    assert costs.velocity_cost(0.05, 0.0, 0.04891, planar=False) == 1.0


def test_ant_fell_states():
    upright, still = np.array([1.0, 0, 0, 0]), np.zeros(6)
    assert not costs.ant_fell(still, 0.55, upright)
    assert costs.ant_fell(still, 0.1, upright)  # too low
    assert costs.ant_fell(still, 1.2, upright)  # too high
    assert costs.ant_fell(still, 0.55, np.array([0.0, 1, 0, 0]))  # upside down
    assert not costs.ant_fell(
        still, 0.55, np.array([math.cos(1.0), math.sin(1.0), 0, 0])
    )  # tilted 115 degrees
    assert costs.ant_fell(np.array([np.nan, 0, 0, 0, 0, 0]), 0.55, upright)


# ---------------------------------------------------------- costs in the real env


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


@pytest.mark.parametrize(("offset", "expected"), [(0.5, 1.0), (-0.8, 1.0), (1.5, 0.0), (-3.0, 0.0)])
def test_hopper_obstacle_cost_near_and_far(offset, expected):
    env = envs.make("SafeHopper3x1Obstacle", seed=0)
    env.reset()
    copy = first_copy(env)
    t = copy.sim.data.time  # the obstacle is placed at x(t) when the step starts
    _, cost, _ = step_from(env, {0: costs.hopper_obstacle_x(t) + offset})
    assert copy.sim.obstacle_x == pytest.approx(t + math.sin(t) + 3)
    assert cost == costs.proximity_cost(copy.sim.data.qpos[0], copy.sim.obstacle_x, 1.0) == expected


# -------------------------------- a velocity task's safe layer changes only the cost


@pytest.mark.parametrize(
    ("safe", "plain"),
    [
        ("SafeHalfCheetah2x3Velocity", "mamujoco/HalfCheetah-2x3"),
        ("SafeSwimmer2x1Velocity", "mamujoco/Swimmer-2x1"),
    ],
)
def test_velocity_task_equals_the_plain_task_but_for_the_cost(safe, plain):
    """Velocity tasks (Safety-Gymnasium) keep the plain robot; obstacle tasks are MACPO's own scenes."""
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
    with pytest.raises(ValueError, match=r"observation must be one of \['upstream', 'local'\], got 'global'"):
        envs.make("SafeHalfCheetah2x3Bomb", observation="global")
    with pytest.raises(ValueError, match="fix_wall_slicing only applies to the ManyAgent Ant"):
        envs.make("SafeAnt2x4Corridor", fix_wall_slicing=True)
    with pytest.raises(ValueError, match="does not take the option 'ctrl_cost_weight'"):
        envs.make("SafeAnt2x4Corridor", ctrl_cost_weight=0.1)


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
    # 0.2: MAPPO-L's Ant 2x4 --safety_bound (MAPPO-Lagrangian/mappo_lagrangian/scripts/train_mujoco.sh:15);
    # upstream has no preset for the others, so they say the limit is ours
    expected_limits = {
        "SafeAnt2x4Corridor": (0.2, "MAPPO-L's Ant 2x4 script"),
        "SafeAnt8x1Corridor": (0.2, "no upstream preset for this partition"),
        "SafeManyAgentAnt3x2Corridor": (1.0, "the suite's own"),
        "SafeHalfCheetah2x3Bomb": (5.0, "the suite's own"),
        "SafeHopper3x1Obstacle": (5.0, "the suite's own"),
    }
    for task, (limit, source) in expected_limits.items():
        metadata = envs.make(task).spec.metadata
        assert metadata["cost_limit"] == limit and source in metadata["cost_limit_source"]
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


def test_obstacle_tasks_offer_mamujoco_v1_local_observations():
    """`observation="local"`: the plain task's local observations on the same physics; the state is
    the robot's feature vector with its obstacle features."""
    upstream = envs.make("SafeHalfCheetah3x2Bomb", seed=2)
    local = envs.make("SafeHalfCheetah3x2Bomb", seed=2, observation="local")
    plain = envs.make("mamujoco/HalfCheetah-3x2")
    assert (
        local.spec.metadata["observation"] == "local" and upstream.spec.metadata["observation"] == "upstream"
    )
    assert local.spec.observation_spaces == plain.spec.observation_spaces  # [10, 12, 11]
    assert local.spec.state_space.shape == (20,)
    a, b = upstream.reset(), local.reset()
    copy = first_copy(local)
    walked = copy.multi._get_obs()  # mamujoco_v1's own graph walk over this copy's MuJoCo data
    for agent in local.spec.agents:
        np.testing.assert_array_equal(b.obs[agent][0].numpy(), walked[agent].astype(np.float32))
    np.testing.assert_array_equal(b.state[0].numpy(), copy.sim._get_obs().astype(np.float32))
    features = b.state[0].numpy().astype(np.float64)  # the same seed: the upstream copy z-scores them
    row = np.concatenate([features, [1.0, 0.0, 0.0]])
    np.testing.assert_allclose(
        a.obs["agent_0"][0].numpy(), (row - row.mean()) / row.std(), rtol=1e-5, atol=1e-5
    )


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
