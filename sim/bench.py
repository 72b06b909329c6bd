"""`cardtwin bench`: speed figures of the real code paths (benchmarks, never unit tests).

`bench purchase` runs purchases through the full path (purchase-terminal code, simulated card
and PSAM, APDU encoding and parsing, all crypto) and then the same crypto operations bare,
with the same functions and key sizes, and prints their rates. The ratio says how much the
protocol and Python around the crypto cost on top of the crypto itself.

`bench apdu` measures one APDU's round trip through the real PC/SC stack (pyscard, pcscd, the
vpcd driver, TCP, the vpcd server, the card OS) against the same APDU to the card OS in process.
"""

from __future__ import annotations

import random
import time
from datetime import datetime, timedelta
from unittest import mock

import click

from devices.card_os import CardOS
from devices.factory import CardFactory, CardProfile
from devices.psam import Psam
from devices.sim_channel import SimChannel
from hardware_bridge.pcsc_channel import PcscChannel
from hardware_bridge.vpcd import VPCD_SLOTS, VpcdServer
from model import commands, crypto
from model.card_io import select_epurse
from model.channel import CardChannel
from model.crypto import Algorithm
from model.keys import IssuerKeyStore, KeyUsage, generate_issuer_keys
from model.mac_inputs import (
    purchase_mac1_data,
    purchase_mac2_data,
    purchase_session_seed,
    purchase_tac_data,
)
from model.purchase_terminal import PurchaseTerminal

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
        real_cipher = crypto.Cipher
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
        real_cipher = crypto.Cipher
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


@click.group()
def bench() -> None:
    """Speed figures of the real code paths."""


@bench.command()
@click.option("--count", default=20_000, show_default=True, help="Purchases to run (and crypto rounds).")
@click.option("--algorithm", type=click.Choice(["3des", "sm4"]), default="3des", show_default=True)
@click.option(
    "--rounds",
    default=5,
    show_default=True,
    help="Alternating rounds of full path and crypto floor; the best round of each counts.",
)
def purchase(count: int, algorithm: str, rounds: int) -> None:
    """Full-path purchases against bare crypto: prints purchases_per_s, crypto_floor_per_s, ratio.

    The two alternate in rounds and each keeps its best round, so a burst of load from another
    process on the machine does not fall on one side only."""
    algo = Algorithm.SM4 if algorithm == "sm4" else Algorithm.DES3
    per_round = max(1, count // max(1, rounds))
    full, floor = _FullPath(algo), _CryptoFloor(algo)
    full_s, floor_s = [], []
    for _ in range(max(1, rounds)):
        full_s.append(full.run(per_round))
        floor_s.append(floor.run(per_round))
    purchases_per_s = per_round / min(full_s)
    floor_per_s = per_round / min(floor_s)
    click.echo(
        f"algorithm={algo.name} purchases={per_round * len(full_s)} rounds={len(full_s)} cards={BENCH_CARDS}"
    )
    click.echo(
        f"cipher_ops_per_purchase full_path={full.ciphers_per_purchase} "
        f"crypto_floor={floor.ciphers_per_purchase}"
    )
    click.echo("full_path_us_per_purchase_by_round=" + " ".join(f"{t / per_round * 1e6:.1f}" for t in full_s))
    click.echo(
        "crypto_floor_us_per_purchase_by_round=" + " ".join(f"{t / per_round * 1e6:.1f}" for t in floor_s)
    )
    click.echo(
        f"purchases_per_s={purchases_per_s:.0f} crypto_floor_per_s={floor_per_s:.0f} "
        f"ratio={floor_per_s / purchases_per_s:.2f}"
    )


@bench.command()
@click.option("--count", default=100_000, show_default=True, help="Records to clear.")
@click.option(
    "--cards",
    default=25_000,
    show_default=True,
    help="Cards the records come from (default: 4 records a card, a commuter's day).",
)
@click.option("--repeat", default=3, show_default=True, help="Runs; the best wall time is reported.")
def clearing(count: int, cards: int, repeat: int) -> None:
    """Clearing house ingest (parse, TAC verification, checks, ledger posting, commit) on one core.

    The records are made as the card makes them (see sim.synthetic_batches); only the ingest is
    timed. Each card's TAC key is derived once and reused, so the rate depends on records per
    card: 4 (the default, a commuter's day of taps) is a fair night. Prints records_per_s and
    bytes_per_record (database bytes per cleared record, after a WAL checkpoint); records_per_s
    is from the best of `--repeat` runs, since other processes on the machine only slow a run."""
    import tempfile
    from datetime import date
    from pathlib import Path

    from sim.back_office import BackOffice
    from sim.synthetic_batches import synthetic_batches, synthetic_registry

    keys = generate_issuer_keys(1, BENCH_ISSUER_ID)
    files = synthetic_batches(keys, count, cards=cards)
    wire_bytes = sum(len(raw) for _, raw in files)
    runs: list[tuple[float, float, int]] = []
    for _ in range(repeat):
        # Each run starts from an empty database and a cold key cache, as a night does.
        with tempfile.TemporaryDirectory() as folder:
            db_path = Path(folder) / "clearing.db"
            office = BackOffice.open(db_path, synthetic_registry(50), keys)
            clearing_day = date(2026, 11, 24)
            start, start_cpu = time.perf_counter(), time.process_time()
            posted = 0
            for name, raw in files:
                report = office.clearing.ingest_file(raw, name, clearing_day)
                posted += report.posted + report.auto_released
            elapsed, cpu = time.perf_counter() - start, time.process_time() - start_cpu
            assert posted == count, f"posted {posted} of {count}: the synthetic records must all clear"
            assert office.ledger.balance("float") == -sum(
                int(v) for v in office.ledger.balances("payable:").values()
            ), "every purchase moved from the float to a payable"
            office.ledger.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            office.ledger.db.close()
            runs.append((elapsed, cpu, db_path.stat().st_size))
    elapsed, cpu, db_bytes = min(runs)
    click.echo(f"records={count} cards={cards} batches={len(files)} runs={repeat} best_seconds={elapsed:.2f}")
    click.echo(f"cpu_seconds={cpu:.2f} wall_seconds_all_runs={' '.join(f'{r[0]:.2f}' for r in runs)}")
    click.echo(f"wire_bytes_per_record={wire_bytes / count:.1f} (upload format, header shared by the batch)")
    click.echo(f"records_per_s={count / elapsed:.0f} bytes_per_record={db_bytes / count:.0f}")


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


@bench.command()
@click.option(
    "--count", default=2_000, show_default=True, type=click.IntRange(1, 1_000_000), help="APDUs each way."
)
@click.option(
    "--slot", default=0, show_default=True, type=click.IntRange(0, VPCD_SLOTS - 1), help="vpcd slot."
)
@click.option(
    "--purchases", default=200, show_default=True, type=click.IntRange(1, 100_000), help="Purchases each way."
)
def apdu(count: int, slot: int, purchases: int) -> None:
    """Per-APDU round trip through pcscd + vpcd against in process (needs a running pcscd),
    and whole purchases the same two ways: prints pcsc_us_per_apdu and inprocess_us_per_apdu."""
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
    pcsc_us, local_us = sum(pcsc_times) / count * 1e6, sum(local_times) / count * 1e6
    click.echo(f"apdus={count} command=GET BALANCE reader={reader}")
    click.echo(f"pcsc_p50_us={_us(pcsc_times, 0.5):.1f} pcsc_p99_us={_us(pcsc_times, 0.99):.1f}")
    click.echo(f"inprocess_p50_us={_us(local_times, 0.5):.2f} inprocess_p99_us={_us(local_times, 0.99):.2f}")
    click.echo(
        f"purchases={purchases} card_apdus_per_purchase={apdus_per_purchase:.1f} "
        f"pcsc_us_per_purchase={pcsc_purchase_s / purchases * 1e6:.0f} "
        f"inprocess_us_per_purchase={local_purchase_s / purchases * 1e6:.0f}"
    )
    click.echo(f"pcsc_us_per_apdu={pcsc_us:.1f} inprocess_us_per_apdu={local_us:.2f}")


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


@bench.command()
@click.option("--cardholders", default=2_010_000, show_default=True, help="Cardholders in the city.")
@click.option("--sample", default=0.01, show_default=True, help="Share of cardholders simulated.")
@click.option("--shards", default=1, show_default=True, help="Population shards (processes).")
@click.option("--seed", default=1, show_default=True)
@click.option(
    "--clearing",
    type=click.Choice(["inbox", "backoffice"]),
    default="inbox",
    show_default=True,
    help="inbox: the day only (the clearing house has its own bench); backoffice: issuance loads, "
    "then the night's clearing and settlement included in the wall time.",
)
def day(cardholders: int, sample: float, shards: int, seed: int, clearing: str) -> None:
    """One city day of the default scenario at a given size: prints tx_per_s, wall_s, bytes_per_citizen.

    tx counts card transactions run through the real protocol (taps and loads); bytes per
    citizen is the peak resident memory each shard's process added while running its shard,
    summed over the shards and divided by the simulated citizens. Processor seconds per shard are
    printed too: other processes on the machine stretch the wall time, not those."""
    from scenarios.schema import load
    from sim.run import run_day

    scenario = load().replace(
        cardholders=cardholders, sample=sample, shards=shards, seed=seed, clearing=clearing
    )
    # The run's memory is what each shard's process adds while it runs the shard (a shard's
    # process is this one, or one forked from it with the modules already loaded), not the
    # interpreter and libraries.
    start, start_cpu = time.perf_counter(), time.process_time()
    result = run_day(scenario)
    wall_s = time.perf_counter() - start
    added = sum(s.rss_added_bytes for s in result.shards)
    tx = result.taps()
    citizens = result.citizens
    build_s = sum(s.build_s for s in result.shards)
    day_s = sum(s.day_s for s in result.shards)
    cpu_s = [s.cpu_s for s in result.shards]
    held = sum(s.bytes_per_citizen * s.citizens for s in result.shards) / max(1, citizens)
    click.echo(
        f"cardholders={cardholders} sample={sample} citizens={citizens} shards={shards} clearing={clearing} "
        f"build_s={build_s:.1f} day_s={day_s:.1f} held_bytes_per_citizen={held:.0f}"
    )
    click.echo(
        f"tx={tx} cpu_s_by_shard={' '.join(f'{c:.1f}' for c in cpu_s)} cpu_s_total={sum(cpu_s):.1f} "
        f"main_cpu_s={time.process_time() - start_cpu:.1f} cpu_us_per_tx={sum(cpu_s) / max(1, tx) * 1e6:.0f} "
        f"added_rss_mb_by_shard={' '.join(f'{s.rss_added_bytes / 2**20:.0f}' for s in result.shards)}"
    )
    click.echo(
        f"tx_per_s={tx / wall_s:.0f} wall_s={wall_s:.1f} bytes_per_citizen={added / max(1, citizens):.0f}"
    )
