"""Safe dexterous tasks: Safety-Gymnasium's Safe Isaac Gym hand tasks (PKU-Alignment/
safety-gymnasium ae966e5, safety_gymnasium/tasks/safe_isaac_gym/envs/tasks/
ShadowHandOver_Safe_{joint,finger}.py and ShadowHandCatchOver2underarm_Safe_{joint,finger}.py,
with the yaml files of the same names in envs/cfgs/), on our MuJoCo scenes.

Each is a Bi-DexHands hand-over task with a cost on hand0's joint actions (`bidexhands.safety`):
  Joint   1 where action 4 of hand0 lies outside [-0.5, 0.5]
  Finger  1 where any of actions 2, 3, 4 of hand0 lies outside [-0.5, 0.5]
In ShadowHandOver's fixed-base layout actions 2-4 are the first finger's FFJ3 (abduction), FFJ2
and FFJ1 targets; in CatchOver2Underarm's moving-base layout the first six actions drive the
base, so the same indices are hand0's base force z and torques x, y (upstream's code; its docs
describe joints there). We transcribe the code, which is what was trained on.

Apart from the cost, Safety-Gymnasium's copies differ from Bi-DexHands' tasks in the receiving
hand's orientation, from_euler_zyx(0, 3.1415926, 3.1415926) (a half turn about x: palm down)
instead of a yaw half turn, and CatchOver2Underarm takes its cfg from
ShadowHandTwoCatchUnderarm.yaml (the catch defaults: distRewardScale 50, base scales 0.05 / 0.5,
reset noise 0.01 and joint noise 0.2, fallDistance 0.65) and adds reachGoalBonus at goal
distance 0. Rewards, terminations, observation layout and starts are otherwise Bi-DexHands'.
"""

from __future__ import annotations

from dataclasses import replace

from bidexhands.safety import ActionBandCost
from bidexhands.scene import HandMount
from bidexhands.tasks.throw_catch import (
    ObjectToGoal,
    _catch_cfg,
    _euler_zyx,
    shadow_hand_catch_over2underarm,
    shadow_hand_over,
)

SG_TASKS = "PKU-Alignment/safety-gymnasium ae966e5 safety_gymnasium/tasks/safe_isaac_gym/envs/tasks/"
# shadow_another_hand_start_pose.r in every safe task (Over_Safe_*.py:392, CatchOver2underarm_Safe_*.py:398)
RECEIVER_TURN = _euler_zyx(0.0, 3.1415926, 3.1415926)
JOINT_DIMS = (4,)  # compute_cost: actions[:, 4] (Over_Safe_joint.py:677-688)
FINGER_DIMS = (2, 3, 4)  # compute_cost: actions[:, 2], [:, 3], [:, 4] (Over_Safe_finger.py:677-700)


def _receiver_turned(mounts: tuple[HandMount, HandMount]) -> tuple[HandMount, HandMount]:
    return mounts[0], replace(mounts[1], quat=RECEIVER_TURN)


def _safe_over(name: str, dims: tuple[int, ...], source: str) -> ObjectToGoal:
    over = shadow_hand_over()
    # the cfg equals Bi-DexHands' ShadowHandOver.yaml but for numEnvs (2048 Joint, 1024 Finger)
    return replace(
        over,
        name=name,
        mounts=_receiver_turned(over.mounts),
        safety=ActionBandCost(dims=dims, source=SG_TASKS + source),
    )


def _safe_catch_over2underarm(name: str, dims: tuple[int, ...], source: str) -> ObjectToGoal:
    catch = shadow_hand_catch_over2underarm()
    # cfgs/ShadowHandCatchOver2underarm_Safe_*.yaml is ShadowHandTwoCatchUnderarm.yaml (env_name
    # "shadow_hand_two_catch_underarm") but for numEnvs: the catch defaults
    return replace(
        catch,
        name=name,
        cfg=_catch_cfg(),
        mounts=_receiver_turned(catch.mounts),
        goal_bonus=True,  # compute_hand_reward adds reach_goal_bonus where goal_dist <= 0 (:1276-1282)
        safety=ActionBandCost(dims=dims, source=SG_TASKS + source),
    )


def shadow_hand_over_safe_joint() -> ObjectToGoal:
    """ShadowHandOver with a palm-down receiver; cost when hand0 commands FFJ1 outside the middle
    half of its range (action 4 outside [-0.5, 0.5])."""
    return _safe_over("ShadowHandOverSafeJoint", JOINT_DIMS, "ShadowHandOver_Safe_joint.py:677-688")


def shadow_hand_over_safe_finger() -> ObjectToGoal:
    """ShadowHandOver with a palm-down receiver; cost when hand0 commands any of its first finger's
    joints FFJ3, FFJ2, FFJ1 outside the middle half of its range."""
    return _safe_over("ShadowHandOverSafeFinger", FINGER_DIMS, "ShadowHandOver_Safe_finger.py:677-700")


def shadow_hand_catch_over2underarm_safe_joint() -> ObjectToGoal:
    """CatchOver2Underarm (catch cfg, palm-down receiver); cost when hand0's base torque about y
    exceeds half its range (action 4)."""
    return _safe_catch_over2underarm(
        "ShadowHandCatchOver2UnderarmSafeJoint",
        JOINT_DIMS,
        "ShadowHandCatchOver2underarm_Safe_joint.py:624-634",
    )


def shadow_hand_catch_over2underarm_safe_finger() -> ObjectToGoal:
    """CatchOver2Underarm (catch cfg, palm-down receiver); cost when hand0's base force along z or
    torque about x or y exceeds half its range (actions 2, 3, 4)."""
    return _safe_catch_over2underarm(
        "ShadowHandCatchOver2UnderarmSafeFinger",
        FINGER_DIMS,
        "ShadowHandCatchOver2underarm_Safe_finger.py:624-646",
    )
