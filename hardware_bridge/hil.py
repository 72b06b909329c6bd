"""The conformance / hardware-in-the-loop suite: the real terminal and back-office code against
any card and PSAM, however they are reached (in process, through pcscd + vpcd, a real reader).

The suite only sees `CardChannel`s, a load host and a key store, given by its caller; it runs
the protocol cases in order (they share the card: the load funds the purchases) and gives one
`CaseResult` each. `junit.write_junit` turns the results into a JUnit XML report.

Losing a response: the proof cases need the card to commit a command whose answer never
reaches the terminal. How depends on the source, so the caller passes a `ResponseLoss`:
a served card drops its vpcd connection right after committing (pcscd then reports the card
gone), an in-process card loses power through its tear hook. For a real card nobody can pull
on cue, `LosingChannel` throws the answer away between the reader and the terminal, which is
what a broken RF link does on the way back. Every way, the terminal must then recover the
transaction with GET TRANSACTION PROOF when the card comes back, charging it exactly once.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import Enum
from typing import Protocol, TypeVar

from hardware_bridge.trace import ApduTrace
from model.backoffice import LoadHost
from model.card import (
    CAPP_ID_METRO,
    SW,
    CappRecord,
    CardChannel,
    PublicInfo,
    commands,
    exchange,
    get_balance,
    parse_response,
    read_capp,
    read_public,
    select_epurse,
)
from model.errors import (
    CardBlockedError,
    CardRemovedError,
    CardTwinError,
    HotlistedCardError,
    InsufficientBalanceError,
    TransactionTornError,
)
from model.records import TransactionRecord, TxType, verify_tac
from model.security import KeyStore
from model.terminal import LoadTerminal, PurchaseTerminal, RecoveryOutcome
from model.timefmt import encode_datetime

R = TypeVar("R")  # the state a suite's cases share

LOAD_FEN_DEFAULT = 1_000
FARE_FEN_DEFAULT = 150
LOAD_TERMINAL_ID = bytes.fromhex("FFFF00000901")  # a QA terminal id, never a deployed one
METRO_ENTRY_STATION, METRO_EXIT_STATION = 3, 14

Matcher = Callable[[bytes], bool]


def is_debit(command: bytes) -> bool:
    return command[:2] == b"\x80\x54"


def is_credit(command: bytes) -> bool:
    return command[:2] == b"\x80\x52"


class ResponseLoss(Protocol):
    """A way to lose the response of one command after the card processed it."""

    def arm(self, matches: Matcher) -> None:
        """The next command `matches` accepts is processed by the card; its answer is lost."""

    def restore(self) -> None:
        """Present the card again after the loss."""


class LosingChannel:
    """A channel that throws away the answer of one armed command (a broken link back)."""

    def __init__(self, inner: CardChannel) -> None:
        self.inner = inner
        self._armed: Matcher | None = None
        self.lost = 0

    def transmit(self, command: bytes) -> bytes:
        armed = self._armed
        response = self.inner.transmit(command)
        if armed is not None and armed(command):
            self._armed = None
            self.lost += 1
            raise CardRemovedError("HIL: the answer was lost on its way back (response dropped on purpose)")
        return response

    def arm(self, matches: Matcher) -> None:
        self._armed = matches

    def restore(self) -> None:
        assert self._armed is None, "restore before the armed command ran"


def lossy_card(card: CardChannel, loss: ResponseLoss | None) -> tuple[CardChannel, ResponseLoss]:
    """The channel a suite talks through and the cue that drops an answer on it.

    A target that brings no loss of its own (a PC/SC reader, the in-process card) is wrapped in a
    `LosingChannel`, so the recovery cases run the same on every plugin.
    """
    if loss is not None:
        return card, loss
    losing = LosingChannel(card)
    return losing, losing


class HilCheckError(CardTwinError):
    """A HIL case found the card (or the code) not doing what the protocol says."""


def check(condition: bool, what: str) -> None:
    if not condition:
        raise HilCheckError(what)


@dataclass(slots=True)
class HilTarget:
    """What the suite runs against, all given by the caller."""

    card: CardChannel
    psam: CardChannel
    host: LoadHost
    keys: KeyStore  # verifies TACs (the clearing house's view)
    loss: ResponseLoss | None = None  # None: the suite wraps the card in a LosingChannel
    allow_block: bool = False  # blocking is for good: a real test card is lost to it
    moment: datetime = field(default_factory=lambda: datetime.now().replace(microsecond=0))
    load_fen: int = LOAD_FEN_DEFAULT
    fare_fen: int = FARE_FEN_DEFAULT


class Outcome(Enum):
    PASSED = "passed"
    FAILED = "failed"  # a check did not hold, or the card answered the wrong status
    ERROR = "error"  # the case could not run (card gone, reader error)
    SKIPPED = "skipped"


@dataclass(frozen=True, slots=True)
class CaseResult:
    name: str
    outcome: Outcome
    seconds: float
    message: str = ""
    clause: str = ""  # what the case checks: a spec clause, or "project decision"
    trace: tuple[str, ...] = ()  # the case's APDUs, for the report's system-out
    started: datetime | None = None  # when the case began (local time, with its zone)
    error_type: str = ""  # the exception class behind a failure or an error
    suite: str = "hil"  # hil (terminal code against the card) or conformance (raw APDUs)


class _Run:
    """The state the cases share: terminals, the card's identity, the clock."""

    def __init__(self, target: HilTarget, trace: ApduTrace | None) -> None:
        self.target = target
        self.trace = trace
        self.card, self.loss = lossy_card(target.card, target.loss)
        self.loader = LoadTerminal(LOAD_TERMINAL_ID, target.host)
        self.pos = PurchaseTerminal(target.psam)
        self.gate = PurchaseTerminal(target.psam)
        self.steps = 0
        self.public: PublicInfo | None = None

    def now(self) -> datetime:
        # Every transaction gets its own minute, so records and log entries are distinct.
        self.steps += 1
        return self.target.moment + timedelta(minutes=self.steps)

    def balance(self) -> int:
        select_epurse(self.card)
        return get_balance(self.card)

    def verified(self, record: TransactionRecord, what: str) -> None:
        check(verify_tac(record, self.target.keys), f"{what}: the TAC does not verify with the issuer keys")


# -- the cases --------------------------------------------------------------------------------


def case_select(run: _Run) -> str:
    select_epurse(run.card)
    public = read_public(run.card)
    check(len(public.asn) == 8, "public file: ASN is not 8 bytes")
    run.public = public
    return f"card {public.asn.hex().upper()} issuer {public.issuer_id.hex().upper()}"


def case_balance(run: _Run) -> str:
    first, second = run.balance(), run.balance()
    check(first == second, f"GET BALANCE changed between two reads: {first} then {second}")
    return f"balance {first} fen"


def case_load(run: _Run) -> str:
    before = run.balance()
    confirmed = run.target.host.confirmed_count
    record = run.loader.load(run.card, run.target.load_fen, run.now())
    after = run.balance()
    check(
        after == before + run.target.load_fen,
        f"balance {before} -> {after} after loading {run.target.load_fen}",
    )
    check(record.balance_after_fen == after, "the load record's balance differs from the card's")
    check(run.target.host.confirmed_count == confirmed + 1, "the load host did not capture the funding")
    run.verified(record, "load")
    return f"loaded {run.target.load_fen} fen, counter {record.counter}"


def case_purchase(run: _Run) -> str:
    before = run.balance()
    record = run.pos.purchase(run.card, run.target.fare_fen, run.now())
    after = run.balance()
    check(
        after == before - run.target.fare_fen,
        f"balance {before} -> {after} after a {run.target.fare_fen} fare",
    )
    run.verified(record, "purchase")
    check(run.pos.authentication_failures == 0, "the PSAM rejected the card's MAC2")
    return f"charged {run.target.fare_fen} fen, counter {record.counter}"


def _fare(entry: CappRecord, exit_station: int, exit_time: datetime) -> int:
    return 200 + 100 * max(0, (abs(exit_station - entry.entry_station) - 1) // 4)


def case_composite(run: _Run) -> str:
    before = run.balance()
    entry = run.gate.composite_entry(run.card, METRO_ENTRY_STATION, run.now())
    trip = read_capp(run.card, CAPP_ID_METRO)
    check(trip is not None and trip.trip_open, "after entry the CAPP record holds no open trip")
    exit_record = run.gate.composite_exit(run.card, METRO_EXIT_STATION, run.now(), _fare)
    closed = read_capp(run.card, CAPP_ID_METRO)
    check(closed is not None and not closed.trip_open, "after exit the trip is still open")
    after = run.balance()
    charged = entry.amount_fen + exit_record.amount_fen
    check(after == before - charged, f"balance {before} -> {after}, records charged {charged}")
    run.verified(entry, "composite entry")
    run.verified(exit_record, "composite exit")
    return f"entry {METRO_ENTRY_STATION} exit {METRO_EXIT_STATION}: {exit_record.amount_fen} fen"


def case_purchase_proof(run: _Run) -> str:
    before = run.balance()
    moment = run.now()
    run.loss.arm(is_debit)
    try:
        run.pos.purchase(run.card, run.target.fare_fen, moment)
    except TransactionTornError:
        pass
    else:
        raise HilCheckError("the DEBIT answer was to be lost, yet the purchase completed")
    check(len(run.pos.pending) == 1, "the terminal did not keep the torn purchase pending")
    run.loss.restore()
    journal = len(run.pos.journal)
    record = run.pos.purchase(run.card, run.target.fare_fen, moment)
    after = run.balance()
    check(run.pos.recoveries[RecoveryOutcome.COMMITTED] >= 1, "no recovery by GET TRANSACTION PROOF")
    check(len(run.pos.pending) == 0, "the torn purchase is still pending")
    check(len(run.pos.journal) == journal + 1, "the recovered purchase is not exactly once in the journal")
    check(after == before - run.target.fare_fen, f"balance {before} -> {after}: charged other than once")
    run.verified(record, "recovered purchase")
    return f"DEBIT answer lost, recovered counter {record.counter} with TAC {record.tac.hex().upper()}"


def case_load_proof(run: _Run) -> str:
    before = run.balance()
    host = run.target.host
    moment = run.now()
    run.loss.arm(is_credit)
    try:
        run.loader.load(run.card, run.target.load_fen, moment)
    except TransactionTornError:
        pass
    else:
        raise HilCheckError("the CREDIT answer was to be lost, yet the load completed")
    check(host.open_authorisations == 1, "the torn load's authorisation is not held open")
    run.loss.restore()
    record = run.loader.load(run.card, run.target.load_fen, moment)
    after = run.balance()
    check(host.open_authorisations == 0, "the torn load's authorisation was neither confirmed nor cancelled")
    check(after == before + run.target.load_fen, f"balance {before} -> {after}: credited other than once")
    run.verified(record, "recovered load")
    return f"CREDIT answer lost, recovered counter {record.counter}, funding captured once"


def case_wrong_mac(run: _Run) -> str:
    assert run.public is not None, "select runs first"
    before = run.balance()
    init = exchange(
        run.card,
        commands.initialize_for_purchase(
            commands.PURSE_EP, run.pos.key_index, run.target.fare_fen, run.pos.terminal_id
        ),
        "INITIALIZE FOR PURCHASE",
        15,
    )
    date_time = encode_datetime(run.now())
    sam = exchange(
        run.target.psam,
        commands.init_sam_for_purchase(
            init[11:15],
            int.from_bytes(init[4:6], "big"),
            run.target.fare_fen,
            TxType.EP_PURCHASE,
            date_time,
            init[9],
            init[10],
            run.public.asn,
            run.public.issuer_id,
        ),
        "INIT SAM FOR PURCHASE",
        8,
    )
    forged = bytes((sam[4] ^ 0x01,)) + sam[5:8]
    _, sw = parse_response(
        run.card.transmit(commands.debit_for_purchase(int.from_bytes(sam[0:4], "big"), date_time, forged))
    )
    check(sw == SW.MAC_INVALID, f"DEBIT with a forged MAC1: card answered {sw:04X}, expected 9302")
    after = run.balance()
    check(after == before, f"a DEBIT with a forged MAC1 changed the balance {before} -> {after}")
    return "forged MAC1 refused with 9302, balance unchanged"


def case_insufficient_balance(run: _Run) -> str:
    before = run.balance()
    # INITIALIZE with amount 0 tells the overdraft limit without starting anything.
    init = exchange(
        run.card,
        commands.initialize_for_purchase(commands.PURSE_EP, run.pos.key_index, 0, run.pos.terminal_id),
        "INITIALIZE FOR PURCHASE",
        15,
    )
    overdraft = int.from_bytes(init[6:9], "big")
    amount = before + overdraft + 1
    try:
        run.pos.purchase(run.card, amount, run.now())
    except InsufficientBalanceError:
        pass
    else:
        raise HilCheckError(
            f"a purchase of {amount} fen over balance {before} + overdraft {overdraft} passed"
        )
    after = run.balance()
    check(after == before, f"a refused purchase changed the balance {before} -> {after}")
    return f"{amount} fen refused with 9401 (balance {before}, overdraft {overdraft})"


def case_blocked_card(run: _Run) -> str | None:
    if not run.target.allow_block:
        return None
    assert run.public is not None, "select runs first"
    hotlisting = PurchaseTerminal(run.target.psam, hotlist=frozenset({run.public.asn}))
    try:
        hotlisting.purchase(run.card, run.target.fare_fen, run.now())
    except HotlistedCardError:
        pass
    else:
        raise HilCheckError("a hotlisted card was charged instead of blocked")
    try:
        select_epurse(run.card)
    except CardBlockedError:
        pass
    else:
        raise HilCheckError("SELECT of a blocked application did not answer 6A81")
    try:
        run.pos.purchase(run.card, run.target.fare_fen, run.now())
    except CardBlockedError:
        return "hotlisted card blocked by APPLICATION BLOCK; SELECT answers 6A81; purchase refused"
    raise HilCheckError("a blocked card was charged")


Case = Callable[[_Run], "str | None"]
CASES: tuple[tuple[str, Case], ...] = (
    ("select", case_select),
    ("balance", case_balance),
    ("load", case_load),
    ("purchase", case_purchase),
    ("composite_entry_exit", case_composite),
    ("purchase_proof_after_lost_response", case_purchase_proof),
    ("load_proof_after_lost_response", case_load_proof),
    ("wrong_mac", case_wrong_mac),
    ("insufficient_balance", case_insufficient_balance),
    ("blocked_card", case_blocked_card),  # last: it ends the card's life
)
CASE_NAMES = tuple(name for name, _ in CASES)
_EP = "shared/reference/epurse-protocol.md"
CLAUSES = {
    "select": f"{_EP} Card commands: SELECT, READ BINARY (file 0x15)",
    "balance": f"{_EP} Card commands: GET BALANCE",
    "load": f"{_EP} Card commands: INITIALIZE / CREDIT FOR LOAD; Crypto: load MAC1, MAC2, TAC",
    "purchase": f"{_EP} Card commands: INITIALIZE / DEBIT FOR PURCHASE; PSAM; purchase TAC",
    "composite_entry_exit": f"{_EP} Card commands: INITIALIZE FOR CAPP PURCHASE, UPDATE CAPP DATA CACHE",
    "purchase_proof_after_lost_response": f"{_EP} Recovering a torn transaction",
    "load_proof_after_lost_response": f"{_EP} Recovering a torn transaction",
    "wrong_mac": f"{_EP} Card commands: status words (9302 MAC invalid)",
    "insufficient_balance": f"{_EP} Card commands: status words (9401 insufficient balance)",
    "blocked_card": f"{_EP} Card commands: APPLICATION BLOCK; a blocked application answers SELECT 6A81",
}
assert set(CLAUSES) == set(CASE_NAMES), "every HIL case names its clause"


def run_suite(
    target: HilTarget, trace: ApduTrace | None = None, only: tuple[str, ...] = ()
) -> list[CaseResult]:
    """Run the cases in order (all, or those named in `only`); never raises for a card's
    misbehaviour: each case's outcome is in its result."""
    unknown = sorted(set(only) - set(CASE_NAMES))
    if unknown:
        raise CardTwinError(f"HIL: unknown case(s) {', '.join(unknown)}; known: {', '.join(CASE_NAMES)}")
    run = _Run(target, trace)
    # select identifies the card for every other case, so it runs whatever `only` names.
    kept = [(name, case) for name, case in CASES if not only or name in only or name == "select"]
    return run_cases(kept, run, CLAUSES, trace, "blocking a card is permanent: pass --allow-block")


def run_cases(
    cases: Sequence[tuple[str, Callable[[R], str | None]]],
    run: R,
    clauses: Mapping[str, str],
    trace: ApduTrace | None,
    skipped_why: str,
    suite: str = "hil",
) -> list[CaseResult]:
    """Run `cases` in order on the shared `run` state, each case's APDUs captured from `trace`
    into its result (a case returning None was skipped, for `skipped_why`)."""
    results = []
    for name, case in cases:
        if trace is not None:
            trace.event("hil", f"case {name}")
            trace.capture()
        result = _run_case(run, name, case, clauses.get(name, ""), skipped_why, suite)
        if trace is not None:
            trace.event("hil", f"case {name}: {result.outcome.value} {result.message}")
            result = replace(result, trace=trace.captured())
        results.append(result)
    return results


def _run_case(
    run: R, name: str, case: Callable[[R], str | None], clause: str, skipped_why: str, suite: str
) -> CaseResult:
    started = datetime.now().astimezone()
    start = time.perf_counter()

    def result(outcome: Outcome, message: str, error_type: str = "") -> CaseResult:
        seconds = time.perf_counter() - start if outcome is not Outcome.SKIPPED else 0.0
        return CaseResult(name, outcome, seconds, message, clause, (), started, error_type, suite)

    try:
        detail = case(run)
    except HilCheckError as exc:
        return result(Outcome.FAILED, str(exc), "HilCheckError")
    except CardRemovedError as exc:
        return result(Outcome.ERROR, f"card gone: {exc}", type(exc).__name__)
    except CardTwinError as exc:
        return result(Outcome.FAILED, f"{type(exc).__name__}: {exc}", type(exc).__name__)
    if detail is None:
        return result(Outcome.SKIPPED, skipped_why)
    return result(Outcome.PASSED, detail)
