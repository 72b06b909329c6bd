"""Purchases through the full path (purchase-terminal code, simulated card and PSAM, APDU
encoding and parsing, all crypto) against their floors, measured in the same run: the block
operations one purchase really makes (recorded while a real purchase runs), replayed on reused
cipher contexts, and the same blocks at OpenSSL's C speed (`openssl speed`). The ratio says how
many times its bare cipher work a purchase costs; CPU seconds count, wall is printed beside.
"""

from __future__ import annotations

import random
import time
from datetime import datetime, timedelta

from devices.card_os import CardOS
from devices.factory import CardFactory, CardProfile
from devices.psam import Psam
from devices.sim_channel import SimChannel
from model import native
from model.security import Algorithm, IssuerKeyStore, KeyUsage, generate_issuer_keys
from model.terminal import PurchaseTerminal
from sim.bench.floors import CipherTrace, CryptoFloor, openssl_blocks_per_s

BENCH_ISSUER_ID = bytes.fromhex("3301000000000001")
BENCH_CARDS = 100
BENCH_FARE_FEN = 100


class _FullPath:
    """Purchases through terminal code, simulated cards and a PSAM, set up once, run in rounds."""

    def __init__(self, algorithm: Algorithm) -> None:
        keys = generate_issuer_keys(1, BENCH_ISSUER_ID)
        factory = CardFactory(keys)
        self.channels = []
        for i in range(BENCH_CARDS):
            state = factory.personalise(CardProfile(asn=(i + 1).to_bytes(8, "big"), algorithm=algorithm))
            state.ep_balance_fen = state.max_balance_fen
            self.channels.append(SimChannel(CardOS(state, rng=random.Random(i))))
        psam_keys = IssuerKeyStore(keys, frozenset({KeyUsage.PURCHASE, KeyUsage.MAINTENANCE}))
        self.terminal = PurchaseTerminal(SimChannel(Psam(bytes.fromhex("330100000201"), psam_keys)))
        self.moment = datetime(2026, 11, 23, 8, 0, 0)
        self.done = 0
        self._one()  # the master key's kept context is set up before the trace, as in a day
        self.trace = CipherTrace()
        self.trace.record(self._one)

    def _one(self) -> None:
        n = self.done
        self.terminal.purchase(
            self.channels[n % BENCH_CARDS], BENCH_FARE_FEN, self.moment + timedelta(seconds=n)
        )
        self.done = n + 1

    def run(self, count: int) -> tuple[float, float]:
        """CPU and wall seconds of `count` purchases."""
        start, start_cpu = time.perf_counter(), time.process_time()
        for _ in range(count):
            self._one()
        cpu_s, wall_s = time.process_time() - start_cpu, time.perf_counter() - start
        assert len(self.terminal.journal) == self.done
        return cpu_s, wall_s


def bench_purchase(count: int, algo: Algorithm, rounds: int) -> list[str]:
    """The figures, one `key=value` line each; the two sides alternate in rounds and each keeps
    its best round (by CPU seconds), so a burst of load from another process does not fall on
    one side only."""
    per_round = max(1, count // max(1, rounds))
    full = _FullPath(algo)
    trace = full.trace
    floor = CryptoFloor(trace.calls)
    full_s: list[tuple[float, float]] = []
    floor_s: list[tuple[float, float]] = []
    for _ in range(max(1, rounds)):
        full_s.append(full.run(per_round))
        floor_s.append(floor.run(per_round))
    c_blocks_per_s = openssl_blocks_per_s(algo)
    full_cpu, floor_cpu = min(c for c, _ in full_s), min(c for c, _ in floor_s)
    purchases_per_s = per_round / max(full_cpu, 1e-9)
    floor_per_s = per_round / max(floor_cpu, 1e-9)
    c_floor = "na" if c_blocks_per_s is None else f"{c_blocks_per_s / trace.blocks:.0f}"
    c_ratio = (
        "" if c_blocks_per_s is None else f" c_ratio={c_blocks_per_s / trace.blocks / purchases_per_s:.1f}"
    )
    return [
        f"algorithm={algo.name} purchases={per_round * len(full_s)} rounds={len(full_s)} cards={BENCH_CARDS} "
        f"code={native.status()}",
        f"per_purchase cipher_contexts_set_up={trace.contexts} cipher_calls={len(trace.calls)} "
        f"blocks={trace.blocks} single_des_ops={trace.single_des_ops}",
        "full_path_cpu_us_by_round=" + " ".join(f"{c / per_round * 1e6:.1f}" for c, _ in full_s),
        "full_path_wall_us_by_round=" + " ".join(f"{w / per_round * 1e6:.1f}" for _, w in full_s),
        "crypto_floor_cpu_us_by_round=" + " ".join(f"{c / per_round * 1e6:.2f}" for c, _ in floor_s),
        f"cpu_s_total={sum(c for c, _ in full_s + floor_s):.2f} "
        f"wall_s_total={sum(w for _, w in full_s + floor_s):.2f}{c_ratio}",
        f"purchases_per_s={purchases_per_s:.0f} crypto_floor_per_s={floor_per_s:.0f} c_floor_per_s={c_floor} "
        f"ratio={floor_per_s / purchases_per_s:.2f}",
    ]
