"""One APDU's round trip through the real PC/SC stack (pyscard, pcscd, the vpcd driver, TCP,
the vpcd server, the card OS) against the same APDU to the card OS in process; and whole
purchases the same two ways. Needs a running pcscd."""

from __future__ import annotations

import random
import time
from datetime import datetime, timedelta

from devices.card_os import CardOS
from devices.factory import CardFactory, CardProfile
from devices.psam import Psam
from devices.sim_channel import SimChannel
from hardware_bridge.pcsc_channel import PcscChannel
from hardware_bridge.vpcd import VpcdServer
from model.card import CardChannel, commands, select_epurse
from model.security import IssuerKeyStore, KeyUsage, generate_issuer_keys
from model.terminal import PurchaseTerminal
from sim.bench.purchase import BENCH_FARE_FEN, BENCH_ISSUER_ID


def _apdu_round_trips(channel: CardChannel, count: int) -> list[float]:
    """Seconds of each of `count` GET BALANCE exchanges (the e-purse already selected)."""
    select_epurse(channel)
    command = commands.get_balance()
    times = []
    for _ in range(count):
        start = time.perf_counter()
        response = channel.transmit(command)
        times.append(time.perf_counter() - start)
        assert response[-2:] == b"\x90\x00", "GET BALANCE failed during the bench"
    return times


def _us(times: list[float], quantile: float) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, int(quantile * len(ordered)))] * 1e6


def bench_apdu(count: int, slot: int, purchases: int) -> list[str]:
    """The figures, one `key=value` line each."""
    keys = generate_issuer_keys(1, BENCH_ISSUER_ID)
    state = CardFactory(keys).personalise(CardProfile(asn=(1).to_bytes(8, "big")))
    state.ep_balance_fen = state.max_balance_fen
    card = CardOS(state, rng=random.Random(1))
    psam_keys = IssuerKeyStore(keys, frozenset({KeyUsage.PURCHASE, KeyUsage.MAINTENANCE}))
    reader = f"Virtual PCD 00 {slot:02d}"
    with VpcdServer(card, slot) as server, PcscChannel(reader) as pcsc:
        _apdu_round_trips(pcsc, min(count, 100))  # warm-up: connection, caches
        pcsc_times = _apdu_round_trips(pcsc, count)
        served_before = server.commands_served
        pcsc_purchase_s = _purchases(pcsc, psam_keys, purchases)
        apdus_per_purchase = (server.commands_served - served_before) / purchases
    local_times = _apdu_round_trips(SimChannel(card), count)
    local_purchase_s = _purchases(SimChannel(card), psam_keys, purchases)
    lines: list[str] = []
    pcsc_us, local_us = sum(pcsc_times) / count * 1e6, sum(local_times) / count * 1e6
    lines.append(f"apdus={count} command=GET BALANCE reader={reader}")
    lines.append(f"pcsc_p50_us={_us(pcsc_times, 0.5):.1f} pcsc_p99_us={_us(pcsc_times, 0.99):.1f}")
    lines.append(
        f"inprocess_p50_us={_us(local_times, 0.5):.2f} inprocess_p99_us={_us(local_times, 0.99):.2f}"
    )
    lines.append(
        f"purchases={purchases} card_apdus_per_purchase={apdus_per_purchase:.1f} "
        f"pcsc_us_per_purchase={pcsc_purchase_s / purchases * 1e6:.0f} "
        f"inprocess_us_per_purchase={local_purchase_s / purchases * 1e6:.0f}"
    )
    lines.append(f"pcsc_us_per_apdu={pcsc_us:.1f} inprocess_us_per_apdu={local_us:.2f}")
    return lines


def _purchases(card: CardChannel, psam_keys: IssuerKeyStore, count: int) -> float:
    """Seconds for `count` purchases on `card` (PSAM in process: only the card's path differs)."""
    terminal = PurchaseTerminal(SimChannel(Psam(bytes.fromhex("330100000201"), psam_keys)))
    moment = datetime(2026, 11, 23, 8, 0, 0)
    start = time.perf_counter()
    for n in range(count):
        terminal.purchase(card, BENCH_FARE_FEN, moment + timedelta(seconds=n))
    elapsed = time.perf_counter() - start
    assert len(terminal.journal) == count
    return elapsed
