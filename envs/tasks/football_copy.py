"""`FootballCopy`: one Google Research Football game as a `CopyEnv` (numpy in and out).

gfootball speaks the old gym API (`reset() -> obs`, `step -> obs, reward, done, info`)
and controls several left players from one env, so one game is one copy with one
suite agent per controlled player.

- Team reward: every agent gets the mean of gfootball's per-player rewards; with
  `rewards="scoring"` they are all equal (+1 for a goal, -1 for one conceded), and
  `"scoring,checkpoints"` adds the checkpoint shaping.
- Termination vs truncation: academy scenarios end on a goal, a lost ball or the
  ball going out (terminated) or after `game_duration + 1` steps without a goal on
  the last one (truncated: a time limit on an unfinished attack). Full games end when
  the match is over (terminated).
- Info at episode ends (NaN elsewhere): `score` (goals the controlled team scored),
  `goal_diff` (scored minus conceded) and `win` (1 if goal_diff > 0), read from the
  raw observation's `score`.
- Seeding: gfootball draws each episode's engine seed from Python's `random` (and,
  once per env, which team the engine processes first) unless the config sets them;
  this copy sets both every episode from its own RNG, seeded by `reset(seed)`, so
  the same seed gives the same games in any process.
- Rendering: built with `render_mode="rgb_array"`, `render()` draws the pitch from above
  with matplotlib from the raw observation (players, ball, score). gfootball's own 3D
  renderer is not used: with software OpenGL it makes every step take about a second,
  and it needs an OpenGL context that headless machines often lack.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import gymnasium as gym
import numpy as np

from envs.vector.copy import CopySpec, CopyStep

INFO_KEYS = ("score", "goal_diff", "win")
RENDER_MODES = (None, "rgb_array")
# Raw observation coordinates: x in [-1, 1] (the left team attacks towards +1), y in
# [-0.42, 0.42] (top to bottom); the goal mouths span |y| <= 0.044.
PITCH_X, PITCH_Y, GOAL_Y = 1.0, 0.42, 0.044
TEAM_COLOURS = ("#f2c12e", "#2f6fd0")  # left (the controlled team), right


class FootballCopy:
    """One game of `scenario` with `num_agents` controlled left players."""

    def __init__(
        self,
        scenario: str,
        num_agents: int,
        *,
        representation: str = "simple115v2",
        rewards: str = "scoring",
        render_mode: str | None = None,
        width: int = 480,
        height: int = 480,
        **football_kwargs: Any,
    ):
        check_render_options(render_mode, width, height)
        self.render_mode, self._size = render_mode, (width, height)
        self._title = scenario
        with warnings.catch_warnings():  # gym 0.25's deprecation notices, once per worker
            warnings.simplefilter("ignore")
            import gfootball.env as football

            self.env = football.create_environment(
                env_name=scenario,
                representation=representation,
                rewards=rewards,
                number_of_left_players_agent_controls=num_agents,
                **football_kwargs,
            )
        self.num_agents = num_agents
        self._game = self.env.unwrapped
        self._rng = np.random.default_rng()
        obs_shape = (
            self.env.observation_space.shape[-1:] if num_agents > 1 else self.env.observation_space.shape
        )
        scenario_config = self._game._config.ScenarioConfig()
        self._duration = int(scenario_config.game_duration)
        self._academy = bool(
            scenario_config.end_episode_on_score
            or scenario_config.end_episode_on_out_of_play
            or scenario_config.end_episode_on_possession_change
        )
        agents = tuple(f"agent_{i}" for i in range(num_agents))
        obs_space = gym.spaces.Box(-np.inf, np.inf, tuple(obs_shape), np.float32)
        n_actions = int(
            np.ravel(getattr(self.env.action_space, "nvec", [getattr(self.env.action_space, "n", 0)]))[0]
        )
        self.spec = CopySpec(
            agents=agents,
            observation_spaces=dict.fromkeys(agents, obs_space),
            action_spaces=dict.fromkeys(agents, gym.spaces.Discrete(n_actions)),
            state_space=gym.spaces.Box(-np.inf, np.inf, (num_agents * int(np.prod(obs_shape)),), np.float32),
            # gfootball ends a game once its step count passes `game_duration`.
            max_episode_steps=self._duration + 1,
            info_keys=INFO_KEYS,
        )
        self._steps = 0

    def reset(self, seed: int | None) -> CopyStep:
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        engine_seed = int(self._rng.integers(2**31 - 1))
        self._game._config["game_engine_random_seed"] = engine_seed
        # gfootball otherwise fixes this from an unseeded draw when the env is built.
        self._game._config["reverse_team_processing"] = bool(engine_seed % 2)
        obs = self.env.reset()
        self._steps = 0
        return self._copy_step(obs, np.zeros(self.num_agents, np.float32), dict.fromkeys(INFO_KEYS, math.nan))

    def step(self, actions: dict[str, np.ndarray]) -> CopyStep:
        chosen = [int(actions[a]) for a in self.spec.agents]
        obs, reward, done, _ = self.env.step(chosen if self.num_agents > 1 else chosen[0])
        self._steps += 1
        team = float(np.mean(reward))
        info = dict.fromkeys(INFO_KEYS, math.nan)
        if done:
            scored, conceded = self._game.observation()[0]["score"]
            info = {
                "score": float(scored),
                "goal_diff": float(scored - conceded),
                "win": float(scored > conceded),
            }
        step = self._copy_step(obs, np.full(self.num_agents, team, np.float32), info)
        step.truncated = bool(done) and self._academy and self._steps > self._duration and team == 0.0
        step.terminated = bool(done) and not step.truncated
        return step

    def render(self) -> np.ndarray:
        """An RGB frame (height, width, 3) of the game now, drawn from above."""
        if self.render_mode != "rgb_array":
            raise RuntimeError("make the task with render_mode='rgb_array' to render frames")
        return draw_pitch(self._game.observation()[0], self._title, *self._size)

    def close(self) -> None:
        self.env.close()

    def _copy_step(self, obs: Any, reward: np.ndarray, info: dict[str, float]) -> CopyStep:
        stacked = np.asarray(obs, dtype=np.float32).reshape(self.num_agents, -1)
        return CopyStep(
            obs={a: stacked[i].copy() for i, a in enumerate(self.spec.agents)},
            state=stacked.reshape(-1).copy(),
            reward=reward,
            info=info,
        )


def check_render_options(render_mode: str | None, width: int, height: int) -> None:
    if render_mode not in RENDER_MODES:
        raise ValueError(f"render_mode must be None or 'rgb_array', got {render_mode!r}")
    if not (isinstance(width, int) and isinstance(height, int) and width >= 16 and height >= 16):
        raise ValueError(f"width and height must be integers of at least 16 pixels, got {width}x{height}")


def draw_pitch(raw: dict[str, Any], title: str, width: int, height: int) -> np.ndarray:
    """Draw one raw gfootball observation (of the controlled team) on a matplotlib Agg canvas:
    the pitch and goals, both teams (controlled players ringed in white), the ball (its
    size grows with its height) and the score."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Circle, Rectangle

    dpi = 100
    grass, line = "#2f7a3a", "white"
    figure = Figure(figsize=(width / dpi, height / dpi), dpi=dpi, facecolor="#1c4723")
    canvas = FigureCanvasAgg(figure)
    ax = figure.add_axes((0.0, 0.0, 1.0, 1.0))
    margin = 0.06
    ax.set_xlim(-PITCH_X - margin, PITCH_X + margin)
    ax.set_ylim(PITCH_Y + margin, -PITCH_Y - margin)  # y grows downwards, as in gfootball
    ax.set_aspect("equal")
    ax.axis("off")
    ax.add_patch(Rectangle((-PITCH_X, -PITCH_Y), 2 * PITCH_X, 2 * PITCH_Y, facecolor=grass, edgecolor=line))
    ax.plot([0.0, 0.0], [-PITCH_Y, PITCH_Y], color=line, linewidth=1)
    ax.add_patch(Circle((0.0, 0.0), 0.1, fill=False, edgecolor=line, linewidth=1))
    for side in (-1.0, 1.0):
        box_x = side * PITCH_X - side * 0.3
        ax.add_patch(Rectangle((min(box_x, side * PITCH_X), -0.24), 0.3, 0.48, fill=False, edgecolor=line))
        ax.add_patch(
            Rectangle(
                (side * PITCH_X if side > 0 else -PITCH_X - 0.03, -GOAL_Y), 0.03, 2 * GOAL_Y, color=line
            )
        )
    size = max(12.0, min(width, height) / 12.0)  # marker area in points^2
    for team, colour in zip(("left_team", "right_team"), TEAM_COLOURS, strict=True):
        xy = np.asarray(raw[team], dtype=np.float64).reshape(-1, 2)
        ax.scatter(xy[:, 0], xy[:, 1], s=size, c=colour, edgecolors="black", linewidths=0.5, zorder=3)
    controlled = np.asarray(raw["left_team"], dtype=np.float64).reshape(-1, 2)[[int(raw["active"])]]
    ax.scatter(controlled[:, 0], controlled[:, 1], s=size * 2.2, facecolors="none", edgecolors=line, zorder=4)
    ball = np.asarray(raw["ball"], dtype=np.float64)
    lift = 1.0 + min(max(float(ball[2]), 0.0), 3.0)
    ax.scatter(
        [ball[0]], [ball[1]], s=size * 0.45 * lift, c="white", edgecolors="black", linewidths=0.5, zorder=5
    )
    left, right = (int(v) for v in raw["score"])
    ax.text(
        0.01,
        0.99,
        f"{title}  {left}-{right}  steps left {int(raw['steps_left'])}",
        transform=ax.transAxes,
        va="top",
        color="white",
        fontsize=max(6, min(width, height) // 48),
    )
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[:, :, :3].copy()
