"""Register the MaMuJoCo tasks (`mamujoco/<Robot>-<partition>`) and the safe tasks
(`safe_mamujoco/Safe...`). Only entry-point strings: MuJoCo is imported on `make`."""


def register_safe_mamujoco_tasks() -> None:
    from envs.registry import register  # here, not at the top: `envs` imports this module while it loads
    from safe_mamujoco.tasks import MAMUJOCO_TASKS, SAFE_TASKS

    for robot, conf in MAMUJOCO_TASKS:
        register(
            f"mamujoco/{robot}-{conf}",
            "safe_mamujoco.env:make_mamujoco",
            family="mamujoco",
            extra="mujoco",
            description=f"MaMuJoCo {robot} split {conf}, team reward, 1000-step episodes",
            robot=robot,
            agent_conf=conf,
        )
    for task, safe in SAFE_TASKS.items():
        register(
            f"safe_mamujoco/{task}",
            "safe_mamujoco.tasks:make_safe_task",
            family="safe_mamujoco",
            extra="mujoco",
            description=safe.description,
            task=task,
        )
