"""`cardtwin demo`: one citizen's morning, through the real card protocol.

Personalise a card from a (test) issuer key set, load it at a recharge kiosk, ride a bus,
enter and leave the metro, then read the card back: its balance and its log. Every step is
APDUs between terminal code, the simulated card and the PSAM, with the real crypto.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import click

from devices.card_os import CardOS
from devices.factory import CardFactory, CardProfile
from devices.psam import Psam
from devices.sim_channel import SimChannel
from model.card_files import CappRecord, CardType
from model.card_io import read_card
from model.crypto import Algorithm
from model.keys import IssuerKeyStore, KeyUsage, generate_issuer_keys
from model.load_host import LoadHost
from model.load_terminal import LoadTerminal
from model.money import format_fen, parse_yuan
from model.purchase_terminal import PurchaseTerminal
from model.records import TransactionRecord, TxType, verify_tac

DEMO_ISSUER_ID = bytes.fromhex("3301000000000001")  # Hangzhou (city code 3301), issuer 1
METRO_FARE_BASE_FEN = 200  # demo fare: CNY 2 for the first 4 stations
METRO_FARE_STEP_FEN = 100  # then CNY 1 per 4 stations further
BUS_FARE_FEN = 200
EPURSE_BUS_DISCOUNT_PERCENT = 91  # Hangzhou: bus fares at 91% when paid with the e-purse

_TYPE_NAMES = {1: "ED load", 2: "EP load", 5: "ED purchase", 6: "EP purchase", 9: "composite"}


def demo_metro_fare(entry: CappRecord, exit_station: int, exit_time: datetime) -> int:
    """Distance fare by the number of stations travelled."""
    stations = abs(exit_station - entry.entry_station)
    return METRO_FARE_BASE_FEN + METRO_FARE_STEP_FEN * max(0, (stations - 1) // 4)


def _line(step: str, record: TransactionRecord) -> str:
    return (
        f"{step:<22} {_TYPE_NAMES[record.tx_type]:<12} {format_fen(record.amount_fen):>8}  "
        f"balance {format_fen(record.balance_before_fen)} -> {format_fen(record.balance_after_fen)}  "
        f"counter {record.counter}  TAC {record.tac.hex().upper()}"
    )


@click.command()
@click.option("--seed", default=1, show_default=True, help="Seed of the card's random source.")
@click.option(
    "--algorithm",
    type=click.Choice(["3des", "sm4"]),
    default="3des",
    show_default=True,
    help="Card algorithm family.",
)
@click.option("--load", "load_yuan", default="50.00", show_default=True, help="Amount to load, in yuan.")
def demo(seed: int, algorithm: str, load_yuan: str) -> None:
    """Personalise a card, load it, ride a bus and the metro, print its balance and log."""
    algo = Algorithm.SM4 if algorithm == "sm4" else Algorithm.DES3
    amount_fen = parse_yuan(load_yuan, "--load")
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
    click.echo(f"card {state.asn.hex().upper()} ({algo.name}), issuer {DEMO_ISSUER_ID.hex().upper()}")
    steps = [
        ("load at kiosk", kiosk.load(channel, amount_fen, t0)),
        (
            "bus line 155",
            bus.purchase(
                channel, BUS_FARE_FEN * EPURSE_BUS_DISCOUNT_PERCENT // 100, t0 + timedelta(minutes=12)
            ),
        ),
        ("metro in, station 3", gate_in.composite_entry(channel, 3, t0 + timedelta(minutes=31))),
        (
            "metro out, station 14",
            gate_out.composite_exit(channel, 14, t0 + timedelta(minutes=58), demo_metro_fare),
        ),
    ]
    for step, record in steps:
        click.echo(_line(step, record))
    verified = sum(verify_tac(record, host_keys) for _, record in steps)
    info = read_card(channel)
    spent = sum(r.amount_fen for _, r in steps if r.tx_type != TxType.EP_LOAD)
    assert info.balance_fen == amount_fen - spent, "money conservation on the demo card"
    click.echo(f"TACs verified by the back office: {verified}/{len(steps)}")
    click.echo(f"balance: {format_fen(info.balance_fen)} CNY")
    click.echo("log (newest first):")
    for entry in info.log:
        click.echo(
            f"  #{entry.counter:<3} {_TYPE_NAMES.get(entry.tx_type, hex(entry.tx_type)):<12} "
            f"{format_fen(entry.amount_fen):>8}  terminal {entry.terminal_id.hex().upper()}  "
            f"{entry.moment:%Y-%m-%d %H:%M:%S}"
        )
