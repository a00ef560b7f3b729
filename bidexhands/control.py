"""How actions drive the hands, as in Bi-DexHands (PKU-MARL/DexterousHands).

Finger and wrist actions (the last 20 of a hand's actions) are absolute position targets:
a in [-1, 1] maps linearly onto each actuated joint's limits (`scale`), then
`target = m * target + (1 - m) * previous target` with the cfg's actionsMovingAverage m (1.0 in
all ten tasks, so the average is a no-op) and is clamped to the limits; useRelativeControl is
False in every cfg, so the relative mode is not offered.

A moving base (every task but ShadowHandOver) takes the first 6 actions as a force and a torque
on the hand's forearm, in the world frame, for one control step (tasks/shadow_hand_*.py,
pre_physics_step, applied with gymapi.ENV_SPACE on rigid body 1, the forearm):
    force  = a[0:3] * dt * transition_scale * 1e5   (N)
    torque = a[3:6] * dt * orientation_scale * 1e3  (N m)
with dt = 1/60 s (utils/config.py, sim_params.dt). The hand is a free articulation without
gravity whose every link has linear and angular damping 100 (asset options). PhysX applies that
damping per substep h as v <- (1 - c h)(v + a h) (DyFeatherstoneArticulation.cpp, computeD), with
h = dt / substeps = 1/120 s: for a rigid hand this is the whole-body law
    v_{k+1} = (1 - c h) (v_k + h F / m),   w_{k+1} = (1 - c h) (w_k + h I^-1 T)
(every link damped in proportion to its own mass and inertia adds up to the hand's spatial
inertia). MuJoCo's implicit damping, v_{k+1} = (v_k + h F / m) / (1 + b h), is the same
recurrence when b = c / (1 - c h) per unit mass (600 /s), which `scene.py` gives the free joint
of each moving hand (its dofs sit at the hand's centre of mass, along its principal axes).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

UPSTREAM_DT = 1.0 / 60.0  # sim_params.dt (utils/config.py); controlFrequencyInv is 1 in every cfg
UPSTREAM_SUBSTEPS = 2  # sim.substeps in every task cfg
HAND_DAMPING = 100.0  # asset_options.linear_damping and angular_damping of a moving hand (1/s)
# Isaac Gym's AssetOptions defaults (Preview 4), which the egg, pot and door assets keep: their
# options never set linear_damping or angular_damping (tasks/shadow_hand_*.py, _create_envs)
OBJECT_LINEAR_DAMPING = 0.0
OBJECT_ANGULAR_DAMPING = 0.5
FORCE_GAIN = 1e5  # force = a * dt * transition_scale * 1e5
TORQUE_GAIN = 1e3  # torque = a * dt * orientation_scale * 1e3
ACTIONS_MOVING_AVERAGE = 1.0  # actionsMovingAverage in every task cfg
CLIP_OBSERVATIONS = 5.0  # MultiVecTaskPython's clip_observations (hand_base/multi_vec_task.py)
CLIP_ACTIONS = 1.0  # and its clip_actions


def damping_rate(c: float = HAND_DAMPING, h: float = UPSTREAM_DT / UPSTREAM_SUBSTEPS) -> float:
    """Implicit damping rate b (1/s) whose MuJoCo step equals PhysX's damped step (1 - c h)."""
    keep = 1.0 - min(c * h, 1.0)
    if keep <= 0.0:
        raise ValueError(f"PhysX damping c*h = {c * h} >= 1 stops the body every substep")
    return c / keep


@dataclass(frozen=True)
class BaseControl:
    """A moving base's force/torque scales (the task cfg's `transition_scale`,
    `orientation_scale`) and which point the hand-position observation reads (the task's
    `hand_point`): upstream's root ("mount") in the catch tasks, the palm point (rigid body 3 +
    R (0, -0.02, 0.08)) in LiftUnderarm and the doors (each task's compute_full_state)."""

    transition_scale: float
    orientation_scale: float
    pose_body: str = "mount"

    def wrench(self, actions: torch.Tensor) -> torch.Tensor:
        """(..., 6) base actions in [-1, 1] -> (..., 6) world force (N) and torque (N m)."""
        gains = actions.new_tensor(
            [self.transition_scale * FORCE_GAIN] * 3 + [self.orientation_scale * TORQUE_GAIN] * 3
        )
        return actions * (UPSTREAM_DT * gains)


# -- agent partitions (hand_base/multi_vec_task.py, cfg handAgentIndex) ----------------------
# Part p of a hand: 0 the base (6 actions when it moves) and the wrist (WRJ1, WRJ0), 1 the first
# (index) finger FFJ3-1, 2 the middle finger, 3 the ring finger, 4 the little finger LFJ4-1,
# 5 the thumb THJ4-0. Upstream's own docstring names them differently; its index table does not.
PART_NAMES = ("wrist", "ff", "mf", "rf", "lf", "th")
PART_SIZES = (2, 3, 3, 3, 4, 5)  # finger/wrist actions per part, in the hand's action order
AGENT_SPLITS = {
    "hand": ((tuple(range(6)),), (tuple(range(6)),)),
    "finger": (tuple((p,) for p in range(6)), tuple((p,) for p in range(6))),
}


def part_dims(moving: bool) -> list[list[int]]:
    """Action dimensions of each part within a hand's action vector."""
    base = 6 if moving else 0
    dims, start = [], base
    for p, size in enumerate(PART_SIZES):
        dims.append(([*range(base)] if p == 0 else []) + list(range(start, start + size)))
        start += size
    return dims


def check_agent_index(agent_index) -> tuple[tuple[tuple[int, ...], ...], ...]:
    """Validate Bi-DexHands' agent_index: per hand, a list of agents, each a list of parts 0-5;
    each hand's agents must cover every part exactly once."""
    allowed = (
        "agent_index is two lists (one per hand) of agents, each agent a non-empty list of hand "
        "parts 0-5 (0 base+wrist, 1 ff, 2 mf, 3 rf, 4 lf, 5 thumb), every part of a hand in "
        "exactly one agent, e.g. [[[0, 1, 2, 3, 4, 5]], [[0, 1, 2, 3, 4, 5]]]"
    )
    if not isinstance(agent_index, (list, tuple)) or len(agent_index) != 2:
        raise ValueError(f"{allowed}; got {agent_index!r}")
    hands = []
    for h, agents in enumerate(agent_index):
        if not isinstance(agents, (list, tuple)) or not agents:
            raise ValueError(f"{allowed}; hand {h} has {agents!r}")
        seen: list[int] = []
        for agent in agents:
            if not isinstance(agent, (list, tuple)) or not agent:
                raise ValueError(f"{allowed}; hand {h} has agent {agent!r}")
            for p in agent:
                if isinstance(p, bool) or not isinstance(p, int) or not 0 <= p <= 5:
                    raise ValueError(f"{allowed}; hand {h} has part {p!r}")
            seen += list(agent)
        repeated = sorted({p for p in seen if seen.count(p) > 1})
        missing = sorted(set(range(6)) - set(seen))
        if repeated or missing:
            raise ValueError(f"{allowed}; hand {h}: parts {repeated} repeated, parts {missing} missing")
        hands.append(tuple(tuple(agent) for agent in agents))
    return tuple(hands)
