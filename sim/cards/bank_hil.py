"""One `cardtwin hil --suite bank` run: the financial-card cases against a PBOC bank card.

Sources as every command takes them (`sim.cards.sources`): `sim` is a simulated dual-interface
card in this process; `vpcd[:N]` serves it on vpcd, its contact interface on slot N and its
contactless interface on the other slot (one card state behind both: one ATC, one EC balance),
both reached through pcscd; `pcsc:READER` is whatever card is in that reader, its contactless
interface only when `--tap pcsc:READER` names one. The simulated card is personalised from the
TEST bank keys with offline data authentication by the project's test CA, whose public key the
terminals hold.
"""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from devices.bankcard_oda import personalise_oda
from devices.bankcard_os import AIP, BankCardOS
from devices.bankcard_state import personalise
from devices.card_os import PowerLost, TearPhase
from devices.sim_channel import SimChannel
from hardware_bridge.bank_cases import run_bank_suite
from hardware_bridge.bank_target import BankHilTarget
from hardware_bridge.bankcard_serve import bank_card_server
from hardware_bridge.hil import CaseResult, Matcher, ResponseLoss
from hardware_bridge.pcsc_channel import PcscChannel
from hardware_bridge.trace import ApduTrace, TracedChannel
from model.bankcard import IssuerMasterKeys, IssuerPki, PublicKey, TestCa, icc_key_pool
from model.card import CardChannel
from model.money import format_fen
from sim.cards.sources import CardSource, CardSourceError, VpcdLoss, vpcd_reader

BANK_TEST_PAN = "6222020000000000018"  # as `card serve --bank`: a TEST card of the TEST keys
BANK_TEST_PIN = "123456"
BANK_TEST_MOMENT = datetime(2026, 11, 23, 9, 0)  # a fixed clock: same run, same APDUs
EC_BALANCE_FEN_START = 5_000
EC_SINGLE_LIMIT_FEN = 50_000  # what `personalise` writes: the card takes no EC amount above it


def bank_test_keys(seed: int = 1, name: str = "ICBC") -> IssuerMasterKeys:
    return IssuerMasterKeys.generate(seed, name)


def qa_ca() -> TestCa:
    return TestCa()


def ca_public_keys(ca: TestCa) -> dict[int, PublicKey]:
    return {ca.index: ca.keys.public}


def bank_card_pair(
    keys: IssuerMasterKeys, pan: str = BANK_TEST_PAN, pin: str = BANK_TEST_PIN, pki_slot: int = 0
) -> tuple[BankCardOS, BankCardOS]:
    """A dual-interface card: its contact and contactless chips over one state, with ODA."""
    state = personalise(keys, pan, 1, pin, ec_balance_fen=EC_BALANCE_FEN_START)
    issuer = IssuerPki(pan[:6], slot=pki_slot)
    qa_ca().certify_issuer(issuer)
    oda = personalise_oda(state, issuer, icc_key_pool(0), AIP)
    return BankCardOS(state, oda=oda), BankCardOS(state, contactless=True, oda=oda)


@dataclass(frozen=True)
class BankPlan:
    card: CardSource
    tap: CardSource | None  # pcsc only: where the card's contactless interface is
    pin: str
    load_fen: int
    purchase_fen: int
    cases: tuple[str, ...] = ()
    moment: datetime = BANK_TEST_MOMENT

    def __post_init__(self) -> None:
        for flag, fen in (("--load", self.load_fen), ("--fare", self.purchase_fen)):
            if not 0 < fen <= EC_SINGLE_LIMIT_FEN:
                most = format_fen(EC_SINGLE_LIMIT_FEN)
                raise CardSourceError(f"{flag} {format_fen(fen)}: outside 0.01..{most} (an EC amount)")


class _BankCardLoss:
    """An in-process bank card loses power right after committing the armed command."""

    def __init__(self, chip: BankCardOS, channel: SimChannel) -> None:
        self.chip, self.channel = chip, channel

    def arm(self, matches: Matcher) -> None:
        def hook(raw: bytes, phase: TearPhase) -> bool:
            if phase is TearPhase.AFTER_COMMIT and matches(raw):
                self.chip.tear_hook = None  # one-shot
                return True
            return False

        self.chip.tear_hook = hook

    def restore(self) -> None:
        self.channel.insert()


def open_bank_card(
    plan: BankPlan, stack: ExitStack, trace: ApduTrace | None, pair: tuple[BankCardOS, BankCardOS]
) -> tuple[CardChannel, CardChannel | None, ResponseLoss | None]:
    """(contact, contactless, loss) of `plan`: the simulated `pair` in process or on vpcd, or
    a PC/SC card (no loss: the suite loses answers on the link)."""
    contact, contactless = pair

    def traced(channel: SimChannel, label: str) -> CardChannel:
        return TracedChannel(channel, trace, label) if trace is not None else channel

    def pcsc(reader: str, label: str) -> PcscChannel:
        channel = PcscChannel(reader, trace=trace, label=label)
        stack.callback(channel.close)
        return channel

    if plan.card.kind == "sim":
        sim = SimChannel(contact)
        return traced(sim, "card"), traced(SimChannel(contactless), "tap"), _BankCardLoss(contact, sim)
    if plan.card.kind == "vpcd":
        slots = (plan.card.slot, 1 - plan.card.slot)
        servers = []
        for chip, slot, label in ((contact, slots[0], "card"), (contactless, slots[1], "tap")):
            server = bank_card_server(chip, slot, (PowerLost,), f"PBOC {label} on vpcd slot {slot}")
            server.start()
            stack.callback(server.stop)
            servers.append(server)
        card, tap = pcsc(vpcd_reader(slots[0]), "card"), pcsc(vpcd_reader(slots[1]), "tap")
        return card, tap, VpcdLoss(servers[0])
    card = pcsc(plan.card.reader, "card")
    if plan.tap is None:
        return card, None, None
    if plan.tap.kind != "pcsc":
        raise CardSourceError(f"--tap {plan.tap}: the contactless reader of a pcsc card is pcsc:READER")
    return card, pcsc(plan.tap.reader, "tap"), None


def run_bank_hil(
    plan: BankPlan, trace_path: Path, keys: IssuerMasterKeys | None = None,
    pair: tuple[BankCardOS, BankCardOS] | None = None,
) -> list[CaseResult]:  # fmt: skip
    """Run the bank suite; `keys` the issuer's (default the TEST keys), `pair` the simulated
    card (default a TEST card of the TEST keys)."""
    with ApduTrace.open(trace_path) as trace, ExitStack() as stack:
        card, tap, loss = open_bank_card(
            plan, stack, trace, pair or bank_card_pair(bank_test_keys(), pin=plan.pin)
        )
        target = BankHilTarget(
            card, keys or bank_test_keys(), plan.pin, tap, ca_public_keys(qa_ca()), loss, plan.moment,
            load_fen=plan.load_fen, purchase_fen=plan.purchase_fen,
        )  # fmt: skip
        return run_bank_suite(target, trace, plan.cases)
