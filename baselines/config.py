"""Training configs: typed dataclasses, filled from layered YAML and `--set` overrides.

Resolution order, later wins: `configs/defaults.yaml` -> `configs/algos/<algo>.yaml` ->
`configs/families/<family>.yaml` (its `common:` then its `<algo>:` section) ->
`configs/tasks/<task>.yaml` (same two sections) -> `--config FILE` -> `--set key=value`.
Every key is checked against the dataclasses, so a typo fails before anything runs.
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

CONFIG_DIR = Path(__file__).resolve().parent / "configs"


@dataclass
class RolloutConfig:
    length: int = 200  # steps per copy between updates (HARL's episode_length)


@dataclass
class TrainConfig:
    gamma: float = 0.99
    gae_lambda: float = 0.95
    ppo_epoch: int = 5
    critic_epoch: int = 5
    actor_minibatches: int = 1
    critic_minibatches: int = 1
    clip: float = 0.2
    entropy_coef: float = 0.01
    value_loss_coef: float = 1.0
    use_huber_loss: bool = True
    huber_delta: float = 10.0
    use_clipped_value_loss: bool = True
    max_grad_norm: float | None = 10.0
    lr: float = 5e-4
    critic_lr: float = 5e-4
    adam_eps: float = 1e-5
    linear_lr_decay: bool = False
    use_valuenorm: bool = True
    normalize_obs: bool = False
    normalize_advantages: bool = True
    share_param: bool = False
    fixed_order: bool = False
    # trust-region updates (HATRPO, MACPO)
    kl_threshold: float = 0.01
    ls_steps: int = 10
    accept_ratio: float = 0.5
    backtrack_coeff: float = 0.8
    # MACPO: the CPO step's norm is capped at `max_step_norm`, then the step is scaled by
    # `step_fraction` (the source's fraction_coef) before the line search; None and 1.0: as solved
    step_fraction: float = 1.0
    max_step_norm: float | None = None
    cg_iters: int = 10
    cg_damping: float = 0.1
    # safe RL (MACPO, MAPPO-L); cost_limit None: from the task's spec metadata
    cost_limit: float | None = None
    cost_gamma: float | None = None  # None: same as gamma
    lagrangian_init: float = 0.0
    lagrangian_lr: float = 0.05


@dataclass
class ModelConfig:
    hidden_sizes: list[int] = field(default_factory=lambda: [128, 128, 128])
    activation: str = "relu"
    feature_norm: bool = True  # LayerNorm on the network inputs
    gain: float = 0.01  # orthogonal gain of the action head
    std_x_coef: float = 1.0  # Gaussian std = sigmoid(log_std / x) * y, as HARL
    std_y_coef: float = 0.5
    # what each actor sees: its own observation ("obs"), or the global state plus a one-hot
    # agent id ("state"; HARL's MaMuJoCo setting)
    actor_input: str = "obs"
    # Box actions clipped to their bounds before the env (false: the sample goes as it is, as in
    # HARL's MaMuJoCo runs, where MuJoCo clamps the controls and the ctrl cost sees the sample)
    clip_actions: bool = True
    recurrent: bool = False
    recurrent_layers: int = 1
    data_chunk_length: int = 10


@dataclass
class TransformerConfig:
    """MAT's network (PKU-MARL/Multi-Agent-Transformer defaults: 1 block, embedding 64, 1 head)."""

    blocks: int = 1  # n_block
    embed: int = 64  # n_embd
    heads: int = 1  # n_head
    dec_actor: bool = False  # MAT-Dec: an independent MLP head per agent instead of the decoder
    share_actor: bool = False  # with dec_actor: one MLP head shared by all agents
    encoder_attention: bool = True  # false: independent encoder heads (no attention across agents)


@dataclass
class OffPolicyConfig:
    """QMIX and its episode replay (EPyMARL's qmix.yaml defaults; see configs/algos/qmix.yaml)."""

    buffer_size: int = 5000  # episodes kept
    batch_size: int = 32  # episodes per update
    episodes_per_update: int = 1  # one gradient step per this many finished episodes (batch_size_run)
    epsilon_start: float = 1.0
    epsilon_finish: float = 0.05
    epsilon_anneal_steps: int = 50_000  # env steps, all copies counted
    target_update_interval: int = 200  # episodes between hard target copies (pymarl's unit)
    td_lambda: float = 0.0  # 0: one-step double-Q targets; >0: TD(lambda) returns
    double_q: bool = True
    mixer: str = "qmix"  # "qmix", "vdn" (sum) or "none" (independent Q-learners, for comparison)
    hidden_dim: int = 64  # agent GRU width
    mixing_embed_dim: int = 32
    hypernet_embed: int = 64
    # the mixer sees the global state standardised by running statistics: a state in raw units
    # (SMAX's map coordinates, up to 32) gives the untrained mixer Q_tot in the tens, which the
    # time-out bootstrap then keeps alive (see configs/algos/qmix.yaml)
    normalize_state: bool = True
    # a truncated episode (time limit) bootstraps from its final state, as pymarl does; false
    # ends its return there, as JaxMARL's Q-learning baselines do on SMAX
    bootstrap_truncated: bool = True
    obs_agent_id: bool = True
    obs_last_action: bool = False
    optimizer: str = "rmsprop"  # "rmsprop" (pymarl/EPyMARL) or "adam" (pymarl2)
    optim_alpha: float = 0.99  # RMSprop alpha
    optim_eps: float = 1e-5


@dataclass
class EvalConfig:
    interval: int = 25  # iterations between evaluations (0: only at the end)
    episodes: int = 10
    num_envs: int = 5


@dataclass
class LogConfig:
    interval: int = 5  # iterations between progress lines
    tensorboard: bool = True
    # iterations between training videos: one evaluation episode of env copy 0 (modal actions)
    # to videos/iter<N>.mp4, TensorBoard and W&B; 0: none. Needs a task that renders (`video` extra)
    video_interval: int = 0
    # Weights & Biases (the `wandb` extra): progress rows, the config, the manifest and the videos;
    # WANDB_MODE=offline keeps the run in RUN_DIR/wandb
    wandb: bool = False
    wandb_project: str = "marlsuite"
    wandb_entity: str | None = None  # None: the logged-in user's default entity
    wandb_group: str | None = None
    wandb_tags: list[str] = field(default_factory=list)


@dataclass
class RunConfig:
    algo: str = "mappo"
    env: str = ""
    seed: int = 0
    steps: int = 1_000_000  # env steps in total (copies x steps)
    num_envs: int = 8
    device: str = "cpu"
    torch_threads: int = 1
    checkpoint_interval: int = 25  # iterations between checkpoints (latest.pt)
    # Reset the training envs at every checkpoint, as a resume does, so that a run interrupted and
    # resumed (a lost cluster node) writes the same progress.csv as an uninterrupted one. Costs the
    # episodes running at each checkpoint (cut short, not counted). Off-policy runs always do it.
    exact_resume: bool = False
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    rollout: RolloutConfig = field(default_factory=RolloutConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    transformer: TransformerConfig = field(default_factory=TransformerConfig)
    offpolicy: OffPolicyConfig = field(default_factory=OffPolicyConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    log: LogConfig = field(default_factory=LogConfig)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


class ConfigError(ValueError):
    """A config key or value that does not fit the schema."""


def load_yaml(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    data = yaml.safe_load(path.read_text()) or {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level, got {type(data).__name__}")
    return data


def task_file_name(task: str) -> str:
    """`safe_mamujoco/SafeAnt2x4Corridor` -> `safe_mamujoco__SafeAnt2x4Corridor` (and `|` -> `_`)."""
    return task.replace("/", "__").replace("|", "_")


def layers(algo: str, family: str, task: str) -> list[tuple[str, dict[str, Any]]]:
    """The built-in config layers for this run, lowest priority first, with their sources."""
    found = [("defaults.yaml", load_yaml(CONFIG_DIR / "defaults.yaml"))]
    found.append((f"algos/{algo}.yaml", load_yaml(CONFIG_DIR / "algos" / f"{algo}.yaml")))
    for kind, name in (("families", family), ("tasks", task_file_name(task))):
        data = load_yaml(CONFIG_DIR / kind / f"{name}.yaml")
        from baselines.algorithms import ALGORITHMS  # the registry decides which sections are valid

        unknown = set(data) - {"common", "source", *ALGORITHMS}
        if unknown:
            raise ConfigError(f"{kind}/{name}.yaml: unknown sections {sorted(unknown)}")
        found.append((f"{kind}/{name}.yaml[common]", data.get("common") or {}))
        found.append((f"{kind}/{name}.yaml[{algo}]", data.get(algo) or {}))
    return found


def merge(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    """Nested dict update (a mapping merges into a mapping; anything else replaces)."""
    out = dict(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict) and key != "env_kwargs":
            out[key] = merge(out[key], value)
        elif isinstance(value, dict) and key == "env_kwargs":
            out[key] = {**out.get(key, {}), **value}
        else:
            out[key] = value
    return out


def parse_override(text: str) -> dict[str, Any]:
    """`train.clip=0.1` -> {"train": {"clip": 0.1}} (values parsed as YAML)."""
    if "=" not in text:
        raise ConfigError(f"--set expects key=value, got {text!r}")
    key, raw = text.split("=", 1)
    value = yaml.safe_load(raw) if raw else ""
    nested: dict[str, Any] = {}
    node = nested
    parts = key.strip().split(".")
    if not all(parts):
        raise ConfigError(f"--set: bad key {key!r}")
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value
    return nested


def build(data: dict[str, Any]) -> RunConfig:
    """Check every key and value type against the dataclasses."""
    return _build(RunConfig, data, "")


def _build(cls: type, data: dict[str, Any], prefix: str) -> Any:
    if not isinstance(data, dict):
        raise ConfigError(f"{prefix.rstrip('.') or 'config'}: expected a mapping, got {data!r}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    kwargs = {}
    for key, value in data.items():
        if key not in fields:
            close = difflib.get_close_matches(key, list(fields), n=3)
            hint = f"; did you mean {', '.join(prefix + c for c in close)}?" if close else ""
            raise ConfigError(
                f"unknown config key {prefix + key!r}{hint} (valid: {', '.join(prefix + f for f in fields)})"
            )
        default = getattr(cls(), key)
        if dataclasses.is_dataclass(default):
            kwargs[key] = _build(type(default), value, f"{prefix}{key}.")
        else:
            kwargs[key] = _coerce(value, default, fields[key].type, prefix + key)
    return cls(**kwargs)


def _coerce(value: Any, default: Any, annotation: Any, key: str) -> Any:
    optional = "None" in str(annotation)
    if value is None:
        if optional:
            return None
        raise ConfigError(f"{key} may not be null")
    if isinstance(default, bool) or "bool" in str(annotation):
        if not isinstance(value, bool):
            raise ConfigError(f"{key} must be true or false, got {value!r}")
        return value
    if "float" in str(annotation):
        if isinstance(value, str):  # YAML 1.1 reads 7e-4 (no dot) as a string
            with contextlib.suppress(ValueError):
                value = float(value)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{key} must be a number, got {value!r}")
        return float(value)
    if "int" in str(annotation) and "list" not in str(annotation):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{key} must be an integer, got {value!r}")
        return value
    if "list[str]" in str(annotation):
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise ConfigError(f"{key} must be a list of non-empty strings, got {value!r}")
        return value
    if "list" in str(annotation):
        if not isinstance(value, list) or not all(isinstance(v, int) and v > 0 for v in value):
            raise ConfigError(f"{key} must be a list of positive integers, got {value!r}")
        return value
    if "dict" in str(annotation):
        if not isinstance(value, dict):
            raise ConfigError(f"{key} must be a mapping, got {value!r}")
        return value
    if "str" in str(annotation) and not isinstance(value, str):
        raise ConfigError(f"{key} must be a string, got {value!r}")
    return value


def resolve(
    algo: str,
    task: str,
    family: str,
    *,
    config_file: Path | None = None,
    overrides: list[str] = (),
    cli: dict[str, Any] | None = None,
) -> tuple[RunConfig, list[str]]:
    """The run's config and the list of layers that contributed to it."""
    data: dict[str, Any] = {}
    sources = []
    for source, layer in layers(algo, family, task):
        if layer:
            data = merge(data, layer)
            sources.append(source)
    if config_file is not None:
        data = merge(
            data, load_yaml(Path(config_file)) if Path(config_file).exists() else _missing(config_file)
        )
        sources.append(str(config_file))
    for text in overrides:
        data = merge(data, parse_override(text))
        sources.append(f"--set {text}")
    data = merge(data, {k: v for k, v in (cli or {}).items() if v is not None})
    data["algo"], data["env"] = algo, task
    return build(data), sources


def _missing(path: Path) -> dict[str, Any]:
    raise ConfigError(f"config file {str(path)!r} does not exist")
