"""CoupledHalfCheetah made to work on current MuJoCo.

Gymnasium-Robotics reads the tendon Jacobian as a dense (ntendon, nv) matrix
(`data.ten_J[0][9:11]`), but MuJoCo now stores it sparse (values only, with the
row/column structure on the model), so the upstream env fails on its first
observation. Here the Jacobian is expanded to dense first; the observation keeps the
upstream layout (columns 0, 1, 9, 10: both cheetahs' root x and z).
"""

from __future__ import annotations

import os

import gymnasium
import mujoco
import numpy as np
from gymnasium.envs.mujoco import mujoco_env
from gymnasium_robotics.envs.multiagent_mujoco import coupled_half_cheetah
from gymnasium_robotics.envs.multiagent_mujoco.obsk import get_parts_and_edges

TENDON = 0
JACOBIAN_COLUMNS = [0, 1, 9, 10]
UPSTREAM_XML = os.path.join(
    os.path.dirname(coupled_half_cheetah.__file__), "assets", "coupled_half_cheetah.xml"
)


def dense_tendon_jacobian(model: mujoco.MjModel, data: mujoco.MjData) -> np.ndarray:
    """`data.ten_J` as a dense (ntendon, nv) array, whichever way MuJoCo stores it."""
    values = np.asarray(data.ten_J)
    if values.ndim == 2:
        return values
    dense = np.zeros((model.ntendon, model.nv))
    mujoco.mju_sparse2dense(dense, values, model.ten_J_rownnz, model.ten_J_rowadr, model.ten_J_colind)
    return dense


class CoupledHalfCheetah(coupled_half_cheetah.CoupledHalfCheetahEnv):
    """The upstream env with a dense tendon Jacobian and a choice of MJCF file."""

    def __init__(
        self,
        xml_file: str = UPSTREAM_XML,
        render_mode: str | None = None,
        default_camera_config: dict[str, float] | None = None,
        **render_kwargs,
    ):
        self._forward_reward_weight = 1
        self._ctrl_cost_weight = 0.1
        self._reset_noise_scale = 0.1
        mujoco_env.MujocoEnv.__init__(
            self,
            xml_file,
            5,
            observation_space=gymnasium.spaces.Box(-np.inf, np.inf, (40,), np.float64),
            default_camera_config=default_camera_config or coupled_half_cheetah.DEFAULT_CAMERA_CONFIG,
            render_mode=render_mode,
            **render_kwargs,
        )

    def tendon_jacobian_obs(self) -> np.ndarray:
        return dense_tendon_jacobian(self.model, self.data)[TENDON, JACOBIAN_COLUMNS]

    def _get_obs(self) -> np.ndarray:
        return np.concatenate(
            [
                self.data.qpos.flat[1:9],  # without rootx of the first cheetah
                self.data.qpos.flat[10:18],  # without rootx of the second
                self.data.qvel.flat,
                self.tendon_jacobian_obs(),
                self.data.ten_length,
                self.data.ten_velocity,
            ]
        )


def coupled_factorization(env: CoupledHalfCheetah, agent_conf: str) -> dict:
    """mamujoco_v1's factorisation with the tendon-Jacobian observation read densely."""
    parts, edges, globals_ = get_parts_and_edges("CoupledHalfCheetah", agent_conf)
    for part in parts:
        for node in part:
            if "ten_J" in node.extra_obs:
                node.extra_obs["ten_J"] = lambda data: env.tendon_jacobian_obs()
    return {"partition": parts, "edges": edges, "globals": globals_}
