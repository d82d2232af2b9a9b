"""A set from samples to a decision: the replay path is the live path, whatever the block size."""

import itertools
import json
import os
from pathlib import Path

import numpy as np
import pytest
import realdata  # bench/realdata.py: pytest puts bench/ on the path
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from repsense.core.cli import main
from repsense.core.session import SessionResult, SetSession, not_a_bar_warning, replay
from repsense.core.setcontrol import SetConfig, SetMode
from repsense.events import Exercise, Placement, RepEvent, RepFlag, SetEnded, StopReason, UnseenRepsEvent
from repsense.firmware_bridge.recording import read_recording
from repsense.firmware_bridge.simulator import random_config, simulate_set
from repsense.samples import SampleBlock
from repsense.signal.pipeline import PipelineConfig, RepPipeline

SAMPLES = Path(__file__).resolve().parents[2] / "sample_recordings"
DEMO = SAMPLES / "squat_amrap_walkout_100hz.csv"


def run(path: Path, block_s: float, **config) -> dict:
    recording = read_recording(path)
    exercise = Exercise(recording.metadata["exercise"])
    session = SetSession(exercise, Placement.BAR, SetConfig.for_lift(exercise, **config), source=path.name)
    return replay(recording.samples, session, block_s=block_s).to_json()


@pytest.mark.parametrize("block_s", [0.02, 0.5, 3.0])
def test_the_result_does_not_depend_on_how_the_stream_arrives(block_s):
    assert run(DEMO, block_s) == run(DEMO, 1e9)


def test_demo_recording_counts_every_rep_and_stops_on_velocity_loss():
    result = run(DEMO, 10.0)
    truth = json.loads(DEMO.with_suffix(".truth.json").read_text())
    assert len(result["reps"]) == len(truth["reps"]) == 9
    assert len(result["failed"]) == 1
    assert result["stop"]["reason"] == StopReason.VELOCITY_LOSS
    assert abs(result["stop"]["rep"] - truth["vl20_stop_rep"]) <= 1
    for rep, true in zip(result["reps"], truth["reps"], strict=True):
        assert rep["mean_velocity"] == pytest.approx(true["mean_velocity_m_s"], abs=0.05)


def test_a_fixed_set_stops_at_its_target():
    result = run(DEMO, 10.0, mode=SetMode.FIXED, target_reps=5)
    assert result["stop"]["reason"] == StopReason.TARGET_REACHED
    assert result["stop"]["rep"] == 5
    assert len(result["reps"]) == 9, "replay still reports every rep in the recording"


def test_realtime_pacing_follows_the_recording_clock():
    recording = read_recording(SAMPLES / "ohp_fixed5_25hz.csv")
    now = [0.0]
    slept = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    session = SetSession(Exercise.OHP, Placement.BAR, SetConfig.for_lift(Exercise.OHP))
    replay(recording.samples, session, realtime=True, speed=4.0, clock=lambda: now[0], sleep=sleep)
    duration = float(recording.samples.t_s[-1] - recording.samples.t_s[0])
    assert sum(slept) == pytest.approx(duration / 4.0, abs=0.06)


@pytest.mark.parametrize("path", sorted(SAMPLES.glob("*.csv")), ids=lambda p: p.name)
def test_every_bundled_recording_replays_through_the_cli(path, capsys):
    assert main(["replay", str(path)]) == 0
    out = capsys.readouterr().out
    assert "Set summary" in out
    assert main(["replay", str(path), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["reps"], "every bundled recording has reps"


def test_an_inactivity_stop_does_not_depend_on_block_size():
    """A rep detected after the deadline but in the same block must not hide the inactivity stop before it."""
    small = run(DEMO, 0.02, inactivity_s=3.0)
    assert small["stop"]["reason"] == StopReason.INACTIVITY
    assert run(DEMO, 1e9, inactivity_s=3.0) == small


def test_the_wrist_demo_recording_counts_every_curl_at_its_lockout(capsys):
    """The bundled watch recording: placement and lift come from its metadata, as in ``repsense replay FILE``."""
    path = SAMPLES / "curl_wrist_50hz_nogyro.csv"
    assert main(["replay", str(path), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert (result["placement"], result["exercise"]) == ("wrist", "curl")
    truth = json.loads(path.with_suffix(".truth.json").read_text())
    assert len(result["reps"]) == len(truth["reps"]) == 10
    for rep, true in zip(result["reps"], truth["reps"], strict=True):
        assert rep["t_end"] == pytest.approx(true["t_end_s"], abs=0.5)
        assert "velocity_estimated" in rep["flags"]


def test_replay_says_how_many_reps_a_sensor_gap_hid(gap_recording, capsys):
    """A simulated bench set whose link dropped for 2.5 s during the reps: one rep is not in the file. It is not
    counted, but the replay says so, in the view and in the JSON."""
    path, sim = gap_recording
    assert main(["replay", str(path), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    (unseen,) = result["unseen_reps"]
    assert unseen["reps"] == result["summary"]["unseen_reps"] == 1
    assert unseen["gap_t"] == pytest.approx(result["gaps"][0]["t"])
    assert len(result["reps"]) + 1 == len(sim.truth.reps)
    assert main(["replay", str(path)]) == 0
    out = capsys.readouterr().out
    assert "about 1 rep made in the 2.5 s gap" in out
    # As an AMRAP set it stopped before the gap: the hidden rep is not the set's, and nothing offers to add it.
    assert "about 1 in the gaps (none of them in the set), not counted" in out
    assert "--add-rep" not in out
    # As a fixed set of all its reps, it ends at the last one, counting the rep the gap hid towards the target.
    target = len(sim.truth.reps)
    assert main(["replay", str(path), "--json", "--mode", "fixed", "--reps", str(target)]) == 0
    stop = json.loads(capsys.readouterr().out)["stop"]
    assert (stop["rep"], stop["reason"]) == (target - 1, "target_reached")
    assert stop["detail"] == f"{target} of {target} reps done (1 unseen in a sensor gap)"


@pytest.mark.parametrize("block_s", [0.02, 1.0, 1e9])
def test_a_sensor_gap_does_not_count_towards_inactivity(gap_recording, block_s):
    """The lifter lifted through the gap: "no rep for S s" counts from when data came back, not from the last rep
    before the gap, in replay and live alike (both run SetSession), however the stream was cut."""
    path, sim = gap_recording
    free = run(path, 1e9, mode=SetMode.FIXED, target_reps=len(sim.truth.reps))
    (gap,) = free["gaps"]
    before = [r for r in free["reps"] if r["detected_at"] < gap["t"]]
    after = [r for r in free["reps"] if r["detected_at"] > gap["t"]]
    back = gap["t"] + gap["duration"]
    # Longer than the set's rhythm and than the wait from data coming back to the next rep, shorter than the span
    # from the last rep before the gap to the first one after it.
    times = [r["detected_at"] for r in before] + [r["detected_at"] for r in after]
    rhythm = max(b - a for a, b in itertools.pairwise(times) if not a < gap["t"] < b)
    inactivity = max(rhythm, after[0]["detected_at"] - back) + 0.5
    assert before[-1]["detected_at"] + inactivity < after[0]["detected_at"]
    result = run(path, block_s, mode=SetMode.FIXED, target_reps=len(sim.truth.reps), inactivity_s=inactivity)
    assert result["stop"]["reason"] == StopReason.TARGET_REACHED
    assert result["stop"]["rep"] == len(free["reps"])


def test_the_advice_after_a_set_with_a_gap_says_how_to_count_the_hidden_rep(gap_recording, capsys):
    """The hidden rep completes the set's 8 but, unseen, is no good rep: the advice keeps the load and says how to
    add the rep, after which the advice is worked out again."""
    path, _ = gap_recording
    assert main(["replay", str(path), "--plan", "3x8@60kg", "--set", "3", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["stop"]["detail"] == "8 of 8 reps done (1 unseen in a sensor gap)"
    assert result["advice"]["verdict"] == "keep"
    assert result["advice"]["text"] == (
        "7 of 8 good reps: keep 60 kg until all 8 are good. About 1 more rep went unseen in a sensor gap and is not "
        "counted here."
    )


def test_the_header_says_the_stop_rules_that_apply_on_the_wrist(capsys):
    """On the wrist velocity loss must hold for two reps and no minimal velocity applies: the header says so."""
    assert main(["replay", str(SAMPLES / "curl_wrist_50hz_nogyro.csv"), "--exercise", "bench"]) == 0
    header = capsys.readouterr().out.splitlines()[1]
    assert header == "bench on the wrist, AMRAP, stop at 20% velocity loss on 2 reps in a row"
    assert main(["replay", str(DEMO)]) == 0
    header = capsys.readouterr().out.splitlines()[1]
    assert header == "squat on the bar, AMRAP, stop at 20% velocity loss, minimal velocity 0.30 m/s"


def test_no_minimal_velocity_applies_on_the_wrist(capsys):
    """The JSON says null for it, and no slow rep on the wrist ends the set by it, flagged as estimated or not."""
    assert main(["replay", str(SAMPLES / "curl_wrist_50hz_nogyro.csv"), "--exercise", "bench", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["settings"]["min_velocity"] is None
    assert main(["replay", str(DEMO), "--exercise", "bench", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["settings"]["min_velocity"] == pytest.approx(0.17), "on the bar"

    session = SetSession(Exercise.BENCH, Placement.WRIST, SetConfig.for_lift(Exercise.BENCH), source="test")
    for flags in [(RepFlag.VELOCITY_ESTIMATED,), ()]:
        slow = RepEvent(1, 1.0, 2.0, 2.1, 0.10, 0.2, 0.4, 0.0, flags)  # 0.10 m/s, below bench's 0.17
        session.controller.reset()
        assert session.controller.feed(slow) is None


def _rep(index: int, rom_m: float, mcv: float, flags=()) -> RepEvent:
    return RepEvent(index, 3.0 * index, 3.0 * index + 1.0, 3.0 * index + 1.1, mcv, mcv * 1.5, rom_m, 0.0, flags)


def test_reps_no_bar_makes_say_the_sensor_was_not_on_a_bar():
    """A wrist recording replayed as a bar integrates into reps of metres (a real Pebble curl set: 1.7 m; a
    muvr set converted by hand: 45 m at 2.7 m/s): one line says so, with what to do."""
    normal = [_rep(1, 0.55, 0.6), _rep(2, 0.5, 0.5)]
    far, fast = _rep(3, 1.7, 1.0), _rep(4, 0.9, 3.2)
    bar = SetConfig.for_lift(Exercise.SQUAT)
    warning = not_a_bar_warning(SessionResult(Exercise.SQUAT, Placement.BAR, bar, reps=[*normal, far, fast]))
    assert warning is not None and "reps 3, 4 of 4" in warning and "--placement wrist" in warning
    assert not_a_bar_warning(SessionResult(Exercise.SQUAT, Placement.BAR, bar, reps=normal)) is None
    assert not_a_bar_warning(SessionResult(Exercise.SQUAT, Placement.WRIST, bar, reps=[far])) is None
    # Measured across lost samples, a rep can be several run together: that says nothing about the placement.
    merged = _rep(3, 5.3, 0.7, (RepFlag.DATA_GAP,))
    assert not_a_bar_warning(SessionResult(Exercise.SQUAT, Placement.BAR, bar, reps=[*normal, merged])) is None


@pytest.mark.realdata
def test_real_wrist_sets_replayed_as_a_bar_are_mostly_called_out():
    """muvr's real Pebble sets through the bar path: about half integrate into reps no bar makes (134 of 284)."""
    root = Path(os.environ.get("REPSENSE_REALDATA", realdata.DEFAULT_ROOT))
    if not (root / realdata.MUVR / "raw").is_dir():
        pytest.skip(f"real data not found at {root} (set REPSENSE_REALDATA)")
    sets = list(itertools.islice(realdata.muvr_sets(root), 0, None, 8))
    warned = 0
    for real in sets:
        events = RepPipeline(PipelineConfig.for_lift(Exercise.OTHER)).run(real.samples)
        reps = [e for e in events if isinstance(e, RepEvent)]
        warned += not_a_bar_warning(SessionResult(Exercise.OTHER, Placement.BAR, SetConfig(), reps=reps)) is not None
    assert warned >= len(sets) // 3


def _session_events(samples: SampleBlock, placement: Placement, config: SetConfig, cuts: list[int]) -> list:
    """Every event a session gives (the pipeline's and its stop), fed in pieces of ``cuts`` samples."""
    session = SetSession(Exercise.SQUAT, placement, config)
    bounds = list(itertools.accumulate(cuts))
    pieces = samples.split([b for b in bounds if b < len(samples)])
    return [e for piece in pieces for e in session.feed(piece)] + session.finish()


def _with_silence(samples: SampleBlock, start_s: float, duration_s: float, zeros: bool) -> SampleBlock:
    """``samples`` with ``duration_s`` lost from ``start_s``: cut out, or read as (0, 0, 0) as some sensors send."""
    inside = (samples.t_s >= start_s) & (samples.t_s < start_s + duration_s)
    if zeros:
        acc = samples.acc_g.copy()
        acc[inside] = 0.0
        return SampleBlock(samples.t_s, acc, None)
    return SampleBlock(samples.t_s[~inside], samples.acc_g[~inside], None)


@pytest.mark.parametrize(("placement", "zeros"), [(Placement.WRIST, False), (Placement.BAR, True)])
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cuts=st.lists(st.integers(1, 40), min_size=1, max_size=200))
@example(cuts=[1])
@example(cuts=[2])
def test_a_set_ends_the_same_however_a_silence_across_its_inactivity_deadline_arrives(placement, zeros, cuts):
    """6 s of silence 1 s after rep 2, with a 5 s inactivity limit: the set goes on (time in a gap is no
    inactivity). Fed in small blocks it ended by inactivity: the session ticked the clock at a sample the
    pipeline still held (the glitch filter waits for 2 more on the wrist) or took as lost (zeros), before the gap
    was known. Now the clock runs on what the pipeline has judged, and the events are the same every way."""
    sim = simulate_set(random_config(np.random.default_rng(5), Exercise.SQUAT, rate_hz=50.0, hard=False), 5)
    plain = SampleBlock(sim.samples.t_s, sim.samples.acc_g, None)
    config = SetConfig.for_lift(Exercise.SQUAT, inactivity_s=5.0)
    reps = [e for e in _session_events(plain, placement, config, [len(plain)]) if isinstance(e, RepEvent)]
    samples = _with_silence(plain, reps[1].detected_at_s + 1.0, 6.0, zeros)
    whole = _session_events(samples, placement, config, [len(samples)])
    assert not any(isinstance(e, SetEnded) for e in whole)
    assert _session_events(samples, placement, config, cuts * (len(samples) // sum(cuts) + 1)) == whole


def test_the_json_summary_says_what_the_set_had_beside_what_the_recording_had():
    """Replay counts every rep in the recording, so ``summary.reps``, ``unseen_reps`` and ``best_mean_velocity``
    include reps after the stop (a lifter who racked the bar and did a few more). The ``_in_set`` fields stop at
    the stop, as ``good_reps`` and the history do."""

    def rep(index: int, mcv: float) -> RepEvent:
        t = 3.0 * index
        return RepEvent(index, t - 0.8, t, t + 0.1, mcv, mcv * 1.6, 0.5, 0.0)

    reps = [rep(1, 0.60), rep(2, 0.55), rep(3, 0.47), rep(4, 0.75)]
    unseen = [
        UnseenRepsEvent(4.0, 2.0, 1, 2.5, 6.1),  # reported before the stop: the set's
        UnseenRepsEvent(9.5, 2.0, 1, 2.5, 12.1),  # after it
    ]
    stop = SetEnded(3, 9.1, StopReason.VELOCITY_LOSS, "velocity loss 22% reached the 20% threshold")
    result = SessionResult(Exercise.SQUAT, Placement.BAR, SetConfig(), reps=reps, unseen=unseen, stop=stop)
    summary = result.to_json()["summary"]
    assert (summary["reps"], summary["reps_at_stop"]) == (4, 3)
    assert (summary["unseen_reps"], summary["unseen_reps_in_set"]) == (2, 1)
    assert (summary["best_mean_velocity"], summary["best_mean_velocity_in_set"]) == (0.75, 0.60)
