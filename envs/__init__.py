"""marlsuite's multi-agent API: batched `TimeStep`s of torch tensors, one registry.

import envs
env = envs.make("mpe2/simple_spread", num_envs=8, seed=0)
timestep = env.reset()
timestep = env.step(envs.random_actions(env.spec, timestep.action_mask))
"""

from envs.checker import check_env
from envs.core import MultiAgentEnv
from envs.errors import EnvWorkerError, MissingDependencyError, UnknownTaskError
from envs.pettingzoo import from_pettingzoo, to_pettingzoo
from envs.registry import TaskEntry, get_entry, make, register, registered_tasks, unregister
from envs.sampling import random_actions
from envs.spec import EnvSpec
from envs.tasks import register_builtin_tasks
from envs.timestep import TimeStep
from envs.vector import VectorEnv

register_builtin_tasks()

__all__ = [
    "EnvSpec",
    "EnvWorkerError",
    "MissingDependencyError",
    "MultiAgentEnv",
    "TaskEntry",
    "TimeStep",
    "UnknownTaskError",
    "VectorEnv",
    "check_env",
    "from_pettingzoo",
    "get_entry",
    "make",
    "random_actions",
    "register",
    "registered_tasks",
    "to_pettingzoo",
    "unregister",
]
