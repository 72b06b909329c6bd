"""Demand drawn in blocks of citizens: a shard draws one block at a time and keeps its own
citizens' taps, which are exactly the one-process taps of those citizens."""

from __future__ import annotations

import numpy as np
import pytest

from scenarios.schema import load
from sim.city import demand
from sim.city.demand import Taps, draw_demand, for_shard
from sim.city.graph import build_city
from sim.city.population import draw_columns

SMALL = load().replace(sample=0.002)  # about 4,000 citizens


def _same(a: Taps, b: Taps) -> bool:
    return a.kind == b.kind and all(
        np.array_equal(getattr(a, f), getattr(b, f)) for f in ("t_s", "citizen", "a", "b", "c", "tear")
    )


@pytest.mark.parametrize("shards", [2, 3])
def test_shards_draw_blocks_and_keep_exactly_their_citizens_taps(
    shards: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    city = build_city(SMALL)
    columns = draw_columns(SMALL, city.district_share)
    monkeypatch.setattr(demand, "DEMAND_BLOCK_CITIZENS", 1000)  # several blocks
    whole = draw_demand(SMALL, city, columns)
    assert {int(c) // 1000 for t in whole for c in t.citizen} == set(range(len(columns["home"]) // 1000 + 1))
    for t in whole:
        assert np.all(np.diff(t.t_s) >= 0)
    for k in range(shards):
        mine = draw_demand(SMALL, city, columns, k, shards)
        assert all(_same(m, for_shard(w, k, shards)) for m, w in zip(mine, whole, strict=True))
