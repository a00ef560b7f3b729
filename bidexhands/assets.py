"""Where the Shadow Hand model comes from: the MJCF shipped inside the gymnasium-robotics wheel.

Only its asset files are read (robot.xml, shared.xml, shared_asset.xml and the STL meshes);
gymnasium_robotics itself is never imported, which keeps its import-time warnings and its
own Hand* envs out of the way and lets the package work offline.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import mujoco

HAND_FILES = ("robot.xml", "shared.xml", "shared_asset.xml")
# The distal joints are driven through these coupling tendons; the other fixed tendons of the
# model only restate joint limits (their ranges are wider than the joints'), so they are dropped.
COUPLING_TENDONS = ("T_FFJ1c", "T_MFJ1c", "T_RFJ1c", "T_LFJ1c")
FINGERTIP_SITES = ("S_fftip", "S_mftip", "S_rftip", "S_lftip", "S_thtip")
# Bi-DexHands' "fingertips" are these bodies: their frames give the fingertip states and carry
# the force sensors (tasks/shadow_hand_*.py, self.fingertips)
FINGERTIP_BODIES = ("ffdistal", "mfdistal", "rfdistal", "lfdistal", "thdistal")


def asset_root() -> Path:
    """`gymnasium_robotics/envs/assets`, checked to hold the hand files."""
    found = importlib.util.find_spec("gymnasium_robotics")
    if found is None or found.origin is None:
        raise ModuleNotFoundError(
            "Bi-DexHands builds its scenes from the Shadow Hand model inside gymnasium-robotics, "
            "which is not installed",
            name="gymnasium_robotics",
        )
    root = Path(found.origin).parent / "envs" / "assets"
    missing = [f for f in HAND_FILES if not (root / "hand" / f).is_file()]
    if missing or not (root / "stls" / "hand").is_dir():
        raise FileNotFoundError(
            f"the gymnasium-robotics install at {root} lacks the Shadow Hand assets "
            f"(hand/{', hand/'.join(HAND_FILES)}, stls/hand/); reinstall gymnasium-robotics>=1.4"
        )
    return root


def load_hand_spec() -> mujoco.MjSpec:
    """One Shadow Hand as an MjSpec, trimmed for batched simulation.

    Trimmed: the model's explicit finger-thumb contact pairs (no self-collision inside a hand,
    as in Bi-DexHands), the redundant limit tendons, its sensors and user data, and the
    mount's placement (the scene places each hand with a frame).
    """
    root = asset_root()
    hand = root / "hand"
    xml = f"""<mujoco>
  <compiler angle="radian" meshdir="{root / "stls" / "hand"}"/>
  <include file="{hand / "shared.xml"}"/>
  <asset><include file="{hand / "shared_asset.xml"}"/></asset>
  <worldbody><include file="{hand / "robot.xml"}"/></worldbody>
</mujoco>"""
    spec = mujoco.MjSpec.from_string(xml)
    for pair in list(spec.pairs):
        spec.delete(pair)
    for tendon in list(spec.tendons):
        if not tendon.name.endswith(COUPLING_TENDONS):
            spec.delete(tendon)
    for sensor in list(spec.sensors):
        spec.delete(sensor)
    for field in (
        "njmax",
        "nconmax",
        "nuser_jnt",
        "nuser_site",
        "nuser_tendon",
        "nuser_actuator",
        "nuser_sensor",
    ):
        setattr(spec, field, -1)
    for elements in (spec.joints, spec.sites, spec.tendons, spec.actuators):
        for element in elements:
            element.userdata = []
    for geom in spec.geoms:
        if geom.name.endswith(("V_thbase", "V_thhub")):  # 1 mm placeholder boxes that collide
            geom.contype = geom.conaffinity = 0
    for body in spec.bodies:
        body.gravcomp = 1.0  # Isaac Gym disabled gravity on the hand assets
    spec.body("robot0:hand mount").pos = [0.0, 0.0, 0.0]
    # the point Bi-DexHands measures hand-to-object distances from: 8 cm up the palm, 2 cm off its face
    spec.body("robot0:palm").add_site(name="palm_center", pos=[0.0, -0.02, 0.08], size=[0.005, 0, 0], group=3)
    for body in FINGERTIP_BODIES:  # force/torque sensors at the body frame, as upstream's
        spec.body(f"robot0:{body}").add_site(name=f"robot0:ft_{body}", size=[0.002, 0, 0], group=3)
    return spec
