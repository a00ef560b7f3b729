"""ShadowHandBottleCap (Bi-DexHands' bidexhands/tasks/shadow_hand_bottle_cap.py with
bidexhands/cfg/ShadowHandBottleCap.yaml): hand1 holds a bottle lying tilted in its palm, hand0
comes from behind and pulls its cap off.

The bottle is upstream's PartNet bottle (assets/mjcf/bottle_cap/mobility.urdf, meshes x 0.15)
rebuilt from primitives: a body capsule of 3.95 cm radius, a shoulder and a neck, 0.275 m in
all with the cap, and a 2.6 cm cap on the URDF's two joints, a slide along the bottle's axis (joint_2,
0 to 6.4 cm) and a free twist about it (joint_0), both through the joint origin 1 cm off the
axis. Upstream's mesh of the lower body (original-6.obj) is missing from its repository: that
part is sized from the object's bounding_box.json (see BOTTLE_LOWER).

Published reward, with f_R the summed distance of hand0's five finger points to the cap point
(0.15 m up the bottle's axis from its root), d_L the distance of hand1's palm point to the
bottle root and u = |cap body origin - bottle root| (1.4 cm with the cap seated):
  r = 2 - f_R - d_L + 30 u [f_R <= 0.3]
An episode ends early when the cap point is at or below 0.5 m, hand0's palm point is 0.5 m or
more from the cap point, or d_L reaches 0.2; success is u > 0.03 (the cap lifted about 2 cm).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import mujoco
import torch

from bidexhands.physics import Readings
from bidexhands.scene import HandMount, Scene, SceneBuilder
from bidexhands.tasks.base import HandState, Outcome
from bidexhands.tasks.containers import (
    ContainerTask,
    add_root_velocity,
    at_hull_mass,
    capsule,
    container_cfg,
    geom_bits,
    mesh_point,
    physx_friction,
    sensor_index,
    vertical_cylinder,
)
from bidexhands.tasks.throw_catch import _euler_zyx

BOTTLE_CFG = container_cfg(episode_length=125, transition_scale=0.1, orientation_scale=0.1)
# shadow_hand_bottle_cap.py _create_envs: hand0 (0, -1.05, 0.5) from_euler_zyx(0.5, 3.14159,
# 3.14159), hand1 (0, -0.25, 0.45) from_euler_zyx(0, 1.57 - 0.7, 0)
MOUNTS = (
    HandMount((0.0, -1.05, 0.5), _euler_zyx(0.5, 3.14159, 3.14159), movable=True),
    HandMount((0.0, -0.25, 0.45), _euler_zyx(0.0, 1.57 - 0.7, 0.0), movable=True),
)
# the bottle root: hand0 + (0, 0.45, 0), tilted from_euler_zyx(0, -0.7, 0)
BOTTLE_START = (0.0, -0.6, 0.5)
BOTTLE_QUAT = _euler_zyx(0.0, -0.7, 0.0)
# upstream's default hand joint pose (shadow_hand_default_dof_pos), both hands, every reset:
# THJ4 (dof 19) -1.04, THJ3 (dof 20) 1.2, THJ0 (dof 23) -1.57, every other joint 0
THUMB_POSE = {19: -1.04, 20: 1.2, 23: -1.57}
TABLE_HALF = (0.15, 0.15, 0.05)  # create_box(0.3, 0.3, 0.1), fixed, at (0, -0.6, 0.05)
TABLE_CENTRE = (0.0, -0.6, 0.05)
BOTTLE_FRICTION = 100.0  # every bottle shape (object_shape_prop.friction = 100)

# Extents at scale 0.15 (mesh coordinates: y up, x and z across), from the .obj vertices
LOWER_Y = -0.837097 * 0.15  # bounding_box.json "min" y: the bottom of original-6.obj
# original-6.obj (missing): the only mesh below y = -0.0263, so it is the lower body: from the
# box's bottom to where original-2.obj begins, as wide as the box (x -0.03847..0.04057,
# z -0.03836..0.04062, bounding_box.json x 0.15)
BOTTLE_LOWER = {"radius": 0.0395, "bottom": LOWER_Y, "top": -0.0263}
BODY_CENTRE = (0.0011, 0.0011)  # mesh (x, z) centre of the body's extents
BODY_TOP = 0.0936  # original-3/-8 (the body) up to where original-4 (shoulder) starts
SHOULDER = {"radius": 0.024, "bottom": 0.0936, "top": 0.1338}  # original-4: r 0.033 -> 0.013, equal volume
NECK = {"radius": 0.0112, "bottom": 0.1338, "top": 0.1487}  # original-5.obj
CAP = {"radius": 0.01285, "bottom": 0.1393, "top": 0.1496}  # original-7.obj
CAP_CENTRE = (0.00105, 0.00115)
# joint_2 (prismatic, link_1 -> link_0_helper): origin (0.00701, 0, 0.00754) in link_1, axis
# (0, 1, 0) (the bottle's axis), range [0, 0.064]; joint_0 (continuous, helper -> link_0):
# origin 0, axis (0, 1, 0). link_0's meshes sit at -origin, i.e. where the meshes put them.
CAP_JOINT = mesh_point((0.007005959241653967, 0.0, 0.007542109902568375))
CAP_TRAVEL = 0.06400000000000006
# Upstream's masses: density 500 over each collision shape's convex hull, summed (hull volumes
# of original-2, -3, -4, -5, -8 from their vertices; original-6 as the cylinder above)
BODY_HULL_VOLUME = (
    7.374e-05
    + 4.343e-04
    + 8.957e-05
    + 5.781e-06
    + 1.498e-04
    + (math.pi * BOTTLE_LOWER["radius"] ** 2 * (BOTTLE_LOWER["top"] - BOTTLE_LOWER["bottom"]))
)
CAP_HULL_VOLUME = 5.285e-06  # original-7.obj
# PhysX collides the cap (link_0) with the body (link_1): they are not adjacent links (the
# helper sits between) and the actor's collision filter 0 keeps self-collisions on. The cap's
# hull overlaps the neck's, so PhysX seats it on the neck top in the first step after every
# reset (which writes the slide to 0); we start it there.
CAP_SEATED = NECK["top"] - CAP["bottom"]
# compute_observations: cap point = root + R (0, 0, 0.15); bottle point = the root
CAP_POINT = (0.0, 0.0, 0.15)
GRIP_SUM, CAP_DROP, RIGHT_LOSE, LEFT_LOSE, SUCCESS_LIFT = 0.3, 0.5, 0.5, 0.2, 0.03
LIFT_SCALE = 30.0


def _cylinder(part: dict, centre, offset=(0.0, 0.0, 0.0), **geom) -> dict:
    """A part along the bottle's axis, from mesh extents (y from bottom to top, x/z centre)."""
    x, y, _ = mesh_point((centre[0], 0.0, centre[1]))
    return vertical_cylinder(
        part["radius"],
        part["bottom"] - offset[2],
        part["top"] - offset[2],
        (x - offset[0], y - offset[1]),
        **geom,
    )


def bottle_geoms() -> list[dict]:
    """The bottle body's shapes in its root frame (colliding with PhysX's friction): the body a
    capsule from the bottom to the shoulder (its rounded ends stand for the bottle's rounded
    bottom edge and the start of the shoulder), then the shoulder and the neck."""
    glass, label = [0.55, 0.75, 0.6, 1.0], [0.85, 0.85, 0.8, 1.0]
    x, y, _ = mesh_point((BODY_CENTRE[0], 0.0, BODY_CENTRE[1]))
    radius = BOTTLE_LOWER["radius"]
    body = capsule((x, y, BOTTLE_LOWER["bottom"] + radius), (x, y, BODY_TOP - radius), radius, rgba=glass)
    parts = [body, _cylinder(SHOULDER, BODY_CENTRE, rgba=glass), _cylinder(NECK, BODY_CENTRE, rgba=label)]
    geoms = at_hull_mass(parts, BODY_HULL_VOLUME)
    return [{**g, "friction": physx_friction(BOTTLE_FRICTION), "priority": 1} for g in geoms]


@dataclass
class BottleCap(ContainerTask):
    def build(self, builder: SceneBuilder) -> None:
        # MuJoCo's pyramidal cone regularizes a contact by its friction squared: at upstream's
        # friction (PhysX's average 50.5 against a hand) the bottle sinks through the palm. The
        # elliptic cone keeps the normal and frictional rows apart and holds it as at friction 1.
        builder.spec.option.cone = mujoco.mjtCone.mjCONE_ELLIPTIC
        builder.add_table(TABLE_HALF, TABLE_CENTRE)
        bottle = builder.add_free_object("object0", pos=BOTTLE_START, geoms=bottle_geoms())
        bottle.quat = list(BOTTLE_QUAT)
        add_root_velocity(builder, "object0")
        cap = bottle.add_body(name="bottle_cap", pos=list(CAP_JOINT))
        z = [0.0, 0.0, 1.0]
        cap.add_joint(
            name="cap_slide", type=mujoco.mjtJoint.mjJNT_SLIDE, axis=z, range=[0.0, CAP_TRAVEL], limited=True
        )
        cap.add_joint(name="cap_twist", type=mujoco.mjtJoint.mjJNT_HINGE, axis=z)
        # drive mode: the AssetOptions default (not set here), DOF_MODE_NONE, so the DOF props'
        # stiffness 5 and damping 1 drive nothing; the cap keeps the asset's default angular
        # damping (0.5 /s) and no linear damping
        builder.damp_like_physx("cap_twist")
        (cap_geom,) = at_hull_mass(
            [_cylinder(CAP, CAP_CENTRE, CAP_JOINT, rgba=[0.9, 0.3, 0.2, 1.0])], CAP_HULL_VOLUME
        )
        cap.add_geom(
            name="cap_geom",
            friction=physx_friction(BOTTLE_FRICTION),
            priority=1,
            **geom_bits(**cap_geom),
        )
        # the cap on the neck: body and cap are parent and child here, which MuJoCo would not
        # collide; both shapes have friction 100, PhysX's average of the two
        builder.spec.add_pair(
            name="cap_on_neck",
            geomname1="cap_geom",
            geomname2="object0_geom2",
            condim=4,
            friction=[BOTTLE_FRICTION, BOTTLE_FRICTION, 0.005, 0.0001, 0.0001],
        )
        frame = mujoco.mjtObj.mjOBJ_XBODY
        builder.add_sensor("bottle_cap_pos", mujoco.mjtSensor.mjSENS_FRAMEPOS, frame, "bottle_cap")
        builder.add_finger_points()

    def bind(self, scene: Scene, num_envs: int, device: torch.device) -> None:
        super().bind(scene, num_envs, device)
        model = scene.model
        self._cap_body = sensor_index(scene, ["bottle_cap_pos"], device)
        self._cap_joints = [int(model.jnt_qposadr[model.joint(j).id]) for j in ("cap_slide", "cap_twist")]
        self._thumb = [
            (int(hand.qpos[dof]), value) for hand in scene.hands for dof, value in THUMB_POSE.items()
        ]

    @property
    def shared_obs_dim(self) -> int:
        return 13 + 3 + 3 + 3  # num_obs 420 - 2 x 199

    def reset(self, ids: torch.Tensor, qpos: torch.Tensor, generator: torch.Generator) -> None:
        self.place_free(qpos, self._adr[0], BOTTLE_START, BOTTLE_QUAT)
        slide, twist = self._cap_joints
        qpos[:, slide], qpos[:, twist] = CAP_SEATED, 0.0
        for adr, value in self._thumb:
            qpos[:, adr] = value

    def points(self, r: Readings) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """bottle point (the root), cap point (root + R (0, 0, 0.15)), cap body origin."""
        bottle, _ = self.object_pose(r)
        return bottle, self.point(r, CAP_POINT), r.sensordata[:, self._cap_body]

    def shared_obs(self, r: Readings) -> torch.Tensor:
        """bottle pose 7 | linvel 3 | angvel x 0.2 | bottle point 3 | cap point 3 | cap body 3."""
        return torch.cat((self.root_block(r), *self.points(r)), dim=1)

    def evaluate(self, r: Readings, hands: HandState) -> Outcome:
        bottle, cap, cap_body = self.points(r)
        palms = hands.palm_pos
        right = torch.linalg.vector_norm(cap - palms[:, 0], dim=1)
        left = torch.linalg.vector_norm(bottle - palms[:, 1], dim=1)
        fingers = self.finger_sums(r, torch.stack((cap, cap), dim=1))[:, 0]
        lift = torch.linalg.vector_norm(cap_body - bottle, dim=1)
        reward = 2.0 - fingers - left + LIFT_SCALE * lift * (fingers <= GRIP_SUM).float()
        terminated = (cap[:, 2] <= CAP_DROP) | (right >= RIGHT_LOSE) | (left >= LEFT_LOSE)
        return Outcome(reward=reward, terminated=terminated, success=lift > SUCCESS_LIFT)


def shadow_hand_bottle_cap() -> BottleCap:
    """hand1 cradles a tilted bottle, thumb tucked across its palm; hand0 reaches in from behind
    to pull the cap off the neck."""
    return BottleCap(name="ShadowHandBottleCap", cfg=BOTTLE_CFG, mounts=MOUNTS)
