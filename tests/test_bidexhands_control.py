"""Bi-DexHands control and observation layout against upstream (PKU-MARL/DexterousHands): the
moving-base force law, observation sizes and clipping, agent partitions (agent_index)."""

from __future__ import annotations

import math

import pytest
import torch

pytest.importorskip("mujoco")
pytest.importorskip("gymnasium_robotics")

import envs  # noqa: E402
from bidexhands.control import CLIP_OBSERVATIONS, damping_rate, part_dims  # noqa: E402
from bidexhands.scene import hand_inertia  # noqa: E402
from bidexhands.tasks import TASKS  # noqa: E402

# numObservations of "full_state" (tasks/shadow_hand_*.py, num_obs_dict) and num_hand_obs
UPSTREAM_OBS = {
    "ShadowHandOver": (398, 187),
    "ShadowHandCatchUnderarm": (422, 199),
    "ShadowHandCatchOver2Underarm": (422, 199),
    "ShadowHandCatchAbreast": (422, 199),
    "ShadowHandTwoCatchUnderarm": (446, 199),
    "ShadowHandLiftUnderarm": (417, 199),
    "ShadowHandDoorOpenInward": (417, 199),
    "ShadowHandDoorOpenOutward": (417, 199),
    "ShadowHandDoorCloseInward": (417, 199),
    "ShadowHandDoorCloseOutward": (417, 199),
    "ShadowHandPushBlock": (428, 199),
    "ShadowHandBlockStack": (428, 199),
    "ShadowHandReOrientation": (422, 187),
    "ShadowHandGraspAndPlace": (425, 199),
    "ShadowHandSwitch": (417, 199),
    "ShadowHandPen": (417, 199),
    "ShadowHandScissors": (417, 199),
    "ShadowHandBottleCap": (420, 199),
    "ShadowHandSwingCup": (417, 199),
    "ShadowHandKettle": (417, 199),
    # safety-gymnasium's copies keep Bi-DexHands' layouts (safe_isaac_gym/envs/tasks/*_Safe_*.py)
    "ShadowHandOverSafeJoint": (398, 187),
    "ShadowHandOverSafeFinger": (398, 187),
    "ShadowHandCatchOver2UnderarmSafeJoint": (422, 199),
    "ShadowHandCatchOver2UnderarmSafeFinger": (422, 199),
}
# cfg/ShadowHand<Task>.yaml: transition_scale, orientation_scale
UPSTREAM_SCALES = {
    "ShadowHandCatchUnderarm": (0.05, 0.5),
    "ShadowHandCatchOver2Underarm": (0.1, 2.0),
    "ShadowHandCatchAbreast": (0.5, 1.0),
    "ShadowHandTwoCatchUnderarm": (0.05, 0.5),
    "ShadowHandLiftUnderarm": (0.25, 1.0),
    "ShadowHandDoorOpenInward": (0.5, 0.5),
    "ShadowHandDoorOpenOutward": (0.5, 0.5),
    "ShadowHandDoorCloseInward": (0.5, 0.5),
    "ShadowHandDoorCloseOutward": (0.5, 0.5),
    "ShadowHandPushBlock": (0.5, 0.1),
    "ShadowHandBlockStack": (0.2, 0.02),
    "ShadowHandGraspAndPlace": (0.5, 0.1),
    "ShadowHandSwitch": (0.5, 0.1),
    "ShadowHandPen": (0.5, 0.1),
    "ShadowHandScissors": (0.5, 0.1),
    "ShadowHandBottleCap": (0.1, 0.1),
    "ShadowHandSwingCup": (0.1, 0.1),
    "ShadowHandKettle": (0.5, 0.1),
    # safety-gymnasium cfgs/ShadowHandCatchOver2underarm_Safe_*.yaml (the TwoCatch cfg)
    "ShadowHandCatchOver2UnderarmSafeJoint": (0.05, 0.5),
    "ShadowHandCatchOver2UnderarmSafeFinger": (0.05, 0.5),
}


def make(task: str, num_envs: int = 1, **kwargs):
    return envs.make(f"bidexhands/{task}", num_envs=num_envs, seed=0, backend="mujoco", **kwargs)


def zeros(env) -> dict[str, torch.Tensor]:
    return {a: torch.zeros(env.spec.num_envs, *env.spec.action_spaces[a].shape) for a in env.agents}


def physx_steps(acceleration: torch.Tensor, substeps: int) -> torch.Tensor:
    """Displacement of a free body under PhysX's damped step v <- (1 - c h)(v + a h), x <- x + h v,
    with upstream's c = 100 /s and h = 1/120 s (dt 1/60, 2 substeps)."""
    h, keep = 1.0 / 120.0, 1.0 - 100.0 / 120.0
    v, x = torch.zeros(3), torch.zeros(3)
    for _ in range(substeps):
        v = keep * (v + h * acceleration)
        x = x + h * v
    return x


def test_damping_rate_reproduces_physx_step():
    # MuJoCo's implicit step (v + a h) / (1 + b h) equals (1 - c h)(v + a h) when b = c / (1 - c h)
    assert damping_rate() == pytest.approx(600.0)
    h = 1.0 / 120.0
    assert 1.0 / (1.0 + damping_rate() * h) == pytest.approx(1.0 - 100.0 * h)


def test_scales_are_upstream_and_agree_with_task_cfg():
    for task, (transition, orientation) in UPSTREAM_SCALES.items():
        control = make(task).base_control
        assert (control.transition_scale, control.orientation_scale) == (transition, orientation)
        # the catch tasks observe the hand's root; Lift, the doors and the second ten's moving
        # tasks the palm point (each task's compute_full_state)
        expected = "mount" if "Catch" in task else "palm"
        assert control.pose_body == expected, task
    assert make("ShadowHandOver").base_control is None


@pytest.mark.parametrize("task", ["ShadowHandCatchUnderarm", "ShadowHandDoorOpenInward"])
def test_constant_base_force_moves_the_hand_as_upstreams_law(task):
    env = make(task)
    env.reset()
    base = torch.as_tensor(env.scene.hands[0].base_qpos[:3])  # free joint at the hand's centre of mass
    start = env.physics.read().qpos[0, base].clone()
    actions = zeros(env)
    action = torch.tensor([0.6, 0.0, -0.3])
    actions["hand0"][0, :3] = action
    steps = 30
    for _ in range(steps):
        env.step(actions)
    moved = env.physics.read().qpos[0, base] - start
    transition, _ = UPSTREAM_SCALES[task]
    force = action * (1.0 / 60.0) * transition * 1e5  # world frame, upstream pre_physics_step
    expected = physx_steps(force / hand_inertia()[2], steps * env.scene.substeps)
    # the hand is not quite rigid (its fingers are servoed joints): a few per cent
    torch.testing.assert_close(moved, expected, atol=0.05 * expected.norm().item(), rtol=0)
    hand1 = torch.as_tensor(env.scene.hands[1].base_qpos[:3])
    rest = torch.as_tensor(env.scene.model.qpos0[hand1.numpy()], dtype=torch.float32)
    assert (env.physics.read().qpos[0, hand1] - rest).abs().max() < 1e-4  # hand1 was not pushed


def test_constant_base_torque_turns_the_hand_as_upstreams_law():
    env = make("ShadowHandCatchAbreast")
    env.reset()
    hand = env.scene.hands[0]
    quat = torch.as_tensor(hand.base_qpos[3:7])
    actions = zeros(env)
    actions["hand0"][0, 5] = 0.5  # torque about world z
    steps = 20
    q0 = env.physics.read().qpos[0, quat].double()
    for _ in range(steps):
        env.step(actions)
    q1 = env.physics.read().qpos[0, quat].double()
    # rotation from q0 to q1 in the world frame: q1 * conj(q0)
    from bidexhands.rotations import quat_conjugate, quat_mul

    turn = quat_mul(q1, quat_conjugate(q0))
    angle = 2 * math.atan2(turn[1:].norm().item(), turn[0].item())
    axis = turn[1:] / turn[1:].norm()
    # expected: the world inertia about z of the hand at its mount orientation
    import mujoco
    import numpy as np

    _, axes, _, principal = hand_inertia()
    mount = np.zeros(9)
    mujoco.mju_quat2Mat(mount, hand.mount_quat)
    world_axes = mount.reshape(3, 3) @ axes
    inertia = world_axes @ np.diag(principal) @ world_axes.T
    torque = 0.5 * (1.0 / 60.0) * 1.0 * 1e3
    alpha = torch.as_tensor(np.linalg.solve(inertia, [0.0, 0.0, torque]), dtype=torch.float32)
    expected = physx_steps(alpha, steps * env.scene.substeps)
    assert angle == pytest.approx(expected.norm().item(), rel=0.1)
    assert float(axis.float() @ (expected / expected.norm())) > 0.95


@pytest.mark.parametrize("task", sorted(TASKS))
def test_observation_sizes_are_upstreams(task):
    env = make(task)
    total, hand = UPSTREAM_OBS[task]
    assert env.spec.state_space.shape == (total,) or env.task.shared_obs_dim != total - 2 * hand
    if env.task.shared_obs_dim != total - 2 * hand:  # the task block belongs to the task modules
        pytest.xfail(f"{task}'s task block has {env.task.shared_obs_dim} values, upstream {total - 2 * hand}")
    # upstream's state is the whole obs_buf; an agent sees its hand's block and the task block
    assert env.spec.observation_spaces[env.agents[0]].shape == (total - hand,)
    assert env.spec.action_spaces["hand0"].shape == ((20,) if hand == 187 else (26,))


# compute_full_state of each task: per fingertip (distal bodies 7, 11, 15, 20, 25) the rigid-body
# state pos 3, quat (x, y, z, w) 4, linvel 3, angvel 3 from index 72 (PhysX: the link frame's
# pose, the linear velocity of the centre of mass); with a moving base, at 167
# the root position (catch tasks) or the palm point right_hand_pos = body 3 + R (0, 0, 0.08)
# + R (0, -0.02, 0) (shadow_hand_lift_underarm.py, shadow_hand_door_*.py)
HAND_POINT = {
    "ShadowHandOver": None,
    "ShadowHandCatchUnderarm": "root",
    "ShadowHandLiftUnderarm": "palm",
    "ShadowHandDoorOpenInward": "palm",
}
DISTAL = ("ffdistal", "mfdistal", "rfdistal", "lfdistal", "thdistal")


@pytest.mark.parametrize("task", sorted(HAND_POINT))
def test_hand_block_reads_distal_bodies_and_upstreams_hand_point(task):
    import mujoco
    import numpy as np

    env = make(task)
    env.reset()
    gen = torch.Generator().manual_seed(1)
    for _ in range(3):  # move the fingers so that velocities are not zero
        ts = env.step(
            {a: 0.5 * torch.rand(1, *env.spec.action_spaces[a].shape, generator=gen) for a in env.agents}
        )
    model = env.scene.model
    data = mujoco.MjData(model)
    data.qpos[:], data.qvel[:] = env.physics.world_state(0)
    mujoco.mj_forward(model, data)
    for h, agent in enumerate(("hand0", "hand1")):
        block = ts.obs[agent][0].double().numpy()
        prefix = f"hand{h}_robot0:"
        for k, name in enumerate(DISTAL):
            body = model.body(prefix + name).id
            vel = np.zeros(6)
            mujoco.mj_objectVelocity(model, data, mujoco.mjtObj.mjOBJ_BODY, body, vel, 0)  # at the COM
            w, x, y, z = data.xquat[body]
            expected = np.clip(np.concatenate((data.xpos[body], [x, y, z, w], vel[3:], vel[:3])), -5, 5)
            assert np.allclose(block[72 + 13 * k : 85 + 13 * k], expected, atol=2e-3), (agent, name)
        if HAND_POINT[task] == "root":
            assert np.allclose(block[167:170], data.xpos[model.body(prefix + "hand mount").id], atol=1e-5)
        elif HAND_POINT[task] == "palm":
            palm = model.body(prefix + "palm").id
            point = data.xpos[palm] + data.xmat[palm].reshape(3, 3) @ np.array([0.0, -0.02, 0.08])
            assert np.allclose(block[167:170], point, atol=1e-5)


def test_observations_and_state_are_clipped():
    env = make("ShadowHandCatchUnderarm", num_envs=2)
    env.reset()
    readings = env.physics.read()
    qvel = torch.zeros(2, env.scene.model.nv)
    qvel[:, env._dof_idx[0]] = 200.0  # joint velocities x 0.2 = 40, far past the clip
    env.physics.set_state(torch.arange(2), readings.qpos, qvel, torch.zeros(2, env.scene.model.nu))
    ts = env.step(zeros(env))
    for x in (ts.state, *ts.obs.values()):
        assert float(x.abs().max()) <= CLIP_OBSERVATIONS
    assert float(ts.state.abs().max()) == CLIP_OBSERVATIONS


def test_part_dims_cover_each_action_once():
    for moving, size in ((False, 20), (True, 26)):
        dims = sorted(d for part in part_dims(moving) for d in part)
        assert dims == list(range(size))
    assert [len(p) for p in part_dims(True)] == [8, 3, 3, 3, 4, 5]  # hand_actuated_dof_index_dict


@pytest.mark.parametrize("task", ["ShadowHandOver", "ShadowHandCatchUnderarm"])
def test_agent_index_partitions_cover_every_action_once_and_match_the_hand_split(task):
    index = [[[0, 1], [2, 3, 4], [5]], [[5, 0, 1, 2, 3, 4]]]
    custom = make(task, num_envs=2, agent_index=index)
    hands = make(task, num_envs=2)
    assert custom.agents == ("hand0_wrist_ff", "hand0_mf_rf_lf", "hand0_th", "hand1_th_wrist_ff_mf_rf_lf")
    n = hands.spec.action_spaces["hand0"].shape[0]
    for h in range(2):
        dims = [d for agent, (hand, ds) in custom.parts.items() if hand == h for d in ds]
        assert sorted(dims) == list(range(n))
    assert custom.spec.metadata["agent_index"] == index
    # same seed, same joint actions routed through the partition: same trajectory
    a, b = hands.reset(seed=2), custom.reset(seed=2)
    generator = torch.Generator().manual_seed(0)
    for _ in range(4):
        assert torch.equal(a.state, b.state)
        assert torch.equal(a.obs["hand1"], b.obs["hand1_th_wrist_ff_mf_rf_lf"])
        assert torch.equal(a.obs["hand0"], b.obs["hand0_th"])
        hand_actions = envs.random_actions(hands.spec, generator=generator)
        split = {agent: hand_actions[f"hand{h}"][:, dims] for agent, (h, dims) in custom.parts.items()}
        a, b = hands.step(hand_actions), custom.step(split)


@pytest.mark.parametrize(
    ("index", "message"),
    [
        ([[[0, 1, 2, 3, 4, 5]]], "two lists"),
        ([[[0, 1, 2, 3, 4]], [[0, 1, 2, 3, 4, 5]]], r"missing"),
        ([[[0, 1, 2], [2, 3, 4, 5]], [[0, 1, 2, 3, 4, 5]]], r"repeated"),
        ([[[0, 1, 2, 3, 4, 6]], [[0, 1, 2, 3, 4, 5]]], "part 6"),
        ([[[]], [[0, 1, 2, 3, 4, 5]]], "agent"),
    ],
)
def test_bad_agent_index_says_what_is_allowed(index, message):
    with pytest.raises(ValueError, match=message) as error:
        make("ShadowHandOver", agent_index=index)
    assert "parts 0-5" in str(error.value)
    with pytest.raises(ValueError, match="not both"):
        make("ShadowHandOver", agent_split="finger", agent_index=[[[0, 1, 2, 3, 4, 5]]] * 2)
