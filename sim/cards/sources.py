"""Card sources: one syntax for where a card (or a PSAM) comes from, used by every command.

- `sim`: a simulated chip in this process (`devices`), behind a `SimChannel`.
- `vpcd` or `vpcd:N`: a simulated chip served on vpcd reader slot N (default 0 for a card,
  1 for a PSAM) and reached through pcscd with pyscard: the whole real PC/SC stack, without
  hardware. pcscd must be running (`pcscd --foreground`).
- `pcsc:READER-NAME`: whatever is in that PC/SC reader (a real test card, a real PSAM in a SAM
  slot); the name may be any part of the reader's name that matches only one reader.

Card and PSAM sources are chosen independently. Simulated cards and PSAMs take their keys from
the key file (`--keys`, see `model.security.keys.load_issuer_keys`), or from a reproducible TEST key set
when there is none; a real card needs the key file of its issuer, for the load host and for
checking TACs.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from devices.card_os import CardOS, PowerLost, TearPhase
from devices.card_state import CardState
from devices.factory import CardFactory, CardProfile
from devices.psam import Psam
from devices.sim_channel import SimChannel
from hardware_bridge.hil import Matcher, ResponseLoss
from hardware_bridge.pcsc_channel import PcscChannel, PcscContext
from hardware_bridge.trace import ApduTrace, TracedChannel
from hardware_bridge.vpcd import VPCD_SLOTS, ServedChip, VpcdServer, build_atr
from hardware_bridge.vpcd import TearPhase as VpcdTearPhase
from model.card import CardChannel
from model.errors import CardTwinError
from model.security import IssuerKeys, IssuerKeyStore, KeyUsage, generate_issuer_keys, load_issuer_keys

TEST_ISSUER_ID = bytes.fromhex("3301000000000001")
SIM_CARD_ASN = bytes.fromhex("3301202600000042")
SIM_PSAM_TERMINAL_ID = bytes.fromhex("FFFF00000201")
VPCD_READER_PREFIX = "Virtual PCD 00"
PSAM_USAGES = frozenset({KeyUsage.PURCHASE, KeyUsage.MAINTENANCE})


class CardSourceError(CardTwinError):
    """A card source that cannot be parsed or opened."""


@dataclass(frozen=True, slots=True)
class CardSource:
    kind: str  # "sim" | "vpcd" | "pcsc"
    reader: str = ""  # pcsc: the reader name (or part of it)
    slot: int = 0  # vpcd: the reader slot

    def __str__(self) -> str:
        if self.kind == "pcsc":
            return f"pcsc:{self.reader}"
        return f"vpcd:{self.slot}" if self.kind == "vpcd" else "sim"


def parse_source(text: str, what: str = "card", default_slot: int = 0) -> CardSource:
    """Parse `sim`, `vpcd[:N]` or `pcsc:READER-NAME`."""
    text = text.strip()
    if text == "sim":
        return CardSource("sim")
    if text == "vpcd" or text.startswith("vpcd:"):
        number = text[5:] if text.startswith("vpcd:") else str(default_slot)
        if not number.isdigit() or not 0 <= int(number) < VPCD_SLOTS:
            raise CardSourceError(f"{what} source {text!r}: vpcd slot must be 0..{VPCD_SLOTS - 1}")
        return CardSource("vpcd", slot=int(number))
    if text.startswith("pcsc:"):
        reader = text[5:].strip()
        if not reader:
            raise CardSourceError(f"{what} source {text!r}: give a reader name after 'pcsc:'")
        return CardSource("pcsc", reader=reader)
    raise CardSourceError(f"{what} source {text!r}: expected sim, vpcd[:N] or pcsc:READER-NAME")


def issuer_keys(key_file: Path | None, seed: int = 1) -> IssuerKeys:
    """The issuer keys of the key file, or the reproducible TEST keys."""
    if key_file is not None:
        return load_issuer_keys(key_file)
    return generate_issuer_keys(seed=seed, issuer_id=TEST_ISSUER_ID)


def sim_card(keys: IssuerKeys, asn: bytes = SIM_CARD_ASN, seed: int = 1) -> CardOS:
    """A freshly personalised simulated card (3DES, zero balance)."""
    state: CardState = CardFactory(keys).personalise(CardProfile(asn=asn))
    return CardOS(state, rng=random.Random(seed))


def sim_psam(keys: IssuerKeys, terminal_id: bytes = SIM_PSAM_TERMINAL_ID) -> Psam:
    return Psam(terminal_id, IssuerKeyStore(keys, PSAM_USAGES))


class _CardOsLoss:
    """An in-process card loses power right after committing the armed command."""

    def __init__(self, card: CardOS, channel: SimChannel) -> None:
        self.card = card
        self.channel = channel

    def arm(self, matches: Matcher) -> None:
        def hook(raw: bytes, phase: TearPhase) -> bool:
            if phase is TearPhase.AFTER_COMMIT and matches(raw):
                self.card.tear_hook = None  # one-shot
                return True
            return False

        self.card.tear_hook = hook

    def restore(self) -> None:
        self.channel.insert()


class VpcdLoss:
    """A served card drops its vpcd connection right after committing the armed command:
    pcscd reports the card gone, exactly as when a card leaves the field mid-command."""

    def __init__(self, server: VpcdServer) -> None:
        self.server = server

    def arm(self, matches: Matcher) -> None:
        self.server.tear_next(matches, VpcdTearPhase.AFTER)

    def restore(self) -> None:
        self.server.insert()


@dataclass(slots=True)
class Opened:
    """An opened source: its channel, how to lose a response on it, the chip if simulated."""

    channel: CardChannel
    loss: ResponseLoss | None
    chip: ServedChip | None
    server: VpcdServer | None = None


SERVED_CARD_WAIT_S = 1.0  # > pcscd's 0.4 s poll: a card served a moment ago may not show yet


SERVED_CARD_HOLD_S = 0.6  # > pcscd's 0.4 s poll: a card removed a moment ago still shows


def _reader_holds_card(reader: str) -> bool:
    with PcscContext() as context:
        return (
            reader in context.readers()
            and context.card_state(reader, SERVED_CARD_WAIT_S)[0]
            and context.card_stays(reader, SERVED_CARD_HOLD_S)
        )


def vpcd_reader(slot: int) -> str:
    return f"{VPCD_READER_PREFIX} {slot:02d}"


def open_source(
    source: CardSource,
    make_chip: Callable[[], CardOS | Psam],
    stack: ExitStack,
    trace: ApduTrace | None = None,
    label: str = "card",
    card_wait_s: float = 3.0,
    reuse_served: bool = False,
) -> Opened:
    """Open `source`; everything opened is closed by `stack`.

    With `reuse_served`, a `vpcd:N` reader that already holds a card (one `cardtwin card serve`
    put there) is used as it is, through pcscd, instead of serving a second chip on the slot:
    vpcd takes one card per reader, and a second one would wait unseen behind the first."""
    if source.kind == "sim":
        chip = make_chip()
        sim = SimChannel(chip)
        channel: CardChannel = TracedChannel(sim, trace, label) if trace is not None else sim
        loss = _CardOsLoss(chip, sim) if isinstance(chip, CardOS) else None
        return Opened(channel, loss, chip)
    if source.kind == "vpcd" and reuse_served and _reader_holds_card(vpcd_reader(source.slot)):
        pcsc = PcscChannel(vpcd_reader(source.slot), card_wait_s=card_wait_s, trace=trace, label=label)
        stack.callback(pcsc.close)
        return Opened(pcsc, None, None)
    if source.kind == "vpcd":
        chip = make_chip()
        atr = build_atr(b"CardTwinSAM" if isinstance(chip, Psam) else b"CardTwinEP")
        server = VpcdServer(
            chip, source.slot, atr=atr, power_lost=(PowerLost,), name=f"{label} on vpcd slot {source.slot}"
        )
        server.start()
        stack.callback(server.stop)
        pcsc = PcscChannel(vpcd_reader(source.slot), card_wait_s=card_wait_s, trace=trace, label=label)
        stack.callback(pcsc.close)
        return Opened(pcsc, VpcdLoss(server), chip, server)
    pcsc = PcscChannel(source.reader, card_wait_s=card_wait_s, trace=trace, label=label)
    stack.callback(pcsc.close)
    return Opened(pcsc, None, None)
