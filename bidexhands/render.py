"""Offscreen RGB frames of one copy, for videos: its state goes into an MjData that MuJoCo's
renderer draws, with the goal markers moved to the copy's goals.

Needs an OpenGL context: set MUJOCO_GL=egl (GPU machines) or MUJOCO_GL=osmesa (CPU, with
libosmesa) before importing mujoco on a machine without a display.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mujoco
import numpy as np

if TYPE_CHECKING:
    from bidexhands.env import BiDexHandsEnv


def render_world(
    env: BiDexHandsEnv, world: int = 0, *, width: int = 640, height: int = 480, camera: str | int = -1
) -> np.ndarray:
    if not 0 <= world < env.spec.num_envs:
        raise ValueError(f"world must be in [0, {env.spec.num_envs}), got {world}")
    model = env.scene.model
    renderer = env._renderer
    if renderer is None or (renderer.height, renderer.width) != (height, width):
        if renderer is not None:
            renderer.close()
        renderer = env._renderer = mujoco.Renderer(model, height=height, width=width)
        env._render_data = mujoco.MjData(model)
    data = env._render_data
    data.qpos[:], data.qvel[:] = env.physics.world_state(world)
    goals = getattr(env.task, "goal_pos", None)
    for i in range(0 if goals is None else goals.shape[1]):
        mocap = env.scene.mocap.get(f"goal{i}")
        if mocap is not None:
            data.mocap_pos[mocap] = env.task.goal_pos[world, i].cpu().numpy()
            data.mocap_quat[mocap] = env.task.goal_quat[world, i].cpu().numpy()
    mujoco.mj_forward(model, data)
    if camera == -1:
        cam = mujoco.MjvCamera()
        cam.lookat[:] = _scene_centre(env)
        cam.distance, cam.elevation = 1.2, -35.0
        cam.azimuth = getattr(env.task, "camera_azimuth", 0.0)
        renderer.update_scene(data, camera=cam)
    else:
        renderer.update_scene(data, camera=camera)
    return renderer.render().copy()


def _scene_centre(env: BiDexHandsEnv) -> np.ndarray:
    mounts = np.stack([h.mount_pos for h in env.scene.hands])
    centre = mounts.mean(axis=0)
    centre[2] += 0.1
    return centre
