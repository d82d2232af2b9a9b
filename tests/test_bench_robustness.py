"""bench/bench_robustness.py: the changes it makes to a set are the ones it says."""

from __future__ import annotations

import bench_robustness  # bench/bench_robustness.py: pytest puts bench/ on the path
import numpy as np

from repsense.samples import SampleBlock


def block(n: int = 500, seed: int = 0) -> SampleBlock:
    rng = np.random.default_rng(seed)
    return SampleBlock(
        np.arange(n) / 50.0, rng.normal(0, 0.3, (n, 3)) + np.array([0.0, 0.0, 1.0]), rng.normal(0, 40, (n, 3))
    )


def test_a_turn_keeps_lengths_and_a_mirror_flips_the_angular_rate():
    s = block()
    for mirrored in (False, True):
        out = bench_robustness.turned(5, mirrored)(s, np.random.default_rng(0))
        np.testing.assert_allclose(np.linalg.norm(out.acc_g, axis=1), np.linalg.norm(s.acc_g, axis=1))
        np.testing.assert_allclose(np.linalg.norm(out.gyro_dps, axis=1), np.linalg.norm(s.gyro_dps, axis=1))
        turn = np.linalg.lstsq(s.acc_g, out.acc_g, rcond=None)[0].T
        assert (
            np.linalg.det(turn) == np.float64(-1.0 if mirrored else 1.0).round()
            or abs(np.linalg.det(turn) - (-1.0 if mirrored else 1.0)) < 1e-9
        )
        # an axial vector: turned with the rotation, and its sign flipped by a mirror
        np.testing.assert_allclose(out.gyro_dps, s.gyro_dps @ turn.T * np.linalg.det(turn), atol=1e-9)


def test_glitches_are_one_wrong_sample_every_so_often():
    s = block(1001)  # 20 s at 50 Hz
    out = bench_robustness.glitches(5.0)(s, np.random.default_rng(1))
    moved = np.linalg.norm(out.acc_g - s.acc_g, axis=1)
    assert np.count_nonzero(moved) == 4
    assert np.all((moved[moved > 0] >= 1.0) & (moved[moved > 0] <= 3.0))
    assert out.gyro_dps is s.gyro_dps


def test_the_bar_corpus_runs_and_scores_against_its_truth():
    errors = bench_robustness.bar_errors(2, None)
    assert errors.shape == (2,) and errors.dtype.kind == "i"


def test_jitter_keeps_the_times_in_order_and_drops_lose_samples():
    s = block(1000)
    out = bench_robustness.jitter(0.4)(s, np.random.default_rng(2))
    assert np.all(np.diff(out.t_s) > 0) and np.max(np.abs(out.t_s - s.t_s)) <= 0.4 / 50.0
    fewer = bench_robustness.dropped(0.05)(s, np.random.default_rng(2))
    assert 900 < len(fewer) < 1000 and fewer.t_s[0] == s.t_s[0] and fewer.t_s[-1] == s.t_s[-1]
