"""Subprocess vector: each copy lives in its own worker process.

Workers start through the `forkserver` method by default: forking a process that
already runs torch or JAX threads is unsafe, and spawning re-imports everything per
worker. A worker that raises sends its traceback; one that dies is detected through
its exit code instead of blocking the parent on a pipe that will never answer.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import traceback
import weakref
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from typing import Any

import cloudpickle
import numpy as np

from envs.errors import EnvWorkerError
from envs.vector.copy import AutoResetCopy, CopyEnv, CopySpec, CopyStep

_POLL_SECONDS = 0.05


def _worker(index: int, payload: bytes, conn: Connection) -> None:
    try:
        copy = AutoResetCopy(cloudpickle.loads(payload)())
        conn.send(("ok", copy.spec))
    except BaseException:  # report construction errors, then exit
        conn.send(("error", traceback.format_exc()))
        conn.close()
        return
    try:
        while True:
            try:
                command, data = conn.recv()
            except (EOFError, KeyboardInterrupt):  # parent gone or interrupted
                break
            if command == "close":
                conn.send(("ok", None))
                break
            try:
                if command == "reset":
                    result = copy.reset(data)
                elif command == "render":
                    result = copy.render()
                else:
                    result = copy.step(data)
            except Exception:
                conn.send(("error", traceback.format_exc()))
                continue
            conn.send(("ok", result))
    finally:
        copy.close()
        conn.close()


class SubprocVector:
    """Steps N copies in parallel worker processes, one copy per worker."""

    def __init__(self, env_fns: Sequence[Callable[[], CopyEnv]], *, start_method: str = "forkserver"):
        ctx = mp.get_context(start_method)
        if start_method == "forkserver":
            ctx.set_forkserver_preload(["envs.vector.subproc"])
        self._conns: list[Connection] = []
        self._procs: list[mp.process.BaseProcess] = []
        for index, fn in enumerate(env_fns):
            parent, child = ctx.Pipe()
            proc = ctx.Process(
                target=_worker,
                args=(index, cloudpickle.dumps(fn), child),
                name=f"marlsuite-env-{index}",
                daemon=True,
            )
            proc.start()
            child.close()
            self._conns.append(parent)
            self._procs.append(proc)
        self._finalizer = weakref.finalize(self, _shutdown, self._conns, self._procs)
        try:
            specs = self._gather()
        except BaseException:
            self.close()  # the healthy workers must not outlive the failed construction
            raise
        self.spec: CopySpec = specs[0]

    def reset(self, seeds: Sequence[int | None]) -> list[CopyStep]:
        for conn, seed in zip(self._conns, seeds, strict=True):
            conn.send(("reset", seed))
        return self._gather()

    def step(self, actions: Sequence[dict[str, np.ndarray]]) -> list[CopyStep]:
        for conn, action in zip(self._conns, actions, strict=True):
            conn.send(("step", action))
        return self._gather()

    def render(self, index: int) -> np.ndarray:
        self._conns[index].send(("render", None))
        status, value = self._receive(index)
        if status == "error":
            raise EnvWorkerError(f"env copy {index} raised while rendering:\n{value}")
        return value

    def close(self) -> None:
        self._finalizer()

    @property
    def pids(self) -> list[int | None]:
        return [proc.pid for proc in self._procs]

    def _gather(self) -> list[Any]:
        results, errors = [], []
        for index in range(len(self._conns)):
            status, value = self._receive(index)
            if status == "error":
                errors.append(f"env copy {index} raised:\n{value}")
            results.append(value)
        if errors:
            raise EnvWorkerError("\n".join(errors))
        return results

    def _receive(self, index: int) -> tuple[str, Any]:
        conn, proc = self._conns[index], self._procs[index]
        while not conn.poll(_POLL_SECONDS):
            if not proc.is_alive():
                break
        try:
            return conn.recv()
        except (EOFError, OSError):
            proc.join(timeout=1.0)
            self.close()
            raise EnvWorkerError(
                f"env copy {index} (worker pid {proc.pid}) died with exit code {proc.exitcode}; "
                "all workers were shut down"
            ) from None


def _shutdown(conns: list[Connection], procs: list[mp.process.BaseProcess]) -> None:
    """Ask workers to stop, then make sure none is left behind."""
    for conn in conns:
        with contextlib.suppress(BrokenPipeError, OSError):
            conn.send(("close", None))
    for proc in procs:
        proc.join(timeout=2.0)
        if proc.is_alive():
            proc.terminate()
            proc.join(timeout=1.0)
        if proc.is_alive():
            proc.kill()
            proc.join()
    for conn in conns:
        conn.close()
