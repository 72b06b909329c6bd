"""LatencyChannel: counts every exchange, bounded samples; no speed figures asserted."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from devices.card_os import CardOS
from devices.sim_channel import SimChannel
from hardware_bridge import latency
from hardware_bridge.latency import LatencyChannel
from model.card.access import read_card
from model.errors import CardRemovedError


def test_latency_channel_counts_every_exchange(
    make_card: Callable[..., tuple[CardOS, SimChannel]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(latency, "SAMPLES_MAX", 3)
    _, channel = make_card()
    timed = LatencyChannel(channel)
    read_card(timed)  # SELECT (its FCI holds the public file), GET BALANCE, READ RECORD (no log)
    assert timed.stats.count == 3 and len(timed.stats.samples_s) == 3
    assert 0 < timed.stats.mean_s <= timed.stats.max_s
    assert timed.stats.quantile_s(0.0) <= timed.stats.quantile_s(1.0) <= timed.stats.max_s
    channel.remove()
    with pytest.raises(CardRemovedError):
        timed.transmit(b"\x00\xa4\x04\x00\x00")
    assert timed.stats.count == 4 and len(timed.stats.samples_s) == 3
