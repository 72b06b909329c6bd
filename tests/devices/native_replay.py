"""Seeded random card sessions, every byte that crosses a card or PSAM field printed one line each.

Run as `python -m tests.devices.native_replay SEED STEPS`: the first line names the code that
ran (`model.native.status()`), the rest are the sessions. `tests/devices/test_native.py` runs
it on the sources and on the compiled modules and compares the lines.

A session: one card of a small city (3DES and SM4 cards of every type, some with an overdraft)
materialised from its image, then a purchase, a load, a metro entry or exit, an ED purchase with
a right or wrong PIN, or a burst of random and mutated APDUs to the card and to the PSAM; some
sessions lose power at a random command (before or after its commit) and are presented again.
The card's image is printed after every session.
"""

from __future__ import annotations

import random
import sys
from datetime import datetime, timedelta

from devices.card_os import CardOS, TearPhase
from devices.card_state import CardState
from devices.factory import CardFactory, CardProfile
from devices.psam import Psam
from devices.sim_channel import SimChannel
from model import native
from model.backoffice.load_host import LoadHost
from model.card import CardType, commands
from model.errors import CardTwinError
from model.records.batch import encode_record
from model.security import Algorithm
from model.security.keys import IssuerKeys, IssuerKeyStore, KeyUsage, generate_issuer_keys
from model.terminal.load import LoadTerminal
from model.terminal.purchase import PurchaseTerminal

ISSUER = bytes.fromhex("3301000000000001")
BUS = bytes.fromhex("330101000001")
KIOSK = bytes.fromhex("330105000001")
MOMENT = datetime(2026, 11, 23, 6, 0)
CARDS = 12
_INS = (0xA4, 0xB0, 0xB2, 0x20, 0x84, 0x5C, 0x50, 0x52, 0x54, 0xDC, 0x5A, 0x1E, 0x5E, 0xD4, 0xC0, 0x70, 0x72)


class _Recording:
    """A field that prints every command and answer crossing it (and a lost answer)."""

    def __init__(self, channel: SimChannel, name: str, out: list[str]) -> None:
        self.channel, self.name, self.out = channel, name, out

    def transmit(self, command: bytes) -> bytes:
        try:
            answer = self.channel.transmit(command)
        except CardTwinError as exc:
            self.out.append(f"{self.name} {command.hex()} -> {type(exc).__name__}")
            raise
        self.out.append(f"{self.name} {command.hex()} -> {answer.hex()}")
        return answer

    def insert(self) -> None:
        self.channel.insert()


class _TearAt:
    """Cuts the power at the `at`-th command the card processes, in `phase`."""

    def __init__(self, at: int, phase: TearPhase) -> None:
        self.at, self.phase, self.seen = at, phase, 0

    def __call__(self, raw: bytes, phase: TearPhase) -> bool:
        if phase is not self.phase:
            return False
        self.seen += 1
        return self.seen == self.at


def _random_command(rng: random.Random, sent: list[bytes]) -> bytes:
    kind = rng.random()
    if kind < 0.3 and sent:  # a real command of the run, one byte changed or cut
        raw = bytearray(rng.choice(sent))
        if rng.random() < 0.5 and raw:
            raw[rng.randrange(len(raw))] = rng.randrange(256)
        else:
            del raw[rng.randrange(len(raw) + 1) :]
        return bytes(raw)
    if kind < 0.8:  # a known instruction with random parameters, data and Le
        data = rng.randbytes(rng.choice((0, 2, 4, 6, 11, 15, 16, 36, rng.randrange(40))))
        le = rng.choice((None, 0, 4, 8, 15, rng.randrange(1, 256)))
        head = bytes((rng.choice((0x00, 0x80, 0x84, rng.randrange(256))), rng.choice(_INS)))
        raw = head + rng.randbytes(2) + (bytes((len(data),)) + data if data else b"")
        return raw + (bytes((le,)) if le is not None else b"")
    return rng.randbytes(rng.randrange(0, 24))


def _city(rng: random.Random) -> tuple[IssuerKeys, list[bytes]]:
    keys = generate_issuer_keys(7, ISSUER)
    factory = CardFactory(keys)
    images = []
    for n in range(CARDS):
        profile = CardProfile(
            asn=(0x3301_0000_0000_0100 + n).to_bytes(8, "big"),
            card_type=rng.choice(list(CardType)),
            algorithm=Algorithm.SM4 if n % 3 == 2 else Algorithm.DES3,
            overdraft_limit_fen=rng.choice((0, 0, 500)),
            max_balance_fen=rng.choice((100_000, 20_000)),
        )
        state = factory.personalise(profile)
        state.ep_balance_fen = rng.randrange(0, 6_000)
        images.append(state.to_image())
    return keys, images


def replay(seed: int, steps: int) -> list[str]:
    rng = random.Random(seed)
    keys, images = _city(rng)
    out: list[str] = [native.status().split(":")[0]]
    psam = _Recording(SimChannel(Psam(BUS, IssuerKeyStore(keys, frozenset(KeyUsage)))), "psam", out)
    bus = PurchaseTerminal(psam)
    kiosk = LoadTerminal(KIOSK, LoadHost(IssuerKeyStore(keys)))
    sent: list[bytes] = []
    for step in range(steps):
        row = rng.randrange(CARDS)
        tear = None
        if rng.random() < 0.15:
            tear = _TearAt(rng.randrange(1, 6), rng.choice(list(TearPhase)))
        card = CardOS(CardState.from_image(images[row]), tear_hook=tear)
        channel = _Recording(SimChannel(card), "card", out)
        moment = MOMENT + timedelta(seconds=step * 41 + rng.random())
        op = rng.choice(("purchase", "purchase", "load", "entry", "exit", "ed", "raw"))
        out.append(f"step {step} card {row} {op}")
        for _attempt in range(2):  # torn: the citizen presents the card again
            try:
                record = None
                if op == "purchase":
                    record = bus.purchase(channel, rng.randrange(1, 3_000), moment)
                elif op == "load":
                    record = kiosk.load(channel, rng.randrange(1, 5_000), moment)
                elif op == "entry":
                    record = bus.composite_entry(channel, rng.randrange(1, 40), moment, rng.choice((0, 300)))
                elif op == "exit":
                    fare = rng.randrange(0, 900)
                    record = bus.composite_exit(
                        channel, rng.randrange(1, 40), moment, lambda e, s, t, fare=fare: fare
                    )
                elif op == "ed":
                    pin = b"\x12\x34\x56" if rng.random() < 0.7 else b"\x99\x99"
                    record = bus.purchase(channel, rng.randrange(1, 500), moment, commands.PURSE_ED, pin)
                else:
                    for _ in range(rng.randrange(1, 8)):
                        target = psam if rng.random() < 0.2 else channel
                        command = _random_command(rng, sent)
                        target.transmit(command)
                out.append(f"record {encode_record(record).hex()}" if record is not None else "no record")
                break
            except CardTwinError as exc:
                out.append(f"error {type(exc).__name__}: {exc}")
                channel.insert()
        sent.extend(bytes.fromhex(line.split(" ")[1]) for line in out[-6:] if " -> " in line)
        del sent[:-64]
        if op == "raw":
            psam.transmit(commands.psam_select())  # a random command may have deselected it
        images[row] = card.state.to_image()
        out.append(f"image {row} {images[row].hex()}")
    return out


def main() -> None:
    seed, steps = int(sys.argv[1]), int(sys.argv[2])
    sys.stdout.write("\n".join(replay(seed, steps)) + "\n")


if __name__ == "__main__":
    main()
