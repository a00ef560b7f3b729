"""A multi-node Ray cluster on this machine, for the Ray launcher's tests.

`ray.cluster_utils.Cluster` starts a head that runs nothing (0 CPUs) and worker nodes, each a
real raylet with its own resources. Each worker node gets its own scratch directory (its
processes' TMPDIR, where runs work) and optionally its own PYTHONPATH, set in the
environment the raylet and its workers inherit, so the nodes share no files but the ones Ray
itself keeps. Every process is stopped when the context ends.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class LocalCluster:
    cluster: Any  # ray.cluster_utils.Cluster
    scratch: dict[str, Path] = field(default_factory=dict)  # node id -> its scratch directory
    nodes: dict[str, Any] = field(default_factory=dict)  # node id -> ray._private.node.Node

    @property
    def address(self) -> str:
        return self.cluster.address

    def add_worker(self, name: str, root: Path, cpus: int = 1, pythonpath: str | None = None) -> str:
        """A worker node whose processes see `root/name` as TMPDIR (and `pythonpath` first on their path)."""
        scratch = root / name
        scratch.mkdir(parents=True, exist_ok=True)
        saved = {key: os.environ.get(key) for key in ("TMPDIR", "PYTHONPATH")}
        os.environ["TMPDIR"] = str(scratch)
        if pythonpath is not None:
            os.environ["PYTHONPATH"] = pythonpath
        try:
            node = self.cluster.add_node(num_cpus=cpus)
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
        self.cluster.wait_for_nodes()
        self.scratch[node.node_id] = scratch
        self.nodes[node.node_id] = node
        return node.node_id

    def remove(self, node_id: str) -> None:
        """Kill the node's raylet and everything on it, as a lost machine."""
        self.cluster.remove_node(self.nodes.pop(node_id), allow_graceful=False)


@contextmanager
def local_cluster() -> Iterator[LocalCluster]:
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0, "include_dashboard": False})
    try:
        yield LocalCluster(cluster)
    finally:
        cluster.shutdown()
