"""STAND-IN for StarCraft II: a tiny scripted battle behind the real SMAC API.

The game cannot be installed on CI, so the SMAC/SMACv2 wrapper is tested against
these classes. They are NOT StarCraft: a few marines on an open 32x32 map shoot the
nearest enemy in range. What they copy exactly is the interface of
`smac.env.StarCraft2Env` (and SMACv2's `StarCraftCapabilityEnvWrapper`):

- the constructor takes `map_name`, `seed` and the game options as keywords, and does
  not start the game; `reset()` does (`launches` counts how often);
- `reset() -> (list of obs, state)`; `step(actions) -> (reward, terminated, info)` with
  `info = {"battle_won": bool, "dead_allies": int, "dead_enemies": int}`, and
  `info["episode_limit"] = True` only with `continuing_episode=True`; the episode
  limit ends the episode with `terminated=True` as in SMAC;
- actions: 0 no-op (only for dead agents), 1 stop, 2-5 move north/south/east/west
  (when the target is on the map), 6+ attack enemy j (alive and within range 6);
  `step` asserts that each action is available, as SMAC's does;
- `get_obs()` (list of float32 arrays), `get_obs_agent`, `get_state()` (float32),
  `get_avail_actions()` (list of int lists), `get_avail_agent_actions`,
  `get_obs_size`, `get_state_size`, `get_total_actions`, `get_env_info()`,
  `get_stats()`, `seed()`, `close()`, `n_agents`, `n_enemies`, `episode_limit`;
- `CapabilityWrapperStandIn.reset()` returns None when its first attempt fails and it
  retries, as SMACv2's wrapper does.

Extra keyword options (not in SMAC) script the battle: `start_distance` between the
teams, `enemy_health`, `enemy_damage`.
"""

from __future__ import annotations

import math

import numpy as np

MAPS = {"3m": (3, 3, 60), "5m_vs_6m": (5, 6, 70), "10gen_protoss": (5, 5, 200)}
MAP_SIZE = 32.0
SHOOT_RANGE, SIGHT_RANGE, MOVE_AMOUNT = 6.0, 9.0, 2.0
HEALTH, DAMAGE = 45.0, 6.0
N_NO_ATTACK = 6
MOVES = {2: (0.0, MOVE_AMOUNT), 3: (0.0, -MOVE_AMOUNT), 4: (MOVE_AMOUNT, 0.0), 5: (-MOVE_AMOUNT, 0.0)}


class StarCraft2EnvStandIn:
    """Stand-in for `smac.env.StarCraft2Env` (see the module docstring)."""

    launches = 0  # class-wide: how many games were started

    def __init__(
        self,
        map_name: str = "8m",
        seed: int | None = None,
        continuing_episode: bool = False,
        reward_death_value: float = 10,
        reward_win: float = 200,
        reward_scale: bool = True,
        reward_scale_rate: float = 20,
        start_distance: float = 12.0,
        enemy_health: float = HEALTH,
        enemy_damage: float = DAMAGE,
        capability_config: dict | None = None,
        **unused_options: object,
    ):
        self.map_name = map_name
        n_agents, n_enemies, self.episode_limit = MAPS[map_name]
        if capability_config:
            n_agents, n_enemies = capability_config["n_units"], capability_config["n_enemies"]
        self.n_agents, self.n_enemies = n_agents, n_enemies
        self.n_actions = N_NO_ATTACK + n_enemies
        self._seed = seed
        self.continuing_episode = continuing_episode
        self.reward_death_value, self.reward_win = reward_death_value, reward_win
        self.reward_scale, self.reward_scale_rate = reward_scale, reward_scale_rate
        self.start_distance, self.enemy_health, self.enemy_damage = start_distance, enemy_health, enemy_damage
        self.max_reward = n_enemies * reward_death_value + reward_win + n_enemies * enemy_health
        self._launched = False
        self._rng = np.random.RandomState(seed)
        self._episode_steps = 0
        self.battles_won = self.battles_game = self.timeouts = 0
        self.last_action = np.zeros((n_agents, self.n_actions))

    # -- episode -------------------------------------------------------------------

    def reset(self):
        if not self._launched:
            self._launched = True
            type(self).launches += 1
        self._episode_steps = 0
        centre = MAP_SIZE / 2
        jitter = self._rng.uniform(-1.0, 1.0, size=(self.n_agents + self.n_enemies, 2))
        ally_x, enemy_x = centre - self.start_distance / 2, centre + self.start_distance / 2
        self.ally_pos = (
            np.array([[ally_x, centre - 1.0 + i] for i in range(self.n_agents)]) + jitter[: self.n_agents]
        )
        self.enemy_pos = (
            np.array([[enemy_x, centre - 1.0 + j] for j in range(self.n_enemies)]) + jitter[self.n_agents :]
        )
        self.ally_health = np.full(self.n_agents, HEALTH)
        self.enemy_health_now = np.full(self.n_enemies, float(self.enemy_health))
        self.last_action = np.zeros((self.n_agents, self.n_actions))
        self._over = False
        return self.get_obs(), self.get_state()

    def step(self, actions):
        actions_int = [int(a) for a in actions]
        for a_id, action in enumerate(actions_int):
            avail = self.get_avail_agent_actions(a_id)
            assert avail[action] == 1, f"Agent {a_id} cannot perform action {action}"
        self.last_action = np.eye(self.n_actions)[np.array(actions_int)]
        enemy_before = self.enemy_health_now.copy()
        ally_alive_before = self.ally_health > 0
        for a_id, action in enumerate(actions_int):
            if action in MOVES:
                self.ally_pos[a_id] += MOVES[action]
            elif action >= N_NO_ATTACK:
                target = action - N_NO_ATTACK
                self.enemy_health_now[target] = max(0.0, self.enemy_health_now[target] - DAMAGE)
        self._enemy_turn(ally_alive_before)
        self._episode_steps += 1

        killed = (enemy_before > 0) & (self.enemy_health_now == 0)
        reward = float(np.sum(enemy_before - self.enemy_health_now) + self.reward_death_value * killed.sum())
        dead_allies = int((self.ally_health == 0).sum())
        dead_enemies = int((self.enemy_health_now == 0).sum())
        info = {"battle_won": False, "dead_allies": dead_allies, "dead_enemies": dead_enemies}
        terminated = False
        if dead_enemies == self.n_enemies and dead_allies < self.n_agents:
            terminated = True
            info["battle_won"] = True
            reward += self.reward_win
            self.battles_won += 1
            self.battles_game += 1
        elif dead_allies == self.n_agents:
            terminated = True
            self.battles_game += 1
        elif self._episode_steps >= self.episode_limit:
            terminated = True
            if self.continuing_episode:
                info["episode_limit"] = True
            self.battles_game += 1
            self.timeouts += 1
        if self.reward_scale:
            reward /= self.max_reward / self.reward_scale_rate
        return reward, terminated, info

    def _enemy_turn(self, ally_alive: np.ndarray) -> None:
        """Each living enemy shoots the nearest living ally in range, else walks towards it."""
        for j in range(self.n_enemies):
            if self.enemy_health_now[j] == 0 or not ally_alive.any():
                continue
            dist = np.where(
                self.ally_health > 0, np.linalg.norm(self.ally_pos - self.enemy_pos[j], axis=1), np.inf
            )
            target = int(np.argmin(dist))
            if dist[target] <= SHOOT_RANGE:
                self.ally_health[target] = max(0.0, self.ally_health[target] - self.enemy_damage)
            elif np.isfinite(dist[target]):
                direction = (self.ally_pos[target] - self.enemy_pos[j]) / dist[target]
                self.enemy_pos[j] += MOVE_AMOUNT * direction

    # -- observations ----------------------------------------------------------------

    def get_obs_agent(self, agent_id: int) -> np.ndarray:
        enemy_feats = np.zeros((self.n_enemies, 5), dtype=np.float32)
        ally_feats = np.zeros((self.n_agents - 1, 5), dtype=np.float32)
        move_feats = np.zeros(4, dtype=np.float32)
        own = np.zeros(1, dtype=np.float32)
        if self.ally_health[agent_id] > 0:
            avail = self.get_avail_agent_actions(agent_id)
            move_feats[:] = avail[2:6]
            x, y = self.ally_pos[agent_id]
            for j in range(self.n_enemies):
                ex, ey = self.enemy_pos[j]
                dist = math.hypot(ex - x, ey - y)
                if dist < SIGHT_RANGE and self.enemy_health_now[j] > 0:
                    enemy_feats[j] = (
                        avail[N_NO_ATTACK + j],
                        dist / SIGHT_RANGE,
                        (ex - x) / SIGHT_RANGE,
                        (ey - y) / SIGHT_RANGE,
                        self.enemy_health_now[j] / self.enemy_health,
                    )
            others = [i for i in range(self.n_agents) if i != agent_id]
            for k, i in enumerate(others):
                ax, ay = self.ally_pos[i]
                dist = math.hypot(ax - x, ay - y)
                if dist < SIGHT_RANGE and self.ally_health[i] > 0:
                    ally_feats[k] = (1.0, dist / SIGHT_RANGE, (ax - x) / SIGHT_RANGE, (ay - y) / SIGHT_RANGE,
                                     self.ally_health[i] / HEALTH)  # fmt: skip
            own[0] = self.ally_health[agent_id] / HEALTH
        return np.concatenate([move_feats, enemy_feats.ravel(), ally_feats.ravel(), own])

    def get_obs(self):
        return [self.get_obs_agent(i) for i in range(self.n_agents)]

    def get_obs_size(self) -> int:
        return 4 + 5 * self.n_enemies + 5 * (self.n_agents - 1) + 1

    def get_state(self) -> np.ndarray:
        centre = MAP_SIZE / 2
        allies = np.zeros((self.n_agents, 4))
        for i in range(self.n_agents):
            if self.ally_health[i] > 0:
                allies[i] = (self.ally_health[i] / HEALTH, 0.0, *((self.ally_pos[i] - centre) / MAP_SIZE))
        enemies = np.zeros((self.n_enemies, 3))
        for j in range(self.n_enemies):
            if self.enemy_health_now[j] > 0:
                enemies[j] = (
                    self.enemy_health_now[j] / self.enemy_health,
                    *((self.enemy_pos[j] - centre) / MAP_SIZE),
                )
        return np.concatenate([allies.ravel(), enemies.ravel(), self.last_action.ravel()]).astype(np.float32)

    def get_state_size(self) -> int:
        return 4 * self.n_agents + 3 * self.n_enemies + self.n_agents * self.n_actions

    # -- actions -----------------------------------------------------------------

    def get_avail_agent_actions(self, agent_id: int) -> list[int]:
        if self.ally_health[agent_id] <= 0:
            return [1] + [0] * (self.n_actions - 1)  # only no-op
        avail = [0] * self.n_actions
        avail[1] = 1  # stop
        x, y = self.ally_pos[agent_id]
        for action, (dx, dy) in MOVES.items():
            avail[action] = int(0 <= x + dx / 2 < MAP_SIZE and 0 <= y + dy / 2 < MAP_SIZE)
        for j in range(self.n_enemies):
            in_range = math.hypot(*(self.enemy_pos[j] - self.ally_pos[agent_id])) <= SHOOT_RANGE
            avail[N_NO_ATTACK + j] = int(self.enemy_health_now[j] > 0 and in_range)
        return avail

    def get_avail_actions(self):
        return [self.get_avail_agent_actions(i) for i in range(self.n_agents)]

    def get_total_actions(self) -> int:
        return self.n_actions

    # -- misc ----------------------------------------------------------------------

    def get_env_info(self) -> dict:
        return {
            "state_shape": self.get_state_size(),
            "obs_shape": self.get_obs_size(),
            "n_actions": self.get_total_actions(),
            "n_agents": self.n_agents,
            "episode_limit": self.episode_limit,
        }

    def get_stats(self) -> dict:
        return {"battles_won": self.battles_won, "battles_game": self.battles_game, "timeouts": self.timeouts}

    def seed(self):
        return self._seed

    def close(self) -> None:
        self._launched = False


class CannotResetStandIn(Exception):
    """Stand-in for SMACv2's `CannotResetException`."""


class CapabilityWrapperStandIn:
    """Stand-in for SMACv2's `StarCraftCapabilityEnvWrapper`: draws the team each reset
    from NumPy's global RNG, forwards everything else, and like SMACv2 returns None
    from `reset` when the first attempt fails and it retries (every third reset here)."""

    def __init__(self, **kwargs):
        self.distribution_config = kwargs["capability_config"]
        self.env = StarCraft2EnvStandIn(**kwargs)
        self._resets = 0

    def reset(self):
        try:
            self._resets += 1
            if self._resets % 3 == 0:
                raise CannotResetStandIn
            self.env.enemy_health = float(np.random.choice([30.0, 45.0, 60.0]))  # the "team"
            return self.env.reset()
        except CannotResetStandIn:
            self.reset()  # SMACv2 retries and drops the result

    def __getattr__(self, name):
        if name == "env":
            raise AttributeError(name)
        return getattr(self.env, name)
