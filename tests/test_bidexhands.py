"""Bi-DexHands on the C MuJoCo backend: API conformance, and reward/reset/success logic on
states set by hand."""

from __future__ import annotations

import math
import os
import subprocess
import sys

import pytest
import torch

pytest.importorskip("mujoco")
pytest.importorskip("gymnasium_robotics")

import envs  # noqa: E402
from bidexhands.tasks import TASKS  # noqa: E402

NUM_ENVS = 2
# tasks whose hands are welded in place (upstream's fix_base_link True): 20 actions, 187 hand obs
FIXED_BASES = {
    "ShadowHandOver",
    "ShadowHandOverSafeJoint",
    "ShadowHandOverSafeFinger",
    "ShadowHandReOrientation",
}


def make(task: str = "ShadowHandOver", **kwargs):
    kwargs.setdefault("backend", "mujoco")
    return envs.make(f"bidexhands/{task}", num_envs=NUM_ENVS, seed=0, **kwargs)


def neutral(env) -> dict[str, torch.Tensor]:
    return {a: torch.zeros(env.spec.num_envs, *env.spec.action_spaces[a].shape) for a in env.spec.agents}


def place_object(env, world: int, pos, quat=(1.0, 0.0, 0.0, 0.0), index: int = 0) -> None:
    """Write an object pose into one copy, keeping everything else of its state."""
    readings = env.physics.read()
    adr = env.task._adr[index]
    qpos = readings.qpos[world : world + 1].clone()
    qpos[0, adr : adr + 3] = torch.tensor(pos)
    qpos[0, adr + 3 : adr + 7] = torch.tensor(quat)
    ctrl = torch.zeros(1, env.scene.model.nu)
    ctrl[:, env._act_idx.flatten()] = qpos[:, env._act_qpos.flatten()]
    env.physics.set_state(torch.tensor([world]), qpos, torch.zeros(1, env.scene.model.nv), ctrl)


@pytest.mark.parametrize("task", sorted(TASKS))
def test_check_env_every_task(task):
    env = make(task)
    envs.check_env(env)
    spec = env.spec
    moving = task not in FIXED_BASES
    assert spec.agents == ("hand0", "hand1")
    assert spec.action_spaces["hand0"].shape == ((26,) if moving else (20,))
    shared = env.task.shared_obs_dim
    hand = 199 if moving else 187  # upstream's num_hand_obs: 72 + 95 + 20, or 72 + 95 + 26 + 6
    assert spec.observation_spaces["hand1"].shape == (hand + shared,)
    assert spec.state_space.shape == (2 * hand + shared,)
    assert spec.backend == "mujoco" and spec.family == "bidexhands"
    env.close()


def test_agent_blocks_and_state_layout():
    env = make()
    ts = env.reset()
    hand = 187
    # each agent sees its own hand block then the shared block; the state is both hands then shared
    assert torch.equal(ts.state[:, :hand], ts.obs["hand0"][:, :hand])
    assert torch.equal(ts.state[:, hand : 2 * hand], ts.obs["hand1"][:, :hand])
    assert torch.equal(ts.state[:, 2 * hand :], ts.obs["hand0"][:, hand:])
    assert torch.equal(ts.obs["hand0"][:, hand:], ts.obs["hand1"][:, hand:])
    # joint positions are scaled into [-1, 1] by their limits
    assert bool((ts.obs["hand0"][:, :24].abs() <= 1.0 + 1e-5).all())
    # the previous action shows up in the next observation
    actions = {a: torch.full((NUM_ENVS, 20), 0.5) for a in env.spec.agents}
    ts = env.step(actions)
    assert torch.allclose(ts.obs["hand1"][:, hand - 20 : hand], torch.full((NUM_ENVS, 20), 0.5))


def test_reward_is_one_and_success_with_object_on_goal():
    env = make()
    env.reset()
    goal_pos, goal_quat = env.task.goal_pos[0, 0].tolist(), env.task.goal_quat[0, 0].tolist()
    place_object(env, 0, goal_pos, goal_quat)
    readings = env.physics.read()
    outcome = env.task.evaluate(readings, env.hand_state(readings))
    # exp(0) = 1, plus upstream's reachGoalBonus (250), which ShadowHandOver adds at distance 0
    assert outcome.reward[0].item() == pytest.approx(1.0 + 250.0, abs=1e-4)
    assert bool(outcome.success[0]) and not bool(outcome.terminated[0])
    # copy 1 still holds its egg 0.25 m from the goal, with a random rotation between them
    pos, quat = env.task.object_pose(readings, 0)
    d = torch.linalg.vector_norm(pos[1] - env.task.goal_pos[1, 0]).item()
    assert d > 0.2 and not bool(outcome.success[1])
    theta = 2 * math.asin(min(1.0, _quat_diff_norm(quat[1], env.task.goal_quat[1, 0])))
    assert outcome.reward[1].item() == pytest.approx(math.exp(-0.2 * (50 * d + theta)), rel=1e-4)


def _quat_diff_norm(q, g) -> float:
    from bidexhands.rotations import quat_conjugate, quat_mul

    return torch.linalg.vector_norm(quat_mul(q, quat_conjugate(g))[1:]).item()


def test_success_is_reported_when_the_episode_ends():
    env = make()
    env.reset()
    place_object(env, 0, env.task.goal_pos[0, 0].tolist(), env.task.goal_quat[0, 0].tolist())
    env.t[:] = env.spec.max_episode_steps - 1
    ts = env.step(neutral(env))
    assert ts.truncated.tolist() == [True, True]
    assert ts.info["success"].tolist() == [1.0, 0.0]
    ts = env.step(neutral(env))
    assert bool(torch.isnan(ts.info["success"]).all())


def test_object_on_the_floor_terminates_and_resets():
    env = make()
    env.reset()
    place_object(env, 1, (0.0, -0.39, 0.05))
    ts = env.step(neutral(env))
    assert ts.terminated.tolist() == [False, True] and not bool(ts.truncated.any())
    adr = 187 + 2  # object z in the shared block
    assert ts.final_obs["hand0"][1, adr].item() < 0.2
    assert ts.obs["hand0"][1, adr].item() == pytest.approx(0.54, abs=0.02)  # new episode: egg in hand0's palm
    assert ts.info["episode_length"][1].item() == 1.0 and math.isnan(ts.info["episode_length"][0].item())
    # force readings of a copy that was just reset are not measured yet
    assert bool((ts.obs["hand0"][1, 48:72] == 0).all())


def test_base_drift_terminates_over2underarm():
    env = make("ShadowHandCatchOver2Underarm")
    env.reset()
    readings = env.physics.read()
    assert not bool(env.task.evaluate(readings, env.hand_state(readings)).terminated.any())
    qpos = readings.qpos[:1].clone()
    base = env.scene.hands[1].base_qpos  # its free joint: world position, then quaternion
    qpos[0, int(base[0])] += 0.15  # hand1 moved 15 cm along x
    ctrl = torch.zeros(1, env.scene.model.nu)
    env.physics.set_state(torch.tensor([0]), qpos, torch.zeros(1, env.scene.model.nv), ctrl)
    readings = env.physics.read()
    hands = env.hand_state(readings)
    assert hands.base_drift[0, 1].item() == pytest.approx(0.15, abs=1e-3)
    outcome = env.task.evaluate(readings, hands)
    assert outcome.terminated.tolist() == [True, False]


def test_egg_in_the_receiving_palm_stays_and_outscores_a_dropped_one():
    env = make()
    env.reset()
    goal = env.task.goal_pos[0, 0].tolist()
    place_object(env, 0, goal)  # in hand1's palm
    place_object(env, 1, (goal[0] + 0.3, goal[1], goal[2]))  # beside the hands: it falls
    totals = torch.zeros(NUM_ENVS)
    for _ in range(30):
        ts = env.step(neutral(env))
        totals += ts.reward["hand0"]
        if bool(ts.terminated[1]):
            break
    assert bool(ts.terminated[1]) and not bool(ts.done[0])
    assert env.task.object_pose(env.physics.read(), 0)[0][0, 2].item() > 0.45
    assert totals[0] > 5 * totals[1]


def test_same_seed_same_numbers_and_seeds_differ():
    a, b = make(), make()
    ta, tb = a.reset(seed=3), b.reset(seed=3)
    assert torch.equal(ta.state, tb.state)
    tc = a.reset(seed=4)
    assert not torch.equal(ta.state, tc.state)


def test_bad_arguments_name_what_is_allowed():
    with pytest.raises(ValueError, match="mujoco.*warp"):
        make(backend="bullet")
    with pytest.raises(ValueError, match="substeps"):
        make(substeps=0)
    from bidexhands.tasks import make_task

    with pytest.raises(ValueError, match="ShadowHandOver"):
        make_task("ShadowHandOvr")
    with pytest.raises(ValueError, match="natively"):
        make(vector="subproc")


def test_registration_does_not_import_mujoco():
    code = "import sys, bidexhands.registration as r; r.register_bidexhands_tasks(); print('mujoco' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    names = {e.name for e in envs.registered_tasks("bidexhands")}
    assert names == {f"bidexhands/{t}" for t in TASKS}


RENDER = """
import envs
env = envs.make("bidexhands/ShadowHandOver", num_envs=2, seed=0, backend="mujoco")
env.reset()
frame = env.render(1, width=64, height=48)
print(tuple(frame.shape), frame.dtype, float(frame.std()), sep=";")
"""


def test_render_returns_an_rgb_frame():
    # the GL backend is chosen when mujoco is first imported, so each try runs in a fresh process
    errors = []
    for backend in ("egl", "osmesa"):
        env = {**os.environ, "MUJOCO_GL": backend, "PYOPENGL_PLATFORM": backend}
        out = subprocess.run([sys.executable, "-c", RENDER], capture_output=True, text=True, env=env)
        if out.returncode == 0:
            shape, dtype, std = out.stdout.strip().splitlines()[-1].split(";")
            assert shape == "(48, 64, 3)" and dtype == "uint8"
            assert float(std) > 1.0  # not a blank image
            return
        errors.append(f"{backend}: {out.stderr.strip().splitlines()[-1:]}")
    pytest.skip(f"no offscreen OpenGL context ({'; '.join(errors)})")


def set_bases(env, world: int, offsets: dict[int, tuple[float, ...]], object_z: float | None = None) -> None:
    """Move hand bases of one copy by world offsets (their free joints' positions)."""
    readings = env.physics.read()
    qpos = readings.qpos[world : world + 1].clone()
    ctrl = torch.zeros(1, env.scene.model.nu)
    ctrl[:, env._act_idx.flatten()] = qpos[:, env._act_qpos.flatten()]
    for hand, offset in offsets.items():
        index = torch.as_tensor(env.scene.hands[hand].base_qpos[:3])
        qpos[0, index] += torch.tensor(offset)
    if object_z is not None:
        qpos[0, env.task._adr[0] + 2] = object_z
    env.physics.set_state(torch.tensor([world]), qpos, torch.zeros(1, env.scene.model.nv), ctrl)


def drive_bases(env, targets: torch.Tensor, gain: float = 40.0) -> dict[str, torch.Tensor]:
    """Force actions pushing each hand's centre of mass (free joint) towards targets (N, 2, 3)."""
    qpos = env.physics.read().qpos
    actions = torch.zeros(env.spec.num_envs, 2, 26)
    for hand in range(2):
        where = qpos[:, torch.as_tensor(env.scene.hands[hand].base_qpos[:3])]
        actions[:, hand, :3] = (gain * (targets[:, hand] - where)).clamp(-1.0, 1.0)
    return {"hand0": actions[:, 0], "hand1": actions[:, 1]}


def base_positions(env) -> torch.Tensor:
    qpos = env.physics.read().qpos
    return torch.stack([qpos[:, torch.as_tensor(h.base_qpos[:3])] for h in env.scene.hands], dim=1)


def test_lift_rewards_palms_on_both_handles_and_ends_when_a_hand_leaves():
    env = make("ShadowHandLiftUnderarm")
    env.reset()
    readings = env.physics.read()
    hands, handles = env.hand_state(readings), env.task.handles(readings)
    gap = handles - hands.palm_pos  # (N, 2, 3) world offsets from each palm centre to its handle
    # copy 0: both palm centres on their handles
    set_bases(env, 0, {0: tuple(gap[0, 0].tolist()), 1: tuple(gap[0, 1].tolist())})
    # copy 1: hand1 pulled 0.15 m further away from its handle (hand0's handle is on +y)
    set_bases(env, 1, {1: (0.0, -0.15, 0.0)})
    readings = env.physics.read()
    hands = env.hand_state(readings)
    grip = torch.linalg.vector_norm(hands.palm_pos - env.task.handles(readings), dim=-1)
    assert bool((grip[0] < 1e-3).all())
    outcome = env.task.evaluate(readings, hands)
    d = torch.linalg.vector_norm(env.task.goal_pos[0, 0] - env.task.object_pose(readings, 0)[0][0]).item()
    assert outcome.reward[0].item() == pytest.approx(0.2 - grip[0].sum().item() + 3 * (0.385 - d), abs=1e-4)
    assert outcome.terminated.tolist() == [False, True]  # hand1 of copy 1 is more than 0.2 m off
    # the pot below 0.3 m ends the episode too
    set_bases(env, 0, {}, object_z=0.2)
    readings = env.physics.read()
    assert bool(env.task.evaluate(readings, env.hand_state(readings)).terminated[0])


def test_door_ends_when_the_fingertips_leave_the_handles():
    env = make("ShadowHandDoorOpenInward")
    env.reset()
    far = (0.3, 0.3, 0.3)  # world offsets of both bases: about 0.5 m off
    set_bases(env, 1, {0: far, 1: far})
    ts = env.step(neutral(env))
    assert ts.terminated.tolist() == [False, True]


def test_scripted_lift_raises_the_pot_and_outscores_idle_hands():
    env = make("ShadowHandLiftUnderarm")
    env.reset()
    readings = env.physics.read()
    gap = env.task.handles(readings) - env.hand_state(readings).palm_pos  # palm centre -> handle
    start, pot_start = base_positions(env), env.task.object_pose(readings, 0)[0][:, 2]
    totals = torch.zeros(NUM_ENVS)
    for t in range(150):
        targets = start + gap
        targets[..., 2] += -0.03 + (0.0 if t < 60 else 0.004 * (t - 60))  # under the handles, then up
        targets[1] = base_positions(env)[1]  # copy 1 keeps its hands still
        ts = env.step(drive_bases(env, targets))
        totals += ts.reward["hand0"]
    assert not bool(ts.done.any())
    pot_z = env.task.object_pose(env.physics.read(), 0)[0][:, 2]
    assert pot_z[0].item() > pot_start[0].item() + 0.08
    assert pot_z[1].item() == pytest.approx(pot_start[1].item(), abs=0.02)
    assert totals[0] > totals[1] + 10


def test_scripted_push_opens_the_outward_door_and_outscores_idle_hands():
    env = make("ShadowHandDoorOpenOutward")  # an Outward door opens away from the hands
    env.reset()
    start = base_positions(env)
    totals = torch.zeros(NUM_ENVS)
    for t in range(60):
        targets = start.clone()
        targets[0, :, 0] -= min(1.0, t / 30) * 0.2  # 0.2 m towards the door (world -x)
        ts = env.step(drive_bases(env, targets))
        totals += ts.reward["hand0"]
    angles = env.physics.read().qpos[:, env.task._hinge_qpos]
    assert angles[0, 0].item() > 0.2 and angles[0, 1].item() > 0.2  # both leaves swung away
    assert bool((angles[1].abs() < 1e-3).all())
    assert totals[0] > totals[1]


@pytest.mark.parametrize("task", ["ShadowHandOver", "ShadowHandCatchUnderarm"])
def test_finger_agents_drive_the_same_hands_as_hand_agents(task):
    """agent_split="finger": twelve agents whose actions, put together, are the hand agents'
    actions; the same seed and actions give the same trajectory as the two-agent split."""
    hands = envs.make(f"bidexhands/{task}", num_envs=2, seed=4)
    fingers = envs.make(f"bidexhands/{task}", num_envs=2, seed=4, agent_split="finger")
    assert fingers.spec.num_agents == 12 and fingers.spec.agents[:2] == ("hand0_wrist", "hand0_ff")
    sizes = {a: s.shape[0] for a, s in fingers.spec.action_spaces.items()}
    moving = 6 if task != "ShadowHandOver" else 0
    assert sizes["hand0_wrist"] == 2 + moving and sizes["hand0_th"] == 5 and sizes["hand1_lf"] == 4
    assert sum(sizes.values()) == sum(s.shape[0] for s in hands.spec.action_spaces.values())
    envs.check_env(fingers, steps=10)
    a, b = hands.reset(seed=1), fingers.reset(seed=1)
    generator = torch.Generator().manual_seed(0)
    for _ in range(5):
        assert torch.equal(a.state, b.state)
        assert torch.equal(a.obs["hand1"], b.obs["hand1_mf"])
        hand_actions = envs.random_actions(hands.spec, generator=generator)
        finger_actions = {}
        for agent, (h, dims) in fingers.parts.items():
            finger_actions[agent] = hand_actions[f"hand{h}"][:, dims]
        a, b = hands.step(hand_actions), fingers.step(finger_actions)
        assert torch.equal(a.reward["hand0"], b.reward["hand1_th"])
    with pytest.raises(ValueError, match="agent_split must be one of"):
        envs.make(f"bidexhands/{task}", agent_split="joint")


def test_untrained_returns_counts_whole_episodes():
    """The FIDELITY.md 5(a) tool: with a = 0 both copies of CloseOutward end together (the
    fingers drift off the handles at the same step), so the first window holds every episode."""
    from bidexhands.untrained_returns import score

    s = score("ShadowHandDoorCloseOutward", "zero", episodes=1, num_envs=2, seed=0)
    assert s.episodes == 2
    assert 10 < s.mean_length < 250  # ended early, not at the 250-step limit
    assert s.first_window_return == pytest.approx(s.mean_return)
    random = score("ShadowHandDoorCloseOutward", "random", episodes=1, num_envs=2, seed=0)
    assert random.mean_return != pytest.approx(s.mean_return)
