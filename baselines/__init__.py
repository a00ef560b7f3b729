"""MARL baselines (MAPPO, HAPPO, HATRPO, MACPO, MAPPO-L, QMIX, MAT) and `python -m baselines.run` (issues 5, 6)."""
