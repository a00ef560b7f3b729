"""Bi-DexHands on MuJoCo and MuJoCo Warp: bimanual Shadow-hand tasks (issue 4)."""
