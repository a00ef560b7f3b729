"""The MJCF scenes of the MACPO obstacle tasks: a Gymnasium(-Robotics) robot plus MACPO's objects.

The robots' bodies, joints and actuators in Gymnasium's `ant.xml` and `half_cheetah.xml`
and in Gymnasium-Robotics' many-segment ant are the ones MACPO's assets use (only
textures, floor size and camera differ), so the robot is taken from there and MACPO's
objects are added after it. Adding them after the robot keeps Gymnasium's joint indices
(MACPO declares the HalfCheetah bomb first, which shifts its cheetah to qpos[1:]); the
physical system is the same. Numbers are transcribed in FIDELITY.md with file and line.
"""

from __future__ import annotations

import os
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass

import gymnasium

GYM_ASSETS = os.path.join(os.path.dirname(gymnasium.__file__), "envs", "mujoco", "assets")
OBSTACLE_RGBA = "1 0.5 0.5 1"
BOMB_BODY, BOMB_GEOM, BOMB_JOINT = "bomb", "bomb_geom", "bomb_slide"
HOPPER_OBSTACLE = "obstacle"


@dataclass(frozen=True)
class WallBox:
    """A box wall: centre, half-sizes and yaw (degrees)."""

    pos: tuple[float, float, float]
    half_size: tuple[float, float, float]
    yaw: float = 0.0


def _corridor_walls(offset: float, pieces: tuple[tuple[float, float], ...]) -> tuple[WallBox, ...]:
    """MACPO's corridor walls: per (x, yaw) a wall at y = +offset and one at y = -offset."""
    return tuple(
        WallBox((x, side * offset, 1.0), (20.0, 0.01, 0.7), yaw) for x, yaw in pieces for side in (1.0, -1.0)
    )


# ant.xml: b1..b6 at x = 0, 40, 80 with yaw +30, -30, +30, y = +-5 (free boxes of 1e-6 kg there)
ANT_WALLS = _corridor_walls(5.0, ((0.0, 30.0), (40.0, -30.0), (80.0, 30.0)))
# manyagent_ant.xml.template: b1, b2 at x = 0, yaw +30, y = +-4.5
MANY_AGENT_WALLS = _corridor_walls(4.5, ((0.0, 30.0),))
# half_cheetah.xml: eight static walls along the track at y = +-4 (the planar cheetah never reaches them)
CHEETAH_WALLS = tuple(
    WallBox((x, side * 4.0, 1.0), (24.8, 0.1, 1.0)) for x in (0.0, 50.0, 100.0, 150.0) for side in (-1.0, 1.0)
)


@dataclass(frozen=True)
class BombSpec:
    """MACPO's bomb: a box on a damped slide joint along x, pushed by a motor (half_cheetah.xml)."""

    body_pos: tuple[float, float, float] = (5.0, 0.0, 0.7)
    geom_pos: tuple[float, float, float] = (5.0, 0.0, 0.7)  # in the body frame: world centre x = 10
    half_size: tuple[float, float, float] = (0.1, 2.3, 1.3)
    density: float = 1e-4
    damping: float = 0.2
    joint_range: float = 5000.0
    gear: float = 120.0


BOMB = BombSpec()


def _vec(values: tuple[float, ...]) -> str:
    return " ".join(f"{v:.9g}" for v in values)


def _worldbody(root: ET.Element) -> ET.Element:
    return root.find("worldbody")


def _set_floor(root: ET.Element, pos: tuple[float, float, float], size: tuple[float, float, float]) -> None:
    """Upstream's floor extent (a plane collides everywhere; this only changes what is drawn)."""
    floor = next(g for g in _worldbody(root).iter("geom") if g.get("name") == "floor")
    floor.set("pos", _vec(pos))
    floor.set("size", _vec(size))


def _add_walls(root: ET.Element, walls: tuple[WallBox, ...], *, collide: bool) -> None:
    for i, wall in enumerate(walls):
        ET.SubElement(
            _worldbody(root),
            "geom",
            name=f"wall{i + 1}",
            type="box",
            pos=_vec(wall.pos),
            size=_vec(wall.half_size),
            euler=f"0 0 {wall.yaw:.9g}",
            contype="1" if collide else "0",
            conaffinity="1" if collide else "0",
            condim="3",
            rgba=OBSTACLE_RGBA,
        )


def _add_bomb(root: ET.Element, bomb: BombSpec) -> None:
    """The bomb body (after the robot) and its motor (after the robot's motors)."""
    body = ET.SubElement(_worldbody(root), "body", name=BOMB_BODY, pos=_vec(bomb.body_pos))
    ET.SubElement(
        body,
        "geom",
        name=BOMB_GEOM,
        type="box",
        pos=_vec(bomb.geom_pos),
        size=_vec(bomb.half_size),
        density=f"{bomb.density:.9g}",
        contype="1",
        conaffinity="1",
        condim="3",
        rgba="1 0.5 0.5 0.8",
    )
    # armature, limits and their solver settings come from the robot's joint defaults, as in MACPO
    ET.SubElement(
        body,
        "joint",
        name=BOMB_JOINT,
        type="slide",
        axis="1 0 0",
        pos=_vec(bomb.geom_pos),
        damping=f"{bomb.damping:.9g}",
        stiffness="0",
        range=f"{-bomb.joint_range:.9g} {bomb.joint_range:.9g}",
    )
    ET.SubElement(
        root.find("actuator"), "motor", name="bomb_motor", joint=BOMB_JOINT, gear=f"{bomb.gear:.9g}"
    )


def _to_string(root: ET.Element) -> str:
    return ET.tostring(root, encoding="unicode")


def ant_corridor_xml() -> str:
    """Gymnasium's Ant with MACPO's six corridor walls, drawn but not colliding (see FIDELITY.md)."""
    root = ET.parse(os.path.join(GYM_ASSETS, "ant.xml")).getroot()
    _set_floor(root, (30.0, 0.0, 0.0), (70.0, 25.0, 40.0))
    _add_walls(root, ANT_WALLS, collide=False)
    return _to_string(root)


def many_agent_ant_corridor_xml(segments: int) -> str:
    """Gymnasium-Robotics' many-segment ant at MACPO's 0.005 s timestep, with its two walls."""
    from gymnasium_robotics.envs.multiagent_mujoco import many_segment_ant

    with tempfile.TemporaryDirectory(prefix="marlsuite-mjcf-") as folder:
        path = os.path.join(folder, "many_segment_ant.xml")
        many_segment_ant.gen_asset(n_segs=segments, asset_path=path)
        root = ET.parse(path).getroot()
    root.find("option").set("timestep", "0.005")
    _set_floor(root, (30.0, 0.0, 0.0), (70.0, 25.0, 40.0))
    _add_walls(root, MANY_AGENT_WALLS, collide=False)
    return _to_string(root)


def cheetah_bomb_xml() -> str:
    """Gymnasium's HalfCheetah with MACPO's bomb (a colliding body) and its static track walls."""
    root = ET.parse(os.path.join(GYM_ASSETS, "half_cheetah.xml")).getroot()
    _set_floor(root, (65.0, 0.0, 0.0), (150.0, 40.0, 40.0))
    _add_walls(root, CHEETAH_WALLS, collide=True)
    _add_bomb(root, BOMB)
    return _to_string(root)


def coupled_bomb_xml() -> str:
    """Gymnasium-Robotics' coupled cheetahs with the HalfCheetah bomb ahead (our task, see FIDELITY.md)."""
    from safe_mamujoco.coupled import UPSTREAM_XML

    root = ET.parse(UPSTREAM_XML).getroot()
    _set_floor(root, (65.0, 0.0, 0.0), (150.0, 40.0, 40.0))
    _add_bomb(root, BOMB)
    return _to_string(root)


def hopper_obstacle_xml(start_x: float) -> str:
    """Gymnasium's Hopper with a kinematic 0.6 m box in its path that it can bump into (our task)."""
    root = ET.parse(os.path.join(GYM_ASSETS, "hopper.xml")).getroot()
    _set_floor(root, (40.0, 0.0, 0.0), (100.0, 25.0, 0.125))
    body = ET.SubElement(
        _worldbody(root), "body", name=HOPPER_OBSTACLE, mocap="true", pos=f"{start_x:.9g} 0 0.5"
    )
    ET.SubElement(
        body,
        "geom",
        name=f"{HOPPER_OBSTACLE}_geom",
        type="box",
        size="0.3 0.3 0.3",
        condim="3",
        rgba=OBSTACLE_RGBA,
    )
    return _to_string(root)


def compile_xml(xml: str):
    """An `MjModel` from an MJCF string (for tests and checks)."""
    import mujoco

    return mujoco.MjModel.from_xml_string(xml)
