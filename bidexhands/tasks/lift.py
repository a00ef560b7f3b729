"""ShadowHandLiftUnderarm: both palms come up under the two handles of a pot on a table and lift
it 0.4 m to the goal.

Reward as published: r = 0.2 - d_R - d_L + 3 (0.385 - d) [d_R < 0.08 and d_L < 0.08], with d the
pot-goal distance and d_R, d_L the distances from each palm centre to its handle (hand0 takes
the handle on its side). An episode ends early when the pot falls below 0.3 m or a palm is more
than 0.2 m from its handle; success (not part of the published task) is d < 0.05.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import mujoco
import torch

from bidexhands.physics import Readings
from bidexhands.rotations import quat_apply
from bidexhands.scene import HandMount, Scene, SceneBuilder, yaw_quat
from bidexhands.tasks.base import HandState, Outcome
from bidexhands.tasks.throw_catch import ObjectToGoal

TABLE_HALF = (0.15, 0.15, 0.2)  # Bi-DexHands' 0.3 x 0.3 x 0.4 m table
POT_RADIUS, POT_HALF_HEIGHT, POT_MASS = 0.1, 0.05, 0.5
# handle grip points in the pot frame: +-0.15 m sideways, 0.06 m up (hand0's handle is +y)
HANDLE_OFFSETS = ((0.0, 0.15, 0.06), (0.0, -0.15, 0.06))
GRIP_DISTANCE, LOSE_DISTANCE, DROP_HEIGHT, SUCCESS_DISTANCE = 0.08, 0.2, 0.3, 0.05


@dataclass
class LiftPot(ObjectToGoal):
    table_centre: tuple[float, float, float] = (0.0, -0.6, 0.2)

    def build(self, builder: SceneBuilder) -> None:
        builder.add_static(
            "table",
            type=mujoco.mjtGeom.mjGEOM_BOX,
            size=list(TABLE_HALF),
            pos=list(self.table_centre),
            rgba=[0.55, 0.45, 0.35, 1.0],
            friction=[3.0, 0.005, 0.0001],
        )
        handle = {"type": mujoco.mjtGeom.mjGEOM_BOX, "size": [0.012, 0.04, 0.008], "mass": 0.02}
        pot = [
            {
                "type": mujoco.mjtGeom.mjGEOM_CYLINDER,
                "size": [POT_RADIUS, POT_HALF_HEIGHT, 0],
                "mass": POT_MASS,
                "rgba": [0.6, 0.72, 0.98, 1.0],
                "friction": [3.0, 0.005, 0.0001],
            },
            {**handle, "pos": [0.0, 0.135, 0.06], "rgba": [0.3, 0.3, 0.3, 1.0]},
            {**handle, "pos": [0.0, -0.135, 0.06], "rgba": [0.3, 0.3, 0.3, 1.0]},
        ]
        start, goal = self.object_starts[0], self.goal_starts[0]
        builder.add_free_object("object0", pos=start, geoms=pot)
        marker = {"type": mujoco.mjtGeom.mjGEOM_CYLINDER, "size": [POT_RADIUS, POT_HALF_HEIGHT, 0]}
        builder.add_goal_marker("goal0", pos=goal, geoms=[{**marker, "rgba": [0.6, 0.72, 0.98, 0.4]}])

    def bind(self, scene: Scene, num_envs: int, device: torch.device) -> None:
        super().bind(scene, num_envs, device)
        self._handle_offsets = torch.tensor(HANDLE_OFFSETS, device=device)

    @property
    def shared_obs_dim(self) -> int:
        return 24 + 6

    def handles(self, r: Readings) -> torch.Tensor:
        """(N, 2, 3) grip points of hand0's and hand1's handles."""
        pos, quat = self.object_pose(r, 0)
        n = pos.shape[0]
        offsets = quat_apply(quat.unsqueeze(1).expand(n, 2, 4), self._handle_offsets.expand(n, 2, 3))
        return pos.unsqueeze(1) + offsets

    def shared_obs(self, r: Readings) -> torch.Tensor:
        return torch.cat((super().shared_obs(r), self.handles(r).flatten(1)), dim=1)

    def evaluate(self, r: Readings, hands: HandState) -> Outcome:
        pos, _ = self.object_pose(r, 0)
        d = torch.linalg.vector_norm(self.goal_pos[:, 0] - pos, dim=1)
        grip = torch.linalg.vector_norm(hands.palm_pos - self.handles(r), dim=-1)  # (N, 2)
        both = (grip < GRIP_DISTANCE).all(dim=1)
        reward = 0.2 - grip.sum(dim=1) + 3.0 * (0.385 - d) * both.float()
        terminated = (pos[:, 2] < DROP_HEIGHT) | (grip > LOSE_DISTANCE).any(dim=1)
        return Outcome(reward=reward, terminated=terminated, success=d < SUCCESS_DISTANCE)


def shadow_hand_lift_underarm() -> LiftPot:
    """Palms up on either side of a pot; the bases reach 0.5 m so that the pot can go 0.4 m up."""
    return LiftPot(
        name="ShadowHandLiftUnderarm",
        max_episode_steps=500,
        mounts=(
            HandMount((0.0, 0.05, 0.45), movable=True, reach=0.5),
            HandMount((0.0, -1.25, 0.45), yaw_quat(math.pi), movable=True, reach=0.5),
        ),
        object_starts=((0.0, -0.6, 0.45),),
        goal_starts=((0.0, -0.6, 0.85),),
        position_noise=0.0,
        dof_noise=0.0,
        random_object_rotation=False,
        random_goal_rotation=False,
    )
