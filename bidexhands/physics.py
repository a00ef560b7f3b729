"""The two physics backends behind every task: C MuJoCo on CPU threads, and MuJoCo Warp.

Both hold `num_envs` worlds of one compiled model and expose the same small surface the
torch task logic needs: `step(ctrl)` advances every world by the scene's substeps and leaves
position- and velocity-dependent quantities (sensors) current at the new state; `set_state`
writes the state of some worlds (a reset) and makes theirs current too; `read()` returns
float32 torch tensors on the env's device.

Acceleration-dependent readings (actuator joint forces, fingertip force/torque sensors) are
those of the last substep, as after `mj_step`; right after a reset they are not measured yet
and the env zeroes them in that copy's observation.
"""

from __future__ import annotations

import abc
import os
from dataclasses import dataclass

import mujoco
import numpy as np
import torch

BACKENDS = ("mujoco", "warp")


@dataclass
class Readings:
    """One batch of physics state and sensor values, float32 on the env's device."""

    qpos: torch.Tensor  # (N, nq)
    qvel: torch.Tensor  # (N, nv)
    sensordata: torch.Tensor  # (N, nsensordata)
    qfrc_actuator: torch.Tensor  # (N, nv)


class Physics(abc.ABC):
    """A batch of worlds of one model."""

    def __init__(self, model: mujoco.MjModel, num_envs: int, substeps: int, device: torch.device):
        self.model = model
        self.num_envs = num_envs
        self.substeps = substeps
        self.device = device

    @abc.abstractmethod
    def step(self, ctrl: torch.Tensor) -> None: ...

    @abc.abstractmethod
    def apply_wrench(self, bodies: np.ndarray, wrench: torch.Tensor) -> None:
        """World-frame force and torque (N, len(bodies), 6) at the bodies' centres of mass,
        acting from the next `step` on until replaced (MuJoCo's xfrc_applied)."""

    @abc.abstractmethod
    def set_state(
        self, ids: torch.Tensor, qpos: torch.Tensor, qvel: torch.Tensor, ctrl: torch.Tensor
    ) -> None: ...

    @abc.abstractmethod
    def read(self) -> Readings: ...

    def world_state(self, world: int) -> tuple[np.ndarray, np.ndarray]:
        """qpos and qvel of one world as float64 numpy (rendering, debugging)."""
        readings = self.read()
        return (
            readings.qpos[world].double().cpu().numpy(),
            readings.qvel[world].double().cpu().numpy(),
        )

    def close(self) -> None:  # noqa: B027 - most backends free on garbage collection
        """Free simulator memory."""


class MujocoPhysics(Physics):
    """C MuJoCo: `mujoco.batch.Batch` steps the worlds on a thread pool, one MjData each.

    Persistent data lets `step(..., stage=mjSTAGE_VEL)` leave sensors current at the new state
    at no extra cost: the next step starts from those stages.
    """

    def __init__(
        self,
        model: mujoco.MjModel,
        num_envs: int,
        substeps: int,
        device: torch.device,
        num_threads: int | None = None,
    ):
        super().__init__(model, num_envs, substeps, device)
        from mujoco.batch import Batch

        if num_threads is None:
            num_threads = min(num_envs, len(os.sched_getaffinity(0)))
        threads = num_threads
        self.batch = Batch(model, nsim=num_envs, nthread=max(1, threads), persistent=True)
        self.batch.reset(stage=mujoco.mjtStage.mjSTAGE_ACC)
        state = self.batch
        self._qpos, self._qvel, self._ctrl = state.bind("qpos"), state.bind("qvel"), state.bind("ctrl")
        self._warmstart, self._time = state.bind("qacc_warmstart"), state.bind("time")
        self._sensordata = state.bind("sensordata")  # read-only outputs, refreshed by every call
        self._qfrc_actuator = state.bind("qfrc_actuator")
        self._xfrc = state.bind("xfrc_applied")

    def step(self, ctrl: torch.Tensor) -> None:
        self._ctrl[:] = ctrl.detach().to("cpu", torch.float64).numpy()
        self.batch.step(nstep=self.substeps, stage=mujoco.mjtStage.mjSTAGE_VEL)

    def apply_wrench(self, bodies: np.ndarray, wrench: torch.Tensor) -> None:
        self._xfrc[:, bodies] = wrench.detach().to("cpu", torch.float64).numpy()

    def set_state(
        self, ids: torch.Tensor, qpos: torch.Tensor, qvel: torch.Tensor, ctrl: torch.Tensor
    ) -> None:
        rows = ids.cpu().numpy()
        self._qpos[rows] = qpos.detach().cpu().double().numpy()
        self._qvel[rows] = qvel.detach().cpu().double().numpy()
        self._ctrl[rows] = ctrl.detach().cpu().double().numpy()
        self._warmstart[rows] = 0.0
        self._time[rows] = 0.0
        self.batch.forward(rows, stage=mujoco.mjtStage.mjSTAGE_VEL)

    def read(self) -> Readings:
        def out(array: np.ndarray) -> torch.Tensor:
            return torch.from_numpy(array.astype(np.float32)).to(self.device)

        return Readings(
            qpos=out(self._qpos),
            qvel=out(self._qvel),
            sensordata=out(self._sensordata),
            qfrc_actuator=out(self._qfrc_actuator),
        )


class WarpPhysics(Physics):
    """MuJoCo Warp: one batched model of `num_envs` worlds on a CUDA device or the CPU.

    Each env step runs `step2` then (substeps - 1) x (`step1`, `step2`) then `step1`, which is
    `substeps` calls to `mj_step` with the position/velocity stages of the new state left
    computed for the observation and reused by the next step. On CUDA the sequence is captured
    once as a CUDA graph on warp's stream, ordered after and before torch's stream with
    events. Arrays reach torch through `wp.to_torch`, without copies.
    """

    def __init__(
        self,
        model: mujoco.MjModel,
        num_envs: int,
        substeps: int,
        device: torch.device,
        nconmax: int = 64,  # contacts per world (hand-object contacts stay well below)
        njmax: int = 384,  # constraint rows per world: contacts x 6 (pyramidal, condim 4) + limits
    ):
        super().__init__(model, num_envs, substeps, device)
        import mujoco_warp as mjw
        import warp as wp

        self.mjw, self.wp = mjw, wp
        wp.config.quiet = True
        wp.init()
        self.wp_device = "cpu" if device.type == "cpu" else f"cuda:{device.index or 0}"
        self._cuda = device.type == "cuda"
        with wp.ScopedDevice(self.wp_device):
            self.m = mjw.put_model(model)
            self.d = mjw.make_data(model, nworld=num_envs, nconmax=nconmax, njmax=njmax)
            self._acc_buffer = wp.zeros_like(self.d.sensordata)
            mjw.forward(self.m, self.d)
        self._qpos = wp.to_torch(self.d.qpos)
        self._qvel = wp.to_torch(self.d.qvel)
        self._ctrl = wp.to_torch(self.d.ctrl)
        self._warmstart = wp.to_torch(self.d.qacc_warmstart)
        self._time = wp.to_torch(self.d.time)
        self._sensordata = wp.to_torch(self.d.sensordata)
        self._qfrc_actuator = wp.to_torch(self.d.qfrc_actuator)
        self._xfrc = wp.to_torch(self.d.xfrc_applied)
        self._acc_values = wp.to_torch(self._acc_buffer)
        self._acc_mask = torch.as_tensor(_acc_sensor_mask(model), device=self._sensordata.device)
        self._graph = None
        self._synchronize()  # torch may read the arrays right away

    def _synchronize(self) -> None:
        if self._cuda:
            self.wp.synchronize_device(self.wp_device)

    def _run(self, work) -> None:
        """Run warp work after torch's pending writes, and make torch wait for it."""
        wp = self.wp
        if not self._cuda:
            with wp.ScopedDevice(self.wp_device):
                work()
            return
        torch_stream = wp.stream_from_torch(torch.cuda.current_stream(self.device))
        warp_stream = wp.get_stream(self.wp_device)
        warp_stream.wait_stream(torch_stream)
        with wp.ScopedDevice(self.wp_device):
            work()
        torch_stream.wait_stream(warp_stream)

    def _substeps(self) -> None:
        mjw, m, d = self.mjw, self.m, self.d
        mjw.step2(m, d)
        for _ in range(self.substeps - 1):
            mjw.step1(m, d)
            mjw.step2(m, d)
        # step1 zeroes the sensor buffer: keep the last substep's acceleration sensors
        self.wp.copy(self._acc_buffer, d.sensordata)
        mjw.step1(m, d)

    def _graph_step(self) -> None:
        wp = self.wp
        if self._graph is None:
            with wp.ScopedCapture() as capture:
                self._substeps()
            self._graph = capture.graph
        wp.capture_launch(self._graph)

    def step(self, ctrl: torch.Tensor) -> None:
        self._ctrl.copy_(ctrl.detach().to(self._ctrl.device, self._ctrl.dtype))
        self._run(self._graph_step if self._cuda else self._substeps)
        torch.where(self._acc_mask, self._acc_values, self._sensordata, out=self._sensordata)

    def apply_wrench(self, bodies: np.ndarray, wrench: torch.Tensor) -> None:
        index = torch.as_tensor(bodies, device=self._xfrc.device)
        self._xfrc[:, index] = wrench.detach().to(self._xfrc.device, self._xfrc.dtype)

    def set_state(
        self, ids: torch.Tensor, qpos: torch.Tensor, qvel: torch.Tensor, ctrl: torch.Tensor
    ) -> None:
        rows = ids.to(self._qpos.device)
        self._qpos[rows] = qpos.to(self._qpos.device, self._qpos.dtype)
        self._qvel[rows] = qvel.to(self._qvel.device, self._qvel.dtype)
        self._ctrl[rows] = ctrl.to(self._ctrl.device, self._ctrl.dtype)
        self._warmstart[rows] = 0.0
        self._time[rows] = 0.0
        keep = self._sensordata.clone()
        # step1 recomputes every world; the others get the same position/velocity values again
        self._run(lambda: self.mjw.step1(self.m, self.d))
        # worlds that were not reset keep their acceleration sensors from the last substep
        unchanged = torch.ones(self.num_envs, dtype=torch.bool, device=keep.device)
        unchanged[rows] = False
        self._sensordata[unchanged] = torch.where(
            self._acc_mask, keep[unchanged], self._sensordata[unchanged]
        )

    def read(self) -> Readings:
        def out(array: torch.Tensor) -> torch.Tensor:
            return array.to(self.device, torch.float32, copy=True)

        return Readings(
            qpos=out(self._qpos),
            qvel=out(self._qvel),
            sensordata=out(self._sensordata),
            qfrc_actuator=out(self._qfrc_actuator),
        )


def _acc_sensor_mask(model: mujoco.MjModel) -> np.ndarray:
    mask = np.zeros(model.nsensordata, dtype=bool)
    for i in range(model.nsensor):
        if model.sensor_needstage[i] == mujoco.mjtStage.mjSTAGE_ACC:
            mask[model.sensor_adr[i] : model.sensor_adr[i] + model.sensor_dim[i]] = True
    return mask


def default_backend(device: torch.device) -> str:
    """`warp` on a GPU, `mujoco` otherwise."""
    return "warp" if device.type == "cuda" else "mujoco"


def make_physics(
    backend: str | None,
    model: mujoco.MjModel,
    num_envs: int,
    substeps: int,
    device: torch.device,
    num_threads: int | None = None,
) -> Physics:
    """`num_threads` (mujoco backend): CPU threads stepping the worlds, default one per core."""
    backend = default_backend(device) if backend is None else backend
    if backend == "mujoco":
        return MujocoPhysics(model, num_envs, substeps, device, num_threads)
    if backend == "warp":
        return WarpPhysics(model, num_envs, substeps, device)
    raise ValueError(f"backend must be one of {BACKENDS} (or None for the default), got {backend!r}")
