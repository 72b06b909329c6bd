"""One citizen's morning, through the real card protocol (`cardtwin demo`).

Personalise a card from a (test) issuer key set, load it at a recharge kiosk, ride a bus,
enter and leave the metro, then read the card back: its balance and its log. Every step is
APDUs between terminal code, the simulated card and the PSAM, with the real crypto.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from devices.card_os import CardOS
from devices.factory import CardFactory, CardProfile
from devices.psam import Psam
from devices.sim_channel import SimChannel
from model.backoffice import LoadHost
from model.card import CardType, read_card
from model.money import format_fen
from model.records import TransactionRecord, TxType, verify_tac
from model.security import Algorithm, IssuerKeyStore, KeyUsage, generate_issuer_keys
from model.terminal import LoadTerminal, PurchaseTerminal
from sim.scripted.fares import BUS_FARE_FEN, metro_fare

DEMO_ISSUER_ID = bytes.fromhex("3301000000000001")  # Hangzhou (city code 3301), issuer 1

_TYPE_NAMES = {1: "ED load", 2: "EP load", 5: "ED purchase", 6: "EP purchase", 9: "composite"}


def _line(step: str, record: TransactionRecord) -> str:
    return (
        f"{step:<22} {_TYPE_NAMES[record.tx_type]:<12} {format_fen(record.amount_fen):>8}  "
        f"balance {format_fen(record.balance_before_fen)} -> {format_fen(record.balance_after_fen)}  "
        f"counter {record.counter}  TAC {record.tac.hex().upper()}"
    )


def run_morning(seed: int, algo: Algorithm, amount_fen: int) -> list[str]:
    """Personalise a card, load `amount_fen`, ride a bus and the metro; the lines to print."""
    issuer_keys = generate_issuer_keys(seed=seed, issuer_id=DEMO_ISSUER_ID)
    state = CardFactory(issuer_keys).personalise(
        CardProfile(asn=bytes.fromhex("3301202600000042"), card_type=CardType.ADULT, algorithm=algo)
    )
    card = CardOS(state, rng=random.Random(seed))
    channel = SimChannel(card)
    host_keys = IssuerKeyStore(issuer_keys)
    psam_keys = IssuerKeyStore(issuer_keys, frozenset({KeyUsage.PURCHASE, KeyUsage.MAINTENANCE}))
    kiosk = LoadTerminal(bytes.fromhex("330100000901"), LoadHost(host_keys))
    bus = PurchaseTerminal(SimChannel(Psam(bytes.fromhex("330100000201"), psam_keys)))
    gate_in = PurchaseTerminal(SimChannel(Psam(bytes.fromhex("330100000301"), psam_keys)))
    gate_out = PurchaseTerminal(SimChannel(Psam(bytes.fromhex("330100000302"), psam_keys)))

    t0 = datetime(2026, 11, 23, 7, 40, 0)
    lines = [f"card {state.asn.hex().upper()} ({algo.name}), issuer {DEMO_ISSUER_ID.hex().upper()}"]
    steps = [
        ("load at kiosk", kiosk.load(channel, amount_fen, t0)),
        (
            "bus line 155",
            bus.purchase(channel, BUS_FARE_FEN, t0 + timedelta(minutes=12)),
        ),
        ("metro in, station 3", gate_in.composite_entry(channel, 3, t0 + timedelta(minutes=31))),
        (
            "metro out, station 14",
            gate_out.composite_exit(channel, 14, t0 + timedelta(minutes=58), metro_fare),
        ),
    ]
    lines += [_line(step, record) for step, record in steps]
    verified = sum(verify_tac(record, host_keys) for _, record in steps)
    info = read_card(channel)
    spent = sum(r.amount_fen for _, r in steps if r.tx_type != TxType.EP_LOAD)
    assert info.balance_fen == amount_fen - spent, "money conservation on the demo card"
    lines += [
        f"TACs verified by the back office: {verified}/{len(steps)}",
        f"balance: {format_fen(info.balance_fen)} CNY",
        "log (newest first):",
    ]
    for entry in info.log:
        lines.append(
            f"  #{entry.counter:<3} {_TYPE_NAMES.get(entry.tx_type, hex(entry.tx_type)):<12} "
            f"{format_fen(entry.amount_fen):>8}  terminal {entry.terminal_id.hex().upper()}  "
            f"{entry.moment:%Y-%m-%d %H:%M:%S}"
        )
    return lines
