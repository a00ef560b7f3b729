"""The Bi-DexHands tasks and `make_task`, the registry's entry point."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import torch

from bidexhands.tasks.base import Task
from bidexhands.tasks.blocks import shadow_hand_block_stack, shadow_hand_push_block
from bidexhands.tasks.bottle_cap import shadow_hand_bottle_cap
from bidexhands.tasks.door import (
    shadow_hand_door_close_inward,
    shadow_hand_door_close_outward,
    shadow_hand_door_open_inward,
    shadow_hand_door_open_outward,
)
from bidexhands.tasks.grasp_and_place import shadow_hand_grasp_and_place
from bidexhands.tasks.kettle import shadow_hand_kettle
from bidexhands.tasks.lift import shadow_hand_lift_underarm
from bidexhands.tasks.pen import shadow_hand_pen
from bidexhands.tasks.re_orientation import shadow_hand_re_orientation
from bidexhands.tasks.safe import (
    shadow_hand_catch_over2underarm_safe_finger,
    shadow_hand_catch_over2underarm_safe_joint,
    shadow_hand_over_safe_finger,
    shadow_hand_over_safe_joint,
)
from bidexhands.tasks.scissors import shadow_hand_scissors
from bidexhands.tasks.swing_cup import shadow_hand_swing_cup
from bidexhands.tasks.switch import shadow_hand_switch
from bidexhands.tasks.throw_catch import (
    shadow_hand_catch_abreast,
    shadow_hand_catch_over2underarm,
    shadow_hand_catch_underarm,
    shadow_hand_over,
    shadow_hand_two_catch_underarm,
)

if TYPE_CHECKING:
    from bidexhands.env import BiDexHandsEnv

TASKS: dict[str, Callable[[], Task]] = {
    "ShadowHandOver": shadow_hand_over,
    "ShadowHandCatchUnderarm": shadow_hand_catch_underarm,
    "ShadowHandCatchOver2Underarm": shadow_hand_catch_over2underarm,
    "ShadowHandCatchAbreast": shadow_hand_catch_abreast,
    "ShadowHandTwoCatchUnderarm": shadow_hand_two_catch_underarm,
    "ShadowHandLiftUnderarm": shadow_hand_lift_underarm,
    "ShadowHandDoorOpenInward": shadow_hand_door_open_inward,
    "ShadowHandDoorOpenOutward": shadow_hand_door_open_outward,
    "ShadowHandDoorCloseInward": shadow_hand_door_close_inward,
    "ShadowHandDoorCloseOutward": shadow_hand_door_close_outward,
    "ShadowHandPushBlock": shadow_hand_push_block,
    "ShadowHandBlockStack": shadow_hand_block_stack,
    "ShadowHandReOrientation": shadow_hand_re_orientation,
    "ShadowHandGraspAndPlace": shadow_hand_grasp_and_place,
    "ShadowHandSwitch": shadow_hand_switch,
    "ShadowHandPen": shadow_hand_pen,
    "ShadowHandScissors": shadow_hand_scissors,
    "ShadowHandBottleCap": shadow_hand_bottle_cap,
    "ShadowHandSwingCup": shadow_hand_swing_cup,
    "ShadowHandKettle": shadow_hand_kettle,
    # Safety-Gymnasium's safe hand tasks (costs)
    "ShadowHandOverSafeJoint": shadow_hand_over_safe_joint,
    "ShadowHandOverSafeFinger": shadow_hand_over_safe_finger,
    "ShadowHandCatchOver2UnderarmSafeJoint": shadow_hand_catch_over2underarm_safe_joint,
    "ShadowHandCatchOver2UnderarmSafeFinger": shadow_hand_catch_over2underarm_safe_finger,
}


def make_task(
    task: str,
    *,
    num_envs: int = 1,
    device: str | torch.device = "cpu",
    seed: int | None = None,
    validate_actions: bool = True,
    backend: str | None = None,
    substeps: int = 2,
    num_threads: int | None = None,
    vector: str | None = None,
    agent_split: str = "hand",
    agent_index: list | None = None,
) -> BiDexHandsEnv:
    """Build `num_envs` copies of a Bi-DexHands task.

    backend: "mujoco" (C MuJoCo on CPU threads), "warp" (MuJoCo Warp) or None for warp on a CUDA
    device and mujoco otherwise. substeps: physics steps per 1/60 s control step.
    num_threads: CPU threads of the mujoco backend (default: one per available core).
    vector: accepted for the suite's CLI; the worlds are batched natively, so only "sync" or
    None make sense.
    agent_split: "hand" (two agents, the default) or "finger" (per hand: the wrist with any
    moving base, and each of the five fingers, twelve agents).
    agent_index: Bi-DexHands' handAgentIndex partition instead of a preset, per hand a list of
    agents, each a list of parts 0-5 (0 base and wrist, 1-4 first to little finger, 5 thumb),
    e.g. [[[0, 1, 2, 3, 4, 5]], [[0, 1, 2, 3, 4, 5]]] (see `bidexhands.control`).
    """
    from bidexhands.env import BiDexHandsEnv  # here: bidexhands.env imports the task modules

    if vector not in (None, "sync"):
        raise ValueError(
            f"Bi-DexHands batches its worlds natively (backend='mujoco' or 'warp'); vector must be "
            f"'sync' or None, got {vector!r}"
        )
    if task not in TASKS:
        raise ValueError(f"unknown Bi-DexHands task {task!r}; available: {', '.join(sorted(TASKS))}")
    return BiDexHandsEnv(
        TASKS[task](),
        num_envs=num_envs,
        device=device,
        seed=seed,
        validate_actions=validate_actions,
        backend=backend,
        substeps=substeps,
        num_threads=num_threads,
        agent_split=agent_split,
        agent_index=agent_index,
    )
