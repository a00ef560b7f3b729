"""The PettingZoo adapters: `from_pettingzoo` on a scripted env with masks, costs and an
agent that leaves early, and `to_pettingzoo` against PettingZoo's own API and seed tests."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from gymnasium.spaces import Box, Dict, Discrete, MultiBinary
from pettingzoo.test import parallel_api_test, parallel_seed_test
from pettingzoo.utils.env import ParallelEnv

import envs


class MaskedTagEnv(ParallelEnv):
    """Three agents on a line of cells 0..4, scripted so that every number is known.

    - Start cells: alpha 0, beta 2, gamma 4. Actions `Discrete(3)`: 0 stay, 1 left, 2 right.
    - Action mask `[1, cell > 0, cell < 4]` (no stepping off the line); a forbidden move
      is ignored (the agent stays), as in many PettingZoo envs.
    - Observation `[cell / 4, t / 6, bias]` where `bias` is drawn per agent at reset from
      `np.random.default_rng(seed)` (a `reset(seed=None)` continues that generator).
    - Reward: the agent's cell after moving. Cost (`infos[agent]["cost"]`): 0.5 for asking
      to move plus 1.0 for ending on cell 2 (the hazard). `infos[agent]["success"]`:
      alpha is on cell 4 (the same flag for every agent).
    - beta terminates at step 3; at step 6 the others end as `end` says: "truncate" (both
      truncated), "terminate" (both terminated) or "mixed" (alpha terminated, gamma truncated).
    """

    metadata = {"name": "masked_tag_v0", "render_modes": [], "is_parallelizable": True}
    CELLS = 5
    HORIZON = 6
    BETA_LEAVES_AT = 3
    START = {"alpha": 0, "beta": 2, "gamma": 4}
    MOVES = (0, -1, 1)

    def __init__(self, end: str = "truncate"):
        assert end in ("truncate", "terminate", "mixed")
        self.end = end
        self.possible_agents = ["alpha", "beta", "gamma"]
        self.agents: list[str] = []
        self.render_mode = None
        self.observation_spaces = {
            a: Dict({"observation": Box(0.0, 1.0, (3,), np.float32), "action_mask": MultiBinary(3)})
            for a in self.possible_agents
        }
        self.action_spaces = {a: Discrete(3) for a in self.possible_agents}
        self._rng = np.random.default_rng()
        self.t = 0
        self.cell: dict[str, int] = {}
        self.bias: dict[str, float] = {}

    def observation_space(self, agent):
        return self.observation_spaces[agent]

    def action_space(self, agent):
        return self.action_spaces[agent]

    def mask(self, agent: str) -> np.ndarray:
        cell = self.cell[agent]
        return np.array([1, cell > 0, cell < self.CELLS - 1], dtype=np.int8)

    def _obs(self, agent: str) -> dict:
        observation = np.array(
            [self.cell[agent] / (self.CELLS - 1), self.t / self.HORIZON, self.bias[agent]], np.float32
        )
        return {"observation": observation, "action_mask": self.mask(agent)}

    def reset(self, seed=None, options=None):
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        self.agents = list(self.possible_agents)
        self.t = 0
        self.cell = dict(self.START)
        self.bias = {a: float(self._rng.random()) for a in self.possible_agents}
        return {a: self._obs(a) for a in self.agents}, {a: {} for a in self.agents}

    def step(self, actions):
        # The adapter must send exactly the agents that are still in the episode.
        assert set(actions) == set(self.agents), (sorted(actions), self.agents)
        self.t += 1
        rewards, infos = {}, {}
        terminations = dict.fromkeys(self.agents, False)
        truncations = dict.fromkeys(self.agents, False)
        costs = {}
        for agent in self.agents:
            action = int(actions[agent])
            if self.mask(agent)[action]:
                self.cell[agent] += self.MOVES[action]
            rewards[agent] = float(self.cell[agent])
            costs[agent] = 0.5 * (action != 0) + (1.0 if self.cell[agent] == 2 else 0.0)
        if self.t == self.BETA_LEAVES_AT:
            terminations["beta"] = True
        if self.t >= self.HORIZON:
            for agent in self.agents:
                if self.end == "truncate":
                    truncations[agent] = True
                elif self.end == "terminate":
                    terminations[agent] = True
                else:
                    terminations[agent] = agent == "alpha"
                    truncations[agent] = agent != "alpha"
        success = self.cell["alpha"] == self.CELLS - 1
        infos = {a: {"cost": costs[a], "success": success} for a in self.agents}
        obs = {a: self._obs(a) for a in self.agents}
        self.agents = [a for a in self.agents if not (terminations[a] or truncations[a])]
        return obs, rewards, terminations, truncations, infos

    def state(self):  # not used: the env has no `state_space`, so the adapter concatenates obs
        raise NotImplementedError


def masked_env(num_envs=2, vector="sync", end="truncate", **kwargs) -> envs.VectorEnv:
    return envs.from_pettingzoo(
        lambda: MaskedTagEnv(end=end),
        num_envs=num_envs,
        vector=vector,
        cost_key="cost",
        info_keys=("success",),
        max_episode_steps=MaskedTagEnv.HORIZON,
        name="test/masked_tag",
        **kwargs,
    )


# The scripted episode (the same actions in every copy) and what MaskedTagEnv's rules give.
AGENTS = ("alpha", "beta", "gamma")
SCRIPT = {"alpha": [2, 2, 2, 2, 0, 1], "beta": [0, 1, 2, 0, 0, 0], "gamma": [1, 1, 0, 2, 2, 0]}
CELLS_AFTER = {"alpha": [1, 2, 3, 4, 4, 3], "beta": [2, 1, 2, 2, 2, 2], "gamma": [3, 2, 2, 3, 4, 4]}
REWARDS = {"alpha": [1, 2, 3, 4, 4, 3], "beta": [2, 1, 2, 0, 0, 0], "gamma": [3, 2, 2, 3, 4, 4]}
COSTS = {
    "alpha": [0.5, 1.5, 0.5, 0.5, 0.0, 0.5],
    "beta": [1.0, 0.5, 1.5, 0.0, 0.0, 0.0],
    "gamma": [0.5, 1.5, 1.0, 0.5, 0.5, 0.0],
}
SUCCESS = [0.0, 0.0, 0.0, 1.0, 1.0, 0.0]
START_MASKS = {"alpha": [True, False, True], "beta": [True, True, True], "gamma": [True, True, False]}
DEAD_MASK = [True, False, False]
# Sum over steps of the mean cost (reward) over the three agents, dead agent counting 0.
EPISODE_COST = (2.0 + 3.5 + 3.0 + 1.0 + 0.5 + 0.5) / 3  # = 3.5
EPISODE_RETURN = (6 + 5 + 7 + 7 + 8 + 7) / 3


def last_mask(agent: str, t: int) -> list[bool]:
    """The mask after scripted step t+1 (beta, gone from step 3 on, may only take action 0)."""
    if agent == "beta" and t + 1 >= MaskedTagEnv.BETA_LEAVES_AT + 1:
        return DEAD_MASK
    cell = CELLS_AFTER[agent][t]
    return [True, cell > 0, cell < 4]


def scripted_actions(t: int, num_envs: int) -> dict[str, torch.Tensor]:
    return {a: torch.full((num_envs,), SCRIPT[a][t], dtype=torch.int64) for a in AGENTS}


def test_spec_of_the_masked_env():
    with masked_env() as env:
        spec = env.spec
        assert spec.agents == AGENTS
        assert spec.has_costs and spec.has_action_masks
        assert spec.info_keys == ("success", "episode_return", "episode_length", "episode_cost")
        assert spec.observation_spaces["alpha"] == Box(0.0, 1.0, (3,), np.float32)
        assert spec.action_spaces["beta"] == Discrete(3)
        assert spec.state_space.shape == (9,)  # no state_space: concatenated observations
        assert spec.max_episode_steps == MaskedTagEnv.HORIZON


@pytest.mark.parametrize("vector", ["sync", "subproc"])
def test_check_env_passes(vector):
    with masked_env(num_envs=2, vector=vector) as env:
        envs.check_env(env, steps=20)


def test_check_env_passes_when_every_agent_terminates():
    with masked_env(num_envs=2, end="terminate") as env:
        envs.check_env(env, steps=20)


def test_observations_depend_on_the_seed():
    with masked_env(num_envs=2) as env:
        first = env.reset(seed=3).obs["alpha"].clone()
        again = env.reset(seed=3).obs["alpha"]
        other = env.reset(seed=4).obs["alpha"]
    torch.testing.assert_close(first, again, rtol=0, atol=0)
    # Copy i is seeded seed + i, so copy 0 at seed 4 is copy 1 at seed 3.
    torch.testing.assert_close(other[0], first[1], rtol=0, atol=0)
    assert not torch.equal(first[0], first[1])
    expected_bias = [np.float32(np.random.default_rng(3 + i).random()) for i in range(2)]
    assert first[:, 2].tolist() == expected_bias


def test_scripted_episode_rewards_costs_masks_and_dead_agent():
    num_envs, seed = 2, 7
    with masked_env(num_envs=num_envs, seed=seed) as env:
        timestep = env.reset()
        bias = {a: timestep.obs[a][:, 2].clone() for a in AGENTS}
        for a in AGENTS:
            assert timestep.action_mask[a].dtype == torch.bool
            assert timestep.action_mask[a].tolist() == [START_MASKS[a]] * num_envs
            assert timestep.cost[a].tolist() == [0.0] * num_envs
        assert torch.isnan(timestep.info["success"]).all()
        for t in range(MaskedTagEnv.HORIZON):
            timestep = env.step(scripted_actions(t, num_envs))
            last = t == MaskedTagEnv.HORIZON - 1
            beta_left = t + 1 >= MaskedTagEnv.BETA_LEAVES_AT + 1  # steps after the one it left at
            for a in AGENTS:
                where = f"step {t + 1}, agent {a}"
                assert timestep.reward[a].tolist() == [float(REWARDS[a][t])] * num_envs, where
                assert timestep.cost[a].dtype == torch.float32
                assert timestep.cost[a].tolist() == [COSTS[a][t]] * num_envs, where
                obs = timestep.final_obs[a]
                if a == "beta" and beta_left:
                    assert torch.equal(obs, torch.zeros(num_envs, 3)), where
                else:
                    expected = torch.stack(
                        [
                            torch.full((num_envs,), CELLS_AFTER[a][t] / 4),
                            torch.full((num_envs,), (t + 1) / MaskedTagEnv.HORIZON),
                            bias[a],
                        ],
                        dim=1,
                    ).float()
                    torch.testing.assert_close(obs, expected, rtol=0, atol=0, msg=where)
                if not (a == "beta" and t + 1 == MaskedTagEnv.BETA_LEAVES_AT):
                    # the mask of the state this step reached; at the last step, of the ended episode
                    assert timestep.final_action_mask[a].tolist() == [last_mask(a, t)] * num_envs, where
                    if not last:
                        assert timestep.action_mask[a].tolist() == [last_mask(a, t)] * num_envs, where
            assert timestep.info["success"].tolist() == [SUCCESS[t]] * num_envs
            if not last:
                assert not timestep.done.any(), f"step {t + 1}: beta leaving must not end the episode"
                assert torch.isnan(timestep.info["episode_cost"]).all()
                assert torch.equal(timestep.final_obs["alpha"], timestep.obs["alpha"])
        # Step 6 ends the episode by truncation; the copies were reset.
        assert timestep.truncated.tolist() == [True] * num_envs
        assert timestep.terminated.tolist() == [False] * num_envs
        torch.testing.assert_close(
            timestep.info["episode_cost"], torch.full((num_envs,), EPISODE_COST), rtol=1e-6, atol=1e-6
        )
        torch.testing.assert_close(
            timestep.info["episode_return"], torch.full((num_envs,), EPISODE_RETURN), rtol=1e-6, atol=1e-6
        )
        assert timestep.info["episode_length"].tolist() == [6.0] * num_envs
        for a in AGENTS:
            assert timestep.action_mask[a].tolist() == [START_MASKS[a]] * num_envs
            start = [MaskedTagEnv.START[a] / 4, 0.0]
            assert timestep.obs[a][:, :2].tolist() == [start] * num_envs
            # The new episode continues each copy's generator: a new bias.
            assert not torch.equal(timestep.obs[a][:, 2], bias[a])
        assert torch.equal(timestep.final_state[:, 3:6], torch.zeros(num_envs, 3))  # beta's part
        # The next episode plays out the same way (costs do not depend on the bias).
        total = torch.zeros(num_envs)
        for t in range(MaskedTagEnv.HORIZON):
            timestep = env.step(scripted_actions(t, num_envs))
            total += sum(timestep.cost[a] for a in AGENTS) / 3
        torch.testing.assert_close(timestep.info["episode_cost"], total, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize(
    ("end", "terminated", "truncated"),
    [("truncate", False, True), ("terminate", True, False), ("mixed", False, True)],
)
def test_episode_end_flags(end, terminated, truncated):
    with masked_env(num_envs=1, end=end, seed=0) as env:
        env.reset()
        for t in range(MaskedTagEnv.HORIZON):
            timestep = env.step(scripted_actions(t, 1))
            if t < MaskedTagEnv.HORIZON - 1:
                assert not timestep.terminated.any() and not timestep.truncated.any(), f"step {t + 1}"
        assert timestep.terminated.tolist() == [terminated]
        assert timestep.truncated.tolist() == [truncated]
        assert timestep.info["episode_length"].tolist() == [6.0]


def test_forbidden_action_raises_naming_the_agent():
    with masked_env(num_envs=2, seed=0) as env:
        env.reset()
        actions = scripted_actions(0, 2)
        actions["alpha"] = torch.tensor([2, 1])  # alpha starts on cell 0: left is forbidden
        with pytest.raises(ValueError, match=r"agent 'alpha'.*forbidden by the action mask") as error:
            env.step(actions)
        assert "copy 1" in str(error.value) and "allowed indices: [0, 2]" in str(error.value)
        actions["alpha"] = torch.tensor([2, 2])
        env.step(actions)  # the refused step did not advance the env: this is still step 1


def test_agent_that_left_may_only_take_action_0():
    """beta leaves at step 3; from then on it "may only take action 0" (PettingZooCopy's
    docstring), so the mask that comes with step 3 (the one the step-4 action is checked
    against) must already allow action 0 only, and a move by beta at step 4 is refused
    rather than silently dropped."""
    with masked_env(num_envs=2, seed=0) as env:
        env.reset()
        for t in range(MaskedTagEnv.BETA_LEAVES_AT):
            timestep = env.step(scripted_actions(t, 2))
        assert timestep.action_mask["beta"].tolist() == [DEAD_MASK] * 2
        actions = scripted_actions(MaskedTagEnv.BETA_LEAVES_AT, 2)
        actions["beta"] = torch.tensor([0, 2])
        with pytest.raises(ValueError, match=r"agent 'beta'.*forbidden.*allowed indices: \[0\]"):
            env.step(actions)


def test_agent_that_left_gets_the_dead_mask_one_step_later():
    with masked_env(num_envs=2, seed=0) as env:
        env.reset()
        for t in range(MaskedTagEnv.BETA_LEAVES_AT + 1):
            timestep = env.step(scripted_actions(t, 2))
        assert timestep.action_mask["beta"].tolist() == [DEAD_MASK] * 2
        actions = scripted_actions(MaskedTagEnv.BETA_LEAVES_AT + 1, 2)
        actions["beta"] = torch.tensor([1, 0])
        with pytest.raises(ValueError, match=r"agent 'beta'.*forbidden.*allowed indices: \[0\]"):
            env.step(actions)
        actions["beta"] = torch.tensor([0, 0])
        env.step(actions)


# --- to_pettingzoo -------------------------------------------------------------------


def test_to_pettingzoo_ends_an_episode_with_its_own_last_masks():
    """The step that ends an episode returns that episode's last observation, and with it its
    last action masks, not the next episode's start masks."""
    parallel = envs.to_pettingzoo(masked_env(num_envs=1, seed=0))
    parallel.reset(seed=0)
    for t in range(MaskedTagEnv.HORIZON):
        obs, _, _, truncated, infos = parallel.step({a: int(SCRIPT[a][t]) for a in parallel.agents})
    assert all(truncated.values())
    assert parallel.agents == []  # the episode ended at the last scripted step
    assert last_mask("alpha", MaskedTagEnv.HORIZON - 1) != START_MASKS["alpha"]  # so the test can tell
    for a in ("alpha", "gamma"):
        assert obs[a]["action_mask"].tolist() == [int(v) for v in last_mask(a, MaskedTagEnv.HORIZON - 1)]
        assert infos[a]["action_mask"].tolist() == last_mask(a, MaskedTagEnv.HORIZON - 1)
    parallel.close()


@pytest.mark.parametrize("task", ["mpe2/simple_spread", "mpe2/simple_speaker_listener"])
def test_to_pettingzoo_passes_parallel_api_test(task):
    parallel_api_test(envs.to_pettingzoo(envs.make(task, num_envs=1)), num_cycles=60)


@pytest.mark.parametrize("task", ["mpe2/simple_spread", "mpe2/simple_speaker_listener"])
def test_to_pettingzoo_passes_parallel_seed_test(task):
    parallel_seed_test(lambda: envs.to_pettingzoo(envs.make(task, num_envs=1)), num_cycles=30)


@pytest.mark.parametrize("task", ["mpe2/simple_spread", "mpe2/simple_speaker_listener"])
def test_to_pettingzoo_is_deterministic_across_episodes(task):
    first = envs.to_pettingzoo(envs.make(task, num_envs=1))
    second = envs.to_pettingzoo(envs.make(task, num_envs=1))
    obs1, _ = first.reset(seed=123)
    obs2, _ = second.reset(seed=123)
    rng = np.random.default_rng(0)
    episodes_ended = 0
    for t in range(60):
        for a in first.possible_agents:
            np.testing.assert_array_equal(obs1[a], obs2[a], err_msg=f"step {t}: obs[{a}]")
        np.testing.assert_array_equal(first.state(), second.state(), err_msg=f"step {t}: state")
        if not first.agents:
            assert not second.agents
            episodes_ended += 1
            obs1, _ = first.reset()
            obs2, _ = second.reset()
            continue
        assert first.agents == second.agents == first.possible_agents
        actions = {a: int(rng.integers(first.action_space(a).n)) for a in first.agents}
        obs1, rew1, term1, trunc1, _ = first.step(actions)
        obs2, rew2, term2, trunc2, _ = second.step(actions)
        assert rew1 == rew2 and term1 == term2 and trunc1 == trunc2, f"step {t}"
        assert set(rew1) == set(first.possible_agents)
        assert all(isinstance(r, float) for r in rew1.values())
    assert episodes_ended == 2  # 25-step episodes, reset taking one iteration: ends at t=25 and t=51
    # A different seed gives a different episode.
    other = envs.to_pettingzoo(envs.make(task, num_envs=1))
    assert not np.array_equal(
        other.reset(seed=124)[0][first.possible_agents[0]], first.reset(seed=123)[0][first.possible_agents[0]]
    )


def test_to_pettingzoo_episode_end_and_state():
    env = envs.to_pettingzoo(envs.make("mpe2/simple_spread", num_envs=1))
    obs, infos = env.reset(seed=0)
    assert env.agents == ["agent_0", "agent_1", "agent_2"]
    assert set(infos) == set(env.agents) and all(i == {} for i in infos.values())
    for a in env.agents:
        assert env.observation_space(a).contains(obs[a])
    np.testing.assert_array_equal(env.state(), np.concatenate([obs[a] for a in env.possible_agents]))
    for t in range(25):
        obs, _, term, trunc, _ = env.step({a: 0 for a in env.agents})
        np.testing.assert_array_equal(env.state(), np.concatenate([obs[a] for a in env.possible_agents]))
        assert all(v == (t == 24) for v in trunc.values()), t
        assert not any(term.values())
    assert env.agents == []


def test_to_pettingzoo_of_the_masked_env_passes_parallel_api_test():
    """The README promises this; masks are in infos, where PettingZoo's sampler does not look."""
    parallel_api_test(envs.to_pettingzoo(masked_env(num_envs=1, seed=0)), num_cycles=40)


def test_to_pettingzoo_of_the_masked_env_without_validation_passes_parallel_api_test():
    env = masked_env(num_envs=1, seed=0, validate_actions=False)
    parallel_api_test(envs.to_pettingzoo(env), num_cycles=40)


def _observation(value) -> np.ndarray:
    """The observation array, also when it comes in PettingZoo's masked `Dict` form."""
    return value["observation"] if isinstance(value, dict) else value


def test_to_pettingzoo_puts_action_masks_and_costs_in_infos():
    env = envs.to_pettingzoo(masked_env(num_envs=1, seed=0))
    obs, infos = env.reset(seed=5)
    assert env.possible_agents == list(AGENTS)
    for a in AGENTS:
        assert _observation(obs[a]).shape == (3,)
        np.testing.assert_array_equal(infos[a]["action_mask"], START_MASKS[a])
        assert infos[a]["action_mask"].dtype == bool
    for t in range(MaskedTagEnv.HORIZON):
        actions = {a: SCRIPT[a][t] for a in env.agents}
        obs, rewards, term, trunc, infos = env.step(actions)
        for a in AGENTS:
            assert rewards[a] == REWARDS[a][t]
            assert infos[a]["cost"] == COSTS[a][t]
        if t < MaskedTagEnv.HORIZON - 1:
            alive_masks = {a: infos[a]["action_mask"].tolist() for a in AGENTS}
            if t + 1 > MaskedTagEnv.BETA_LEAVES_AT:
                assert alive_masks["beta"] == DEAD_MASK
                np.testing.assert_array_equal(_observation(obs["beta"]), np.zeros(3, np.float32))
    assert all(trunc.values()) and not any(term.values())
    assert env.agents == []
    # A loop that samples from the masks in infos keeps working with validation on.
    rng = np.random.default_rng(1)
    obs, infos = env.reset()
    for _ in range(3 * MaskedTagEnv.HORIZON):
        if not env.agents:
            obs, infos = env.reset()
        actions = {a: int(rng.choice(np.flatnonzero(infos[a]["action_mask"]))) for a in env.agents}
        obs, _, _, _, infos = env.step(actions)


def test_to_pettingzoo_rejects_more_than_one_copy():
    with (
        envs.make("mpe2/simple_spread", num_envs=2) as env,
        pytest.raises(ValueError, match="num_envs=1, got 2"),
    ):
        envs.to_pettingzoo(env)


def test_round_trip_equals_the_suite_env():
    seed, steps = 9, 30
    direct = envs.make("mpe2/simple_spread", num_envs=1, seed=seed)
    round_trip = envs.from_pettingzoo(
        lambda: envs.to_pettingzoo(envs.make("mpe2/simple_spread")), num_envs=1, seed=seed
    )
    assert round_trip.spec.agents == direct.spec.agents
    assert round_trip.spec.action_spaces == direct.spec.action_spaces
    ts1, ts2 = direct.reset(), round_trip.reset()
    generator = torch.Generator().manual_seed(0)
    for t in range(steps + 1):
        for a in direct.spec.agents:
            torch.testing.assert_close(ts2.obs[a], ts1.obs[a], rtol=0, atol=0, msg=f"step {t}: obs[{a}]")
            torch.testing.assert_close(
                ts2.final_obs[a], ts1.final_obs[a], rtol=0, atol=0, msg=f"step {t}: final_obs[{a}]"
            )
            torch.testing.assert_close(
                ts2.reward[a], ts1.reward[a], rtol=0, atol=0, msg=f"step {t}: reward[{a}]"
            )
        assert torch.equal(ts2.terminated, ts1.terminated) and torch.equal(ts2.truncated, ts1.truncated), t
        if t == steps:
            break
        actions = envs.random_actions(direct.spec, generator=generator)
        ts1, ts2 = direct.step(actions), round_trip.step(actions)
    direct.close()
    round_trip.close()


def test_from_pettingzoo_rejects_an_env_instance():
    instance = MaskedTagEnv()
    with pytest.raises(
        TypeError, match=r"needs a function that builds a ParallelEnv.*got MaskedTagEnv.*lambda"
    ):
        envs.from_pettingzoo(instance, num_envs=1)
