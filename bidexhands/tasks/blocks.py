"""The two-cube tasks: ShadowHandPushBlock and ShadowHandBlockStack (Bi-DexHands'
bidexhands/tasks/shadow_hand_push_block.py and shadow_hand_block_stack.py with their
bidexhands/cfg/ShadowHand{PushBlock,BlockStack}.yaml).

Both use two 5 cm cubes (assets/urdf/objects/cube_multicolor1.urdf) on a table; each hand has
its own cube: hand0 (upstream's right hand) the "object" cube, hand1 the "block" cube. f_R (f_L)
is the sum of the distances from hand0's (hand1's) five finger points (each distal body + 2 cm
along its z) to its cube's centre.

PushBlock: palms down side by side, the cubes 0.4 m apart; each is to be pushed 0.2 m across
the table to its goal. Published reward, d_L (d_R) the left (right) cube's goal distance:
  r = (1.2 - f_R) + (1.2 - f_L) + 5 - 5 d_L - 5 d_R,
where upstream's compute_reward passes the *left* goal for both cubes (a bug kept here: it
defines the published task), so the reward draws both cubes to the left goal; the observation
carries both goals. An episode ends early when f_R or f_L reaches 1.2. Upstream's success is
1 when both cubes are within 0.1 of the goal the reward measures them against, 0.5 when only
the left one is, latched at its first non-zero value; we report success when it reaches 1.

BlockStack: the hands reach in from either side; hand1's cube must go on top of hand0's at
the table's centre. With g_1 (g_2) the distance of hand1's (hand0's) cube from the top
(bottom) stack point (0, 0, 0.675) ((0, 0, 0.625)):
  r = 1.5 - f_R - f_L + 2 (0.24 - g_1 - g_2) [f_R < 0.5 and f_L < 0.5]
      + 50 (0.05 - |0.675 - z_L|) [g_1 < 0.07 and g_2 < 0.07].
An episode ends early when f_R or f_L reaches 0.75; success is that stacking term above 1
(the top cube within 3 cm of its height, both cubes within 7 cm of their points).
"""

from __future__ import annotations

from dataclasses import dataclass

import mujoco
import torch

from bidexhands.physics import Readings
from bidexhands.rotations import to_xyzw
from bidexhands.scene import HAND_FRICTION, HAND_PREFIXES, HandMount, Scene, SceneBuilder, finger_point_index
from bidexhands.tasks.base import HandState, Outcome, Published, Task
from bidexhands.tasks.throw_catch import VEL_SCALE, _catch_cfg, _euler_zyx

# assets/urdf/objects/cube_multicolor1.urdf: collision box 0.05 m (both cubes use this asset)
CUBE_HALF = 0.025
# both cubes start from_euler_zyx(1.57, 1.57, 0) (push_block.py:417, 422; block_stack.py:434, 439)
CUBE_QUAT = _euler_zyx(1.57, 1.57, 0.0)
CUBE_COLOURS = ((0.85, 0.3, 0.25, 1.0), (0.25, 0.45, 0.85, 1.0))  # hand0's cube, hand1's cube
TABLE_TOP = 0.6  # both tables are 0.6 m tall, centred at z = 0.3 (table_dims.z, table_pose)
REST_Z = TABLE_TOP + CUBE_HALF  # 0.625: a cube resting on the table
# upstream's num_obs is 428 in both tasks (push_block.py:141, block_stack.py:149) but the shared
# block it writes ends at 422 (PushBlock) / 423 (BlockStack): the rest stays zero
UPSTREAM_NUM_OBS = 428
HAND_BLOCKS = 2 * 199  # two moving-base hand blocks (num_hand_obs = 72 + 95 + 26 + 6)

# -- ShadowHandPushBlock ----------------------------------------------------------------------
PUSH_CFG = _catch_cfg(  # C/ShadowHandPushBlock.yaml env block
    episode_length=125,
    reset_position_noise=0.0,
    reset_dof_pos_noise=0.0,
    dist_reward_scale=20.0,
    fall_distance=0.4,
    object_type="block",
    transition_scale=0.5,
    orientation_scale=0.1,
)
PUSH_DENSITY = 500.0  # object_asset_options.density (push_block.py:366)
PUSH_TABLE_HALF = (0.5, 0.5, 0.3)  # create_box(1.0, 1.0, 0.6) at (0, 0, 0.3) (push_block.py:397, 439)
PUSH_TABLE_FRICTION = 0.5  # every table shape (push_block.py:575-579)
# The hands and cubes keep friction 1 (the hand MJCF's, Isaac Gym's default shape friction);
# PhysX averages a contact's two frictions, MuJoCo takes the larger unless one geom has the
# higher priority: the table takes priority with the average against 1, so hand-table and
# cube-table contacts have PhysX's 0.75 and hand-cube and cube-cube ones 1.
PUSH_TABLE_CONTACT = (PUSH_TABLE_FRICTION + HAND_FRICTION) / 2
# "object" (hand0's) at (0, 0.2, 0.6) and "block" (hand1's) at (0, -0.2, 0.6) (push_block.py:415-422):
# their centres start at the table top, half inside it; we start them resting on it (REST_Z)
PUSH_STARTS = ((0.0, 0.2, REST_Z), (0.0, -0.2, REST_Z))
LEFT_GOAL = (-0.2, -0.2, 0.625)  # left_goal_pos (push_block.py:747), hand1's cube's
RIGHT_GOAL = (-0.2, 0.2, 0.625)  # right_goal_pos (push_block.py:749), observed, not rewarded
PUSH_LOSE_SUM = 1.2  # resets where a finger-distance sum >= 1.2 (push_block.py:1400-1401)
PUSH_SUCCESS_DISTANCE = 0.1  # successes: goal distances <= 0.1 (push_block.py:1404-1406)

# -- ShadowHandBlockStack ---------------------------------------------------------------------
STACK_CFG = _catch_cfg(  # C/ShadowHandBlockStack.yaml env block
    episode_length=250,
    reset_position_noise=0.0,
    reset_dof_pos_noise=0.0,
    dist_reward_scale=20.0,
    fall_distance=0.4,
    object_type="block",
    transition_scale=0.2,
    orientation_scale=0.02,
)
STACK_DENSITY = 100.0  # object_asset_options.density (block_stack.py:383)
STACK_TABLE_HALF = (0.25, 0.5, 0.3)  # create_box(0.5, 1.0, 0.6) at (0, 0, 0.3) (block_stack.py:414)
# shape frictions (block_stack.py:586-611): cubes 0.25, every hand shape 0.5, table 0.2
STACK_CUBE_FRICTION, STACK_HAND_FRICTION, STACK_TABLE_FRICTION = 0.25, 0.5, 0.2
# PhysX's averages: hand-cube 0.375, cube-table 0.225, cube-cube 0.25 (and hand-table 0.35,
# hand-hand 0.5). Priorities hand > table > cube give MuJoCo the first three exactly: hands
# carry the hand-cube average, the table the cube-table one, and two cubes their own 0.25;
# hand-table and hand-hand contacts then get the hands' 0.375.
STACK_HAND_CONTACT = (STACK_HAND_FRICTION + STACK_CUBE_FRICTION) / 2
STACK_TABLE_CONTACT = (STACK_TABLE_FRICTION + STACK_CUBE_FRICTION) / 2
# Both hands share collision group i with filter 0 (block_stack.py:525-526): they collide with
# each other. This bit, in hand0's contype and hand1's conaffinity, adds hand0-hand1 contacts
# and nothing else (no other geom carries it).
HAND_PAIR_BIT = 4
# "object" (hand0's) at (0, 0.1, 0.625), "block" (hand1's) at (0, -0.1, 0.625) (block_stack.py:433-439)
STACK_STARTS = ((0.0, 0.1, REST_Z), (0.0, -0.1, REST_Z))
# target_pos = the object's start (block_stack.py:642, 785); stack_pos1 = target + (0, -0.1, 0.05)
# for hand1's cube (on top), stack_pos2 = target + (0, -0.1, 0) for hand0's (block_stack.py:1406-1413)
STACK_TOP = (0.0, 0.0, 0.675)
STACK_BOTTOM = (0.0, 0.0, 0.625)
STACK_NEAR_SUM = 0.5  # up_rew needs both finger sums < 0.5 (block_stack.py:1441-1443)
STACK_NEAR_POINT = 0.07  # stack_rew needs both goal distances < 0.07 (block_stack.py:1452-1454)
STACK_LOSE_SUM = 0.75  # resets where a finger sum >= 0.75, or hand0's <= 0 (block_stack.py:1459-1461)


def _box(half: float, rgba) -> dict:
    return {"type": mujoco.mjtGeom.mjGEOM_BOX, "size": [half] * 3, "rgba": list(rgba)}


@dataclass
class TwoCubes(Task):
    """A table with one free cube per hand; hand i's fingers are measured to cube i."""

    name: str
    cfg: Published
    mounts: tuple[HandMount, HandMount]
    cube_starts: tuple[tuple[float, float, float], tuple[float, float, float]]
    cube_density: float
    table_half: tuple[float, float, float]
    hand_point = "palm"  # a hand's observed position is its palm point (compute_full_state)

    def cube_friction(self) -> dict:
        """Extra geom keywords (friction, priority) of the cubes."""
        return {}

    def table_friction(self) -> dict:
        """Extra geom keywords (friction, priority) of the table."""
        return {}

    def goal_points(self) -> tuple[tuple[float, float, float], ...]:
        """Where the translucent goal cubes of renders stand."""
        return ()

    def build(self, builder: SceneBuilder) -> None:
        builder.add_table(self.table_half, [0.0, 0.0, TABLE_TOP / 2], **self.table_friction())
        for i, (start, colour) in enumerate(zip(self.cube_starts, CUBE_COLOURS, strict=True)):
            cube = {**_box(CUBE_HALF, colour), "density": self.cube_density, **self.cube_friction()}
            body = builder.add_free_object(f"cube{i}", pos=start, geoms=[cube])
            body.quat = list(CUBE_QUAT)
        for i, point in enumerate(self.goal_points()):
            colour = CUBE_COLOURS[i % 2][:3] + (0.35,)
            builder.add_goal_marker(f"goal{i}", pos=point, geoms=[_box(CUBE_HALF, colour)])
        builder.add_finger_points()

    def bind(self, scene: Scene, num_envs: int, device: torch.device) -> None:
        self._adr = [scene.free_joints[f"cube{i}"] for i in range(2)]
        self._vel = [(scene.sensors[f"cube{i}_linvel"], scene.sensors[f"cube{i}_angvel"]) for i in range(2)]
        self._fingers = torch.as_tensor(finger_point_index(scene), device=device)  # (2 hands, 5 fingers, 3)
        self._starts = torch.tensor(self.cube_starts, dtype=torch.float32, device=device)
        self._quat = torch.tensor(CUBE_QUAT, dtype=torch.float32, device=device)

    @property
    def shared_obs_dim(self) -> int:
        return UPSTREAM_NUM_OBS - HAND_BLOCKS

    def reset(self, ids: torch.Tensor, qpos: torch.Tensor, generator: torch.Generator) -> None:
        # resetPositionNoise is 0 and upstream's rotation randomisation is commented out
        # (push_block.py:1043, block_stack.py likewise): both cubes at their start poses, at rest
        for adr, start in zip(self._adr, self._starts, strict=True):
            qpos[:, adr : adr + 3] = start.to(qpos.dtype)
            qpos[:, adr + 3 : adr + 7] = self._quat.to(qpos.dtype)

    def cube_pose(self, r: Readings, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        adr = self._adr[i]
        return r.qpos[:, adr : adr + 3], r.qpos[:, adr + 3 : adr + 7]

    def cube_positions(self, r: Readings) -> torch.Tensor:
        """(N, 2, 3): hand0's cube (upstream's right handle, rigid body 52), then hand1's (53)."""
        return torch.stack([self.cube_pose(r, i)[0] for i in range(2)], dim=1)

    def cube_block(self, r: Readings, i: int) -> list[torch.Tensor]:
        """Cube i's pose 7 (quaternion x, y, z, w), linear velocity 3, angular velocity x 0.2."""
        pos, quat = self.cube_pose(r, i)
        linvel, angvel = (r.sensordata[:, sl] for sl in self._vel[i])
        return [pos, to_xyzw(quat), linvel, VEL_SCALE * angvel]

    def finger_pos(self, r: Readings) -> torch.Tensor:
        """(N, 2, 5, 3): each hand's five finger points."""
        return r.sensordata[:, self._fingers]

    def finger_sums(self, r: Readings) -> torch.Tensor:
        """(N, 2): f_R (hand0's fingers to its cube) and f_L (hand1's to its cube)."""
        cubes = self.cube_positions(r)
        return torch.linalg.vector_norm(self.finger_pos(r) - cubes.unsqueeze(2), dim=-1).sum(dim=-1)

    def _padded(self, parts: list[torch.Tensor]) -> torch.Tensor:
        block = torch.cat(parts, dim=1)
        pad = block.new_zeros(block.shape[0], self.shared_obs_dim - block.shape[1])
        return torch.cat((block, pad), dim=1)


@dataclass
class PushBlock(TwoCubes):
    """Both cubes pushed across the table; the reward measures both against the left goal."""

    def table_friction(self) -> dict:
        return {"friction": [PUSH_TABLE_CONTACT, 0.005, 0.0001], "priority": 1}

    def goal_points(self) -> tuple[tuple[float, float, float], ...]:
        return (RIGHT_GOAL, LEFT_GOAL)

    def bind(self, scene: Scene, num_envs: int, device: torch.device) -> None:
        super().bind(scene, num_envs, device)
        self._goals = torch.tensor((LEFT_GOAL, RIGHT_GOAL), dtype=torch.float32, device=device)
        # upstream's `successes`: 0, 0.5 (left cube only) or 1, latched at its first non-zero value
        self.success_level = torch.zeros(num_envs, device=device)

    def reset(self, ids: torch.Tensor, qpos: torch.Tensor, generator: torch.Generator) -> None:
        super().reset(ids, qpos, generator)
        self.success_level[ids] = 0.0

    def shared_obs(self, r: Readings) -> torch.Tensor:
        """hand0's cube pose 7 | linvel 3 | angvel x 0.2 | hand0's cube position 3 | hand1's cube
        position 3 | left goal 3 | right goal 3 | 5 zeros (upstream's unwritten tail)."""
        n = r.qpos.shape[0]
        cubes = self.cube_positions(r)
        goals = self._goals.flatten().expand(n, 6)
        return self._padded([*self.cube_block(r, 0), cubes[:, 0], cubes[:, 1], goals])

    def goal_distances(self, r: Readings) -> torch.Tensor:
        """(N, 2): d_L (hand1's cube to the left goal) and d_R (hand0's cube to the goal the
        reward passes for it, which upstream makes the left goal too)."""
        cubes = self.cube_positions(r)
        return torch.linalg.vector_norm(cubes - self._goals[0], dim=-1)[:, [1, 0]]

    def evaluate(self, r: Readings, hands: HandState) -> Outcome:
        f = self.finger_sums(r)
        d = self.goal_distances(r)
        reward = (PUSH_LOSE_SUM - f[:, 0]) + (PUSH_LOSE_SUM - f[:, 1]) + 5.0 - 5.0 * d[:, 0] - 5.0 * d[:, 1]
        terminated = (f >= PUSH_LOSE_SUM).any(dim=1)
        left = d[:, 0] <= PUSH_SUCCESS_DISTANCE
        both = left & (d[:, 1] <= PUSH_SUCCESS_DISTANCE)
        level = torch.where(both, 1.0, torch.where(left, 0.5, 0.0))
        self.success_level = torch.where(self.success_level == 0, level, self.success_level)
        return Outcome(reward=reward, terminated=terminated, success=self.success_level == 1.0)


@dataclass
class BlockStack(TwoCubes):
    """hand1's cube stacked on hand0's at the table's centre."""

    def build(self, builder: SceneBuilder) -> None:
        super().build(builder)
        for h, prefix in enumerate(HAND_PREFIXES):
            for body in builder.spec.bodies:
                if not body.name.startswith(prefix):
                    continue
                for geom in body.geoms:
                    if not geom.contype:
                        continue  # visual geoms
                    geom.friction = [STACK_HAND_CONTACT, *geom.friction[1:]]
                    geom.priority = 2
                    if h == 0:
                        geom.contype |= HAND_PAIR_BIT
                    else:
                        geom.conaffinity |= HAND_PAIR_BIT

    def cube_friction(self) -> dict:
        return {"friction": [STACK_CUBE_FRICTION, 0.005, 0.0001], "priority": 0}

    def table_friction(self) -> dict:
        return {"friction": [STACK_TABLE_CONTACT, 0.005, 0.0001], "priority": 1}

    def goal_points(self) -> tuple[tuple[float, float, float], ...]:
        return (STACK_BOTTOM, STACK_TOP)

    def bind(self, scene: Scene, num_envs: int, device: torch.device) -> None:
        super().bind(scene, num_envs, device)
        self._points = torch.tensor((STACK_BOTTOM, STACK_TOP), dtype=torch.float32, device=device)

    def shared_obs(self, r: Readings) -> torch.Tensor:
        """hand0's cube pose 7 | linvel 3 | angvel x 0.2 | hand1's cube pose 7 | linvel 3 |
        angvel x 0.2 | 4 zeros (upstream's unwritten tail)."""
        return self._padded([*self.cube_block(r, 0), *self.cube_block(r, 1)])

    def stack_distances(self, r: Readings) -> torch.Tensor:
        """(N, 2): g_2 (hand0's cube to the bottom point) and g_1 (hand1's cube to the top one)."""
        return torch.linalg.vector_norm(self.cube_positions(r) - self._points, dim=-1)

    def stack_term(self, r: Readings) -> torch.Tensor:
        """Upstream's stack_rew: 50 (0.05 - |top z - hand1's cube z|) with both cubes near their points."""
        g = self.stack_distances(r)
        top_z = self.cube_pose(r, 1)[0][:, 2]
        near = (g < STACK_NEAR_POINT).all(dim=1)
        return torch.where(near, 50.0 * (0.05 - (STACK_TOP[2] - top_z).abs()), 0.0)

    def evaluate(self, r: Readings, hands: HandState) -> Outcome:
        f = self.finger_sums(r)
        g = self.stack_distances(r)
        near = (f < STACK_NEAR_SUM).all(dim=1)
        up = torch.where(near, 2.0 * (0.24 - g[:, 1] - g[:, 0]), 0.0)
        stack = self.stack_term(r)
        reward = 1.5 - f[:, 0] - f[:, 1] + up + stack
        terminated = (f[:, 0] <= 0) | (f >= STACK_LOSE_SUM).any(dim=1)
        return Outcome(reward=reward, terminated=terminated, success=stack > 1.0)


def shadow_hand_push_block() -> PushBlock:
    """Palms down side by side over a table, each above a cube; both cubes are to be pushed
    0.2 m along -x (the published reward draws both to the left goal)."""
    down = _euler_zyx(3.14159, 0.0, 1.57)  # palms down, fingers towards -x (push_block.py:407-413)
    return PushBlock(
        name="ShadowHandPushBlock",
        cfg=PUSH_CFG,
        mounts=(
            HandMount((0.55, 0.2, 0.8), down, movable=True),
            HandMount((0.55, -0.2, 0.8), down, movable=True),
        ),
        cube_starts=PUSH_STARTS,
        cube_density=PUSH_DENSITY,
        table_half=PUSH_TABLE_HALF,
    )


def shadow_hand_block_stack() -> BlockStack:
    """Palms down, reaching in from either side of a table; hand1 stacks its cube on hand0's."""
    return BlockStack(
        name="ShadowHandBlockStack",
        cfg=STACK_CFG,
        mounts=(  # block_stack.py:425-430
            HandMount((0.0, 0.6, 0.7), _euler_zyx(3.14159, 0.0, 3.14), movable=True),
            HandMount((0.0, -0.6, 0.7), _euler_zyx(3.14159, 0.0, 0.0), movable=True),
        ),
        cube_starts=STACK_STARTS,
        cube_density=STACK_DENSITY,
        table_half=STACK_TABLE_HALF,
    )
