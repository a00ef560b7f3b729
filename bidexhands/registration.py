"""Bi-DexHands task registration: entry-point strings only, so `import envs` never imports MuJoCo."""

# name -> (episode steps, description); kept here so the registry needs no simulator import
TASK_DESCRIPTIONS = {
    "ShadowHandOver": "fixed palms-up hands; hand0 throws the egg to hand1's palm (75 steps)",
    "ShadowHandCatchUnderarm": "moving palms-up bases 1.15 m apart; underarm throw and catch (75 steps)",
    "ShadowHandCatchOver2Underarm": "fingers-up hand0 throws overarm to palm-up hand1 (75 steps)",
    "ShadowHandCatchAbreast": "hands side by side; the egg passes sideways between them (150 steps)",
    "ShadowHandTwoCatchUnderarm": "an egg in each palm; both hands throw and catch at once (75 steps)",
    "ShadowHandLiftUnderarm": "both palms lift a pot by its handles 0.4 m off a table (500 steps)",
    "ShadowHandDoorOpenInward": "push both leaves of a double door open, away from the hands (250 steps)",
    "ShadowHandDoorOpenOutward": "pull both leaves of a double door open, towards the hands (250 steps)",
    "ShadowHandDoorCloseInward": "close a double door that stands open away from the hands (250 steps)",
    "ShadowHandDoorCloseOutward": "close a double door that stands open towards the hands (250 steps)",
    "ShadowHandPushBlock": "palms-down hands push two cubes across a table to their goals (125 steps)",
    "ShadowHandBlockStack": "hands reaching in from either side stack one cube on the other (250 steps)",
    "ShadowHandReOrientation": "fixed palms-up hands turn a cube each to goal orientations re-drawn "
    "whenever the second is reached (600 steps)",
    "ShadowHandGraspAndPlace": "one hand grasps a cube and the other a bucket; bring the cube into "
    "the bucket (500 steps)",
    "ShadowHandSwitch": "palms-down hands each press the near half of a rocker switch on a table (125 steps)",
    "ShadowHandPen": "one hand holds the pen, the other pulls its cap off along its slide (125 steps)",
    "ShadowHandScissors": "the hands open a pair of scissors lying on a table (150 steps)",
    "ShadowHandBottleCap": "hand1 holds a tilted bottle while hand0 pulls its cap off (125 steps)",
    "ShadowHandSwingCup": "both hands turn a two-handled cup half a turn about the vertical (300 steps)",
    "ShadowHandKettle": "one hand lifts a kettle by its handle and tips its spout over a bucket the other "
    "holds (125 steps)",
    "ShadowHandOverSafeJoint": "safe: Over to a palm-down receiver; cost when hand0's FFJ1 action leaves "
    "[-0.5, 0.5] (75 steps)",
    "ShadowHandOverSafeFinger": "safe: Over to a palm-down receiver; cost when any of hand0's FFJ3-FFJ1 "
    "actions leaves [-0.5, 0.5] (75 steps)",
    "ShadowHandCatchOver2UnderarmSafeJoint": "safe: overarm throw to a palm-down catcher; cost on hand0's "
    "action 4 (base torque y) outside [-0.5, 0.5] (75 steps)",
    "ShadowHandCatchOver2UnderarmSafeFinger": "safe: overarm throw to a palm-down catcher; cost on hand0's "
    "actions 2-4 (base force z, torques x, y) outside [-0.5, 0.5] (75 steps)",
}


def register_bidexhands_tasks() -> None:
    """Register `bidexhands/<Task>` for every task (extra `hands`)."""
    from envs.registry import register

    for name, description in TASK_DESCRIPTIONS.items():
        register(
            f"bidexhands/{name}",
            "bidexhands.tasks:make_task",
            family="bidexhands",
            extra="hands",
            description=description,
            override=True,
            task=name,
        )
