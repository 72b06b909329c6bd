"""Power cut at every APDU boundary, before and after the card's commit, in every flow.

After each tear the card is presented again and the citizen retries the same operation. Then:
no fen is created or lost (card balance = start + every journalled record), the operation is
recorded exactly once (nothing charged twice, no committed debit lost), the load host holds no
open authorisation and captured exactly the loads on the card.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest

from devices.card_os import CardOS, TearPhase
from devices.sim_channel import SimChannel
from model.backoffice.load_host import LoadHost
from model.card.files import CappRecord
from model.errors import CardRemovedError, TransactionTornError
from model.records.record import TransactionRecord
from model.security.crypto import Algorithm
from model.terminal.load import LoadTerminal
from model.terminal.purchase import PurchaseTerminal
from model.terminal.recovery import RecoveryOutcome
from tests.conftest import MOMENT

MakeCard = Callable[..., tuple[CardOS, SimChannel]]
START_FEN = 5_000


def fare(entry: CappRecord, exit_station: int, exit_time: datetime) -> int:
    return 300


class TearAt:
    """Cut the power at the `index`-th card APDU (0-based), at `phase`; once."""

    def __init__(self, index: int, phase: TearPhase) -> None:
        self.index, self.phase, self.seen, self.fired = index, phase, 0, False

    def __call__(self, raw: bytes, phase: TearPhase) -> bool:
        if phase is TearPhase.BEFORE_COMMIT:
            self.seen += 1
        if not self.fired and self.seen - 1 == self.index and phase is self.phase:
            self.fired = True
            return True
        return False


def _flows(
    purchase: PurchaseTerminal, load: LoadTerminal
) -> dict[str, Callable[[SimChannel, datetime], TransactionRecord]]:
    return {
        "load": lambda ch, t: load.load(ch, 1_000, t),
        "purchase": lambda ch, t: purchase.purchase(ch, 250, t),
        "metro-entry": lambda ch, t: purchase.composite_entry(ch, 3, t),
        "metro-exit": lambda ch, t: purchase.composite_exit(ch, 9, t, fare),
    }


def _count_apdus(
    flow: str, make_card: MakeCard, purchase: PurchaseTerminal, load: LoadTerminal, algorithm: Algorithm
) -> int:
    card, channel = make_card(asn_int=999, algorithm=algorithm)
    card.state.ep_balance_fen = START_FEN
    if flow == "metro-exit":
        purchase.composite_entry(channel, 3, MOMENT - timedelta(minutes=30))
    counter = TearAt(10_000, TearPhase.BEFORE_COMMIT)
    card.tear_hook = counter
    _flows(purchase, load)[flow](channel, MOMENT)
    return counter.seen


@pytest.mark.parametrize("algorithm", list(Algorithm))
@pytest.mark.parametrize("flow", ["load", "purchase", "metro-entry", "metro-exit"])
@pytest.mark.parametrize("phase", list(TearPhase))
def test_tear_at_every_apdu_boundary(
    make_card: MakeCard, psam: object, load_host: LoadHost, flow: str, phase: TearPhase, algorithm: Algorithm
) -> None:
    purchase = PurchaseTerminal(SimChannel(psam))  # type: ignore[arg-type]
    load = LoadTerminal(bytes.fromhex("000000000901"), load_host)
    apdus = _count_apdus(flow, make_card, purchase, load, algorithm)
    assert apdus >= 3  # at least SELECT, INITIALIZE and the committing command
    for index in range(apdus):
        card, channel = make_card(asn_int=index + 1, algorithm=algorithm)
        card.state.ep_balance_fen = START_FEN
        if flow == "metro-exit":
            purchase.composite_entry(channel, 3, MOMENT - timedelta(minutes=30))
        journal_before = len(purchase.journal) + len(load.journal)
        run = _flows(purchase, load)[flow]
        tear = TearAt(index, phase)
        card.tear_hook = tear
        with pytest.raises((CardRemovedError, TransactionTornError)):
            run(channel, MOMENT)
        assert tear.fired
        card.tear_hook = None
        channel.insert()
        record = run(channel, MOMENT + timedelta(seconds=5))

        records = [
            r
            for r in purchase.journal.records() + load.journal.records()
            if r.asn == card.state.asn and r.moment >= MOMENT
        ]
        assert records == [record], f"{flow} tear at APDU {index} {phase}: recorded {len(records)} times"
        assert len(purchase.journal) + len(load.journal) == journal_before + 1
        assert card.state.ep_balance_fen == START_FEN + record.signed_amount_fen
        assert record.balance_after_fen == card.state.ep_balance_fen
        assert record.algorithm is algorithm
        assert len(purchase.pending) == 0 and len(load.pending) == 0
    assert load_host.open_authorisations == 0
    assert load_host.confirmed_fen == sum(r.amount_fen for r in load.journal.records())


def test_torn_debit_resolved_from_the_log_after_the_card_went_elsewhere(
    make_card: MakeCard, psam: object, issuer_keys: object
) -> None:
    from devices.psam import Psam
    from model.security.keys import IssuerKeyStore, KeyUsage

    gate = PurchaseTerminal(SimChannel(psam))  # type: ignore[arg-type]
    store = IssuerKeyStore(issuer_keys, frozenset({KeyUsage.PURCHASE, KeyUsage.MAINTENANCE}))  # type: ignore[arg-type]
    shop = PurchaseTerminal(SimChannel(Psam(bytes.fromhex("000000000202"), store)))
    for phase, outcome in (
        (TearPhase.AFTER_COMMIT, RecoveryOutcome.COMMITTED_WITHOUT_PROOF),
        (TearPhase.BEFORE_COMMIT, RecoveryOutcome.NOT_COMMITTED),
    ):
        card, channel = make_card(asn_int=500 + int(phase is TearPhase.AFTER_COMMIT))
        card.state.ep_balance_fen = START_FEN
        card.tear_hook = lambda raw, ph, phase=phase: raw[1] == 0x54 and ph is phase  # type: ignore[misc]
        with pytest.raises(TransactionTornError):
            gate.purchase(channel, 400, MOMENT)
        card.tear_hook = None
        channel.insert()
        shop.purchase(channel, 100, MOMENT + timedelta(minutes=1))  # overwrites the proof slot
        recoveries = gate.recover(channel, MOMENT + timedelta(minutes=2))
        assert [r.outcome for r in recoveries] == [outcome]
        on_card = START_FEN - card.state.ep_balance_fen
        journalled = sum(
            r.amount_fen for r in gate.journal.records() + shop.journal.records() if r.asn == card.state.asn
        )
        assert on_card == journalled
        if outcome is RecoveryOutcome.COMMITTED_WITHOUT_PROOF:
            assert recoveries[0].record is not None and recoveries[0].record.tac == b""


def test_unresolvable_tear_is_kept_pending_not_guessed(make_card: MakeCard, psam: object) -> None:
    gate = PurchaseTerminal(SimChannel(psam))  # type: ignore[arg-type]
    other = PurchaseTerminal(SimChannel(psam))  # type: ignore[arg-type]
    card, channel = make_card(asn_int=4242)
    card.state.ep_balance_fen = START_FEN
    card.tear_hook = lambda raw, ph: raw[1] == 0x54 and ph is TearPhase.AFTER_COMMIT
    with pytest.raises(TransactionTornError):
        gate.purchase(channel, 100, MOMENT)
    card.tear_hook = None
    channel.insert()
    for n in range(11):  # push the torn transaction out of the 10-record log
        other.purchase(channel, 10, MOMENT + timedelta(minutes=n + 1))
    recoveries = gate.recover(channel, MOMENT + timedelta(hours=1))
    assert [r.outcome for r in recoveries] == [RecoveryOutcome.UNKNOWN]
    assert len(gate.pending) == 1  # kept for the back office to settle from the card's counters


@pytest.mark.parametrize("phase", list(TearPhase))
def test_torn_entry_over_an_open_trip_charges_the_unfinished_fare_once(
    make_card: MakeCard, psam: object, phase: TearPhase
) -> None:
    gate = PurchaseTerminal(SimChannel(psam))  # type: ignore[arg-type]
    card, channel = make_card(asn_int=31)
    card.state.ep_balance_fen = START_FEN
    gate.composite_entry(channel, 1, MOMENT - timedelta(hours=5))  # never exited
    card.tear_hook = lambda raw, ph: raw[1] == 0x54 and ph is phase
    with pytest.raises(TransactionTornError):
        gate.composite_entry(channel, 2, MOMENT, open_trip_fare_fen=700)
    card.tear_hook = None
    channel.insert()
    record = gate.composite_entry(channel, 2, MOMENT + timedelta(seconds=3), open_trip_fare_fen=700)
    assert record.amount_fen == 700
    assert card.state.ep_balance_fen == START_FEN - 700
    assert [r.amount_fen for r in gate.journal.records()] == [0, 700]


def test_sub_second_moments_recover_like_whole_seconds(make_card: MakeCard, psam: object) -> None:
    # Simulated clocks carry microseconds; the card keeps whole seconds. Recovery must still
    # recognise the torn transaction as its own.
    gate = PurchaseTerminal(SimChannel(psam))  # type: ignore[arg-type]
    shop = PurchaseTerminal(SimChannel(psam))  # type: ignore[arg-type]
    card, channel = make_card(asn_int=32)
    card.state.ep_balance_fen = START_FEN
    card.tear_hook = lambda raw, ph: raw[1] == 0x54 and ph is TearPhase.AFTER_COMMIT
    with pytest.raises(TransactionTornError):
        gate.purchase(channel, 123, MOMENT + timedelta(microseconds=654_321))
    card.tear_hook = None
    channel.insert()
    shop.purchase(channel, 10, MOMENT + timedelta(seconds=1))  # the proof slot is overwritten
    recoveries = gate.recover(channel, MOMENT + timedelta(seconds=2))
    assert [r.outcome for r in recoveries] == [RecoveryOutcome.COMMITTED_WITHOUT_PROOF]
    assert START_FEN - card.state.ep_balance_fen == 133
