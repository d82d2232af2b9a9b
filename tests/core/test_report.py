"""Reports: the HTML and PNG files a user gets from ``repsense report``, from a recording and from the history."""

from __future__ import annotations

import datetime as dt
import io
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from matplotlib.image import imread

from repsense.core.cli import main
from repsense.core.history import History, RepRow, SetRecord
from repsense.core.report import (
    ReportRep,
    SetReport,
    TrendPoint,
    VerticalTrace,
    rep_remarks,
    report_from_session,
    summary_text,
    trend_points,
    vertical_trace,
)
from repsense.core.report_figures import _trace_limits, figures, png_bytes, stack_pngs
from repsense.core.report_html import render_html
from repsense.core.session import SetSession, replay
from repsense.core.setcontrol import SetConfig
from repsense.events import Exercise, Placement
from repsense.firmware_bridge.vendor_files import load_any

SAMPLES = Path(__file__).resolve().parents[2] / "sample_recordings"
SQUAT = SAMPLES / "squat_amrap_walkout_100hz.csv"
ROW_WITH_GAP = SAMPLES / "row_dropouts_long_gap_52hz.csv"
UTC = dt.UTC


@pytest.fixture(autouse=True)
def _no_real_history(tmp_path, monkeypatch):
    """Nothing here may touch the user's own history."""
    monkeypatch.setenv("REPSENSE_DB", str(tmp_path / "default-history.sqlite3"))


@pytest.fixture(scope="module")
def squat_result():
    recording = load_any(SQUAT)
    session = SetSession(Exercise.SQUAT, Placement.BAR, SetConfig.for_lift(Exercise.SQUAT), source=str(SQUAT))
    return replay(recording.samples, session), recording


def images(html: str) -> list[str]:
    return re.findall(r'<img src="data:image/png;base64,[A-Za-z0-9+/=]+"', html)


def table_rows(html: str) -> list[str]:
    return re.findall(r"<tr(?: class=\"\w+\")?><td>(\d+)</td>", html)


def decode(data: bytes) -> np.ndarray:
    image = imread(io.BytesIO(data), format="png")
    assert image.ndim == 3
    return image


def assert_sensible_png(path: Path) -> None:
    image = decode(path.read_bytes())
    height, width = image.shape[:2]
    assert 400 <= width <= 2500 and 300 <= height <= 2500, image.shape
    assert float(image[..., :3].std()) > 0.05, "the figure is blank"


def one_error_line(capsys) -> str:
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("repsense: error: ")
    return lines[0]


# ---- from a recording -------------------------------------------------------------------------------------------


def test_report_from_a_recording_writes_html_and_pngs(tmp_path, capsys):
    out, figs = tmp_path / "report.html", tmp_path / "figs"
    assert main(["report", str(SQUAT), "--out", str(out), "--png", str(figs)]) == 0
    html = out.read_text(encoding="utf-8")
    assert "<title>Squat \u00b7 120 kg \u00b7 " in html
    assert "<h1>Squat \u00b7 120 kg \u00b7 " in html
    # The sample: 9 reps in the recording, the set stops at rep 6 on a 25.34 % velocity loss (shown rounded down).
    assert "6 reps, 6 good." in html
    assert "The set was stopped at rep 6 because the bar had slowed down too much" in html
    assert "velocity loss 25% reached the 20% threshold" in html
    assert re.search(r'<tr class="stop"><td>6</td>(<td>[^<]*</td>){4}<td>25</td>', html)  # the table agrees
    assert "3 more reps after the stop" in html
    assert "1 failed attempt" in html
    assert table_rows(html) == [str(i) for i in range(1, 10)]
    assert "sensor data lost during the rep" in html and "grind: much slower" in html
    # Velocity and trace; no history, so the trends are a sentence, not a figure.
    assert len(images(html)) == 2
    assert "No earlier sets of this lift in the history" in html
    assert html.count("<figcaption>") == 2
    written = sorted(p.name for p in figs.iterdir())
    assert written == ["report-trace.png", "report-velocity.png"]
    for path in figs.iterdir():
        assert_sensible_png(path)
    assert capsys.readouterr().out.splitlines() == [
        str(out),
        str(figs / "report-velocity.png"),
        str(figs / "report-trace.png"),
    ]


def test_a_wrist_report_draws_no_minimal_velocity(tmp_path):
    """On the wrist no minimal velocity applies to the estimated velocities, so the report does not draw one."""
    wrist = report_from_session(replay_of(SAMPLES / "curl_wrist_50hz_nogyro.csv", Exercise.BENCH, Placement.WRIST))
    bar = report_from_session(replay_of(SQUAT, Exercise.BENCH, Placement.BAR))
    assert (wrist.min_velocity_m_s, bar.min_velocity_m_s) == (None, 0.17)
    for report, drawn in ((wrist, False), (bar, True)):
        html = render_html(report, {name: png_bytes(fig) for name, fig in figures(report).items()})
        assert ("minimal velocity" in html) == drawn


def test_the_report_says_how_many_reps_a_sensor_gap_hid(tmp_path, gap_recording):
    path, _ = gap_recording
    out = tmp_path / "r.html"
    assert main(["report", str(path), "--out", str(out), "--reps", "8"]) == 0
    assert "About 1 more rep went unseen in a sensor gap (by the rhythm of the set): not counted." in out.read_text()
    # As an AMRAP set it stopped before the gap: the rep the gap hid was not the set's.
    assert main(["report", str(path), "--out", str(out)]) == 0
    assert "went unseen" not in out.read_text()


def replay_of(path: Path, exercise: Exercise, placement: Placement):
    session = SetSession(exercise, placement, SetConfig.for_lift(exercise), source=str(path))
    return replay(load_any(path).samples, session)


def test_report_to_one_png_file_stacks_the_figures(tmp_path):
    target = tmp_path / "set.png"
    assert main(["report", str(SQUAT), "--png", str(target), "--mode", "fixed", "--reps", "5"]) == 0
    image = decode(target.read_bytes())
    assert image.shape[0] > 1000  # two figures, one below the other
    assert not (tmp_path / "report.html").exists()


def test_set_options_apply_to_a_recording(tmp_path):
    out = tmp_path / "r.html"
    assert main(["report", str(SQUAT), "--out", str(out), "--mode", "fixed", "--reps", "5"]) == 0
    html = out.read_text(encoding="utf-8")
    assert "5 reps, 5 good (5 planned)." in html
    assert "because all planned reps were done: 5 of 5 reps done." in html
    assert "fixed set of 5 reps" in html


def test_a_plan_gives_the_advice_and_the_load(tmp_path):
    out = tmp_path / "r.html"
    args = ["report", str(SQUAT), "--out", str(out), "--plan", "4x5@225lb, last AMRAP", "--set", "4"]
    assert main(args) == 0
    html = out.read_text(encoding="utf-8")
    assert "<h1>Squat \u00b7 225 lb \u00b7 " in html
    assert "plan 4x5@225lb, last AMRAP, set 4" in html
    assert '<p class="advice"><strong>Advice:</strong> 6 good reps on the AMRAP set (5 planned)' in html


def test_a_spike_away_from_the_reps_is_cut_off_the_scale_and_named():
    t = np.arange(0.0, 20.0, 0.01)
    acc = np.sin(t * 2.0) * 3.0
    acc[1800] = 45.0  # the bar dropped at 18 s, after the reps
    rep = ReportRep(1, 2.0, 3.0, 0.6, 1.0, 0.5, 0.0)
    report = SetReport(exercise="deadlift", source="x", reps=(rep,), trace=VerticalTrace(t, acc, 0.0))
    lo, hi, note = _trace_limits(report, report.trace)
    assert hi < 10.0 and lo > -10.0
    assert note == "off the scale: a spike of +45 m/s\u00b2 at 18.0 s (outside the reps)"
    acc[1800] = 3.0
    assert _trace_limits(report, VerticalTrace(t, acc, 0.0))[2] == ""


def test_vertical_trace_reads_zero_at_rest_and_breaks_at_gaps():
    recording = load_any(ROW_WITH_GAP)
    trace = vertical_trace(recording.samples, Exercise.ROW, Placement.BAR)
    assert len(trace.gaps) == 1 and trace.gaps[0][1] == pytest.approx(2.71, abs=0.01)
    assert np.isnan(trace.acc_m_s2).sum() == 1
    duration = float(recording.samples.t_s[-1] - recording.samples.t_s[0])
    assert len(trace.t_s) == pytest.approx((duration - trace.gaps[0][1]) * 100, abs=5)
    assert abs(float(np.nanmedian(trace.acc_m_s2))) < 0.5  # at rest, up to the sensor's bias
    assert trace.t0_s == float(recording.samples.t_s[0])


def test_figures_are_repeatable_and_need_no_pyplot(squat_result):
    result, recording = squat_result
    report = report_from_session(result, trace=vertical_trace(recording.samples, Exercise.SQUAT, Placement.BAR))
    first = {name: png_bytes(fig) for name, fig in figures(report).items()}
    second = {name: png_bytes(fig) for name, fig in figures(report).items()}
    assert first == second
    assert set(first) == {"velocity", "trace"}
    stacked = decode(stack_pngs(list(first.values())))
    assert stacked.shape[0] > sum(decode(p).shape[0] for p in first.values())


@pytest.mark.integration
def test_report_in_a_real_process_never_loads_pyplot(tmp_path):
    code = (
        "import sys; from repsense.core.cli import main; "
        f"rc = main(['report', {str(SQUAT)!r}, '--out', {str(tmp_path / 'r.html')!r}]); "
        "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot was imported'; sys.exit(rc)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False, cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr


# ---- from the history -------------------------------------------------------------------------------------------


def _old_set(day: int, load_kg: float, mcvs: list[float], stop_rep: int) -> SetRecord:
    best = max(mcvs)
    reps = tuple(
        RepRow(i, 10.0 * i, 10.0 * i + 0.8, v, v * 1.6, 0.55, 1 - v / best, (), counted=i <= stop_rep)
        for i, v in enumerate(mcvs, start=1)
    )
    return SetRecord(
        exercise="squat",
        mode="amrap",
        reps=reps,
        load_kg=load_kg,
        load_unit="kg",
        vl_threshold=0.2,
        stop_reason="velocity_loss",
        stop_detail="velocity loss 21% reached the 20% threshold",
        stop_rep=stop_rep,
        started_at=dt.datetime(2025, 3, day, 17, 0, tzinfo=UTC),
    )


@pytest.fixture
def history_db(tmp_path, squat_result):
    """A history with two earlier squat days and today's set from the sample recording (a copy of it)."""
    result, _ = squat_result
    recording = tmp_path / "squat.csv"
    recording.write_bytes(SQUAT.read_bytes())
    db = tmp_path / "history.sqlite3"
    with History(db) as history:
        history.save_set(_old_set(3, 110.0, [0.80, 0.77, 0.72, 0.68, 0.63], stop_rep=5))
        history.save_set(_old_set(10, 115.0, [0.75, 0.73, 0.69, 0.64, 0.59, 0.55], stop_rep=5))
        today = SetRecord.from_result(
            result,
            load_kg=120.0,
            load_unit="kg",
            plan_text="4x5@120kg, last AMRAP",
            set_number=4,
            advice_verdict="right",
            advice_text="6 good reps on the AMRAP set (5 planned): the load is right. Next time: 120 kg.",
            recording_path=str(recording),
            started_at=dt.datetime(2025, 3, 17, 17, 0, tzinfo=UTC),
        )
        set_id = history.save_set(today)
    return db, set_id, recording


def test_report_from_the_history_has_all_three_figures(tmp_path, history_db):
    db, set_id, _ = history_db
    out, figs = tmp_path / "set.html", tmp_path / "figs"
    assert main(["report", str(set_id), "--db", str(db), "--out", str(out), "--png", str(figs)]) == 0
    html = out.read_text(encoding="utf-8")
    assert "<h1>Squat \u00b7 120 kg \u00b7 2025-03-17 17:00 UTC</h1>" in html
    assert "plan 4x5@120kg, last AMRAP, set 4" in html
    assert f"history set {set_id}" in html
    assert "6 reps, 6 good." in html
    assert "The set was stopped at rep 6 because the bar had slowed down too much" in html
    assert '<p class="advice"><strong>Advice:</strong> 6 good reps on the AMRAP set (5 planned)' in html
    assert table_rows(html) == [str(i) for i in range(1, 10)]
    assert len(images(html)) == 3
    assert "Load-velocity profile for squat: e1RM" in html and "from 3 sets at 3 loads" in html
    assert sorted(p.name for p in figs.iterdir()) == ["report-trace.png", "report-trends.png", "report-velocity.png"]
    for path in figs.iterdir():
        assert_sensible_png(path)


def test_a_recording_that_is_gone_is_said_and_its_figure_skipped(tmp_path, history_db):
    db, set_id, recording = history_db
    recording.unlink()
    out = tmp_path / "set.html"
    assert main(["report", str(set_id), "--db", str(db), "--out", str(out)]) == 0
    html = out.read_text(encoding="utf-8")
    assert f"The recording {recording} is no longer there, so there is no acceleration trace." in html
    assert len(images(html)) == 2  # velocity and trends
    assert table_rows(html) == [str(i) for i in range(1, 10)]


def test_corrections_show_in_the_report(tmp_path, history_db):
    db, set_id, _ = history_db
    with History(db) as history:
        history.correct(set_id, drop=[2], add=1)
    out, png = tmp_path / "set.html", tmp_path / "v.png"
    assert main(["report", str(set_id), "--db", str(db), "--out", str(out), "--png", str(png)]) == 0
    html = out.read_text(encoding="utf-8")
    assert "Struck out by hand: rep 2." in html
    assert "Added by hand (missed by the sensor before the stop, not measured): rep 10." in html
    assert "Corrected by hand on" in html
    assert (
        '<tr><td>10</td><td></td><td></td><td></td><td></td><td></td><td class="words">added by hand: not measured'
        in html
    )
    # the added rep is one of the set's, before the stop: not after the reps after the stop, and not grey
    assert table_rows(html) == ["1", "2", "3", "4", "5", "10", "6", "7", "8", "9"]
    assert '<tr class="stop"><td>6</td>' in html and '<tr class="after"><td>10</td>' not in html
    assert_sensible_png(png)


def test_a_file_report_shows_trends_from_an_existing_history(tmp_path, history_db, monkeypatch):
    db, _, _ = history_db
    monkeypatch.setenv("REPSENSE_DB", str(db))
    out = tmp_path / "r.html"
    assert main(["report", str(SQUAT), "--out", str(out)]) == 0
    assert len(images(out.read_text(encoding="utf-8"))) == 3


def test_trends_need_two_training_days(squat_result):
    result, _ = squat_result
    one_day = (TrendPoint(dt.date(2025, 3, 3), 6, 0.7, 140.0),)
    report = report_from_session(result, trends=one_day)
    assert "trends" not in figures(report)
    html = render_html(report, {})
    assert "Only 1 training day of this lift in the history: trends appear from two days on." in html
    two_days = (*one_day, TrendPoint(dt.date(2025, 3, 10), 8, 0.72, 150.0))
    assert "trends" in figures(report_from_session(result, trends=two_days))


def test_amrap_reps_in_the_trends_are_split_and_labelled_by_load(squat_result, tmp_path, history_db):
    """The audit: the trends figure drew AMRAP reps at 110, 115 and 120 kg on one line with no load, as if 5 reps
    at 115 kg and 6 at 120 kg were one series rising. Each load is its own line and each point says its load."""
    db, _, _ = history_db
    with History(db) as history:
        points = trend_points(history.sets(exercise="squat"))
    assert [(p.amrap_reps, p.amrap_load_text) for p in points] == [(5, "110 kg"), (5, "115 kg"), (6, "120 kg")]
    result, _ = squat_result
    again = TrendPoint(dt.date(2025, 3, 24), 7, 0.7, None, "120 kg")
    figure = figures(report_from_session(result, trends=(*points, again)))["trends"]
    reps_axes = figure.axes[0]
    assert [line.get_label() for line in reps_axes.get_lines()] == ["110 kg", "115 kg", "120 kg"]
    assert [len(line.get_xdata()) for line in reps_axes.get_lines()] == [1, 1, 2]
    labels = [t.get_text() for t in reps_axes.texts]
    assert {"5 @ 110 kg", "5 @ 115 kg", "6 @ 120 kg", "7 @ 120 kg"} <= set(labels)


# ---- words ------------------------------------------------------------------------------------------------------


def test_summary_of_an_empty_set_and_of_a_set_that_never_stopped():
    empty = SetReport(exercise="bench", source="x.csv", reps=())
    assert summary_text(empty) == "No rep was detected in this recording."
    rep = ReportRep(1, 0.0, 0.8, 0.5, 0.9, 0.4, 0.0)
    report = SetReport(exercise="bench", source="x.csv", reps=(rep,), good_reps=1)
    assert summary_text(report).startswith("1 rep, 1 good. No stop rule fired: the recording ended first.")
    assert "trace" not in figures(report)  # no recording, no trace


def test_html_escapes_what_it_is_given(squat_result):
    result, _ = squat_result
    report = report_from_session(result, advice="<script>alert(1)</script>", source="a<b>.csv")
    html = render_html(report, {})
    assert "<script>" not in html and "&lt;script&gt;" in html


# ---- bad input --------------------------------------------------------------------------------------------------


def test_a_missing_file_is_one_line_and_exit_2(tmp_path, capsys):
    assert main(["report", str(tmp_path / "nope.csv"), "--out", str(tmp_path / "r.html")]) == 2
    assert "nope.csv" in one_error_line(capsys)
    assert not (tmp_path / "r.html").exists()


def test_an_unknown_set_is_one_line_and_exit_2(tmp_path, capsys, history_db):
    db, _, _ = history_db
    assert main(["report", "999", "--db", str(db), "--out", str(tmp_path / "r.html")]) == 2
    assert "no set 999" in one_error_line(capsys)


def test_set_options_with_a_set_id_are_refused(tmp_path, capsys):
    assert main(["report", "3", "--plan", "3x5@100kg", "--out", str(tmp_path / "r.html")]) == 2
    assert "--plan: set options apply to a recording FILE" in one_error_line(capsys)


def test_a_set_without_a_history_is_one_line_and_exit_2(tmp_path, capsys):
    assert main(["report", "3", "--db", str(tmp_path / "none.sqlite3"), "--out", str(tmp_path / "r.html")]) == 2
    assert "no history at" in one_error_line(capsys)
    assert not (tmp_path / "none.sqlite3").exists()


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        ([], "--out FILE.html and/or --png"),
        (["--out", "/no/such/folder/r.html"], "no such folder"),
        (["--png", "/no/such/folder/figs"], "no such folder"),
    ],
)
def test_bad_output_options_are_one_line_and_exit_2(capsys, extra, words):
    assert main(["report", str(SQUAT), *extra]) == 2
    assert words in one_error_line(capsys)


def test_set_options_are_checked_for_files_too(tmp_path, capsys):
    assert main(["report", str(SQUAT), "--out", str(tmp_path / "r.html"), "--mode", "fixed"]) == 2
    assert "fixed set needs a target" in one_error_line(capsys)


def test_report_help_gives_its_own_default_set(capsys):
    """A report takes the plan's first set by default, not the next one as a replay does; its help said the latter."""
    with pytest.raises(SystemExit):
        main(["report", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "(default: 1: a report comes after the set)" in help_text and "next one today" not in help_text


def test_reps_with_no_velocity_are_drawn_and_named_as_such_not_as_added_by_hand():
    """A wrist set of an ``other`` lift: its reps have no velocity, and the figure said they were added by hand."""
    report = report_from_session(replay_of(SAMPLES / "curl_wrist_50hz_nogyro.csv", Exercise.OTHER, Placement.WRIST))
    assert [r.mean_velocity_m_s for r in report.reps] == [None] * 10
    texts = [t.get_text() for t in figures(report)["velocity"].axes[0].texts]
    assert texts.count("no\nvelocity") == 10 and not any("added" in t for t in texts)
    html = render_html(report, {})
    assert "the wrist cannot time this lift" in html and "added by hand" not in html


def test_the_other_arms_reps_are_named_as_such_and_kept_off_the_trace():
    """Alternating curls: the other arm's reps are counted with no velocity because the sensor never saw them. The
    table, the summary and the velocity figure say so (not that the wrist cannot time a curl, which they say of the
    seen arm's reps), and the trace, which only shows the sensor's arm, does not number them on top of their seen
    partners."""
    from repsense.firmware_bridge.sim_wrist import random_wrist_config, simulate_wrist_set

    config = random_wrist_config(np.random.default_rng(2), "curl", hard=False, alternating=True)
    sim = simulate_wrist_set(config, 2)
    session = SetSession(Exercise.ALT_CURL, Placement.WRIST, SetConfig.for_lift(Exercise.ALT_CURL), source="alt")
    result = replay(sim.samples, session)
    assert len(result.reps) == len(sim.truth.reps)
    report = report_from_session(result, trace=vertical_trace(sim.samples, Exercise.ALT_CURL, Placement.WRIST))
    assert report.lift == "Alternating curl"
    other = [r for r in report.reps if "other_arm" in r.flags]
    assert len(other) == len(report.reps) // 2 and all(r.mean_velocity_m_s is None for r in other)
    assert {rep_remarks(r, report.stop_rep) for r in other} <= {
        "the other arm's rep: the sensor sees one arm",
        "the other arm's rep: the sensor sees one arm; after the stop",
        "the other arm's rep: the sensor sees one arm; the set stopped here",
    }
    drawn = figures(report)
    texts = [t.get_text() for t in drawn["velocity"].axes[0].texts]
    assert texts.count("other\narm") == len(other) == texts.count("no\nvelocity")  # the seen arm's: not timed
    numbers = [t.get_text() for t in drawn["trace"].axes[0].texts if t.get_text().isdigit()]
    assert numbers == [str(r.index) for r in report.reps if "other_arm" not in r.flags]
    html = render_html(report, {})
    assert html.count("the other arm&#x27;s rep: the sensor sees one arm") >= len(other)
