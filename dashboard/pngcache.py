"""Rendered figures, kept so that a rerun at the same month and language does not redraw.

Streamlit reruns the whole page on every click; drawing the rollout's figures is most of a
rerun's time. PNGs are keyed by the run object (held by the entry, so its id stays unique),
the figure, the month index and the language; the least recently used are dropped first.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable

from matplotlib.figure import Figure

from dashboard.fig_common import to_png
from sim.rollout import RolloutResult

ENTRIES = 256


class PngCache:
    def __init__(self, entries: int = ENTRIES) -> None:
        assert entries >= 1
        self._entries = entries
        self._pngs: OrderedDict[tuple[Hashable, ...], tuple[RolloutResult, bytes]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0

    def png(self, result: RolloutResult, key: tuple[Hashable, ...], draw: Callable[[], Figure]) -> bytes:
        full = (id(result), *key)
        with self._lock:
            entry = self._pngs.get(full)
            if entry is not None and entry[0] is result:
                self._pngs.move_to_end(full)
                self.hits += 1
                return entry[1]
        png = to_png(draw())
        with self._lock:
            self._pngs[full] = (result, png)
            while len(self._pngs) > self._entries:
                self._pngs.popitem(last=False)
        return png
