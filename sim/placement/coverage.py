"""The greedy planner: one recharge point at a time, where it serves the most residents.

State: the sites open and their points, each cell's nearest site within walking distance
(its *owner*) and each site's load (residents it owns). A site serves
min(load, points x capacity) residents, so the plan's objective is the residents served
within walking distance by a point with room for them. A step either opens a new site (cells
it is nearer to move to it, their old sites shed load) or adds a point at an open site (more
room, up to `max_per_site`). Each step takes the move with the largest gain in residents
served; among equals, the one that covers the most residents no one covered yet, then the
lowest cell. Without a capacity the objective is plain coverage, which is submodular: the lazy
evaluation below is then exactly the classic greedy, within 1 - 1/e of the best plan of as
many sites. With a capacity it is a heuristic (a gain can grow when a neighbour gains room).
Once every resident is served, further points go to the site with the most residents per
point (nearest site over any distance) to shorten queues.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping

import numpy as np
from scipy.sparse import csr_matrix  # type: ignore[import-untyped]  # no stubs installed here: the product is typed on the way out

from sim.placement.geo import Geography, PlacementError, Plan, check_plan, nearest_sites

MAX_PER_SITE_DEFAULT = 4  # ASSUMPTION: a kiosk row at a bank branch or a large station
POINTS_MAX = 100_000  # more recharge points than any plan in the seeds by far
HEAP_MAX_FACTOR = 50  # heap entries per cell before it is rebuilt (stale entries pile up)


class Planner:
    """Greedy placement state; `add(k)` opens k more points."""

    def __init__(
        self,
        geo: Geography,
        *,
        capacity_residents: float | None = None,
        max_per_site: int = MAX_PER_SITE_DEFAULT,
        existing: Mapping[int, int] | None = None,
    ) -> None:
        if capacity_residents is not None and not capacity_residents > 0:
            raise PlacementError(f"capacity_residents: {capacity_residents!r} out of range (allowed: > 0)")
        if not 1 <= max_per_site <= 1000:
            raise PlacementError(f"max_per_site: {max_per_site!r} out of range (allowed: 1..1000)")
        check_plan(geo, existing or {}, "existing sites")
        self.geo = geo
        self.capacity = capacity_residents
        self.max_per_site = max_per_site
        n = geo.cells
        self.count = np.zeros(n, np.int64)
        self.owner = np.full(n, -1, np.int64)
        self.dist_m = np.full(n, np.inf)
        self.load = np.zeros(n)
        self._far_load: np.ndarray | None = None  # residents per site, nearest over any distance
        self._step = 0
        self._heap: list[tuple[float, float, int, int]] = []
        for cell, count in sorted((existing or {}).items()):
            if count > max_per_site:
                raise PlacementError(
                    f"existing sites: cell {cell}: {count} points (allowed: <= {max_per_site})"
                )
            for _ in range(count):
                self._open(cell)
        self._rebuild_heap()

    @property
    def plan(self) -> Plan:
        return {int(c): int(self.count[c]) for c in np.flatnonzero(self.count)}

    @property
    def points(self) -> int:
        return int(self.count.sum())

    def served(self) -> float:
        if self.capacity is None:
            return float(self.load.sum())
        return float(np.minimum(self.load, self.count * self.capacity).sum())

    def _room(self, load: float, points: int) -> float:
        return load if self.capacity is None else min(load, points * self.capacity)

    def _rebuild_heap(self) -> None:
        """Fresh gains of every cell. Vectorised for unopened cells when nothing is open yet."""
        if self.points == 0:
            geo = self.geo
            rows = np.repeat(np.arange(geo.cells), np.diff(geo.reach_ptr))
            reach = csr_matrix((np.ones(len(rows)), (rows, geo.reach_cell)), shape=(geo.cells, geo.cells))
            cover = reach @ geo.residents
            served = cover if self.capacity is None else np.minimum(cover, self.capacity)
            gains = zip(served.tolist(), cover.tolist(), strict=True)
            self._heap = [(-g, -c, cell, self._step) for cell, (g, c) in enumerate(gains)]
        else:
            self._heap = []
            for cell in range(self.geo.cells):
                gain = self._gain(cell)
                if gain is not None:
                    self._heap.append((-gain[0], -gain[1], cell, self._step))
        heapq.heapify(self._heap)

    def _gain(self, cell: int) -> tuple[float, float] | None:
        """(residents served, residents newly covered) by one more point at `cell`; None when
        the site is full."""
        points = int(self.count[cell])
        if points >= self.max_per_site:
            return None
        if points:
            load = float(self.load[cell])
            return self._room(load, points + 1) - self._room(load, points), 0.0
        geo = self.geo
        lo, hi = geo.reach_ptr[cell], geo.reach_ptr[cell + 1]
        nearer = self._nearer(cell, lo, hi)
        cells = geo.reach_cell[lo:hi][nearer]
        people = geo.residents[cells]
        owners = self.owner[cells]
        fresh = owners < 0
        gain = self._room(float(people.sum()), 1)
        if not fresh.all():
            moved = owners[~fresh]
            for site, lost in zip(*_sum_by(moved, people[~fresh]), strict=True):
                before = float(self.load[site])
                gain += self._room(before - lost, int(self.count[site])) - self._room(
                    before, int(self.count[site])
                )
        return gain, float(people[fresh].sum())

    def _nearer(self, cell: int, lo: int, hi: int) -> np.ndarray:
        """Which cells of `cell`'s reach (rows lo:hi) it would own: strictly nearer, or as near
        and a lower cell number (street grids tie a lot; `placement_geo.owners` agrees)."""
        reach = self.geo.reach_cell[lo:hi]
        metres = self.geo.reach_m[lo:hi]
        dist = self.dist_m[reach]
        # numpy types comparisons of untyped-dtype arrays as Any: named as the bool array it is.
        nearer: np.ndarray = (metres < dist) | ((metres == dist) & (cell < self.owner[reach]))
        return nearer

    def _open(self, cell: int) -> None:
        if not 0 <= cell < self.geo.cells:
            raise PlacementError(f"cell {cell} is not on the grid (0..{self.geo.cells - 1})")
        if self.count[cell] >= self.max_per_site:
            raise PlacementError(f"cell {cell}: more than {self.max_per_site} points at one site")
        if self.count[cell] == 0:
            geo = self.geo
            lo, hi = geo.reach_ptr[cell], geo.reach_ptr[cell + 1]
            nearer = self._nearer(cell, lo, hi)
            cells = geo.reach_cell[lo:hi][nearer]
            owned = self.owner[cells]
            np.subtract.at(self.load, owned[owned >= 0], geo.residents[cells][owned >= 0])
            self.owner[cells] = cell
            self.dist_m[cells] = geo.reach_m[lo:hi][nearer]
            self.load[cell] += geo.residents[cells].sum()
            self._far_load = None  # a new site changes who is nearest to what
        self.count[cell] += 1
        self._step += 1

    def add(self, k: int) -> list[int]:
        """Open `k` more points; the cells they went to, in order."""
        if not 0 <= k <= POINTS_MAX:
            raise PlacementError(f"recharge points: {k!r} out of range (allowed: 0..{POINTS_MAX})")
        room = self.geo.cells * self.max_per_site - self.points
        if k > room:
            raise PlacementError(
                f"recharge points: {k} more do not fit "
                f"({self.geo.cells} cells x {self.max_per_site} per site, {self.points} open)"
            )
        return [self._add_one() for _ in range(k)]

    def _add_one(self) -> int:
        if len(self._heap) > HEAP_MAX_FACTOR * self.geo.cells:
            self._rebuild_heap()
        while self._heap:
            served, covered, cell, step = self._heap[0]
            if step != self._step:
                gain = self._gain(cell)
                if gain is None:
                    heapq.heappop(self._heap)
                else:
                    heapq.heapreplace(self._heap, (-gain[0], -gain[1], cell, self._step))
                continue
            if served == 0 and covered == 0:
                break  # everyone is served: shorten queues instead
            self._open(cell)
            gain = self._gain(cell)
            if gain is None:
                heapq.heappop(self._heap)
            else:
                heapq.heapreplace(self._heap, (-gain[0], -gain[1], cell, self._step))
            return cell
        cell = self._busiest_site()
        self._open(cell)
        return cell

    def _busiest_site(self) -> int:
        """The site with the most residents per point among those with room (a new site at the
        most populous unopened cell when every site is full)."""
        geo = self.geo
        if self._far_load is None:
            source, _ = nearest_sites(geo, self.plan)
            self._far_load = np.bincount(source, weights=geo.residents, minlength=geo.cells)
        room = (self.count > 0) & (self.count < self.max_per_site)
        if room.any():
            return int(np.argmax(np.where(room, self._far_load / np.maximum(self.count, 1), -1.0)))
        return int(np.argmax(np.where(self.count == 0, geo.residents, -1.0)))


def _sum_by(keys: np.ndarray, values: np.ndarray) -> tuple[list[int], list[float]]:
    """Sums of `values` per distinct key, keys in increasing order. The arrays are one reach set
    (tens of cells, a handful of keys), where a dict beats numpy's sorting."""
    sums: dict[int, float] = {}
    for k, v in zip(keys.tolist(), values.tolist(), strict=True):
        sums[k] = sums.get(k, 0.0) + v
    ordered = sorted(sums)
    return ordered, [sums[k] for k in ordered]
