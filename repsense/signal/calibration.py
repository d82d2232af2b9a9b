"""What the accelerometer reads for 1 g along the vertical, as the bar turns: ``s = c + b . up``.

Kept apart from the segmenter that feeds it: it is plain ridge regression with exponential forgetting over
observations the segmenter chooses (still samples, and the means of whole rest-to-rest movements).
"""

from __future__ import annotations

import numpy as np


class Calibration:
    """What the accelerometer reads for 1 g along "up": ``s = c + b . up`` when the bar is still.

    ``c`` absorbs scale error and the bias along the mean "up"; ``b`` is the bias vector, which matters when the bar
    rolls and changes which part of it lies along the vertical. Fitted by ridge regression with exponential
    forgetting over still samples and over whole movements: between two still moments the bar's mean vertical
    acceleration is zero, so the mean of ``s`` over a movement equals ``c + b . (mean up)``. A bar that rolls as
    it moves and rests at one orientation only still reveals the part of ``b`` that its roll brings into play;
    the rest of ``b`` stays near zero (ridge).
    """

    RIDGE = 0.003  # rad^2: orientations closer than ~3 degrees tell nothing about b

    def __init__(self, forget: float) -> None:
        self.forget = forget
        self.known = False
        self.c = 1.0
        self.bx = self.by = self.bz = 0.0
        self.sums = [0.0] * 15  # n, sum u (3), sum uu^T (6), sum s, sum s*u (3), sum s^2

    @property
    def settled(self) -> bool:
        """True once half a second of stillness has been fitted."""
        return self.sums[0] >= 50.0

    def start(self, s: float) -> None:
        self.known, self.c = True, s

    def add(self, s: float, ux: float, uy: float, uz: float, weight: float = 1.0) -> None:
        """One observation ``s = c + b . u`` (a still sample, or the mean over a rest-to-rest motion)."""
        f = self.forget
        m = self.sums
        w = weight
        row = (1.0, ux, uy, uz, ux * ux, ux * uy, ux * uz, uy * uy, uy * uz, uz * uz, s, s * ux, s * uy, s * uz, s * s)
        for i, x in enumerate(row):
            m[i] = m[i] * f + w * x

    def solve(self) -> None:
        n, sx, sy, sz, xx, xy, xz, yy, yz, zz, sm, smx, smy, smz, _ = self.sums
        if n < 5.0:
            return
        ridge = self.RIDGE * n
        a = np.array([[n, sx, sy, sz], [sx, xx + ridge, xy, xz], [sy, xy, yy + ridge, yz], [sz, xz, yz, zz + ridge]])
        try:
            c, bx, by, bz = np.linalg.solve(a, np.array([sm, smx, smy, smz])).tolist()
        except np.linalg.LinAlgError:
            return
        self.c, self.bx, self.by, self.bz = c, bx, by, bz
