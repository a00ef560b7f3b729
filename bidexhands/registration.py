"""Bi-DexHands task registration (placeholder: filled in by the Bi-DexHands issue)."""


def register_bidexhands_tasks() -> None:
    """Register the Bi-DexHands tasks (entry-point strings only; MuJoCo is not imported)."""
