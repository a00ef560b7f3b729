"""The leaderboard statistics against hand-computed values and against rliable itself."""

from __future__ import annotations

import math

import numpy as np
import pytest

from leaderboards import stats


def test_iqm_hand_computed():
    # 8 values: int(0.25 * 8) = 2 dropped from each end -> mean(3, 4, 5, 6)
    assert stats.iqm(np.array([8, 1, 7, 2, 6, 3, 5, 4])) == pytest.approx(4.5)
    # 2 runs x 3 tasks pooled: 6 values, int(1.5) = 1 dropped each end -> mean(2, 3, 10, 11)
    assert stats.iqm(np.array([[1.0, 2.0, 3.0], [10.0, 11.0, 100.0]])) == pytest.approx(6.5)
    # fewer than 4 values: nothing trimmed
    assert stats.iqm(np.array([1.0, 2.0, 9.0])) == pytest.approx(4.0)


def test_mean_std_hand_computed():
    mean, std = stats.mean_std([1.0, 2.0, 3.0, 6.0])
    assert mean == pytest.approx(3.0)
    assert std == pytest.approx(math.sqrt((4 + 1 + 0 + 9) / 3))  # sample std, ddof=1
    mean, std = stats.mean_std([5.0])
    assert mean == 5.0 and math.isnan(std)


def test_probability_of_improvement_hand_computed():
    # task 0: x = [1, 3], y = [2, 2] -> pairs (1>2 no, 1>2 no, 3>2 yes, 3>2 yes) = 0.5
    # task 1: x = [5, 5], y = [5, 4] -> (5=5 tie, 5>4, 5=5 tie, 5>4) = (2 + 0.5 * 2) / 4 = 0.75
    x = [[1.0, 3.0], [5.0, 5.0]]
    y = [[2.0, 2.0], [5.0, 4.0]]
    result = stats.probability_of_improvement(x, y, reps=200)
    assert result.value == pytest.approx((0.5 + 0.75) / 2)
    assert 0.0 <= result.low <= result.value <= result.high <= 1.0
    same = stats.probability_of_improvement(x, x, reps=200)
    assert same.value == pytest.approx(0.5)


def test_bootstrap_interval_constant_and_single_run():
    constant = stats.bootstrap_interval(np.full((3, 2), 7.0), reps=100)
    assert (constant.value, constant.low, constant.high) == (7.0, 7.0, 7.0)
    # one run per task: every replicate is the data itself
    single = stats.bootstrap_interval(np.array([[1.0, 2.0, 3.0, 4.0]]), reps=100)
    assert single.low == single.high == single.value == pytest.approx(2.5)


def test_bootstrap_interval_hand_computed_two_runs():
    # one task, runs [0, 1]: each replicate draws 2 runs -> mean is 0, 0.5 or 1 with
    # probabilities 1/4, 1/2, 1/4; with many replicates the 2.5/97.5 percentiles are 0 and 1
    result = stats.bootstrap_interval(np.array([[0.0], [1.0]]), lambda x: x.mean(axis=1), reps=20000)
    assert result.value == pytest.approx(0.5)
    assert (result.low, result.high) == (0.0, 1.0)


def test_ragged_runs_per_task():
    scores = [[1.0, 2.0, 3.0], [10.0, 20.0]]
    result = stats.bootstrap_interval(scores, reps=500)
    assert result.value == pytest.approx(stats.iqm(np.array([1.0, 2.0, 3.0, 10.0, 20.0])))
    assert result.low <= result.value <= result.high
    poi = stats.probability_of_improvement(scores, [[0.0], [30.0]], reps=500)
    assert poi.value == pytest.approx((1.0 + 0.0) / 2)


def test_performance_profile_counts_runs_above_each_threshold():
    scores = [[0.0, 0.5, 1.0], [0.2, 0.8]]  # ragged: a failed seed on the second task
    profile = stats.performance_profile(scores, [-0.1, 0.0, 0.5, 0.9, 1.0], reps=200)
    assert profile.values.tolist() == pytest.approx([1.0, 0.8, 0.4, 0.2, 0.0])  # strictly above tau
    assert (profile.low <= profile.values + 1e-12).all() and (profile.values <= profile.high + 1e-12).all()
    assert profile.at(0.5).value == pytest.approx(0.4)
    with pytest.raises(ValueError, match="not one of the profile's thresholds"):
        profile.at(0.3)
    taus = stats.profile_thresholds([-0.2, 1.4], points=5)
    assert taus.tolist() == pytest.approx([-0.2, 0.2, 0.6, 1.0, 1.4])


def test_min_max_normalise():
    assert stats.min_max_normalise(5.0, 0.0, 10.0) == pytest.approx(0.5)
    assert stats.min_max_normalise(-50.0, -50.0, -30.0) == pytest.approx(0.0)
    with pytest.raises(ValueError, match="does not exceed"):
        stats.min_max_normalise(1.0, 2.0, 2.0)


# ------------------------------------------------------------------ rliable itself

rliable = pytest.importorskip("rliable.library", reason="rliable is not installed")
rly_metrics = pytest.importorskip("rliable.metrics")


@pytest.mark.parametrize("shape", [(2, 3), (5, 4), (10, 1)])
def test_iqm_interval_matches_rliable_exactly(shape):
    scores = np.random.RandomState(sum(shape)).normal(size=shape)
    np.random.seed(11)  # rliable draws from numpy's global generator
    point, interval = rliable.get_interval_estimates(
        {"x": scores}, lambda s: np.array([rly_metrics.aggregate_iqm(s)]), reps=3000
    )
    ours = stats.bootstrap_interval(scores, reps=3000, seed=11)
    assert ours.value == pytest.approx(float(point["x"][0]), abs=1e-12)
    assert ours.low == pytest.approx(float(interval["x"][0, 0]), abs=1e-12)
    assert ours.high == pytest.approx(float(interval["x"][1, 0]), abs=1e-12)


def test_mean_interval_matches_rliable_exactly():
    scores = np.random.RandomState(3).normal(size=(4, 3))
    np.random.seed(5)
    point, interval = rliable.get_interval_estimates(
        {"x": scores}, lambda s: np.array([rly_metrics.aggregate_mean(s)]), reps=2000
    )
    ours = stats.bootstrap_interval(scores, stats.task_mean_statistic([4, 4, 4]), reps=2000, seed=5)
    assert ours.value == pytest.approx(float(point["x"][0]), abs=1e-12)
    assert (ours.low, ours.high) == pytest.approx(tuple(interval["x"][:, 0]), abs=1e-12)


def test_probability_of_improvement_matches_rliable_exactly():
    rng = np.random.RandomState(0)
    x = rng.normal(0.3, 1.0, size=(5, 3)).round(1)  # rounded: ties occur
    y = rng.normal(0.0, 1.0, size=(3, 3)).round(1)
    assert rly_metrics.probability_of_improvement(x, y) == pytest.approx(
        stats.probability_of_improvement(x, y, reps=10).value, abs=1e-12
    )
    np.random.seed(2)
    point, interval = rliable.get_interval_estimates(
        {"x,y": [x, y]}, lambda a, b: np.array([rly_metrics.probability_of_improvement(a, b)]), reps=500
    )
    ours = stats.probability_of_improvement(x, y, reps=500, seed=2)
    assert ours.value == pytest.approx(float(point["x,y"][0]), abs=1e-12)
    assert (ours.low, ours.high) == pytest.approx(tuple(interval["x,y"][:, 0]), abs=1e-12)


def test_performance_profile_matches_rliable_exactly():
    scores = np.random.RandomState(4).uniform(-0.2, 1.2, size=(5, 3))
    taus = np.linspace(0.0, 1.0, 11)
    np.random.seed(9)
    profiles, cis = rliable.create_performance_profile({"x": scores}, taus, reps=1000)
    ours = stats.performance_profile(scores, taus, reps=1000, seed=9)
    assert ours.values == pytest.approx(profiles["x"], abs=1e-12)
    assert ours.low == pytest.approx(cis["x"][0], abs=1e-12)
    assert ours.high == pytest.approx(cis["x"][1], abs=1e-12)
