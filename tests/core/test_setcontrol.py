"""Set control as a table: each stop rule, its reason, and what never ends a set."""

import pytest

from repsense.core.setcontrol import SetConfig, SetController, SetMode, SetPhase
from repsense.errors import ConfigError
from repsense.events import Exercise, FailedRepEvent, GapEvent, RepEvent, RepFlag, StopReason, UnseenRepsEvent


def rep(i: int, mcv: float, best: float, t: float | None = None, flags=(), rom: float = 0.5) -> RepEvent:
    t_end = 3.0 * i if t is None else t
    return RepEvent(i, t_end - 1.0, t_end, t_end + 0.1, mcv, mcv * 1.6, rom, 1 - mcv / best, tuple(flags))


def feed_mcvs(controller: SetController, mcvs: list[float]):
    best = 0.0
    ends = []
    for i, mcv in enumerate(mcvs, start=1):
        best = max(best, mcv)
        ended = controller.feed(rep(i, mcv, best))
        if ended:
            ends.append(ended)
    return ends


def test_amrap_stops_on_the_first_rep_at_the_velocity_loss_threshold():
    c = SetController(SetConfig.for_lift(Exercise.SQUAT))
    ends = feed_mcvs(c, [0.70, 0.68, 0.62, 0.57, 0.55, 0.50])
    assert len(ends) == 1
    assert ends[0].rep == 5  # 1 - 0.55 / 0.70 = 21 %
    assert ends[0].reason == StopReason.VELOCITY_LOSS
    assert c.rep_count == 6, "reps after the stop are still counted"
    assert c.phase == SetPhase.ENDED


def test_confirm_needs_that_many_reps_in_a_row():
    c = SetController(SetConfig.for_lift(Exercise.BENCH, confirm=2))
    # rep 4 crosses, rep 5 recovers (streak broken), reps 6 and 7 cross
    ends = feed_mcvs(c, [0.60, 0.58, 0.55, 0.47, 0.50, 0.46, 0.45])
    assert [(e.rep, e.reason) for e in ends] == [(7, StopReason.VELOCITY_LOSS)]


def test_a_wrist_sensor_needs_two_reps_in_a_row_and_no_absolute_velocity():
    """Estimated velocities are rough: one low rep does not end the set, and a low absolute MCV says nothing."""
    c = SetController(SetConfig.for_lift(Exercise.SQUAT))
    wrist = (RepFlag.VELOCITY_ESTIMATED,)
    mcvs = [0.28, 0.27, 0.21, 0.25, 0.21, 0.20]  # all below the squat's 0.30 m/s; 25 % loss at reps 3, 5, 6
    ends = [e for i, m in enumerate(mcvs, start=1) if (e := c.feed(rep(i, m, 0.28, flags=wrist)))]
    assert [(e.rep, e.reason) for e in ends] == [(6, StopReason.VELOCITY_LOSS)]
    one = SetController(SetConfig.for_lift(Exercise.SQUAT, confirm_estimated=1))
    assert one.feed(rep(1, 0.28, 0.28, flags=wrist)) is None
    assert one.feed(rep(2, 0.21, 0.28, flags=wrist)).reason == StopReason.VELOCITY_LOSS


def test_threshold_is_configurable():
    c = SetController(SetConfig.for_lift(Exercise.SQUAT, velocity_loss=0.30))
    ends = feed_mcvs(c, [0.70, 0.62, 0.55, 0.48])
    assert ends[0].rep == 4


def test_minimal_velocity_threshold_ends_a_set_before_velocity_loss():
    c = SetController(SetConfig.for_lift(Exercise.SQUAT))
    ends = feed_mcvs(c, [0.33, 0.32, 0.29])
    assert ends[0].reason == StopReason.MIN_VELOCITY
    assert "0.30" in ends[0].detail


def test_lifts_without_an_agreed_threshold_have_none():
    assert SetConfig.for_lift(Exercise.ROW).min_velocity_m_s is None
    assert SetConfig.for_lift(Exercise.BENCH).min_velocity_m_s == pytest.approx(0.17)


@pytest.mark.parametrize(
    ("flag", "reason"), [(RepFlag.SHORT_ROM, StopReason.SHORT_ROM), (RepFlag.GRINDING, StopReason.GRINDING)]
)
def test_form_breakdown_ends_an_amrap_set(flag, reason):
    c = SetController(SetConfig.for_lift(Exercise.BENCH))
    c.feed(rep(1, 0.5, 0.5))
    ended = c.feed(rep(2, 0.49, 0.5, flags=[flag]))
    assert ended is not None and ended.reason == reason and ended.rep == 2


def test_a_failed_attempt_ends_the_set_without_counting():
    c = SetController(SetConfig.for_lift(Exercise.SQUAT))
    feed_mcvs(c, [0.6, 0.58])
    ended = c.feed(FailedRepEvent(10.0, 11.0, 11.5, 0.2, 0.3))
    assert ended is not None and ended.reason == StopReason.FAILED_REP and ended.rep == 2
    assert c.rep_count == 2


def test_an_attempt_before_the_first_rep_is_reported_but_does_not_end_the_set():
    """Five single samples lost before the first rep (a live audit): the drift-inflated first descent made the
    first rep an "attempt", and the AMRAP ended at rep 0. Before any rep counted, it ends nothing."""
    c = SetController(SetConfig.for_lift(Exercise.SQUAT))
    assert c.feed(FailedRepEvent(7.0, 7.8, 8.0, 0.5, 0.9)) is None
    assert c.failed and c.phase != SetPhase.ENDED
    assert feed_mcvs(c, [0.6, 0.58]) == []
    assert c.rep_count == 2


def test_inactivity_ends_the_set_at_a_time_that_does_not_depend_on_ticks():
    c = SetController(SetConfig.for_lift(Exercise.SQUAT, inactivity_s=8.0))
    c.feed(rep(1, 0.6, 0.6, t=10.0))
    assert c.tick(17.0) is None
    ended = c.tick(25.0)
    assert ended is not None and ended.reason == StopReason.INACTIVITY
    assert ended.t_s == pytest.approx(10.1 + 8.0)
    assert c.tick(30.0) is None, "a set ends once"


def test_the_inactivity_timer_restarts_when_data_comes_back_after_a_gap():
    """A lifter who lifts through a 3.6 s gap is not timed out by it: no rep can be seen while no data comes."""
    c = SetController(SetConfig.for_lift(Exercise.SQUAT, mode=SetMode.FIXED, target_reps=10, inactivity_s=10.0))
    c.feed(rep(8, 0.6, 0.6, t=100.0))  # detected at 100.1
    assert c.feed(GapEvent(103.0, 3.6)) is None  # data back at 106.6
    assert c.tick(112.0) is None, "10 s after the last rep, but only 5.4 s of seen time"
    assert c.feed(rep(9, 0.6, 0.6, t=113.0)) is None
    assert c.phase == SetPhase.LIFTING
    ended = c.tick(200.0)
    assert ended is not None and ended.t_s == pytest.approx(113.1 + 10.0)


def test_a_gap_after_the_inactivity_deadline_does_not_undo_it():
    """The deadline fell before the gap began: the set ended then, whether or not a tick came in between."""
    c = SetController(SetConfig.for_lift(Exercise.SQUAT, inactivity_s=8.0))
    c.feed(rep(1, 0.6, 0.6, t=10.0))
    ended = c.feed(GapEvent(20.0, 3.0))
    assert ended is not None and ended.reason == StopReason.INACTIVITY
    assert ended.t_s == pytest.approx(10.1 + 8.0)


def test_no_inactivity_stop_before_the_first_rep():
    c = SetController(SetConfig.for_lift(Exercise.SQUAT))
    assert c.tick(1000.0) is None


def test_fixed_set_ends_at_target_and_ignores_velocity_loss():
    c = SetController(SetConfig.for_lift(Exercise.SQUAT, mode=SetMode.FIXED, target_reps=5))
    ends = feed_mcvs(c, [0.7, 0.5, 0.45, 0.44, 0.43, 0.40])
    assert [(e.rep, e.reason) for e in ends] == [(5, StopReason.TARGET_REACHED)]


OTHER_ARM = (RepFlag.OTHER_ARM, RepFlag.NO_VELOCITY)


def feed_alternating(controller: SetController, mcvs: list[float], *flags: RepFlag):
    """Alternating curls as the pipeline gives them: the other arm's rep, then each seen rep (velocity loss against
    the seen reps)."""
    best, ends = 0.0, []
    for k, mcv in enumerate(mcvs):
        best = max(best, mcv)
        seen = rep(2 * k + 2, mcv, best, flags=flags)
        other = RepEvent(2 * k + 1, seen.t_start_s, seen.t_start_s, seen.detected_at_s, 0.0, 0.0, 0.0, 0.0, OTHER_ARM)
        ends += [e for e in (controller.feed(other), controller.feed(seen)) if e is not None]
    return ends


@pytest.mark.parametrize("confirm", [1, 2])
def test_the_other_arms_rep_neither_ends_an_amrap_set_nor_breaks_a_streak(confirm):
    """The other arm's rep has no velocity and no range, and a loss of 0: it ends no set (not as a 100 % loss, not as
    a short rep) and does not break the seen arm's run of slow reps (seen reps 3 and 4 lost 22.5 and 25 %). The set
    ends on a whole pair: the other arm's rep of the stop is in the set."""
    c = SetController(SetConfig.for_lift(Exercise.ALT_CURL, confirm=confirm))
    ends = feed_alternating(c, [0.80, 0.78, 0.62, 0.60])
    assert [(e.rep, e.reason) for e in ends] == [(6 if confirm == 1 else 8, StopReason.VELOCITY_LOSS)]
    calm = SetController(SetConfig.for_lift(Exercise.ALT_CURL))
    assert feed_alternating(calm, [0.80, 0.79, 0.80, 0.78, 0.77], RepFlag.VELOCITY_ESTIMATED) == []
    assert calm.rep_count == 10 and calm.phase == SetPhase.LIFTING


def test_a_fixed_set_of_alternating_curls_counts_both_arms():
    """The target counts both arms' reps: 6 are done when the seen arm has done 3 (the other arm's third is counted
    with it)."""
    c = SetController(SetConfig.for_lift(Exercise.ALT_CURL, mode=SetMode.FIXED, target_reps=6))
    ends = feed_alternating(c, [0.8, 0.5, 0.45, 0.44])
    assert [(e.rep, e.reason) for e in ends] == [(6, StopReason.TARGET_REACHED)]


def test_fixed_set_still_ends_on_a_failed_rep():
    c = SetController(SetConfig.for_lift(Exercise.SQUAT, mode=SetMode.FIXED, target_reps=5))
    feed_mcvs(c, [0.7, 0.6])
    ended = c.feed(FailedRepEvent(10.0, 11.0, 11.5, 0.2, 0.3))
    assert ended is not None and ended.reason == StopReason.FAILED_REP


def test_gaps_change_nothing():
    c = SetController(SetConfig.for_lift(Exercise.SQUAT))
    assert c.feed(GapEvent(1.0, 2.0)) is None
    assert c.phase == SetPhase.WAITING


def test_reps_a_gap_hid_complete_a_fixed_set_without_being_counted():
    """The lifter's third rep of five fell in a gap: the set ends at their fifth rep, the sensor's fourth."""
    c = SetController(SetConfig.for_lift(Exercise.SQUAT, mode=SetMode.FIXED, target_reps=5))
    assert feed_mcvs(c, [0.7, 0.7]) == []
    assert c.feed(GapEvent(6.5, 2.5)) is None
    assert c.feed(rep(3, 0.7, 0.7, t=12.0)) is None
    assert c.feed(UnseenRepsEvent(6.5, 2.5, 1, 3.0, 12.1)) is None
    ended = c.feed(rep(4, 0.7, 0.7, t=15.0))
    assert ended is not None and ended.reason == StopReason.TARGET_REACHED
    assert ended.rep == 4
    assert ended.detail == "5 of 5 reps done (1 unseen in a sensor gap)"
    assert (c.rep_count, c.unseen) == (4, 1)


def test_a_fixed_set_whose_hidden_reps_overshoot_its_target_says_the_target_was_done_not_more():
    """Eight counted, then the rhythm says three were hidden: "11 of 10 reps done" would be a count nobody made."""
    c = SetController(SetConfig.for_lift(Exercise.SQUAT, mode=SetMode.FIXED, target_reps=10))
    feed_mcvs(c, [0.7] * 8)
    ended = c.feed(UnseenRepsEvent(10.0, 6.0, 3, 2.0, 30.0))
    assert ended is not None and ended.reason == StopReason.TARGET_REACHED
    assert ended.detail == "all 10 reps done (8 counted, about 3 unseen in a sensor gap)"


def test_the_reps_a_gap_hid_may_be_the_last_of_a_fixed_set():
    c = SetController(SetConfig.for_lift(Exercise.SQUAT, mode=SetMode.FIXED, target_reps=5))
    feed_mcvs(c, [0.7, 0.7, 0.7])
    assert c.feed(rep(4, 0.7, 0.7, t=18.0)) is None
    ended = c.feed(UnseenRepsEvent(10.0, 5.0, 1, 3.0, 18.1))
    assert ended is not None and (ended.rep, ended.t_s, ended.reason) == (4, 18.1, StopReason.TARGET_REACHED)


def test_reps_a_gap_hid_end_no_amrap_set():
    c = SetController(SetConfig.for_lift(Exercise.SQUAT))
    feed_mcvs(c, [0.7, 0.7, 0.7])
    assert c.feed(UnseenRepsEvent(6.5, 2.5, 2, 3.0, 12.1)) is None
    assert (c.phase, c.rep_count, c.unseen) == (SetPhase.LIFTING, 3, 2)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"mode": SetMode.FIXED},
        {"mode": SetMode.FIXED, "target_reps": 0},
        {"velocity_loss": 0.0},
        {"velocity_loss": 1.5},
        {"confirm": 0},
        {"inactivity_s": -1.0},
    ],
)
def test_bad_settings_are_config_errors(kwargs):
    with pytest.raises(ConfigError):
        SetConfig(**kwargs)
