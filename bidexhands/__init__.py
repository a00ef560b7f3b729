"""Bi-DexHands on MuJoCo and MuJoCo Warp: bimanual Shadow-hand tasks (issue 4).

    import envs
    env = envs.make("bidexhands/ShadowHandOver", num_envs=64, backend="mujoco", seed=0)

Importing this package (which `import envs` does, for the registry) imports no simulator;
`bidexhands.tasks` builds the envs, `bidexhands.scene` the MjSpec scenes and
`bidexhands.physics` the two backends.
"""
