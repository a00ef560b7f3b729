"""Where a run's files go while it runs on a Ray node, so that a lost node loses minutes, not hours.

A `Syncer` watches the run directory on the node and sends every file that changed (size or
modification time) to a store every few seconds and when the run ends. Two stores:

- `HeadStore`: a Ray actor on the head node that writes the files into the suite's own run
  directories there (no shared filesystem needed);
- `FsStore`: any `pyarrow.fs` URI the user names (a shared path, `s3://...`, `gs://...`); the
  head downloads a run's directory from it when the run ends.

A retried run starts from the store's copy, so `baselines.run --resume` continues from the
last checkpoint that reached it. Files are sent checkpoints first and `progress.csv` last:
the stored progress then never lags the stored checkpoint, and a resume truncates any rows
written after the checkpoint, which keeps the resumed `progress.csv` identical to an
uninterrupted one.
"""

from __future__ import annotations

import io
import os
import tarfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

Files = dict[str, bytes]  # path relative to the run directory -> content


def pack(directory: Path) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        tar.add(directory, arcname=".")
    return buffer.getvalue()


def unpack(archive: bytes, directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
        tar.extractall(directory, filter="data")


def send_order(name: str) -> tuple[int, str]:
    """Checkpoints first, progress.csv and summary.json last (see the module docstring)."""
    if name.startswith("checkpoints/"):
        return (0, name)
    return ({"progress.csv": 2, "summary.json": 3}.get(name, 1), name)


def write_files(root: Path, files: Files) -> None:
    """Each file written beside its target and renamed over it, so a reader never sees half a file."""
    for name in sorted(files, key=send_order):
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.part")
        tmp.write_bytes(files[name])
        os.replace(tmp, target)


def read_tree(root: Path) -> Files:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


class RunStore(Protocol):
    """What the Ray launcher needs of a store; `key` is the run directory relative to the suite's."""

    def put(self, key: str, files: Files) -> None: ...
    def snapshot(self, key: str) -> bytes | None: ...


class Syncer:
    """Sends the files of `run_dir` that changed since the last send, every `interval` seconds."""

    def __init__(self, run_dir: Path, send: Callable[[Files], None], interval: float):
        self.run_dir, self.send, self.interval = run_dir, send, interval
        self.sent: dict[str, tuple[int, int]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="run-syncer", daemon=True)
        self.error: BaseException | None = None

    def changed(self) -> Files:
        files: Files = {}
        paths = [p for p in self.run_dir.rglob("*") if p.is_file() and not p.name.endswith(".part")]
        for path in sorted(paths, key=lambda p: send_order(p.relative_to(self.run_dir).as_posix())):
            name = path.relative_to(self.run_dir).as_posix()
            try:
                stat = path.stat()
                stamp = (stat.st_size, stat.st_mtime_ns)
                if self.sent.get(name) != stamp:
                    files[name] = path.read_bytes()
                    self.sent[name] = stamp
            except FileNotFoundError:  # replaced or removed between the listing and the read
                continue
        return files

    def sync(self) -> None:
        files = self.changed()
        if files:
            self.send(files)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.sync()
            except Exception as error:  # keep the run going; the final sync raises it
                self.error = error

    def start(self) -> Syncer:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop the loop and send what is left."""
        self._stop.set()
        self._thread.join()
        self.sync()


class FsStore:
    """Run directories under a `pyarrow.fs` URI: `<uri>/<key>/...`."""

    def __init__(self, uri: str):
        try:
            from pyarrow import fs
        except ImportError as error:  # pragma: no cover - pyarrow comes with the ray extra
            raise ImportError(
                "--storage needs pyarrow: pip install 'marlsuite[ray]' (or pip install pyarrow)"
            ) from error
        self.uri = uri
        self.fs, self.base = fs.FileSystem.from_uri(uri)
        self.base = self.base.rstrip("/")

    def __reduce__(self) -> tuple[Any, ...]:  # sent to the nodes as its URI
        return (FsStore, (self.uri,))

    def _path(self, key: str, name: str = "") -> str:
        return "/".join(p for p in (self.base, key, name) if p)

    def put(self, key: str, files: Files) -> None:
        for name in sorted(files, key=send_order):
            target = self._path(key, name)
            self.fs.create_dir(target.rsplit("/", 1)[0], recursive=True)
            tmp = f"{target}.part"
            with self.fs.open_output_stream(tmp) as stream:
                stream.write(files[name])
            self.fs.move(tmp, target)

    def _stored_paths(self, key: str) -> list[str]:
        """The finished files under `key` (listed, not read)."""
        from pyarrow import fs

        selector = fs.FileSelector(self._path(key), recursive=True, allow_not_found=True)
        return [
            info.path
            for info in self.fs.get_file_info(selector)
            if info.type == fs.FileType.File and not info.path.endswith(".part")
        ]

    def has_files(self, key: str) -> bool:
        return bool(self._stored_paths(key))

    def files(self, key: str) -> Files:
        root = self._path(key)
        out: Files = {}
        for path in self._stored_paths(key):
            with self.fs.open_input_stream(path) as stream:
                out[path[len(root) + 1 :]] = stream.read()
        return out

    def snapshot(self, key: str) -> bytes | None:
        files = self.files(key)
        if not files:
            return None
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
            for name, data in sorted(files.items()):
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
        return buffer.getvalue()

    def download(self, key: str, run_dir: Path) -> None:
        write_files(run_dir, self.files(key))


class HeadDirectory:
    """The body of the `HeadStore` actor: run directories under `root` on the head node."""

    def __init__(self, root: str):
        self.root = Path(root)

    def put(self, key: str, files: Files) -> None:
        write_files(self.root / key, files)

    def snapshot(self, key: str) -> bytes | None:
        path = self.root / key
        return pack(path) if path.is_dir() and any(path.iterdir()) else None


class HeadStore:
    """A handle on the `HeadDirectory` actor, pinned to the node this process runs on."""

    def __init__(self, root: Path):
        import ray
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        here = ray.get_runtime_context().get_node_id()
        actor = ray.remote(num_cpus=0, max_concurrency=8)(HeadDirectory)
        self.actor = actor.options(
            scheduling_strategy=NodeAffinitySchedulingStrategy(here, soft=False)
        ).remote(str(root))

    def put(self, key: str, files: Files) -> None:
        import ray

        ray.get(self.actor.put.remote(key, files))

    def snapshot(self, key: str) -> bytes | None:
        import ray

        return ray.get(self.actor.snapshot.remote(key))

    def download(self, key: str, run_dir: Path) -> None:
        """Nothing to do: the actor wrote into the head's run directory as the run went."""
