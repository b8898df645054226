"""How a per-side mean is written in the marking panel's tables, one rule for Timing and Landing.

A cell reads ``mean ± SD unit`` with, on its own line, ``[±u]``: the mean's standard uncertainty
from the frame rate alone (each mark is only known to within its frame; see
:mod:`app.analysis.metrics`). The number of steps goes in the cell's tooltip with the words,
so the narrow sidebar never cuts a figure off.
"""

from __future__ import annotations

from app.analysis.metrics import Stat


def stat_cell(stat: Stat | None, unit: str, scale: float = 1.0, digits: int = 0) -> str:
    """``mean ± SD unit`` and ``[±u]`` on a second line; "—" when not measured."""
    if stat is None or stat.mean is None:
        return "—"
    text = f"{stat.mean * scale:.{digits}f}"
    if stat.sd is not None:
        text += f" ± {stat.sd * scale:.{digits}f}"
    text += unit
    if stat.fps_u is not None:
        # At least one more digit than the mean when the uncertainty is below its last digit.
        fd = digits if stat.fps_u * scale >= 10**-digits else digits + 1
        text += f"\n[±{stat.fps_u * scale:.{fd}f}]"
    return text


def stat_tip(
    stat: Stat | None,
    *,
    unit: str = "",
    scale: float = 1.0,
    digits: int = 1,
    fps: float | None = None,
    over: str = "steps",
) -> str:
    """The cell's tooltip: what the figures are, over how many steps, and the frame-rate limit."""
    if stat is None or stat.mean is None:
        return "not measured"
    text = f"mean ± SD over n = {stat.n} {over}"
    if stat.sdd:
        text += (
            f"; changes smaller than {stat.sdd[0]:g}–{stat.sdd[1]:g} are within measurement noise"
        )
    if stat.fps_u is not None and fps:
        text += (
            f"; [±{stat.fps_u * scale:.{digits + 1}f}{unit.strip() and ' ' + unit.strip()}]: "
            f"uncertainty of the mean from the frame rate alone ({fps:.0f} frames/s: each mark "
            "is only known to within its frame)"
        )
    return text
