"""Errors with messages that say what was wrong and what is allowed."""

from __future__ import annotations


class UnknownTaskError(LookupError):
    """A task name that is not registered."""


class MissingDependencyError(ImportError):
    """A task whose optional dependency is not installed."""


class EnvWorkerError(RuntimeError):
    """A subprocess worker that raised or died."""
