"""`SmaxEnv`: JaxMARL's SMAX as a natively batched suite env.

All copies step together in one jitted, vmapped call (`envs.tasks.smax_jax`), episode
statistics included, and the results reach torch without a copy when JAX and torch share
the device: on the CPU as numpy views of JAX's buffers (a few microseconds; a DLPack export
costs several times that), on a CUDA GPU through DLPack. `render(i)` draws copy i from above with
matplotlib (what JaxMARL's visualiser shows: units, teams, attacks; plus health bars).
"""

from __future__ import annotations

import re
import secrets
import warnings
from collections.abc import Mapping
from typing import Any

import gymnasium as gym
import jax
import jax.numpy as jnp
import numpy as np
import torch

from envs.core import MultiAgentEnv
from envs.spec import EnvSpec
from envs.tasks.smax_jax import INFO_KEYS, Results, programs, strong_types
from envs.timestep import TimeStep

# JAX's CPU results reach torch as read-only numpy views of its buffers, and torch warns once
# that its tensor cannot be read-only. They are as writable as DLPack's (which shares the
# buffer too): nothing of JAX's reads a step's results again.
warnings.filterwarnings("ignore", "The given NumPy array is not writable", UserWarning, re.escape(__name__))


class SmaxEnv(MultiAgentEnv):
    """`num_envs` copies of an SMAX map against JaxMARL's heuristic enemy.

    Agents `agent_0..n-1` are JaxMARL's `ally_0..n-1` (the names SMAC uses). Each gets
    the team reward (SMAX gives every ally the same one), its unit-list observation and
    an action mask from `get_avail_actions` (a dead unit may only stop). The episode
    terminates when a team is wiped out and is truncated after `max_steps + 1` steps
    (SMAX tests its limit before counting the current step);
    `info["win"]` is 1 at the end of a won battle (every enemy dead and an ally alive,
    what SMAX pays `won_battle_bonus` for), 0 at other episode ends, NaN elsewhere.
    """

    def __init__(
        self,
        map_name: str,
        *,
        num_envs: int = 1,
        device: torch.device | str = "cpu",
        seed: int | None = None,
        validate_actions: bool = True,
        **smax_kwargs: Any,
    ):
        if smax_kwargs.get("action_type", "discrete") != "discrete":
            raise ValueError("the suite wraps SMAX's discrete actions only (they carry the action masks)")
        self.programs = programs(map_name, **smax_kwargs)
        env = self.jax_env = self.programs.env
        agents = tuple(f"agent_{i}" for i in range(env.num_allies))
        spec = EnvSpec(
            name=f"smax/{map_name}",
            family="smax",
            backend="jax",
            agents=agents,
            observation_spaces={a: gym.spaces.Box(-1.0, 1.0, (env.obs_size,), np.float32) for a in agents},
            action_spaces={a: gym.spaces.Discrete(int(env.action_spaces[env.agents[0]].n)) for a in agents},
            state_space=gym.spaces.Box(-np.inf, np.inf, (env.state_size,), np.float32),
            num_envs=num_envs,
            device=torch.device(device),
            # SMAX checks its time limit before counting the step that reaches it.
            max_episode_steps=int(env.max_steps) + 1,
            has_action_masks=True,
            info_keys=INFO_KEYS,
            metadata={
                "map_name": map_name,
                "jaxmarl_agents": tuple(env.agents),
                "render_modes": ("rgb_array",),
                # game seconds per step: SMAX's world steps per env step x their duration
                "control_dt": float(env.world_steps_per_env_step * env.time_per_step),
            },
        )
        super().__init__(spec, seed=seed, validate_actions=validate_actions)
        self.jax_device = _jax_device(spec.device)
        self._jax_on_cpu = self.jax_device.platform == "cpu"
        # results read as numpy views on the host: the cheapest way to many small tensors
        self._host_views = self._jax_on_cpu and spec.device.type == "cpu"
        self._keys: jax.Array | None = None
        self._states: Any = None
        self._totals: jax.Array | None = None  # running episode return and length, (2, envs)

    def _reset(self, seed: int | None) -> TimeStep:
        if seed is None and self._keys is None:
            seed = secrets.randbits(31)
        if seed is not None:
            seeds = jnp.arange(self.spec.num_envs, dtype=jnp.uint32) + np.uint32(seed)
            self._keys = jax.device_put(jax.vmap(jax.random.PRNGKey)(seeds), self.jax_device)
        self._keys, self._states, self._totals, results = self.programs.reset(self._keys)
        return self._timestep(results)

    def _step(self, actions: Mapping[str, torch.Tensor]) -> TimeStep:
        stacked = torch.stack([actions[a] for a in self.spec.agents], dim=1).to(torch.int32)
        if self._jax_on_cpu:  # a jitted call takes numpy input more cheaply than a JAX array
            jax_actions = stacked.numpy() if stacked.device.type == "cpu" else stacked.cpu().numpy()
        else:
            jax_actions = jax.dlpack.from_dlpack(stacked)  # on the tensor's device
            if jax_actions.devices() != {self.jax_device}:
                jax_actions = jax.device_put(jax_actions, self.jax_device)
        self._keys, self._states, self._totals, results = self.programs.step(
            self._keys, self._states, self._totals, jax_actions
        )
        return self._timestep(results)

    @property
    def jax_state(self) -> Any:
        """The batched `HeuristicEnemySMAX` state: a pytree with `num_envs` leading."""
        return self._states

    def set_jax_state(self, states: Any) -> TimeStep:
        """Continue every copy from `states` and observe them (no episode ends).

        For scripted scenarios: place units or set their health by hand, then step.
        The episode statistics keep running; the returned action masks are the ones the
        next `step` is validated against.
        """
        if self._keys is None:
            raise RuntimeError(f"{self.spec.name}: call reset() before set_jax_state()")
        self._states = jax.device_put(strong_types(states), self.jax_device)
        timestep = self._timestep(self.programs.observe(self._states, self._totals))
        self._action_mask = timestep.action_mask
        return timestep

    def render(self, index: int = 0, *, width: int = 480, height: int = 480) -> np.ndarray:
        """An RGB frame (height, width, 3) of copy `index` seen from above: living units as discs
        of their size (3 pixels in radius at least) in their team's colour (allies blue, enemies
        red) with a health bar, the dead as crosses, and a line from each unit that attacked in
        the last step to its target."""
        if self._states is None:
            raise RuntimeError(f"{self.spec.name}: call reset() before render()")
        if not 0 <= index < self.spec.num_envs:
            raise IndexError(f"copy index {index} out of range for num_envs={self.spec.num_envs}")
        if not (isinstance(width, int) and isinstance(height, int) and width >= 16 and height >= 16):
            raise ValueError(f"width and height must be integers of at least 16 pixels, got {width}x{height}")
        world = jax.device_get(jax.tree.map(lambda x: x[index], self._states.state))
        return draw_smax(self.jax_env, world, self.spec.name, width, height)

    def _timestep(self, results: Results) -> TimeStep:
        """A TimeStep of tensors sharing the buffers of a program's `Results`."""
        agents = self.spec.agents
        if self._host_views:  # numpy views cost a fraction of torch's slicing
            r = Results(*(np.asarray(x) for x in results))
            tensor = torch.from_numpy
        else:
            r = Results(*(self._torch(x) for x in results))
            tensor = _same

        def per_agent(x: Any) -> dict[str, torch.Tensor]:
            return {a: tensor(x[i]) for i, a in enumerate(agents)}

        return TimeStep(
            obs=per_agent(r.obs),
            state=tensor(r.state),
            reward=per_agent(r.reward),
            terminated=tensor(r.terminated),
            truncated=tensor(r.truncated),
            final_obs=per_agent(r.final_obs),
            final_state=tensor(r.final_state),
            action_mask=per_agent(r.avail),
            info={key: tensor(r.info[i]) for i, key in enumerate(INFO_KEYS)},
            final_action_mask=per_agent(r.final_avail),
        )

    def _torch(self, array: jax.Array) -> torch.Tensor:
        """`array` as a tensor on the spec's device, sharing JAX's buffer where it can."""
        # on the CPU a zero-copy numpy view, a few times cheaper than a DLPack export
        tensor = torch.from_numpy(np.asarray(array)) if self._jax_on_cpu else torch.from_dlpack(array)
        return tensor if tensor.device == self.spec.device else tensor.to(self.spec.device)


TEAM_COLOURS = ("#1f5fbf", "#c8322d")  # allies, enemies


def draw_smax(env: Any, world: Any, title: str, width: int, height: int) -> np.ndarray:
    """Draw one SMAX `State` (numpy leaves, no batch dimension) on a matplotlib Agg canvas."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.collections import LineCollection
    from matplotlib.figure import Figure
    from matplotlib.patches import Circle, Rectangle

    dpi = 100
    figure = Figure(figsize=(width / dpi, height / dpi), dpi=dpi, facecolor="#e9e4d4")
    canvas = FigureCanvasAgg(figure)
    ax = figure.add_axes((0.0, 0.0, 1.0, 1.0))
    ax.set_xlim(0.0, env.map_width)
    ax.set_ylim(0.0, env.map_height)
    ax.set_aspect("equal")
    ax.set_facecolor("#e9e4d4")
    ax.set_xticks([])
    ax.set_yticks([])
    positions = np.asarray(world.unit_positions, dtype=np.float64)
    alive = np.asarray(world.unit_alive, dtype=bool)
    teams = np.asarray(world.unit_teams).astype(int)
    types = np.asarray(world.unit_types).astype(int)
    per_pixel = max(env.map_width / width, env.map_height / height)  # map units per pixel
    radius = np.maximum(np.asarray(env.unit_type_radiuses)[types], 3.0 * per_pixel)  # visible when small
    health = np.asarray(world.unit_health) / np.asarray(env.unit_type_health)[types]
    attacks = np.asarray(world.prev_attack_actions).astype(int)
    moves, allies = env.num_movement_actions, env.num_allies
    lines, colours = [], []
    for i in np.flatnonzero(alive & (attacks >= moves)):
        shot = attacks[i] - moves
        target = shot + allies if i < allies else allies - 1 - shot
        lines.append([positions[i], positions[target]])
        colours.append(TEAM_COLOURS[teams[i]])
    if lines:
        ax.add_collection(LineCollection(lines, colors=colours, linewidths=1.2, alpha=0.8, zorder=1))
    for i, (x, y) in enumerate(positions):
        colour = TEAM_COLOURS[teams[i]]
        if not alive[i]:
            ax.plot(x, y, marker="x", color=colour, alpha=0.5, markersize=5, zorder=1)
            continue
        r = float(radius[i])
        ax.add_patch(Circle((x, y), r, facecolor=colour, edgecolor="black", linewidth=0.6, zorder=2))
        bar = (x - 1.2 * r, y + 1.3 * r)
        ax.add_patch(Rectangle(bar, 2.4 * r, 0.3, facecolor="#444444", zorder=3))
        ax.add_patch(
            Rectangle(bar, 2.4 * r * float(np.clip(health[i], 0, 1)), 0.3, facecolor="#3cb043", zorder=4)
        )
    counts = [int(alive[teams == team].sum()) for team in (0, 1)]
    totals = [int((teams == team).sum()) for team in (0, 1)]
    ax.text(
        0.01,
        0.99,
        f"{title}  step {int(world.step)}  allies {counts[0]}/{totals[0]}  enemies {counts[1]}/{totals[1]}",
        transform=ax.transAxes,
        va="top",
        fontsize=max(6, min(width, height) // 48),
    )
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[:, :, :3].copy()


def _same(tensor: torch.Tensor) -> torch.Tensor:
    return tensor


def _jax_device(device: torch.device) -> jax.Device:
    """The JAX device matching torch's, else the CPU (results are then moved to `device`)."""
    if device.type == "cuda":
        try:
            return jax.devices("cuda")[device.index or 0]
        except RuntimeError:
            pass
    return jax.devices("cpu")[0]
