"""QMIX (Rashid et al., 2018): per-agent Q-values from one GRU network shared by the agents
(agent id, optionally last action, in its input) mixed into Q_tot by a network whose weights
come from hypernetworks on the global state. The weights are made non-negative, so Q_tot is
monotonic in every agent's Q and the greedy joint action is every agent's own argmax.

Trained off-policy on whole episodes from a replay buffer (`baselines/offpolicy.py`) with
double-Q targets from a target network, one-step or TD(lambda). Acting is epsilon-greedy
among the actions each agent's mask allows. Discrete actions only; agents with fewer actions
than others get the largest count with the extra ones masked out (`baselines/action_padding.py`).
"""

from __future__ import annotations

import copy
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from baselines.action_padding import own_action_mask, paddable, stack_action_masks
from baselines.config import RunConfig
from baselines.normalization import RunningMeanStd
from envs.spec import EnvSpec

MASKED_Q = -1e9


class AgentNetwork(nn.Module):
    """pymarl's RNN agent: Linear -> ReLU -> GRUCell -> Linear (one Q per action)."""

    def __init__(self, in_dim: int, hidden: int, actions: int):
        super().__init__()
        self.fc1, self.gru, self.fc2 = (
            nn.Linear(in_dim, hidden),
            nn.GRUCell(hidden, hidden),
            nn.Linear(hidden, actions),
        )
        self.hidden = hidden

    def forward(self, x: torch.Tensor, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """`x` `(..., in)`, `h` `(..., hidden)` -> Q `(..., actions)` and the next `h`."""
        shape = x.shape[:-1]
        h = self.gru(F.relu(self.fc1(x.reshape(-1, x.shape[-1]))), h.reshape(-1, self.hidden))
        return self.fc2(h).reshape(*shape, -1), h.reshape(*shape, self.hidden)

    def sequence(self, x: torch.Tensor, steps: torch.Tensor) -> torch.Tensor:
        """Q `(B, T, ..., actions)` along whole episodes `x` `(B, T, ..., in)`, the GRU started from
        zeros. `steps[b]` is how many leading steps of episode `b` are real, and `steps` must not
        increase along the batch: the recurrence then runs on a shrinking prefix of the batch
        and skips the padding (whose Q-values come out as the output layer's bias). The input
        and output layers run once over all steps instead of once per step."""
        b, length = x.shape[:2]
        if bool((steps[1:] > steps[:-1]).any()):
            raise ValueError(f"sequence needs episodes longest first, got lengths {steps.tolist()}")
        hidden = F.relu(self.fc1(x)).unbind(1)  # per step: slicing one step back-propagates cheaply
        active = (steps.view(1, -1) > torch.arange(length, device=x.device).view(-1, 1)).sum(1).tolist()
        h = x.new_zeros(b, *x.shape[2:-1], self.hidden)
        out = []
        for t, n in enumerate(active):
            h = h[:n]
            h = self.gru(hidden[t][:n].reshape(-1, self.hidden), h.reshape(-1, self.hidden)).view_as(h)
            out.append(F.pad(h, [0, 0] * (h.dim() - 1) + [0, b - n]) if n < b else h)
        return self.fc2(torch.stack(out, 1))


class QMixer(nn.Module):
    """Q_tot = w2(s)^T elu(W1(s)^T q + b1(s)) + V(s), with |W1|, |w2| from hypernetworks."""

    def __init__(self, num_agents: int, state_dim: int, embed: int = 32, hypernet_embed: int = 64):
        super().__init__()
        self.num_agents, self.embed = num_agents, embed
        self.hyper_w1 = nn.Sequential(
            nn.Linear(state_dim, hypernet_embed), nn.ReLU(), nn.Linear(hypernet_embed, num_agents * embed)
        )
        self.hyper_b1 = nn.Linear(state_dim, embed)
        self.hyper_w2 = nn.Sequential(
            nn.Linear(state_dim, hypernet_embed), nn.ReLU(), nn.Linear(hypernet_embed, embed)
        )
        self.value = nn.Sequential(nn.Linear(state_dim, embed), nn.ReLU(), nn.Linear(embed, 1))

    def forward(self, qs: torch.Tensor, state: torch.Tensor) -> torch.Tensor:
        """`qs` `(..., A)` and `state` `(..., S)` -> `(...)`."""
        shape = qs.shape[:-1]
        s = state.reshape(-1, state.shape[-1])
        q = qs.reshape(-1, 1, self.num_agents)
        w1 = self.hyper_w1(s).abs().view(-1, self.num_agents, self.embed)
        b1 = self.hyper_b1(s).view(-1, 1, self.embed)
        hidden = F.elu(torch.bmm(q, w1) + b1)
        w2 = self.hyper_w2(s).abs().view(-1, self.embed, 1)
        return (torch.bmm(hidden, w2).view(-1) + self.value(s).view(-1)).reshape(shape)


class VDNMixer(nn.Module):
    """Q_tot = sum of the agents' Q (VDN): additive, no state input (`offpolicy.mixer: vdn`)."""

    def forward(self, qs: torch.Tensor, state: torch.Tensor) -> torch.Tensor:
        return qs.sum(-1)


class IndependentMixer(nn.Module):
    """No mixing: every agent learns its own Q from the team reward (`offpolicy.mixer: none`, IQL)."""

    def forward(self, qs: torch.Tensor, state: torch.Tensor) -> torch.Tensor:
        return qs


MIXERS = ("qmix", "vdn", "none")


class DiscreteHead(nn.Module):
    """The trainer's per-agent `to_env`: discrete actions go to the env unchanged."""

    def to_env(self, actions: torch.Tensor) -> torch.Tensor:
        return actions


class QMIX:
    name: ClassVar[str] = "qmix"
    needs_costs: ClassVar[bool] = False
    allows_shared_params: ClassVar[bool] = True
    supports_continuous: ClassVar[bool] = False
    supports_discrete: ClassVar[bool] = True
    per_agent_values: ClassVar[bool] = False
    off_policy: ClassVar[bool] = True
    description: ClassVar[str] = (
        "value decomposition with a monotonic hypernetwork mixer, episode replay (off-policy)"
    )
    metric_names: ClassVar[tuple[str, ...]] = ("td_loss", "q_taken_mean", "target_mean", "epsilon", "updates")

    def __init__(self, spec: EnvSpec, config: RunConfig, device: torch.device):
        self.spec, self.config, self.device = spec, config, device
        self.agents = spec.agents
        off, train = config.offpolicy, config.train
        spaces = [spec.action_spaces[a] for a in self.agents]
        if not paddable(spaces):
            raise ValueError(
                f"qmix needs Discrete actions (starting at 0); {spec.name} has {dict(spec.action_spaces)}"
            )
        if config.train.normalize_obs:
            raise ValueError(
                "qmix stores raw observations in its replay buffer: set train.normalize_obs=false"
            )
        if not 0.0 <= off.td_lambda <= 1.0:
            raise ValueError(f"offpolicy.td_lambda must be in [0, 1], got {off.td_lambda}")
        if not 1 <= off.batch_size <= off.buffer_size or off.episodes_per_update < 1:
            raise ValueError(
                "qmix needs 1 <= offpolicy.batch_size <= offpolicy.buffer_size and offpolicy.episodes_per_update >= 1, "
                f"got {off.batch_size}, {off.buffer_size}, {off.episodes_per_update}"
            )
        if off.optimizer not in ("adam", "rmsprop"):
            raise ValueError(f"offpolicy.optimizer must be 'adam' or 'rmsprop', got {off.optimizer!r}")
        # one agent network for all: uneven action counts are padded to the largest and masked
        self.num_agents, self.num_actions = len(self.agents), max(int(s.n) for s in spaces)
        self.own_actions = own_action_mask(spaces, device)
        self.obs_dim = max(spec.observation_spaces[a].shape[0] for a in self.agents)
        in_dim = self.obs_dim + (self.num_agents if off.obs_agent_id else 0)
        in_dim += self.num_actions if off.obs_last_action else 0
        state_dim = spec.state_space.shape[0]
        self.agent = AgentNetwork(in_dim, off.hidden_dim, self.num_actions).to(device)
        if off.mixer not in MIXERS:
            raise ValueError(f"offpolicy.mixer must be one of {MIXERS}, got {off.mixer!r}")
        if off.mixer == "qmix":
            self.mixer = QMixer(self.num_agents, state_dim, off.mixing_embed_dim, off.hypernet_embed).to(
                device
            )
        else:
            self.mixer = VDNMixer() if off.mixer == "vdn" else IndependentMixer()
        self.target_agent, self.target_mixer = copy.deepcopy(self.agent), copy.deepcopy(self.mixer)
        self.state_norm = RunningMeanStd((state_dim,)).to(device)  # used when offpolicy.normalize_state
        params = [*self.agent.parameters(), *self.mixer.parameters()]
        if off.optimizer == "adam":
            self.optimizer = torch.optim.Adam(params, lr=train.lr)
        else:
            self.optimizer = torch.optim.RMSprop(
                params, lr=train.lr, alpha=off.optim_alpha, eps=off.optim_eps
            )
        self.actors = {a: DiscreteHead() for a in self.agents}
        self.epsilon = off.epsilon_start
        self.episodes_seen = 0  # for the target updates, counted in episodes as pymarl does
        self.last_target_update = 0
        self.updates = 0
        self.episode_credit = 0

    # ------------------------------------------------------------------ acting

    def actor_inputs(self, obs: dict[str, torch.Tensor], state: torch.Tensor) -> dict[str, torch.Tensor]:
        return obs

    def stack_obs(self, obs: dict[str, torch.Tensor]) -> torch.Tensor:
        """`(..., A, d)`, zero-padded to one width."""
        return torch.stack(
            [F.pad(obs[a].float(), (0, self.obs_dim - obs[a].shape[-1])) for a in self.agents], -2
        )

    def stack_masks(self, masks: dict[str, torch.Tensor] | None, like: torch.Tensor) -> torch.Tensor:
        """`(..., A, n)` allowed actions: the env's masks and each agent's own (padded) actions;
        `like` `(..., A, d)` gives the batch shape."""
        stacked = stack_action_masks(masks, self.agents, self.own_actions, like.shape[:-2])
        if stacked is None:
            return torch.ones(*like.shape[:-1], self.num_actions, dtype=torch.bool, device=like.device)
        return stacked

    def agent_inputs(self, obs: torch.Tensor, last_actions: torch.Tensor) -> torch.Tensor:
        """Observation, then one-hot agent id, then the one-hot last action (as configured)."""
        off = self.config.offpolicy
        parts = [obs]
        if off.obs_agent_id:
            eye = torch.eye(self.num_agents, device=obs.device)
            parts.append(eye.expand(*obs.shape[:-2], -1, -1))
        if off.obs_last_action:
            parts.append(last_actions)
        return torch.cat(parts, -1)

    def initial_hidden(self, num_envs: int) -> dict[str, Any]:
        actor = {
            "h": torch.zeros(num_envs, self.num_agents, self.config.offpolicy.hidden_dim, device=self.device),
            "last": torch.zeros(num_envs, self.num_agents, self.num_actions, device=self.device),
        }
        return {"actor": actor, "critic": None, "cost_critic": None}

    @torch.no_grad()
    def act(
        self,
        obs: dict[str, torch.Tensor],
        masks: dict[str, torch.Tensor] | None,
        hidden: dict[str, torch.Tensor],
        starts: torch.Tensor,
        deterministic: bool = False,
    ) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor], dict[str, torch.Tensor]]:
        """Greedy (evaluation) or epsilon-greedy actions among the allowed ones; the next GRU state."""
        keep = (~starts).float().view(-1, 1, 1)
        h, last = hidden["h"] * keep, hidden["last"] * keep
        x = self.stack_obs(obs)
        q, h = self.agent(self.agent_inputs(x, last), h)
        allowed = self.stack_masks(masks, x)
        actions = q.masked_fill(~allowed, MASKED_Q).argmax(-1)
        if not deterministic and self.epsilon > 0:
            random = torch.multinomial(allowed.reshape(-1, self.num_actions).float(), 1).view(actions.shape)
            explore = torch.rand(actions.shape, device=actions.device) < self.epsilon
            actions = torch.where(explore, random, actions)
        new_hidden = {"h": h, "last": F.one_hot(actions, self.num_actions).float()}
        split = {a: actions[:, i] for i, a in enumerate(self.agents)}
        zeros = torch.zeros(actions.shape[0], device=actions.device)  # no log-probabilities
        return split, dict.fromkeys(self.agents, zeros), new_hidden

    def set_epsilon(self, env_steps: int) -> float:
        """Linear annealing over `offpolicy.epsilon_anneal_steps` env steps (all copies counted)."""
        off = self.config.offpolicy
        fraction = min(1.0, env_steps / max(off.epsilon_anneal_steps, 1))
        self.epsilon = off.epsilon_start + fraction * (off.epsilon_finish - off.epsilon_start)
        return self.epsilon

    # --------------------------------------------------------------- training

    def update(self, data: Any, generator: torch.Generator, context: dict[str, Any]) -> dict[str, float]:
        """The gradient steps due for the episodes finished since the last call (`data.buffer`,
        `data.new_episodes`): one per `offpolicy.episodes_per_update` episodes, once the buffer
        holds a batch."""
        off = self.config.offpolicy
        if off.normalize_state and data.new_episodes:
            self.observe_states(data.buffer.latest(data.new_episodes))
        self.episodes_seen += data.new_episodes
        self.episode_credit += data.new_episodes
        totals: dict[str, float] = {"td_loss": 0.0, "q_taken_mean": 0.0, "target_mean": 0.0}
        count = 0
        while self.episode_credit >= off.episodes_per_update:
            self.episode_credit -= off.episodes_per_update
            if len(data.buffer) < off.batch_size:
                continue
            metrics = self.train_step(data.buffer.sample(off.batch_size, generator))
            for key in totals:
                totals[key] += metrics[key]
            count += 1
            if self.episodes_seen - self.last_target_update >= off.target_update_interval:
                self.update_targets()
                self.last_target_update = self.episodes_seen
        out = {k: (v / count if count else float("nan")) for k, v in totals.items()}
        return {**out, "epsilon": self.epsilon, "updates": float(self.updates)}

    def observe_states(self, episodes: dict[str, torch.Tensor]) -> None:
        """Add the states of new episodes (every step and the final one) to the running statistics."""
        filled = episodes["filled"]
        steps = torch.cat([filled, torch.zeros_like(filled[:, :1])], 1)
        steps[torch.arange(len(filled)), filled.sum(1)] = True  # the state after the last step
        self.state_norm.update(episodes["state"][steps])

    def mixer_state(self, state: torch.Tensor) -> torch.Tensor:
        return self.state_norm.normalize(state) if self.config.offpolicy.normalize_state else state

    def update_targets(self) -> None:
        self.target_agent.load_state_dict(self.agent.state_dict())
        self.target_mixer.load_state_dict(self.mixer.state_dict())

    def q_values(self, network: AgentNetwork, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """`(B, L+1, A, n)` Q-values along whole episodes (longest first, as the buffer samples
        them): steps 0..len of each, the last being the final observation's."""
        obs, actions = batch["obs"], batch["actions"]
        last = F.one_hot(actions, self.num_actions).float()
        last = torch.cat([torch.zeros_like(last[:, :1]), last], 1)  # action before step t; none at t = 0
        inputs = self.agent_inputs(obs, last[:, : obs.shape[1]])
        return network.sequence(inputs, batch["filled"].sum(1) + 1)

    def targets(self, batch: dict[str, torch.Tensor], q: torch.Tensor, state: torch.Tensor) -> torch.Tensor:
        """Double-Q (or plain max) targets for every step, one-step or TD(lambda) returns;
        `state` is the batch's state as the mixer sees it."""
        off, gamma = self.config.offpolicy, self.config.train.gamma
        with torch.no_grad():
            target_q = self.q_values(self.target_agent, batch)
            allowed = batch["avail"]
            if off.double_q:
                best = q.detach().masked_fill(~allowed, MASKED_Q).argmax(-1, keepdim=True)
                target_max = target_q.gather(-1, best).squeeze(-1)
            else:
                target_max = target_q.masked_fill(~allowed, MASKED_Q).max(-1).values
            next_q = self.target_mixer(target_max, state)[:, 1:]  # Q_tot'(t + 1), (B, L)
            extra = next_q.dim() - 2  # 1 without mixing: one target per agent
            expand = lambda x: x.view(*x.shape, *[1] * extra).expand_as(next_q)  # noqa: E731
            rewards, alive = expand(batch["reward"]), expand((~batch["terminated"]).float())
            if off.td_lambda == 0.0:
                return rewards + gamma * alive * next_q
            lam, filled = off.td_lambda, expand(batch["filled"].float())
            out = torch.zeros_like(rewards)
            running = next_q[:, -1]
            for t in reversed(range(rewards.shape[1])):
                # beyond an episode's last step there is no return: bootstrap from Q_tot'(t + 1)
                if t + 1 < rewards.shape[1]:
                    follow = filled[:, t + 1] * running + (1 - filled[:, t + 1]) * next_q[:, t]
                else:
                    follow = next_q[:, t]
                running = rewards[:, t] + gamma * alive[:, t] * ((1 - lam) * next_q[:, t] + lam * follow)
                out[:, t] = running
            return out

    def train_step(self, batch: dict[str, torch.Tensor]) -> dict[str, float]:
        q = self.q_values(self.agent, batch)
        chosen = q[:, :-1].gather(-1, batch["actions"].unsqueeze(-1)).squeeze(-1)
        state = self.mixer_state(batch["state"])
        q_tot = self.mixer(chosen, state[:, :-1])
        targets = self.targets(batch, q, state)
        mask = batch["filled"].float()
        if q_tot.dim() == 3:  # independent learners: one TD error per agent
            mask = mask.unsqueeze(-1).expand_as(q_tot)
        loss = ((q_tot - targets).square() * mask).sum() / mask.sum()
        self.optimizer.zero_grad()
        loss.backward()
        if self.config.train.max_grad_norm is not None:
            params = [*self.agent.parameters(), *self.mixer.parameters()]
            nn.utils.clip_grad_norm_(params, self.config.train.max_grad_norm)
        self.optimizer.step()
        self.updates += 1
        n = mask.sum()
        return {
            "td_loss": float(loss.detach()),
            "q_taken_mean": float((q_tot.detach() * mask).sum() / n),
            "target_mean": float((targets * mask).sum() / n),
        }

    def set_learning_rate(self, fraction_left: float) -> None:
        for group in self.optimizer.param_groups:
            group["lr"] = self.config.train.lr * fraction_left

    # ------------------------------------------------------------ checkpoints

    def modules(self) -> dict[str, nn.Module]:
        return {
            "agent": self.agent,
            "mixer": self.mixer,
            "target_agent": self.target_agent,
            "target_mixer": self.target_mixer,
            "state_norm": self.state_norm,
        }

    def state_dict(self) -> dict[str, Any]:
        return {
            "modules": {k: m.state_dict() for k, m in self.modules().items()},
            "optimizers": {"q": self.optimizer.state_dict()},
            "extra": {
                "epsilon": self.epsilon,
                "episodes_seen": self.episodes_seen,
                "last_target_update": self.last_target_update,
                "updates": self.updates,
                "episode_credit": self.episode_credit,
            },
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for key, module in self.modules().items():
            module.load_state_dict(state["modules"][key])
        self.optimizer.load_state_dict(state["optimizers"]["q"])
        for key, value in state["extra"].items():
            setattr(self, key, value)
