"""The safe dexterous tasks against Safety-Gymnasium's Safe Isaac Gym hand tasks.

Expected values are transcribed from PKU-Alignment/safety-gymnasium ae966e5
(safety_gymnasium/tasks/safe_isaac_gym/envs/, `tasks/<Name>.py` and `cfgs/<Name>.yaml`) and from
SafePO 8d0fa76 for the cost limit; costs are checked against their definition on scripted
actions, the rest on hand-set states.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

pytest.importorskip("mujoco")
pytest.importorskip("gymnasium_robotics")

import envs  # noqa: E402

# name -> (upstream file, the action indices its compute_cost checks, the Bi-DexHands task it copies)
SAFE = {
    "ShadowHandOverSafeJoint": ("ShadowHandOver_Safe_joint", (4,), "ShadowHandOver"),
    "ShadowHandOverSafeFinger": ("ShadowHandOver_Safe_finger", (2, 3, 4), "ShadowHandOver"),
    "ShadowHandCatchOver2UnderarmSafeJoint": (
        "ShadowHandCatchOver2underarm_Safe_joint",
        (4,),
        "ShadowHandCatchOver2Underarm",
    ),
    "ShadowHandCatchOver2UnderarmSafeFinger": (
        "ShadowHandCatchOver2underarm_Safe_finger",
        (2, 3, 4),
        "ShadowHandCatchOver2Underarm",
    ),
}
# compute_full_state: num_obs 398 (Over) / 422 (CatchOver2), num_hand_obs 187 / 199
SIZES = {"ShadowHandOver": (398, 187), "ShadowHandCatchOver2Underarm": (422, 199)}


def make(task: str, num_envs: int = 4, **kwargs):
    return envs.make(f"bidexhands/{task}", num_envs=num_envs, seed=0, backend="mujoco", **kwargs)


def upstream_cost(hand0_actions: np.ndarray, dims) -> np.ndarray:
    """compute_cost: 1 where actions[:, i] < -0.5 or actions[:, i] > 0.5 for a listed i, else 0."""
    cost = np.zeros(len(hand0_actions), dtype=np.float32)
    for i in dims:
        cost = np.where(hand0_actions[:, i] < -0.5, 1.0, cost)
        cost = np.where(hand0_actions[:, i] > 0.5, 1.0, cost)
    return cost


def euler_zyx_matrix(roll, pitch, yaw) -> np.ndarray:
    """Isaac Gym's Quat.from_euler_zyx as a matrix: R = Rz(yaw) Ry(pitch) Rx(roll)."""
    cr, sr, cp, sp, cy, sy = (f(a) for a in (roll, pitch, yaw) for f in (math.cos, math.sin))
    rx = np.array([[1, 0, 0], [0, cr, -sr], [0, sr, cr]])
    ry = np.array([[cp, 0, sp], [0, 1, 0], [-sp, 0, cp]])
    rz = np.array([[cy, -sy, 0], [sy, cy, 0], [0, 0, 1]])
    return rz @ ry @ rx


def quat_matrix(wxyz) -> np.ndarray:
    w, x, y, z = wxyz
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
            [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
            [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
        ]
    )


@pytest.mark.parametrize("task", sorted(SAFE))
def test_spec_has_costs_with_safepos_limit_and_upstreams_sizes(task):
    env = make(task, num_envs=2)
    envs.check_env(env)
    spec = env.spec
    num_obs, hand_obs = SIZES[SAFE[task][2]]
    assert spec.has_costs
    assert spec.state_space.shape == (num_obs,)
    assert spec.observation_spaces["hand0"].shape == (num_obs - hand_obs,)
    # SafePO's --cost-limit default and marl_cfg/{macpo,mappolag}/config.yaml cost_limit: 25
    assert spec.metadata["cost_limit"] == 25.0
    assert "SafePO" in spec.metadata["cost_limit_source"]
    assert SAFE[task][0] in spec.metadata["cost_source"]
    assert "episode_cost" in spec.info_keys
    env.close()


@pytest.mark.parametrize("task", sorted(SAFE))
def test_receiver_is_turned_as_upstream_and_the_rest_is_bidexhands(task):
    from bidexhands.tasks import TASKS

    safe, base = TASKS[task](), TASKS[SAFE[task][2]]()
    # shadow_another_hand_start_pose.r = from_euler_zyx(0, 3.1415926, 3.1415926) (Over_Safe_*.py:392,
    # CatchOver2underarm_Safe_*.py:398): a half turn about x, the receiving palm facing down
    expected = euler_zyx_matrix(0.0, 3.1415926, 3.1415926)
    assert quat_matrix(safe.mounts[1].quat) == pytest.approx(expected, abs=1e-6)
    assert quat_matrix(safe.mounts[1].quat) == pytest.approx(np.diag([1.0, -1.0, -1.0]), abs=1e-6)
    assert safe.mounts[1].pos == base.mounts[1].pos and safe.mounts[0] == base.mounts[0]
    assert safe.object_starts == base.object_starts and safe.goal_starts == base.goal_starts
    assert safe.fall_height == base.fall_height and safe.drift == base.drift


def test_catch_over2underarm_safe_takes_the_two_catch_cfg():
    from bidexhands.tasks import TASKS

    # cfgs/ShadowHandCatchOver2underarm_Safe_{joint,finger}.yaml: episodeLength 75,
    # resetPositionNoise 0.01, resetDofPosRandomInterval 0.2, distRewardScale 50,
    # transition_scale 0.05, orientation_scale 0.5, reachGoalBonus 250, fallDistance 0.65
    for task in ("ShadowHandCatchOver2UnderarmSafeJoint", "ShadowHandCatchOver2UnderarmSafeFinger"):
        c = TASKS[task]().cfg
        ours = (
            c.episode_length,
            c.reset_position_noise,
            c.reset_dof_pos_noise,
            c.dist_reward_scale,
            c.transition_scale,
            c.orientation_scale,
            c.reach_goal_bonus,
            c.fall_distance,
        )
        assert ours == (75, 0.01, 0.2, 50.0, 0.05, 0.5, 250.0, 0.65)
        assert TASKS[task]().goal_bonus  # compute_hand_reward adds reach_goal_bonus at goal_dist <= 0


@pytest.mark.parametrize("task", sorted(SAFE))
def test_cost_equals_upstreams_definition_on_scripted_actions(task):
    dims = SAFE[task][1]
    env = make(task, num_envs=6)
    env.reset(seed=1)
    n_act = env.spec.action_spaces["hand0"].shape[0]
    hand0 = np.zeros((6, n_act), dtype=np.float32)
    hand0[1, dims[-1]] = 0.5  # on the bound: no cost (strict inequalities)
    hand0[2, dims[-1]] = 0.51
    hand0[3, dims[0]] = -0.75
    hand0[4, [d for d in range(n_act) if d not in dims]] = 1.0  # every other action at its limit
    hand0[5, list(dims)] = -0.5
    hand1 = np.ones((6, n_act), dtype=np.float32)  # hand1's actions never cost
    ts = env.step({"hand0": torch.from_numpy(hand0), "hand1": torch.from_numpy(hand1)})
    expected = upstream_cost(hand0, dims)
    assert expected.tolist() == [0, 0, 1, 1, 0, 0]
    for agent in env.spec.agents:  # the one team cost goes to every agent
        assert ts.cost[agent].dtype == torch.float32
        assert ts.cost[agent].tolist() == expected.tolist()


def test_over_cost_watches_the_first_fingers_joints():
    # In Over's fixed-base layout hand0's actions are shared.xml's 20 actuators in order: 2, 3, 4
    # are A_FFJ3 (abduction), A_FFJ2 and A_FFJ1 (Safety-Gymnasium docs: the forefinger's joints)
    env = make("ShadowHandOverSafeFinger", num_envs=1)
    model = env.scene.model
    names = [model.actuator(int(a)).name for a in env._act_idx[0, [2, 3, 4]]]
    assert names == ["hand0_robot0:A_FFJ3", "hand0_robot0:A_FFJ2", "hand0_robot0:A_FFJ1"]


def test_catch_over2underarm_cost_watches_base_force_z_and_torques_x_y():
    # CatchOver2underarm_Safe_joint.py:1086-1092: actions 0:3 are the base force, 3:6 its torque,
    # so the watched indices 2, 3, 4 are force z, torque x and torque y of hand0's forearm
    env = make("ShadowHandCatchOver2UnderarmSafeFinger", num_envs=1)
    env.reset(seed=0)
    hand0 = torch.zeros(1, 26)
    hand0[0, 2], hand0[0, 4] = 0.6, -0.8
    ts = env.step({"hand0": hand0, "hand1": torch.zeros(1, 26)})
    assert ts.cost["hand0"].tolist() == [1.0]
    wrench = env.physics._xfrc[0, env._force_bodies[0]]
    dt = 1.0 / 60.0
    # force = a dt transition_scale 1e5, torque = a dt orientation_scale 1e3 (scales 0.05 / 0.5)
    assert wrench.tolist() == pytest.approx(
        [0, 0, 0.6 * dt * 0.05 * 1e5, 0, -0.8 * dt * 0.5 * 1e3, 0], rel=1e-6, abs=1e-9
    )


def test_finger_agents_pay_the_same_cost_as_hand_agents():
    # agent_index splits a hand's actions among agents; the cost reads the assembled hand action
    env = make("ShadowHandOverSafeJoint", num_envs=2, agent_split="finger")
    env.reset(seed=0)
    actions = {a: torch.zeros(2, *env.spec.action_spaces[a].shape) for a in env.spec.agents}
    actions["hand0_ff"][0, 2] = 0.9  # hand0's action 4 (FFJ1)
    actions["hand1_ff"][1, 2] = 0.9  # hand1's: no cost
    ts = env.step(actions)
    assert all(ts.cost[a].tolist() == [1.0, 0.0] for a in env.spec.agents)


@pytest.mark.parametrize("task", ["ShadowHandOverSafeFinger", "ShadowHandCatchOver2UnderarmSafeJoint"])
def test_episode_cost_sums_the_steps_costs(task):
    dims = SAFE[task][1]
    env = make(task, num_envs=3)
    env.reset(seed=2)
    n_act = env.spec.action_spaces["hand0"].shape[0]
    counted = np.zeros(3)
    finished = []
    for t in range(80):  # past the 75-step limit, so every copy finishes at least once
        hand0 = torch.zeros(3, n_act)
        hand0[:, dims[0]] = 0.8 if t % 3 == 0 else 0.1  # a cost every third step
        ts = env.step({"hand0": hand0, "hand1": torch.zeros(3, n_act)})
        counted += upstream_cost(hand0.numpy(), dims)
        for i in torch.nonzero(ts.done).flatten().tolist():
            finished.append((ts.info["episode_cost"][i].item(), counted[i]))
            counted[i] = 0.0
        assert torch.isnan(ts.info["episode_cost"][~ts.done]).all()
    assert len(finished) >= 3
    assert [c for c, _ in finished] == pytest.approx([e for _, e in finished])


# SafePO's thread counts: n_rollout_threads = the task cfg's numEnvs (safepo/multi_agent/macpo.py:806);
# numEnvs in safety-gymnasium's cfgs/<Name>.yaml
SAFE_NUM_ENVS = {
    "ShadowHandOverSafeJoint": 2048,
    "ShadowHandOverSafeFinger": 1024,
    "ShadowHandCatchOver2UnderarmSafeJoint": 512,
    "ShadowHandCatchOver2UnderarmSafeFinger": 256,
}


@pytest.mark.parametrize("algo", ["macpo", "mappo_l"])
def test_safe_hand_runs_use_safepos_settings(algo):
    from baselines.config import resolve

    for task, num_envs in SAFE_NUM_ENVS.items():
        config, _ = resolve(algo, f"bidexhands/{task}", "bidexhands")
        assert config.num_envs == num_envs, task
        # safepo/multi_agent/marl_cfg/{macpo,mappolag}/config.yaml
        assert config.rollout.length == 8 and config.model.hidden_sizes == [512, 512, 512]
        assert (config.train.gamma, config.train.gae_lambda) == (0.96, 0.95)
        assert (config.train.lr, config.train.critic_lr) == (9e-5, 5e-3)
        assert config.train.cost_limit is None  # from the task: 25
        if algo == "macpo":
            t = config.train
            assert (t.kl_threshold, t.ls_steps, t.backtrack_coeff, t.step_fraction) == (0.016, 10, 0.5, 0.1)
        else:
            assert (config.train.ppo_epoch, config.train.lagrangian_init) == (5, 0.78)
            assert config.train.lagrangian_lr == pytest.approx(1e-5 * 5 * 1)


@pytest.mark.parametrize("algo", ["macpo", "mappo_l"])
def test_safe_algorithms_train_on_a_safe_hand_task_and_log_costs(tmp_path, algo):
    import csv

    from baselines.run import main

    out = tmp_path / algo
    argv = ["--env", "bidexhands/ShadowHandOverSafeFinger", "--algo", algo, "--steps", "320"]
    argv += ["--num-envs", "4", "--out", str(out), "--eval-episodes", "2"]
    argv += ["--set", "model.hidden_sizes=[32]", "--set", "env_kwargs.backend=mujoco"]
    main(argv)
    with open(out / "progress.csv") as f:
        rows = list(csv.DictReader(f))
    costs = [float(row["train_cost"]) for row in rows if row["train_cost"] not in ("", "nan")]
    # 320 steps over 4 copies: each copy finishes one 75-step episode; a cost is 0 or 1 per step
    assert costs and all(0.0 <= c <= 75.0 for c in costs)
    assert rows[-1]["eval_cost"] not in ("", "nan")
