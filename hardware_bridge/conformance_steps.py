"""The vocabulary of the conformance cases: the clauses they cite, step shorthands, and the
commands built with the spec's crypto from the card's earlier answers (MAC1/MAC2, maintenance
MACs), as a card-test tool computes them.

Clauses: "epurse-protocol.md <section>" is `shared/reference/epurse-protocol.md` (the public
write-up of JR/T 0025 part 2 and JT/T 978 the project follows), "ISO 7816-4 <clause>" the
standard's interindustry rules, "project decision (README: Cards in readers)" a DECIDE the
project made.
"""

from __future__ import annotations

from hardware_bridge.conformance import Build, Context, Step
from model.security import (
    Algorithm,
    KeyUsage,
    MacKey,
    load_mac2_data,
    load_session_seed,
    maintenance_mac,
    purchase_mac1_data,
    purchase_session_seed,
    session_key,
)
from model.timefmt import encode_datetime

AID = "A000000632010105"
SEL = bytes.fromhex("00A4040008" + AID + "00")
SEL_BY_FID = bytes.fromhex("00A40000021001")
SEL_MF = bytes.fromhex("00A40000023F00")
SEL_PSE = bytes.fromhex("00A404000E") + b"1PAY.SYS.DDF01" + b"\x00"
TID = "FFFF00000A01"  # a QA terminal ID
LOAD_FEN = 2_000
FARE_FEN = 150
FCI_MASK = "6F..8408" + AID + "*"
MF_MASK = "6F..840E" + b"1PAY.SYS.DDF01".hex() + "*"

SPEC = "epurse-protocol.md"
EP = f"{SPEC} Card commands"
EP_SW = f"{SPEC} Card commands (status words)"
EP_CRYPTO = f"{SPEC} Crypto (MAC inputs)"
ISO_CLA = "ISO 7816-4 5.4.1 (class byte)"
ISO_INS = "ISO 7816-4 5.4.2 (instruction byte)"
ISO_P = "ISO 7816-4 5.4.3 (parameter bytes)"
ISO_LEN = "ISO 7816-4 5.1 (command-response pairs: Lc, Le)"
ISO_TRANSPORT = "ISO 7816-4 5.3.4 (61xx, 6Cxx, GET RESPONSE)"
ISO_SELECT = "ISO 7816-4 7.1.1 (SELECT)"
DECIDE = "project decision (README: Cards in readers)"


def h(text: str) -> bytes:
    return bytes.fromhex(text.replace(" ", ""))


def s(command: str, sw: str, data: str | None = "", keep: str = "") -> Step:
    return Step(h(command), sw, data, keep)


def alg(ctx: Context) -> Algorithm:
    return Algorithm(ctx.values["info"][10])


def asn(ctx: Context) -> bytes:
    return ctx.values["public"][12:20]


def card_key(ctx: Context, usage: KeyUsage) -> bytes:
    return ctx.keys.card_key(usage, alg(ctx), ctx.values["info"][9], asn(ctx))


def dt(ctx: Context) -> bytes:
    return encode_datetime(ctx.moment)


def credit(ctx: Context, amount_fen: int, tx_type: int, forge: bool = False) -> bytes:
    init = ctx.values["init"]
    random4, counter = init[8:12], int.from_bytes(init[4:6], "big")
    sk = MacKey(
        alg(ctx), session_key(alg(ctx), card_key(ctx, KeyUsage.LOAD), load_session_seed(random4, counter))
    )
    mac2 = sk.mac(load_mac2_data(amount_fen, tx_type, h(TID), dt(ctx)))
    if forge:
        mac2 = bytes((mac2[0] ^ 0x01,)) + mac2[1:]
    return h("805200000B") + dt(ctx) + mac2 + b"\x08"


def debit(ctx: Context, amount_fen: int, tx_type: int, serial: int, forge: bool = False) -> bytes:
    init = ctx.values["init"]
    random4, counter = init[11:15], int.from_bytes(init[4:6], "big")
    seed = purchase_session_seed(random4, counter, serial)
    sk = MacKey(alg(ctx), session_key(alg(ctx), card_key(ctx, KeyUsage.PURCHASE), seed))
    mac1 = sk.mac(purchase_mac1_data(amount_fen, tx_type, h(TID), dt(ctx)))
    if forge:
        mac1 = bytes((mac1[0] ^ 0x01,)) + mac1[1:]
    return h("805401000F") + serial.to_bytes(4, "big") + dt(ctx) + mac1 + b"\x08"


def init(p1: int, purse: int, amount_fen: int) -> bytes:
    return h(f"8050{p1:02X}{purse:02X}0B01") + amount_fen.to_bytes(4, "big") + h(TID) + b"\x10"


def maintained(header: str, body: Build) -> Build:
    """A maintenance command: header + body + the MAC under DAMK with the last challenge."""

    def build(ctx: Context) -> bytes:
        data = body(ctx)
        head = h(header) + bytes((len(data) + 4,))
        challenge = ctx.values["challenge"]
        mac4 = maintenance_mac(alg(ctx), card_key(ctx, KeyUsage.MAINTENANCE), challenge, head + data)
        return head + data + mac4

    return build


OPEN = (
    s("00A4040008" + AID + "00", "9000", FCI_MASK),
    s("00B0950000", "9000", "*", keep="public"),
    Step(init(0x01, 0x02, 0), "9000", ".." * 15, keep="info"),  # amount 0: key index, algorithm
)
SELECT_STEPS = (s("00A4040008" + AID + "00", "9000", FCI_MASK),)
PIN_STEPS = (Step(lambda ctx: h("0020000003") + ctx.pin, "9000"),)
