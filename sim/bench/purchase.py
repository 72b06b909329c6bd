"""Purchases through the full path (purchase-terminal code, simulated card and PSAM, APDU
encoding and parsing, all crypto) against the same crypto operations bare, with the same
functions and key sizes. The ratio says how much the protocol and Python around the crypto cost
on top of the crypto itself."""

from __future__ import annotations

import random
import time
from datetime import datetime, timedelta
from unittest import mock

from cryptography.hazmat.primitives.ciphers import Cipher

from devices.card_os import CardOS
from devices.factory import CardFactory, CardProfile
from devices.psam import Psam
from devices.sim_channel import SimChannel
from model.security import (
    Algorithm,
    IssuerKeyStore,
    KeyUsage,
    crypto,
    generate_issuer_keys,
    purchase_mac1_data,
    purchase_mac2_data,
    purchase_session_seed,
    purchase_tac_data,
)
from model.terminal import PurchaseTerminal

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
        real_cipher = Cipher  # the class crypto calls; patched where crypto looks it up
        with mock.patch.object(crypto, "Cipher", side_effect=real_cipher) as counted:
            self._one()
            self.ciphers_per_purchase = counted.call_count

    def _one(self) -> None:
        n = self.done
        self.terminal.purchase(
            self.channels[n % BENCH_CARDS], BENCH_FARE_FEN, self.moment + timedelta(seconds=n)
        )
        self.done = n + 1

    def run(self, count: int) -> float:
        start = time.perf_counter()
        for _ in range(count):
            self._one()
        elapsed = time.perf_counter() - start
        assert len(self.terminal.journal) == self.done
        return elapsed


def _crypto_once(algorithm: Algorithm, master: bytes, asn: bytes, dtk: bytes, date_time: bytes) -> None:
    """The crypto a purchase needs, bare, done as the card and PSAM do it: PSAM diversification
    (through the master key's kept context), two session keys (PSAM and card), each one MAC key
    for MAC1 and MAC2 (made by one side, checked by the other), the TAC."""
    dpk = crypto.diversify(algorithm, master, asn)
    seed = purchase_session_seed(b"\x01\x02\x03\x04", 7, 42)
    sk_psam = crypto.MacKey(algorithm, crypto.session_key(algorithm, dpk, seed))
    sk_card = crypto.MacKey(algorithm, crypto.session_key(algorithm, dpk, seed))
    mac1_data = purchase_mac1_data(BENCH_FARE_FEN, 6, b"\x33\x01\x00\x00\x02\x01", date_time)
    sk_psam.mac(mac1_data)
    sk_card.mac(mac1_data)
    crypto.tac(
        algorithm, dtk, purchase_tac_data(BENCH_FARE_FEN, 6, b"\x33\x01\x00\x00\x02\x01", 42, date_time)
    )
    mac2_data = purchase_mac2_data(BENCH_FARE_FEN)
    sk_card.mac(mac2_data)
    sk_psam.mac(mac2_data)


class _CryptoFloor:
    """The same crypto operations as a purchase, bare, run in rounds."""

    def __init__(self, algorithm: Algorithm) -> None:
        keys = generate_issuer_keys(1, BENCH_ISSUER_ID)
        self.algorithm = algorithm
        self.master = keys.master(KeyUsage.PURCHASE, algorithm, 1)
        self.dtk = keys.card_keys(b"\x00" * 7 + b"\x01", algorithm).dtk
        self.date_time = bytes.fromhex("20261123080000")
        self.done = 0
        real_cipher = Cipher  # the class crypto calls; patched where crypto looks it up
        with mock.patch.object(crypto, "Cipher", side_effect=real_cipher) as counted:
            self._one()
            self.ciphers_per_purchase = counted.call_count

    def _one(self) -> None:
        self.done += 1
        _crypto_once(self.algorithm, self.master, self.done.to_bytes(8, "big"), self.dtk, self.date_time)

    def run(self, count: int) -> float:
        start = time.perf_counter()
        for _ in range(count):
            self._one()
        return time.perf_counter() - start


def bench_purchase(count: int, algo: Algorithm, rounds: int) -> list[str]:
    """The figures, one `key=value` line each; the two sides alternate in rounds and each keeps
    its best round, so a burst of load from another process does not fall on one side only."""
    per_round = max(1, count // max(1, rounds))
    full, floor = _FullPath(algo), _CryptoFloor(algo)
    full_s, floor_s = [], []
    lines: list[str] = []
    for _ in range(max(1, rounds)):
        full_s.append(full.run(per_round))
        floor_s.append(floor.run(per_round))
    purchases_per_s = per_round / min(full_s)
    floor_per_s = per_round / min(floor_s)
    lines.append(
        f"algorithm={algo.name} purchases={per_round * len(full_s)} rounds={len(full_s)} cards={BENCH_CARDS}"
    )
    lines.append(
        f"cipher_ops_per_purchase full_path={full.ciphers_per_purchase} "
        f"crypto_floor={floor.ciphers_per_purchase}"
    )
    lines.append(
        "full_path_us_per_purchase_by_round=" + " ".join(f"{t / per_round * 1e6:.1f}" for t in full_s)
    )
    lines.append(
        "crypto_floor_us_per_purchase_by_round=" + " ".join(f"{t / per_round * 1e6:.1f}" for t in floor_s)
    )
    lines.append(
        f"purchases_per_s={purchases_per_s:.0f} crypto_floor_per_s={floor_per_s:.0f} "
        f"ratio={floor_per_s / purchases_per_s:.2f}"
    )
    return lines
