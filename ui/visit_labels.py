"""How a visit is named in pickers, tables, dialogs and plot tooltips.

Two visits on one day (a re-test after a cue, say) looked identical: each same-day visit gets
“visit 1 of 2 that day” after its date, in the order the visits were recorded.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence


def visit_labels(dates: Sequence[dt.date], fmt: str = "%d %b %Y") -> list[str]:
    """One label per visit, in the given (chronological) order; same-day visits numbered."""
    totals = Counter(dates)
    seen: Counter[dt.date] = Counter()
    out = []
    for d in dates:
        seen[d] += 1
        text = d.strftime(fmt)
        if totals[d] > 1:
            text += f" · visit {seen[d]} of {totals[d]} that day"
        out.append(text)
    return out
