"""One `cardtwin hil` run: the conformance cases (raw APDUs) and the HIL cases (terminal code),
or a hand-written script, against the card and PSAM sources given.

Order: the conformance cases first (they leave the card as they found it, but for money moved
by their flows), then the HIL cases, whose last one blocks the card. With both suites, the
conformance suite's own blocking case is left out: the HIL `blocked_card` case blocks the card
and checks SELECT answers 6A81.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from hardware_bridge.conformance import Case, run_cases
from hardware_bridge.conformance_cases import all_cases
from hardware_bridge.hil import CaseResult, HilTarget, run_suite
from hardware_bridge.pcsc_channel import PcscChannel
from hardware_bridge.trace import ApduTrace
from model.backoffice import LoadHost
from model.card import CardChannel
from model.security import IssuerKeys, IssuerKeyStore
from sim.cards.sources import CardSource, CardSourceError, open_source, sim_card, sim_psam

SUITES = ("all", "conformance", "hil")


@dataclass(frozen=True)
class HilPlan:
    card: CardSource
    sam: CardSource
    keys: IssuerKeys
    pin: bytes
    load_fen: int
    fare_fen: int
    suite: str = "all"
    cases: tuple[str, ...] = ()  # HIL cases only; () = all
    script: tuple[Case, ...] | None = None  # a hand-written script instead of the suites
    allow_block: bool = False

    def __post_init__(self) -> None:
        if self.suite not in SUITES:
            raise CardSourceError(f"--suite {self.suite!r}: one of {', '.join(SUITES)}")
        if self.card.kind == self.sam.kind == "vpcd" and self.card.slot == self.sam.slot:
            raise CardSourceError(f"card and PSAM both on vpcd slot {self.card.slot}: give the PSAM another")

    @property
    def runs_hil(self) -> bool:
        return self.script is None and self.suite in ("all", "hil")

    def conformance_cases(self) -> tuple[Case, ...]:
        if self.script is not None:
            return self.script
        if self.suite == "hil" or self.cases:
            return ()
        cases = all_cases()
        if self.suite == "all":
            return tuple(c for c in cases if not c.blocks_card)
        return cases


@contextmanager
def _raw(channel: CardChannel) -> Iterator[None]:
    """The conformance suite sees the card's 61xx / 6Cxx: no transport handling in between."""
    if not isinstance(channel, PcscChannel):
        yield
        return
    channel.transport = False
    try:
        yield
    finally:
        channel.transport = True


def run_hil(plan: HilPlan, trace_path: Path) -> list[CaseResult]:
    results: list[CaseResult] = []
    store = IssuerKeyStore(plan.keys)
    with ApduTrace.open(trace_path) as trace, ExitStack() as stack:
        card_io = open_source(plan.card, lambda: sim_card(plan.keys), stack, trace, "card")
        conformance = plan.conformance_cases()
        if conformance:
            with _raw(card_io.channel):
                results += run_cases(card_io.channel, conformance, store, plan.pin, plan.allow_block)
        if plan.runs_hil:
            psam_io = open_source(plan.sam, lambda: sim_psam(plan.keys), stack, trace, "psam")
            target = HilTarget(
                card=card_io.channel,
                psam=psam_io.channel,
                host=LoadHost(store),
                keys=store,
                loss=card_io.loss,
                allow_block=plan.allow_block,
                load_fen=plan.load_fen,
                fare_fen=plan.fare_fen,
            )
            results += run_suite(target, trace, plan.cases)
    return results
