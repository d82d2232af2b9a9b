"""The load-velocity profile: the least-squares line, its r², and the e1RM at the lift's minimal velocity."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from repsense.core.loadvelocity import fit_profile
from repsense.core.setcontrol import MIN_VELOCITY_M_S
from repsense.errors import ConfigError
from repsense.events import Exercise


def test_an_exact_line_gives_its_e1rm():
    # mcv = 1.20 - 0.006 x load: at the squat's 0.30 m/s the load is 150 kg
    points = [(load, 1.20 - 0.006 * load) for load in (60, 80, 100, 120)]
    profile = fit_profile(points, Exercise.SQUAT)
    assert profile.slope == pytest.approx(-0.006)
    assert profile.intercept == pytest.approx(1.20)
    assert profile.r2 == pytest.approx(1.0)
    assert profile.n_points == 4 and profile.n_loads == 4
    assert profile.min_velocity_m_s == MIN_VELOCITY_M_S[Exercise.SQUAT] == 0.30
    assert profile.e1rm_kg == pytest.approx(150.0)
    assert profile.velocity_at(150.0) == pytest.approx(0.30)
    assert profile.to_dict()["e1rm_kg"] == 150.0
    assert profile.describe() == "squat: e1RM 150 kg at 0.30 m/s (r² 1.00 from 4 sets at 4 loads)"


def test_noisy_sets_at_repeated_loads():
    rng = np.random.default_rng(6)
    loads = [60.0, 60.0, 80.0, 80.0, 100.0, 100.0, 110.0]
    points = [(x, 1.05 - 0.005 * x + rng.normal(0.0, 0.02)) for x in loads]
    profile = fit_profile(points, Exercise.BENCH)
    assert profile.n_points == 7 and profile.n_loads == 4
    assert 0.8 < profile.r2 < 1.0
    # against numpy's own least squares
    slope, intercept = np.polyfit([p[0] for p in points], [p[1] for p in points], 1)
    assert profile.slope == pytest.approx(slope) and profile.intercept == pytest.approx(intercept)
    assert profile.e1rm_kg == pytest.approx((0.17 - intercept) / slope)
    assert 150 < profile.e1rm_kg < 195  # the true line says 176 kg


def test_refuses_fewer_than_three_loads():
    with pytest.raises(ConfigError) as caught:
        fit_profile([(60, 0.8), (60, 0.82), (80, 0.6), (80, 0.61)], Exercise.SQUAT)
    assert "need sets at 3 or more different loads" in str(caught.value)
    assert "have 2: 60 kg, 80 kg" in str(caught.value)
    with pytest.raises(ConfigError, match="have 0"):
        fit_profile([], Exercise.SQUAT)
    # 100 kg and 100 kg after a pound round trip are one load
    with pytest.raises(ConfigError, match="have 2: 100 kg, 120 kg"):
        fit_profile([(100.0, 0.6), (220.462262185 * 0.45359237, 0.61), (120, 0.45)], Exercise.SQUAT)


def test_no_e1rm_without_a_threshold_or_a_falling_line():
    points = [(40, 0.9), (50, 0.8), (60, 0.7)]
    row = fit_profile(points, Exercise.ROW)
    assert row.min_velocity_m_s is None and row.e1rm_kg is None
    assert row.slope == pytest.approx(-0.01)
    assert "no minimal velocity threshold" in row.describe()
    rising = fit_profile([(40, 0.7), (50, 0.8), (60, 0.9)], Exercise.SQUAT)
    assert rising.slope > 0 and rising.e1rm_kg is None
    assert "does not fall" in rising.describe()
    flat = fit_profile([(40, 0.7), (50, 0.7), (60, 0.7)], Exercise.SQUAT)
    assert flat.slope == pytest.approx(0.0, abs=1e-12) and flat.e1rm_kg is None and flat.r2 == 0.0


@pytest.mark.parametrize("point", [(0.0, 0.5), (-10.0, 0.5), (60.0, 0.0), (float("nan"), 0.5), (60.0, float("inf"))])
def test_bad_points(point):
    with pytest.raises(ConfigError, match="positive load and velocity"):
        fit_profile([(40, 0.9), (50, 0.8), (60, 0.7), point], Exercise.SQUAT)


@given(
    st.lists(
        st.tuples(st.floats(20, 300), st.floats(0.05, 2.0)),
        min_size=3,
        max_size=30,
    )
)
def test_r2_is_a_fraction_and_e1rm_is_on_the_line(points):
    if len({round(x / 0.01) for x, _ in points}) < 3:
        with pytest.raises(ConfigError):
            fit_profile(points, Exercise.DEADLIFT)
        return
    profile = fit_profile(points, Exercise.DEADLIFT)
    assert -1e-9 <= profile.r2 <= 1.0 + 1e-9
    if profile.e1rm_kg is not None:
        assert profile.slope < 0 and profile.e1rm_kg > 0
        assert profile.velocity_at(profile.e1rm_kg) == pytest.approx(0.15, abs=1e-6)


def test_a_poor_fit_keeps_its_line_but_gives_no_e1rm():
    """The audit: r² 0.021 extrapolated to an e1RM of 1323.62 kg. Below r² 0.5 the line stays, the e1RM goes."""
    points = [(60.0, 0.70), (90.0, 0.55), (100.0, 0.75), (140.0, 0.62), (102.06, 0.72)]
    profile = fit_profile(points, Exercise.SQUAT)
    assert profile.r2 < 0.5 and profile.slope < 0
    assert profile.e1rm_kg is None and profile.extrapolated_kg is not None
    assert profile.no_e1rm_why() == f"the fit is too poor to extrapolate (r² {profile.r2:.2f}, below 0.50)"
    assert profile.describe().startswith("squat: no e1RM, the fit is too poor")


def test_an_implausible_e1rm_is_refused():
    # a good line, but every set far below half the 1RM it predicts: 0.9 - 0.002 x load reaches 0.30 m/s at 300 kg
    light = fit_profile([(40, 0.82), (50, 0.80), (60, 0.78)], Exercise.SQUAT)
    assert light.r2 == pytest.approx(1.0) and light.extrapolated_kg == pytest.approx(300.0)
    assert light.e1rm_kg is None
    assert light.no_e1rm_why() == (
        "the line gives 300 kg at 0.30 m/s, over twice the heaviest load of these sets (60 kg): not a plausible 1RM"
    )
    # the line reaches the minimal velocity below a load that was lifted: that load is the least a 1RM can be
    below = fit_profile([(100, 0.5), (110, 0.4), (120, 0.3), (150, 0.28)], Exercise.SQUAT)
    assert below.extrapolated_kg is not None and below.extrapolated_kg < 150
    assert below.e1rm_kg is None and "below the heaviest load of these sets (150 kg)" in (below.no_e1rm_why() or "")


def test_the_refusal_names_loads_as_the_lifter_gave_them():
    lb225 = 225 * 0.45359237
    with pytest.raises(ConfigError, match="have 2: 100 kg, 225 lb"):
        fit_profile([(100.0, 0.6), (lb225, 0.5)], Exercise.SQUAT, lambda kg: "225 lb" if kg > 101 else "100 kg")
