"""The update rules against values computed by hand on tiny batches: GAE with truncation,
HAPPO's factor M, HATRPO's natural-gradient step, CPO's feasible and recovery cases."""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
import pytest
import torch

from baselines.algorithms.base import detached
from baselines.algorithms.base import mean_kl as mean_kl_of
from baselines.algorithms.happo import HAPPO
from baselines.algorithms.hatrpo import HATRPO
from baselines.config import RunConfig
from baselines.storage import Rollout, gae
from baselines.trust_region import (
    capped_step,
    cpo_step,
    fisher_vector_product,
    flat_grad,
    flat_params,
    trpo_step,
)
from envs.spec import EnvSpec


def tiny_spec(agents=("a", "b", "c"), discrete=True) -> EnvSpec:
    action = gym.spaces.Discrete(3) if discrete else gym.spaces.Box(-1, 1, (2,), np.float32)
    return EnvSpec(
        name="test/tiny",
        family="test",
        backend="none",
        agents=tuple(agents),
        observation_spaces={a: gym.spaces.Box(-np.inf, np.inf, (4,), np.float32) for a in agents},
        action_spaces={a: action for a in agents},
        state_space=gym.spaces.Box(-np.inf, np.inf, (6,), np.float32),
        num_envs=4,
        device=torch.device("cpu"),
    )


def tiny_rollout(spec: EnvSpec, algo, steps: int = 5, seed: int = 0) -> Rollout:
    g = torch.Generator().manual_seed(seed)
    n = spec.num_envs
    obs = {a: torch.randn(steps, n, 4, generator=g) for a in spec.agents}
    actions, log_probs = {}, {}
    for a in spec.agents:
        dist, _ = algo.actors[a].distribution(obs[a].reshape(steps * n, 4))
        act = dist.sample()
        actions[a] = act.reshape(steps, n, *act.shape[1:])
        log_probs[a] = algo.actors[a].log_prob(dist, act).reshape(steps, n).detach()
    zeros = torch.zeros(steps, n)
    rollout = Rollout(
        obs=obs,
        state=torch.randn(steps, n, 6, generator=g),
        actions=actions,
        log_probs=log_probs,
        masks=None,
        starts=torch.zeros(steps, n, dtype=torch.bool),
        rewards=torch.randn(steps, n, generator=g),
        values=zeros.clone(),
        terminated=torch.zeros(steps, n, dtype=torch.bool),
        truncated=torch.zeros(steps, n, dtype=torch.bool),
        final_values=zeros.clone(),
        last_values=torch.zeros(n),
    )
    rollout.extras["advantages"] = torch.randn(steps, n, generator=g)
    return rollout


def test_gae_bootstraps_from_the_final_state_on_truncation_and_not_on_termination():
    gamma, lam = 0.9, 0.5
    rewards = torch.tensor([[1.0], [2.0], [3.0]])
    values = torch.tensor([[0.5], [0.25], [1.0]])
    last = torch.tensor([4.0])
    terminated = torch.tensor([[False], [False], [False]])
    truncated = torch.tensor([[False], [True], [False]])
    final_values = torch.tensor([[0.0], [10.0], [0.0]])
    adv, ret = gae(rewards, values, last, terminated, truncated, final_values, gamma, lam)
    d2 = 3.0 + gamma * 4.0 - 1.0  # the new episode's step bootstraps from the last value
    d1 = 2.0 + gamma * 10.0 - 0.25  # truncated: bootstrap from V(final state) = 10, trace stops
    d0 = 1.0 + gamma * 0.25 - 0.5
    expected = torch.tensor([[d0 + gamma * lam * d1], [d1], [d2]])
    torch.testing.assert_close(adv, expected)
    torch.testing.assert_close(ret, expected + values)
    terminated[1, 0], truncated[1, 0] = True, False
    adv, _ = gae(rewards, values, last, terminated, truncated, final_values, gamma, lam)
    assert float(adv[1, 0]) == pytest.approx(2.0 - 0.25)  # terminal: no bootstrap at all


def test_happo_factor_is_the_product_of_the_updated_agents_ratios():
    torch.manual_seed(0)
    config = RunConfig()
    config.train.fixed_order = True
    config.train.ppo_epoch = 3
    config.train.actor_minibatches = 1
    spec = tiny_spec()
    seen: dict[str, torch.Tensor] = {}

    class Recording(HAPPO):
        """Records the factor each agent's first minibatch is weighted by, in sample order."""

        current: tuple[str, torch.Tensor] | None = None

        def ppo_loss(self, log_probs, old, advantages, entropy, factor=None):
            agent, index = Recording.current
            if agent not in seen:
                seen[agent] = torch.empty(len(index))
                seen[agent][index] = factor.detach()
            return super().ppo_loss(log_probs, old, advantages, entropy, factor)

        def evaluate(self, agent, rollout, index):
            Recording.current = (agent, index)
            return super().evaluate(agent, rollout, index)

    algo = Recording(spec, config, torch.device("cpu"))
    rollout = tiny_rollout(spec, algo)
    before = {a: {k: v.clone() for k, v in algo.actors[a].state_dict().items()} for a in spec.agents}
    algo.update_actors(rollout, torch.Generator().manual_seed(0), {})

    def ratio(agent: str) -> torch.Tensor:
        """pi_new / pi_old of `agent` on the whole batch, computed directly."""
        actor = algo.actors[agent]
        obs = rollout.obs[agent].reshape(-1, 4)
        with torch.no_grad():
            new = actor.log_prob(actor.distribution(obs)[0], rollout.actions[agent].reshape(-1))
        return torch.exp(new - rollout.log_probs[agent].reshape(-1))

    torch.testing.assert_close(seen["a"], torch.ones(20))
    torch.testing.assert_close(seen["b"], ratio("a"))
    torch.testing.assert_close(seen["c"], ratio("a") * ratio("b"))
    assert not torch.allclose(seen["c"], torch.ones(20))  # the agents did move
    assert any(not torch.equal(before["a"][k], v) for k, v in algo.actors["a"].state_dict().items())


def test_hatrpo_step_is_the_natural_gradient_scaled_to_the_kl_threshold():
    """The step from conjugate gradient equals F^-1 g scaled to sqrt(2 delta / d'Fd), with the
    gradient and the KL's Hessian F computed densely by autograd."""
    torch.manual_seed(1)
    config = RunConfig()
    config.model.hidden_sizes = [3]
    spec = tiny_spec(agents=("a",), discrete=False)
    algo = HATRPO(spec, config, torch.device("cpu"))
    rollout = tiny_rollout(spec, algo, steps=6)
    actor = algo.actors["a"]
    obs = rollout.obs["a"].reshape(-1, 4)
    actions = rollout.actions["a"].reshape(-1, 2)
    adv = rollout.extras["advantages"].reshape(-1)
    old = rollout.log_probs["a"].reshape(-1)
    params = flat_params(actor)
    names_shapes = [(n, p.shape) for n, p in actor.named_parameters()]

    def dist_at(flat: torch.Tensor) -> torch.distributions.Normal:
        chunks, offset = {}, 0
        for name, shape in names_shapes:
            size = math.prod(shape)
            chunks[name] = flat[offset : offset + size].view(shape)
            offset += size
        return torch.func.functional_call(actor, chunks, (obs,))[0]

    def surrogate(flat: torch.Tensor) -> torch.Tensor:
        return (torch.exp(dist_at(flat).log_prob(actions).sum(-1) - old) * adv).mean()

    old_dist = dist_at(params)
    old_dist = torch.distributions.Normal(old_dist.loc.detach(), old_dist.scale.detach())

    def mean_kl(flat: torch.Tensor) -> torch.Tensor:
        return torch.distributions.kl_divergence(old_dist, dist_at(flat)).sum(-1).mean()

    g = torch.autograd.functional.jacobian(surrogate, params)
    fisher = torch.autograd.functional.hessian(mean_kl, params) + config.train.cg_damping * torch.eye(
        len(params)
    )
    direction = torch.linalg.solve(fisher, g)
    expected = direction * math.sqrt(2 * config.train.kl_threshold / float(direction @ fisher @ direction))

    # the algorithm's own pieces: autograd gradient, Fisher-vector products, conjugate gradient
    index = algo.all_indices(rollout)
    log_probs, _, dist = algo.evaluate("a", rollout, index)
    g_algo = flat_grad((torch.exp(log_probs - old) * adv).mean(), actor, retain_graph=True)
    torch.testing.assert_close(g_algo, g, rtol=1e-4, atol=1e-7)
    fvp = fisher_vector_product(
        lambda: mean_kl_of(detached(dist), algo.evaluate("a", rollout, index)[2]),
        actor,
        config.train.cg_damping,
    )
    step = trpo_step(g_algo, fvp, config.train.kl_threshold, iters=3 * len(params))
    # conjugate gradient in float32: equal up to its rounding
    assert float(torch.nn.functional.cosine_similarity(step, expected, dim=0)) > 0.9999
    torch.testing.assert_close(step.norm(), expected.norm(), rtol=1e-3, atol=0)
    # and the quadratic model of the KL at the full step is the threshold
    assert 0.5 * float(step @ fisher @ step) == pytest.approx(config.train.kl_threshold, rel=1e-3)


def test_cpo_takes_a_plain_trust_region_step_when_the_constraint_is_far_from_active():
    fisher = torch.diag(torch.tensor([2.0, 1.0]))
    g, b = torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0])
    solution = cpo_step(g, b, c=-10.0, fvp=lambda v: fisher @ v, kl_threshold=0.01, iters=10)
    assert solution.case == 3
    expected = torch.tensor([0.5, 0.0]) * math.sqrt(2 * 0.01 / 0.5)  # F^-1 g scaled to 0.5 x'Fx = delta
    torch.testing.assert_close(solution.step, expected)


def test_cpo_recovers_by_descending_the_cost_when_infeasible():
    fisher = torch.eye(2)
    g, b = torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0])
    solution = cpo_step(g, b, c=5.0, fvp=lambda v: fisher @ v, kl_threshold=0.01, iters=10)
    assert solution.case == 0
    torch.testing.assert_close(solution.step, torch.tensor([0.0, -math.sqrt(0.02)]))


def test_cpo_step_satisfies_the_linearised_constraint_when_it_binds():
    fisher = torch.eye(2)
    g, b = torch.tensor([1.0, 1.0]), torch.tensor([0.0, 1.0])
    c, delta = -0.05, 0.01
    solution = cpo_step(g, b, c=c, fvp=lambda v: fisher @ v, kl_threshold=delta, iters=10)
    assert solution.case == 2
    step = solution.step
    assert c + float(b @ step) <= 1e-6  # the cost stays within the limit (to first order)
    assert 0.5 * float(step @ step) <= delta + 1e-6  # inside the trust region
    assert float(g @ step) > 0  # and the objective still improves


def test_macpo_step_is_capped_in_norm_then_scaled():
    step = torch.tensor([3.0, 4.0])  # norm 5
    torch.testing.assert_close(capped_step(step, 0.5, 0.27), torch.tensor([0.3, 0.4]) * 0.27)
    torch.testing.assert_close(capped_step(step, 10.0, 0.5), step * 0.5)  # under the cap: scaled only
    torch.testing.assert_close(capped_step(step, None, 1.0), step)


def test_box_actions_reach_the_env_clipped_unless_clip_actions_is_off():
    from baselines.config import ModelConfig
    from baselines.networks import Actor

    box = gym.spaces.Box(-1.0, 1.0, (2,), np.float32)
    sample = torch.tensor([[1.7, -0.3]])
    clipped = Actor(3, box, ModelConfig()).to_env(sample)
    torch.testing.assert_close(clipped, torch.tensor([[1.0, -0.3]]))
    assert torch.equal(Actor(3, box, ModelConfig(clip_actions=False)).to_env(sample), sample)


def test_value_clip_is_centred_on_the_critics_outputs_at_collection_time():
    """The rollout stores denormalised values; the clipped value loss must be centred on what
    the critic output then, not on those values renormalised with statistics that have
    already taken in this rollout's returns (early in training they move by more than the clip)."""
    torch.manual_seed(0)
    config = RunConfig()
    config.train.critic_epoch, config.train.critic_minibatches = 1, 1
    spec = tiny_spec()
    seen: list[tuple[torch.Tensor, torch.Tensor]] = []

    class Recording(HAPPO):
        def value_loss(self, values, old, targets):
            seen.append((values.detach().clone(), old.detach().clone()))
            return super().value_loss(values, old, targets)

    algo = Recording(spec, config, torch.device("cpu"))
    algo.value_norm.update(torch.randn(50) * 3 + 1)  # statistics from earlier rollouts
    rollout = tiny_rollout(spec, algo)
    with torch.no_grad():
        outputs, _ = algo.critic(rollout.state)
    rollout.values = algo.value_norm.denormalize(outputs)  # what the trainer stores
    rollout.extras["returns"] = torch.randn_like(rollout.values) * 50 + 200  # far from the stats
    algo.train_critic(rollout, torch.Generator().manual_seed(0), cost=False)
    ((values, centre),) = seen  # before the first step the critic still outputs what it did then
    torch.testing.assert_close(centre, values, atol=1e-5, rtol=1e-5)


def test_macpo_takes_one_cpo_step_per_agent_and_minibatch_in_one_pass():
    """MACPO's r_macpo.train() calls trpo_update once on each of num_mini_batch random
    mini-batches (a single pass: ppo_epoch is never read), each a CPO step with its own line
    search; the HAPPO factor passed on to the next agent is computed on the whole batch."""
    from baselines.algorithms.macpo import MACPO

    torch.manual_seed(0)
    config = RunConfig()
    config.train.fixed_order = True
    config.train.actor_minibatches = 4
    spec = tiny_spec()
    calls: list[tuple[str, torch.Tensor]] = []

    class Recording(MACPO):
        def cpo_update(self, agent, rollout, index, *args):
            calls.append((agent, index.clone()))
            return super().cpo_update(agent, rollout, index, *args)

    algo = Recording(spec, config, torch.device("cpu"))
    rollout = tiny_rollout(spec, algo, steps=6)
    rollout.extras["cost_advantages"] = torch.randn(
        6, spec.num_envs, generator=torch.Generator().manual_seed(1)
    )
    context = {"mean_episode_cost": 5.0, "cost_limit": 1.0}
    metrics = algo.update_actors(rollout, torch.Generator().manual_seed(0), context)
    assert [agent for agent, _ in calls] == [a for a in spec.agents for _ in range(4)]
    for agent in spec.agents:
        parts = [index for a, index in calls if a == agent]
        assert [len(p) for p in parts] == [6] * 4  # 24 samples in 4 mini-batches
        assert sorted(torch.cat(parts).tolist()) == list(range(24))  # one pass over every sample
    assert metrics["constraint_c"] == pytest.approx((5.0 - 1.0) * (1 - config.train.gamma))
    assert 0.0 <= metrics["accepted"] <= 1.0
