"""The JAX side of SMAX: batched reset/step programs that keep the final observation.

JaxMARL's own `step` resets finished episodes before returning, which loses the last
observation of the old episode. These programs compose the pieces instead:
`step_env` for the transition, `reset` for the next episode, and a select between the
two, returning both. Everything runs per copy under `jax.vmap` inside one `jax.jit`.

Keys: copy i starts from `PRNGKey(seed + i)`; a reset splits it as
`key, sub = split(key)` and resets with `sub`, a step as
`key, step_key, reset_key = split(key, 3)`.

Episode statistics are kept inside the programs too: a `(2, envs)` float32 carry of each
copy's running team return (the sum over steps of the mean reward over agents, as
`envs.episodes.EpisodeStats` defines it) and length, reported where an episode ends.
A step's results leave JAX as `Results`, per-agent fields agent-major straight out of
`vmap` (`out_axes`), so agent i's block is a contiguous view. They are not packed into one
buffer: at 64 and 1,024 copies the concatenation cost 15-20% of the step.

Programs are cached per map and options, so every env of the same task in a process
shares one compilation (per `num_envs`).
"""

from __future__ import annotations

import functools
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
from jaxmarl.environments.smax import HeuristicEnemySMAX, map_name_to_scenario


class Batch(NamedTuple):
    """One copy's transition, as `_step_one` returns it under `vmap`."""

    obs: jax.Array  # (agents, obs_dim) float32
    state: jax.Array  # (state_dim,) float32
    avail: jax.Array  # (agents, actions) bool
    final_avail: jax.Array  # the mask of the step that ended an episode (= avail otherwise)
    final_obs: jax.Array
    final_state: jax.Array
    reward: jax.Array  # (agents,) float32
    terminated: jax.Array  # () bool: a team was wiped out
    truncated: jax.Array  # () bool: max_steps reached first
    win: jax.Array  # () bool: every enemy dead and an ally alive (SMAX's win bonus)


# vmap's output axis per field: the per-agent fields come out agent-major
AGENT_MAJOR = Batch(
    obs=1,
    state=0,
    avail=1,
    final_avail=1,
    final_obs=1,
    final_state=0,
    reward=1,
    terminated=0,
    truncated=0,
    win=0,
)


class Results(NamedTuple):
    """All copies' results of one call, as handed to torch."""

    obs: jax.Array  # (agents, envs, obs_dim) float32
    final_obs: jax.Array
    state: jax.Array  # (envs, state_dim) float32
    final_state: jax.Array
    reward: jax.Array  # (agents, envs) float32
    avail: jax.Array  # (agents, envs, actions) bool
    final_avail: jax.Array
    terminated: jax.Array  # (envs,) bool
    truncated: jax.Array  # (envs,) bool
    info: jax.Array  # (len(INFO_KEYS), envs) float32, NaN where no episode ended


class SmaxPrograms:
    """Batched, jitted programs over all copies:

    - `reset(keys) -> (keys, states, totals, results)`;
    - `step(keys, states, totals, actions) -> (keys, states, totals, results)`;
    - `observe(states, totals) -> results`, for states set by hand (no episode ends).

    `actions` is `(envs, agents)` int32 (a numpy array is fine: passing host data straight to
    a jitted call is cheaper than making a JAX array of it first); `totals` is the
    `(2, envs)` episode statistics carry; `results` are `Results`.
    """

    def __init__(self, map_name: str, **smax_kwargs: Any):
        self.env = HeuristicEnemySMAX(scenario=map_name_to_scenario(map_name), **smax_kwargs)
        self.reset = jax.jit(self._reset_all)
        self.step = jax.jit(self._step_all)
        self.observe = jax.jit(self._observe_all)

    def _reset_all(self, keys: jax.Array):
        keys, states, batch = jax.vmap(self._reset_one, out_axes=(0, 0, AGENT_MAJOR))(keys)
        totals = jnp.zeros((2, keys.shape[0]), jnp.float32)
        return keys, states, totals, _results(batch, _no_info(keys.shape[0]))

    def _step_all(self, keys: jax.Array, states: Any, totals: jax.Array, actions: jax.Array):
        keys, states, batch = jax.vmap(self._step_one, out_axes=(0, 0, AGENT_MAJOR))(keys, states, actions)
        done = batch.terminated | batch.truncated
        totals = totals + jnp.stack([batch.reward.mean(axis=0), jnp.ones_like(totals[1])])
        nan = jnp.float32(jnp.nan)
        info = jnp.where(done, jnp.concatenate([batch.win.astype(jnp.float32)[None], totals]), nan)
        totals = jnp.where(done, jnp.float32(0.0), totals)
        return keys, states, totals, _results(batch, info)

    def _observe_all(self, states: Any, totals: jax.Array):
        batch = jax.vmap(self._observe_one, out_axes=AGENT_MAJOR)(states)
        return _results(batch, _no_info(totals.shape[1]))

    def _observe_one(self, state: Any) -> Batch:
        env = self.env
        obs = env.get_obs(state)
        stacked = jnp.stack([obs[a] for a in env.agents])
        world = env.get_world_state(state)
        masks = env.get_avail_actions(state)
        avail = jnp.stack([masks[a] for a in env.agents]).astype(jnp.bool_)
        no = jnp.array(False)
        return Batch(
            obs=stacked,
            state=world,
            avail=avail,
            final_avail=avail,
            final_obs=stacked,
            final_state=world,
            reward=jnp.zeros(len(env.agents), jnp.float32),
            terminated=no,
            truncated=no,
            win=no,
        )

    def _reset_one(self, key: jax.Array) -> tuple[jax.Array, Any, Batch]:
        key, sub = jax.random.split(key)
        _, state = self.env.reset(sub)
        state = strong_types(state)  # typed as `step` returns it: one compiled step, not two
        return key, state, self._observe_one(state)

    def _step_one(self, key: jax.Array, state: Any, actions: jax.Array) -> tuple[jax.Array, Any, Batch]:
        env = self.env
        key, step_key, reset_key = jax.random.split(key, 3)
        obs, after, rewards, dones, _ = env.step_env(
            step_key, state, {a: actions[i] for i, a in enumerate(env.agents)}
        )
        fresh_obs, fresh = env.reset(reset_key)
        done = dones["__all__"]
        alive = after.state.unit_alive
        allies_dead = ~alive[: env.num_allies].any()
        enemies_dead = ~alive[env.num_allies :].any()
        terminated = allies_dead | enemies_dead
        next_state = jax.tree.map(lambda new, old: jax.lax.select(done, new, old), fresh, after)
        final_obs = jnp.stack([obs[a] for a in env.agents])
        final_world = obs["world_state"]
        avail = env.get_avail_actions(next_state)
        final_avail = env.get_avail_actions(after)
        return (
            key,
            next_state,
            Batch(
                obs=jnp.where(done, jnp.stack([fresh_obs[a] for a in env.agents]), final_obs),
                state=jnp.where(done, fresh_obs["world_state"], final_world),
                avail=jnp.stack([avail[a] for a in env.agents]).astype(jnp.bool_),
                final_avail=jnp.stack([final_avail[a] for a in env.agents]).astype(jnp.bool_),
                final_obs=final_obs,
                final_state=final_world,
                reward=jnp.stack([rewards[a] for a in env.agents]).astype(jnp.float32),
                terminated=terminated,
                truncated=done & ~terminated,
                win=enemies_dead & ~allies_dead,
            ),
        )


def programs(map_name: str, **smax_kwargs: Any) -> SmaxPrograms:
    """Shared programs for hashable options (the usual case), fresh ones otherwise."""
    try:
        return _cached_programs(map_name, tuple(sorted(smax_kwargs.items())))
    except TypeError:  # unhashable options, e.g. arrays of unit stats
        return SmaxPrograms(map_name, **smax_kwargs)


@functools.lru_cache(maxsize=32)
def _cached_programs(map_name: str, options: tuple[tuple[str, Any], ...]) -> SmaxPrograms:
    return SmaxPrograms(map_name, **dict(options))


def strong_types(tree: Any) -> Any:
    """Drop JAX weak types (the heuristic enemy's reset state has one); otherwise the
    state after a step is a new input signature and `step` compiles a second time."""
    return jax.tree.map(lambda x: jax.lax.convert_element_type(x, jnp.asarray(x).dtype), tree)


INFO_KEYS = ("win", "episode_return", "episode_length")  # the rows of `Results.info`


def _no_info(num_envs: int) -> jax.Array:
    return jnp.full((len(INFO_KEYS), num_envs), jnp.nan, jnp.float32)


def _results(batch: Batch, info: jax.Array) -> Results:
    fields = {f: getattr(batch, f) for f in Results._fields if f != "info"}
    return Results(**fields, info=info)
