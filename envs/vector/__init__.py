"""Vectorisation for simulators that step one env at a time."""

from envs.vector.copy import AutoResetCopy, CopyEnv, CopySpec, CopyStep
from envs.vector.env import VECTORS, VectorEnv
from envs.vector.subproc import SubprocVector
from envs.vector.sync import SyncVector

__all__ = [
    "VECTORS",
    "AutoResetCopy",
    "CopyEnv",
    "CopySpec",
    "CopyStep",
    "SubprocVector",
    "SyncVector",
    "VectorEnv",
]
