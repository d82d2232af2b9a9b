"""Glitches out of the stream: samples far from their neighbours, in any sensor orientation.

Consumer IMUs send the odd sample that is simply wrong: a bad register read, a bit flipped on its way. One such
sample of 1-3 g, integrated into velocity, is a step the size of a rep, and on a wrist it reads as one: one
glitch every 5 s, added to the real MetaMotion barbell sets, takes them from 74 to 60 % counted exactly; with this
filter they count as without the glitches (``bench/bench_robustness.py``).

The wrist path uses it (``PipelineConfig.for_lift`` with ``Placement.WRIST``). The bar path does not: a plate
clanking and the bar meeting the floor are real one- or two-sample jolts of several g, and the floor impact
carries the bar's momentum (in a trial with this filter on the bar, the deadlift went from 71 to 4 % counted
exactly). The bar's segmenter also reads a hole in the input from when its samples became known, which this
filter delays.

Two tools, both working on the three axes as one vector so that they do not depend on how the sensor's axes sit
(a median of each axis does: turning the sensor would change the result):

- ``GlitchFilter`` works on the raw samples, before anything resamples or integrates them. A sample is a glitch
  when it lies further from the consensus of the ``half_width`` samples on each side (their vector median) than
  ``floor_g`` and ``spread_factor`` times their own spread around it; it is then replaced by that consensus.
  Every other sample passes untouched, so clean data comes out as it went in. A sample is decided once
  ``half_width`` samples after it have arrived (or the stream ended, or the samples stopped for a gap), and it
  carries that moment as the time it became known. Causal, explicit state, the same output for any block size.
- ``trimmed_vector_median`` smooths as well: the periodic wrist counter uses it on its resampled input.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np

from repsense.samples import SampleBlock


def _spreads(w: np.ndarray) -> np.ndarray:
    """For windows ``w`` [k, m, 3], each sample's summed distance to the other samples of its window [k, m]."""
    k = w.shape[0]
    spread = np.zeros((k, w.shape[1]))
    for i, j in itertools.combinations(range(k), 2):
        step = w[i] - w[j]
        distance = np.sqrt(np.einsum("md,md->m", step, step))
        spread[i] += distance
        spread[j] += distance
    return spread


def trimmed_vector_median(x: np.ndarray, k: int, keep: int, chunk: int = 16384) -> np.ndarray:
    """The running mean of the ``keep`` samples of every ``k`` that lie closest to the others (least summed
    distance), over ``x`` [n, 3]: [n - k + 1, 3]. An alpha-trimmed vector median (Astola et al., "Vector median
    filters", Proc. IEEE 1990): glitches lie far from the rest and are left out, and the mean smooths as a median
    does."""
    windows = np.lib.stride_tricks.sliding_window_view(x, k, axis=0)  # [n - k + 1, 3, k]
    out = np.empty((len(windows), x.shape[1]))
    for lo in range(0, len(windows), chunk):
        w = np.ascontiguousarray(windows[lo : lo + chunk].transpose(2, 0, 1))  # [k, m, 3]
        closest = np.argpartition(_spreads(w), keep - 1, axis=0)[:keep]  # [keep, m]
        out[lo : lo + chunk] = np.take_along_axis(w, closest[:, :, None], axis=0).mean(axis=0)
    return out


@dataclass(frozen=True, slots=True)
class GlitchConfig:
    """``half_width`` samples each side make the consensus; a glitch lies further from it than ``floor_g`` and
    ``spread_factor`` times the median distance of those samples from it (the consensus, one of them, counts at
    0: with 2 each side, the median of four distances is the mean of the 2nd and 3rd smallest). Samples more
    than ``gap_s`` apart are never compared (the resampler's gap: the stream broke off)."""

    half_width: int = 2
    floor_g: float = 0.7  # no sample of the 57 real MetaMotion wrist sets at 12.5 Hz is that far from its neighbours
    spread_factor: float = 4.0
    gap_s: float = 1.0


@dataclass(slots=True)
class GlitchState:
    # Samples kept from earlier blocks: up to half_width already sent (context) and those still undecided.
    t_s: np.ndarray = field(default_factory=lambda: np.zeros(0))
    acc_g: np.ndarray = field(default_factory=lambda: np.zeros((0, 3)))
    rest: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))  # other channels (gyro), passed along
    sent: int = 0  # how many of the kept samples were already sent
    replaced: int = 0


@dataclass(frozen=True, slots=True)
class Decided:
    """Samples decided by ``GlitchFilter``: times, accelerometer [n, 3], other channels [n, c], and when each
    became known."""

    t_s: np.ndarray
    acc_g: np.ndarray
    rest: np.ndarray
    known_at_s: np.ndarray


class GlitchFilter:
    """Feed raw samples; get them back, glitches replaced, as soon as each is decided."""

    def __init__(self, config: GlitchConfig, rest_channels: int = 0) -> None:
        self.config = config
        self.state = GlitchState(rest=np.zeros((0, rest_channels)))

    @property
    def replaced(self) -> int:
        """Glitches replaced so far."""
        return self.state.replaced

    def feed(self, t_s: np.ndarray, acc_g: np.ndarray, rest: np.ndarray | None = None) -> Decided:
        st = self.state
        rest = np.zeros((len(t_s), 0)) if rest is None else rest
        t = np.concatenate([st.t_s, t_s])
        acc = np.vstack([st.acc_g, acc_g])
        other = np.vstack([st.rest, rest])
        return self._decide(t, acc, other, final=False)

    def flush(self) -> Decided:
        """The stream has ended: the undecided samples are decided on what came before them."""
        st = self.state
        return self._decide(st.t_s, st.acc_g, st.rest, final=True)

    def _decide(self, t: np.ndarray, acc: np.ndarray, other: np.ndarray, *, final: bool) -> Decided:
        cfg, st = self.config, self.state
        h, n = cfg.half_width, len(t)
        # Runs of samples with no gap between them: windows never reach across a gap.
        breaks = np.flatnonzero(np.diff(t) > cfg.gap_s) + 1
        edges = np.concatenate([[0], breaks, [n]]).astype(int)
        run = np.searchsorted(breaks, np.arange(n), side="right")
        run_start, run_end = edges[run], edges[run + 1]
        # A sample is decided once h samples follow it in its run, or its run is closed (a gap, or the end).
        idx = np.arange(n)
        ready = (idx + h < run_end) | (run_end < n) | final
        waiting = np.flatnonzero(~ready[st.sent :])
        stop = st.sent + (int(waiting[0]) if len(waiting) else n - st.sent)
        todo = idx[st.sent : stop]
        after = np.minimum(todo + h, run_end[todo] - 1)
        known = np.where(todo + h < run_end[todo], t[after], t[np.minimum(run_end[todo], n - 1)])

        out_acc = acc[todo].copy()
        lo, hi = np.maximum(run_start[todo], todo - h), np.minimum(run_end[todo], todo + h + 1)
        full = hi - lo == 2 * h + 1
        if full.any():
            rows = np.flatnonzero(full)
            windows = acc[todo[rows][:, None] + np.arange(-h, h + 1)]  # [m, k, 3]
            replacement, glitch = self._judge(windows, h)
            out_acc[rows[glitch]] = replacement[glitch]
            st.replaced += int(glitch.sum())
        for row in np.flatnonzero(~full & (hi - lo >= 3)).tolist():  # by a gap or an end: fewer neighbours
            i = int(todo[row])
            replacement, glitch = self._judge(acc[None, lo[row] : hi[row]], i - int(lo[row]))
            if glitch[0]:
                out_acc[row] = replacement[0]
                st.replaced += 1
        decided = Decided(t[todo], out_acc, other[todo], known)
        # Keep the undecided samples and the h before them, raw: the next decisions see what the sensor sent.
        keep_from = max(0, stop - h)
        st.t_s, st.acc_g, st.rest = t[keep_from:], acc[keep_from:], other[keep_from:]
        st.sent = stop - keep_from
        return decided

    def _judge(self, windows: np.ndarray, centre: int) -> tuple[np.ndarray, np.ndarray]:
        """For windows [m, k, 3]: the consensus of each without its ``centre`` sample (their vector median) [m, 3],
        and whether the centre sample is a glitch [m]."""
        cfg = self.config
        others = np.delete(windows, centre, axis=1).transpose(1, 0, 2)  # [k - 1, m, 3]
        best = np.argmin(_spreads(np.ascontiguousarray(others)), axis=0)  # [m]
        consensus = others[best, np.arange(others.shape[1])]  # [m, 3]
        spread = np.median(np.linalg.norm(others - consensus[None], axis=2), axis=0)  # [m]
        limit = np.maximum(cfg.floor_g, cfg.spread_factor * spread)
        return consensus, np.linalg.norm(windows[:, centre] - consensus, axis=1) > limit


def without_glitches(samples: SampleBlock, config: GlitchConfig) -> SampleBlock:
    """A whole recording through the glitch filter (for drawing what the pipeline saw)."""
    f = GlitchFilter(config, rest_channels=0 if samples.gyro_dps is None else 3)
    parts = [f.feed(samples.t_s, samples.acc_g, samples.gyro_dps), f.flush()]
    gyro = None if samples.gyro_dps is None else np.vstack([p.rest for p in parts])
    return SampleBlock(np.concatenate([p.t_s for p in parts]), np.vstack([p.acc_g for p in parts]), gyro)
