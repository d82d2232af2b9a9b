"""Pages of plots for a blind hand count of the reps in real wrist sets (how ``bench/handcount.csv`` was made).

Each set is one panel: its raw accelerometer axes (ebbelaar: with the gyroscope's on a second scale, and lost
samples shaded; muvr: each axis also low-passed at 3 Hz, since the Pebble's samples are noisy), a grid every second,
and a title with an anonymous id and the exercise. Nothing else: no label, no count, no file name. The sets are
shuffled (``--seed``) and the key from id to set goes to ``key.json`` in ``--out``, for whoever merges the counts
afterwards, not for the person counting.

The counts in ``bench/handcount.csv`` came from these pages: ebbelaar's 57 sets (seed 7, 6 a page) and 60 of muvr's
240 whole files (seed 11), counted twice, by two helpers each told to open nothing but the pages (and so neither
saw the other's counts). Batch 2 is the next 60 of muvr's shuffle (``--skip 60``, ids M61-M120), counted later by
two more helpers in the same way. The third counts are of the sets where two differed (``--disputed``, same ids),
by one more helper who saw neither count. Run by hand:
``python bench/handcount_pages.py ebbelaar --out /tmp/pages``. The data lives outside the repo (see
``bench/realdata.py``); the pages stay outside it too.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
from pathlib import Path

import matplotlib
import numpy as np
import scipy.signal

# realdata.py sits beside this script, which Python puts first on sys.path.
from bench_realdata import HAND_COUNTS
from realdata import EBBELAAR, MUVR, MUVR_RATE_HZ, RealSet, ebbelaar_sets, muvr_sets, realdata_root

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # after the backend is chosen

PER_PAGE = 6


def panel(ax: plt.Axes, real: RealSet, title: str) -> None:
    b = real.samples
    t = b.t_s - b.t_s[0]
    if real.metadata["dataset"] == MUVR:
        smooth = scipy.signal.sosfiltfilt(scipy.signal.butter(2, 3.0, fs=MUVR_RATE_HZ, output="sos"), b.acc_g, axis=0)
        for j, colour in enumerate("rgb"):
            ax.plot(t, b.acc_g[:, j], color=colour, lw=0.3, alpha=0.35)
            ax.plot(t, smooth[:, j], color=colour, lw=1.1)
    else:
        for j, colour in enumerate("rgb"):
            ax.plot(t, b.acc_g[:, j], color=colour, lw=0.9)
        if b.gyro_dps is not None:
            ax.twinx().plot(t, b.gyro_dps, lw=0.4, ls="--")
        for k in np.flatnonzero(np.diff(b.t_s) > 0.5):
            ax.axvspan(t[k], t[k + 1], color="k", alpha=0.3)
    ax.set_xticks(np.arange(0, t[-1] + 1, 1.0))
    ax.grid(True, axis="x", lw=0.3)
    ax.set_title(title)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dataset", choices=["ebbelaar", "muvr"])
    ap.add_argument("--out", type=Path, required=True, help="folder for the pages and key.json (outside the repo)")
    ap.add_argument("--seed", type=int, help="shuffle seed (ebbelaar 7, muvr 11 made bench/handcount.csv)")
    ap.add_argument("--sets", type=int, help="how many sets (muvr: 60 of the whole files)")
    ap.add_argument("--skip", type=int, default=0, help="start this far into the shuffle, for a further batch")
    ap.add_argument(
        "--disputed", action="store_true", help="only the sets whose two counts in handcount.csv differ (same ids)"
    )
    args = ap.parse_args()
    if args.dataset == "ebbelaar":
        sets, prefix, seed = list(ebbelaar_sets(realdata_root())), "S", 7 if args.seed is None else args.seed
    else:
        sets = [s for s in muvr_sets(realdata_root()) if s.metadata["spliced"] == "no"]
        prefix, seed = "M", 11 if args.seed is None else args.seed
    random.Random(seed).shuffle(sets)
    if args.sets is not None or args.dataset == "muvr":
        sets = sets[args.skip : args.skip + (args.sets or 60)]
    else:
        sets = sets[args.skip :]
    ids = [(f"{prefix}{args.skip + k:02d}", real) for k, real in enumerate(sets, start=1)]
    if args.disputed:
        with HAND_COUNTS.open(newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        disputed = {f"{r['dataset']}/{r['set']}" for r in rows if r["visible_reps_1"] != r["visible_reps_2"]}
        ids = [(sid, real) for sid, real in ids if real.name in disputed]
    args.out.mkdir(parents=True, exist_ok=True)
    key = {}
    for first in range(0, len(ids), PER_PAGE):
        page = ids[first : first + PER_PAGE]
        fig, axes = plt.subplots(len(page), 1, figsize=(18, 3.0 * len(page)), squeeze=False)
        for ax, (sid, real) in zip(axes[:, 0], page, strict=True):
            key[sid] = real.name
            panel(ax, real, f"{sid}  exercise: {real.metadata.get('raw_exercise', real.exercise)}")
        fig.tight_layout()
        fig.savefig(args.out / f"page{first // PER_PAGE + 1:02d}.png", dpi=55)
        plt.close(fig)
    (args.out / "key.json").write_text(json.dumps(key, indent=1), encoding="utf-8")
    name = EBBELAAR if args.dataset == "ebbelaar" else MUVR
    print(f"{len(ids)} {name} sets on {-(-len(ids) // PER_PAGE)} pages in {args.out}")


if __name__ == "__main__":
    main()
