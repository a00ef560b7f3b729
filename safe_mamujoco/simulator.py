"""Build one robot's single-agent Gymnasium MuJoCo env, with a constraint's scene objects.

Standard robots come from `gymnasium.make("<Robot>-v5")`; the ManySegment robots from
the MJCF that `mamujoco_v1` generates; CoupledHalfCheetah from our fixed subclass.
When a constraint adds objects, the MJCF is rewritten to a temporary file first.
"""

from __future__ import annotations

import os
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import gymnasium
from gymnasium.envs.mujoco import mujoco_env

from safe_mamujoco.constraints import Constraint

# The MJCF each `<Robot>-v5` loads by default, in gymnasium/envs/mujoco/assets.
GYM_ASSETS = {
    "Ant": "ant.xml",
    "HalfCheetah": "half_cheetah.xml",
    "Hopper": "hopper.xml",
    "Humanoid": "humanoid.xml",
    "HumanoidStandup": "humanoidstandup.xml",
    "Reacher": "reacher.xml",
    "Pusher": "pusher_v5.xml",
    "Swimmer": "swimmer.xml",
    "Walker2d": "walker2d_v5.xml",
}
MANY_SEGMENT_BASE = {"ManySegmentAnt": "Ant", "ManySegmentSwimmer": "Swimmer"}


def build_single_agent_env(
    scenario: str,
    agent_conf: str,
    constraint: Constraint | None,
    *,
    render_mode: str | None = None,
    width: int = 480,
    height: int = 480,
    **gym_kwargs: Any,
) -> mujoco_env.MujocoEnv:
    """The unwrapped MuJoCo env (we keep our own time limit and skip Gymnasium's checkers)."""
    render: dict[str, Any] = {"render_mode": render_mode, "width": width, "height": height}
    if constraint is not None and constraint.camera is not None:
        render["default_camera_config"] = gym_kwargs.pop("default_camera_config", constraint.camera)
    with _scene_file(scenario, agent_conf, constraint) as xml_file:
        if scenario == "CoupledHalfCheetah":
            from safe_mamujoco.coupled import UPSTREAM_XML, CoupledHalfCheetah

            render.setdefault("default_camera_config", gym_kwargs.pop("default_camera_config", None))
            if gym_kwargs:
                raise ValueError(f"CoupledHalfCheetah takes no environment options, got {sorted(gym_kwargs)}")
            return CoupledHalfCheetah(xml_file or UPSTREAM_XML, **render)
        base = MANY_SEGMENT_BASE.get(scenario, scenario)
        if xml_file is not None:
            gym_kwargs["xml_file"] = xml_file
        return gymnasium.make(f"{base}-v5", **gym_kwargs, **render).unwrapped


@contextmanager
def _scene_file(scenario: str, agent_conf: str, constraint: Constraint | None) -> Iterator[str | None]:
    """Yield the MJCF path to load (None: the env's default), removed once loaded."""
    edits = constraint is not None and type(constraint).edit_scene is not Constraint.edit_scene
    if scenario not in MANY_SEGMENT_BASE and not edits:
        yield None
        return
    with tempfile.TemporaryDirectory(prefix="marlsuite-mjcf-") as folder:
        path = os.path.join(folder, f"{scenario}.xml")
        if scenario in MANY_SEGMENT_BASE:
            _generate_many_segment(scenario, agent_conf, path)
        else:
            ET.parse(_source_xml(scenario)).write(path)
        if edits:
            tree = ET.parse(path)
            constraint.edit_scene(tree.getroot())
            tree.write(path)
        yield path


def _source_xml(scenario: str) -> str:
    if scenario == "CoupledHalfCheetah":
        from safe_mamujoco.coupled import UPSTREAM_XML

        return UPSTREAM_XML
    return os.path.join(os.path.dirname(mujoco_env.__file__), "assets", GYM_ASSETS[scenario])


def _generate_many_segment(scenario: str, agent_conf: str, path: str) -> None:
    from gymnasium_robotics.envs.multiagent_mujoco import many_segment_ant, many_segment_swimmer

    agents, per_agent = (int(v) for v in agent_conf.split("x"))
    module = many_segment_ant if scenario == "ManySegmentAnt" else many_segment_swimmer
    module.gen_asset(n_segs=agents * per_agent, asset_path=path)
