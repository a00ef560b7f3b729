"""ShadowHandReOrientation (Bi-DexHands' bidexhands/tasks/shadow_hand_re_orientation.py with
bidexhands/cfg/ShadowHandReOrientation.yaml): two fixed hands, palms up, 1.15 m apart, each
holding a 5 cm cube that it must turn to a goal orientation drawn at random.

Reward as published, with d_i the distance of cube i to its goal (4 cm below its start) and
theta_i its rotation distance to the goal:
  r = -10 (d_1 + d_2) + 1 / (|theta_1| + 0.1) + 1 / (|theta_2| + 0.1) - 0.0002 sum(a^2)
      + 500 [goal reached]
The sum of squares runs over both hands' 40 actions. "Goal reached" is upstream's goal_resets,
which is meant to test either cube but, because its second assignment overwrites the first
(T:1290-1291), tests only cube 2 (hand1's): |theta_2| < 0.1. When it fires, both goals get one
new random orientation before the next step (reset_target_pose at the start of
pre_physics_step), so the same episode goes on with new goals. An episode ends early when a cube
is at or below 0.2 m; success is a goal reached at some step (upstream's `successes` > 0).
"""

from __future__ import annotations

from dataclasses import dataclass

import mujoco
import torch

from bidexhands.physics import Readings
from bidexhands.rotations import random_tilt, rotation_distance
from bidexhands.scene import HandMount, SceneBuilder
from bidexhands.tasks.base import HandState, Outcome, uniform
from bidexhands.tasks.throw_catch import HALF_TURN, ObjectToGoal, _catch_cfg

# cube_multicolor.urdf (assetFileNameBlock, C:49): a 5 cm box collision shape. Its
# non-standard <inertial><density value="567.0"/> is taken as unread, as the sibling cube tasks
# do: the task leaves AssetOptions.density unset (T:360 commented), so Isaac Gym's default 1000
# applies (0.125 kg; 0.071 kg if the importer honoured the tag).
CUBE_HALF = 0.025
CUBE_DENSITY = 1000.0
CUBE = {"type": mujoco.mjtGeom.mjGEOM_BOX, "size": [CUBE_HALF] * 3, "density": CUBE_DENSITY}
CUBE_COLOURS = ((0.6, 0.72, 0.98, 1.0), (0.98, 0.6, 0.72, 1.0))
# T:368-386: hand0 at (0, 0, 0.5); cube 1 at hand0 + (0, -0.39, 0.10), cube 2 0.37 m further -y
OBJECT_STARTS = ((0.0, -0.39, 0.6), (0.0, -0.76, 0.6))
# T:565-573: goal_states = the cubes' starts with z - 0.04 (goal displacement 0, T:392)
GOAL_STARTS = ((0.0, -0.39, 0.56), (0.0, -0.76, 0.56))
FALL_HEIGHT = 0.2  # compute_hand_reward: resets (and fallPenalty) where a cube's z <= 0.2 (T:1299-1304)
GOAL_ANGLE = 0.1  # goal_resets where |rot_dist| < 0.1 (T:1290-1291)

REORIENT_CFG = _catch_cfg(  # C/ShadowHandReOrientation.yaml env block (C:4-44)
    episode_length=600,
    reset_position_noise=0.01,
    reset_dof_pos_noise=0.2,
    dist_reward_scale=-10.0,
    action_penalty_scale=-0.0002,
    reach_goal_bonus=500.0,
    fall_distance=0.24,  # read (T:73) but unused: the fall test is the fixed 0.2 above
    object_type="block",
    transition_scale=0.05,  # in the cfg, read (T:98-99); the bases are fixed, so unused
    orientation_scale=0.5,
)


@dataclass
class ReOrientation(ObjectToGoal):
    """Two cubes, each to its goal orientation; goals re-drawn within the episode."""

    def build(self, builder: SceneBuilder) -> None:
        for i, (start, goal) in enumerate(zip(self.object_starts, self.goal_starts, strict=True)):
            colour = list(CUBE_COLOURS[i])
            builder.add_free_object(f"object{i}", pos=start, geoms=[{**CUBE, "rgba": colour}])
            builder.add_goal_marker(f"goal{i}", pos=goal, geoms=[{**CUBE, "rgba": colour[:3] + [0.4]}])

    def bind(self, scene, num_envs: int, device: torch.device) -> None:
        super().bind(scene, num_envs, device)
        # goals reached at the last step, re-drawn before the next one is evaluated
        self.goal_pending = torch.zeros(num_envs, dtype=torch.bool, device=device)
        self._generator: torch.Generator | None = None

    def reset(self, ids: torch.Tensor, qpos: torch.Tensor, generator: torch.Generator) -> None:
        # one position-noise sample and one rotation for both cubes, one rotation for both goals
        # (reset: rand_floats[:, 0:5] for both objects; reset_target_pose: one new_rot)
        super().reset(ids, qpos, generator)
        self.goal_pending[ids] = False
        self._generator = generator  # the env's generator, for the goals re-drawn mid-episode

    def redraw_goals(self, ids: torch.Tensor) -> None:
        """reset_target_pose: both goals of copies `ids` back at their start positions with one
        new random orientation (about x by pi u0, then about y by pi u1)."""
        if len(ids) == 0:
            return
        rot = random_tilt(uniform(self._generator, (len(ids), 2), self.device))
        for i in range(len(self._adr)):
            self.goal_pos[ids, i] = self._goal_start[i]
            self.goal_quat[ids, i] = rot

    def evaluate(self, r: Readings, hands: HandState) -> Outcome:
        cfg = self.cfg
        # goals reached at the previous step are re-drawn first, as upstream does at the start of
        # the next step (pre_physics_step), so the observation of the step that reached them
        # still shows the old goal
        self.redraw_goals(torch.nonzero(self.goal_pending).flatten())
        self.goal_pending[:] = False
        n = r.qpos.shape[0]
        reward = torch.zeros(n, device=r.qpos.device)
        fell = torch.zeros(n, dtype=torch.bool, device=r.qpos.device)
        thetas = []
        for i in range(len(self._adr)):
            pos, quat = self.object_pose(r, i)
            distance = torch.linalg.vector_norm(self.goal_pos[:, i] - pos, dim=1)
            theta = rotation_distance(quat, self.goal_quat[:, i])
            thetas.append(theta)
            reward += cfg.dist_reward_scale * distance
            reward += cfg.rot_reward_scale / (theta.abs() + cfg.rot_eps)
            down = pos[:, 2] <= self.fall_height
            reward += cfg.fall_penalty * down.float()
            fell |= down
        reward += cfg.action_penalty_scale * (hands.actions.reshape(n, -1) ** 2).sum(dim=1)
        # upstream's goal_resets: the second assignment (cube 2) overwrites the first (cube 1)
        reached = thetas[1].abs() < GOAL_ANGLE
        reward += cfg.reach_goal_bonus * reached.float()
        self.goal_pending = reached.clone()
        return Outcome(reward=reward, terminated=fell, success=reached)


def shadow_hand_re_orientation() -> ReOrientation:
    """Fixed hands, palms up, facing each other 1.15 m apart; each turns the cube in its palm to
    a random goal orientation, and the goals are re-drawn whenever hand1's cube reaches its own."""
    return ReOrientation(
        name="ShadowHandReOrientation",
        cfg=REORIENT_CFG,
        mounts=(HandMount((0.0, 0.0, 0.5)), HandMount((0.0, -1.15, 0.5), HALF_TURN)),
        object_starts=OBJECT_STARTS,
        goal_starts=GOAL_STARTS,
        fall_height=FALL_HEIGHT,
    )
