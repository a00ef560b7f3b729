"""ShadowHandLiftUnderarm (Bi-DexHands' bidexhands/tasks/shadow_hand_lift_underarm.py with
bidexhands/cfg/ShadowHandLiftUnderarm.yaml): both palms come up under the two handles of a pot
standing on a table and lift it 0.4 m to the goal.

Reward as published: r = 0.2 - d_R - d_L + 3 (0.385 - d) [d_R < 0.08 and d_L < 0.08], with d the
pot-goal distance and d_R, d_L the distances from hand0's and hand1's palm centres (8 cm up the
palm, 2 cm off its face) to the handle points 0.15 m either side of the pot's centre and 6 cm
up (hand0 takes the +y one). An episode ends early when the pot is at or below 0.3 m or a palm
centre is 0.2 m or more from its handle; success is d < 0.05 at some step.

The pot is upstream's PartNet KitchenPot (assets/mjcf/pot/mobility.urdf, meshes scaled 0.2)
rebuilt from primitives to its meshes' extents: a 3 kg body (cylinder of radius 0.118 m from
-0.065 to 0.061 m, two grip bars at y = +-0.176 m on sloping arms) with the URDF's inertia, and
a 1 kg lid on the URDF's 0-6 cm vertical slide.
"""

from __future__ import annotations

from dataclasses import dataclass

import mujoco
import torch

from bidexhands.physics import Readings
from bidexhands.rotations import quat_apply, to_xyzw
from bidexhands.scene import HAND_FRICTION, HAND_PREFIXES, OBJECT_BITS, HandMount, Scene, SceneBuilder
from bidexhands.tasks.base import HandState, Outcome, Published, Task
from bidexhands.tasks.throw_catch import VEL_SCALE, _catch_cfg, _euler_zyx

TABLE_HALF = (0.15, 0.15, 0.2)  # gymapi create_box(0.3, 0.3, 0.4) at (0, -0.6, 0.2)
TABLE_CENTRE = (0.0, -0.6, 0.2)
TABLE_FRICTION = 3.0  # upstream sets the table's and the pot's first shape's friction to 3
# PhysX averages a contact's two frictions; MuJoCo takes the larger unless one geom has the
# higher priority. The table and the pot's shape 0 take priority with the average against the
# hands' friction 1 (and the pot's other shapes', Isaac Gym's default 1): hand-table,
# pot-table and hand-shape-0 contacts then have PhysX's friction, 2.
TABLE_CONTACT_FRICTION = (TABLE_FRICTION + HAND_FRICTION) / 2
POT_START = (0.0, -0.6, 0.45)  # hand0 + (0, -0.65, 0)
GOAL = (0.0, -0.6, 0.85)  # the start, 0.4 m up; upstream never rotates the pot or the goal
# mobility.urdf inertials: body (link_1) 3 kg, lid (link_0) 1 kg, both ixx=iyy=0.4, izz=0.2 in
# link frames that the fixed joint turns (rpy pi/2, 0, -pi/2): link z is the pot's -x.
POT_BODY_MASS, POT_LID_MASS = 3.0, 1.0
POT_INERTIA = (0.2, 0.4, 0.4)  # about the pot's x, y, z
LID_TRAVEL = 0.06  # joint_0: prismatic along the pot's z, 0 to 6 cm
POT_RADIUS, POT_BOTTOM, POT_RIM = 0.118, -0.065, 0.061
# handle points the reward measures, in the pot frame (hand0's first)
HANDLE_OFFSETS = ((0.0, 0.15, 0.06), (0.0, -0.15, 0.06))
GRIP_DISTANCE, LOSE_DISTANCE, DROP_HEIGHT, SUCCESS_DISTANCE = 0.08, 0.2, 0.3, 0.05
PALM_CENTRE = (0.0, -0.02, 0.08)  # in the palm body: + 0.08 along z, - 0.02 along y

LIFT_CFG = _catch_cfg(
    episode_length=500,
    reset_position_noise=0.0,
    reset_dof_pos_noise=0.0,
    dist_reward_scale=20.0,
    fall_distance=0.4,
    object_type="pot",
    transition_scale=0.25,
    orientation_scale=1.0,
)


def _pot_body_geoms() -> list[dict]:
    """The pot body's shapes, from its meshes' extents in the pot frame."""
    colour = [0.6, 0.72, 0.98, 1.0]
    dark = [0.3, 0.3, 0.3, 1.0]
    half_height = (POT_RIM - POT_BOTTOM) / 2
    geoms: list[dict] = [
        {
            "type": mujoco.mjtGeom.mjGEOM_CYLINDER,
            "size": [POT_RADIUS, half_height, 0],
            "pos": [-0.005, 0.0, (POT_RIM + POT_BOTTOM) / 2],
            "rgba": colour,
        }
    ]
    for side in (1.0, -1.0):
        geoms.append(  # grip bar, 10 cm along x, 1.1 cm thick
            {
                "type": mujoco.mjtGeom.mjGEOM_BOX,
                "size": [0.051, 0.0056, 0.0056],
                "pos": [-0.005, side * 0.176, 0.063],
                "rgba": dark,
            }
        )
        for x in (0.022, -0.035):  # two arms from the wall up to the grip
            arm = {
                "type": mujoco.mjtGeom.mjGEOM_CAPSULE,
                "size": [0.0037, 0, 0],
                "fromto": [x, side * 0.115, 0.015, x, side * 0.175, 0.066],
                "rgba": dark,
            }
            if side > 0 and x > 0:  # upstream's shape 0 (original-29.obj), the one it sets to 3
                arm["friction"] = [TABLE_CONTACT_FRICTION, 0.005, 0.0001]
                arm["priority"] = 1
            geoms.append(arm)
    return geoms


@dataclass
class LiftPot(Task):
    name: str
    cfg: Published
    mounts: tuple[HandMount, HandMount]
    hand_point = "palm"  # a hand's observed position is its palm point (compute_full_state)

    def build(self, builder: SceneBuilder) -> None:
        builder.add_table(
            TABLE_HALF, TABLE_CENTRE, friction=[TABLE_CONTACT_FRICTION, 0.005, 0.0001], priority=1
        )
        pot = builder.add_free_object("object0", pos=POT_START, geoms=_pot_body_geoms())
        pot.mass, pot.inertia, pot.ipos = POT_BODY_MASS, list(POT_INERTIA), [0.0, 0.0, 0.0]
        pot.explicitinertial = True
        lid = pot.add_body(name="pot_lid")
        lid.mass, lid.inertia, lid.ipos = POT_LID_MASS, list(POT_INERTIA), [0.0, 0.0, 0.0]
        lid.explicitinertial = True
        lid.add_joint(
            name="pot_lid_slide",
            type=mujoco.mjtJoint.mjJNT_SLIDE,
            axis=[0.0, 0.0, 1.0],
            range=[0.0, LID_TRAVEL],
            limited=True,
        )
        lid_parts = (  # disk on the rim, and its T-shaped knob
            (mujoco.mjtGeom.mjGEOM_CYLINDER, [0.117, 0.0023, 0], [-0.005, 0.0, 0.0539]),
            (mujoco.mjtGeom.mjGEOM_BOX, [0.003, 0.034, 0.018], [-0.005, 0.0, 0.0775]),
            (mujoco.mjtGeom.mjGEOM_BOX, [0.0055, 0.051, 0.0055], [-0.005, 0.0, 0.096]),
        )
        for i, (kind, size, pos) in enumerate(lid_parts):
            lid.add_geom(
                name=f"pot_lid_geom{i}",
                type=kind,
                size=size,
                pos=pos,
                rgba=[0.5, 0.6, 0.85, 1.0],
                contype=OBJECT_BITS,
                conaffinity=OBJECT_BITS,
                condim=4,
            )
        marker = {
            "type": mujoco.mjtGeom.mjGEOM_CYLINDER,
            "size": [POT_RADIUS, (POT_RIM - POT_BOTTOM) / 2, 0],
            "rgba": [0.6, 0.72, 0.98, 0.4],
        }
        builder.add_goal_marker("goal0", pos=GOAL, geoms=[marker])
        for prefix in HAND_PREFIXES:
            builder.spec.body(f"{prefix}robot0:palm").add_site(
                name=f"{prefix}lift_palm_centre", pos=list(PALM_CENTRE), size=[0.005, 0, 0], group=4
            )
            builder.add_sensor(
                f"{prefix}lift_palm_centre",
                mujoco.mjtSensor.mjSENS_FRAMEPOS,
                mujoco.mjtObj.mjOBJ_SITE,
                f"{prefix}lift_palm_centre",
            )

    def bind(self, scene: Scene, num_envs: int, device: torch.device) -> None:
        self._adr = [scene.free_joints["object0"]]  # a list, as ObjectToGoal's
        self._vel = (scene.sensors["object0_linvel"], scene.sensors["object0_angvel"])
        self._palms = [scene.sensors[f"{prefix}lift_palm_centre"] for prefix in HAND_PREFIXES]
        self._handle_offsets = torch.tensor(HANDLE_OFFSETS, device=device)
        self.goal_pos = torch.tensor(GOAL, device=device).expand(num_envs, 1, 3).clone()

    @property
    def shared_obs_dim(self) -> int:
        return 19

    def reset(self, ids: torch.Tensor, qpos: torch.Tensor, generator: torch.Generator) -> None:
        # resetPositionNoise is 0 and upstream does not rotate the pot: the model's start pose
        adr = self._adr[0]
        qpos[:, adr : adr + 3] = qpos.new_tensor(POT_START)
        qpos[:, adr + 3 : adr + 7] = qpos.new_tensor((1.0, 0.0, 0.0, 0.0))

    def object_pose(self, r: Readings, i: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
        adr = self._adr[0]
        return r.qpos[:, adr : adr + 3], r.qpos[:, adr + 3 : adr + 7]

    def handles(self, r: Readings) -> torch.Tensor:
        """(N, 2, 3) handle points of hand0 (upstream's right hand) and hand1."""
        pos, quat = self.object_pose(r)
        n = pos.shape[0]
        offsets = quat_apply(quat.unsqueeze(1).expand(n, 2, 4), self._handle_offsets.expand(n, 2, 3))
        return pos.unsqueeze(1) + offsets

    def palm_centres(self, r: Readings) -> torch.Tensor:
        """(N, 2, 3) palm centres of hand0 and hand1."""
        return torch.stack([r.sensordata[:, sl] for sl in self._palms], dim=1)

    def shared_obs(self, r: Readings) -> torch.Tensor:
        """pot pose 7 (quaternion x, y, z, w) | linvel 3 | angvel x 0.2 | hand0's handle 3 |
        hand1's handle 3 (no goal)."""
        pos, quat = self.object_pose(r)
        linvel, angvel = (r.sensordata[:, sl] for sl in self._vel)
        return torch.cat((pos, to_xyzw(quat), linvel, VEL_SCALE * angvel, self.handles(r).flatten(1)), dim=1)

    def evaluate(self, r: Readings, hands: HandState) -> Outcome:
        pos, _ = self.object_pose(r)
        d = torch.linalg.vector_norm(self.goal_pos[:, 0] - pos, dim=1)
        grip = torch.linalg.vector_norm(self.handles(r) - self.palm_centres(r), dim=-1)  # (N, 2)
        both = (grip < GRIP_DISTANCE).all(dim=1)
        reward = 0.2 - grip.sum(dim=1) + 3.0 * (0.385 - d) * both.float()
        terminated = (pos[:, 2] <= DROP_HEIGHT) | (grip >= LOSE_DISTANCE).any(dim=1)
        return Outcome(reward=reward, terminated=terminated, success=d < SUCCESS_DISTANCE)


def shadow_hand_lift_underarm() -> LiftPot:
    """Palms up on either side of the pot, 1.3 m apart; the bases reach far enough to lift it."""
    return LiftPot(
        name="ShadowHandLiftUnderarm",
        cfg=LIFT_CFG,
        mounts=(
            HandMount((0.0, 0.05, 0.45), movable=True),
            HandMount((0.0, -1.25, 0.45), _euler_zyx(0.0, 0.0, 3.14159), movable=True),
        ),
    )
