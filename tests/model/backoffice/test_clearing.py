"""The clearing house on records made by real card transactions: posting, idempotence, faults."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from devices.card_os import CardOS, TearPhase
from devices.psam import Psam
from devices.sim_channel import SimChannel
from model.backoffice import reconcile
from model.backoffice.clearing import ClearingError
from model.backoffice.registry import TerminalEntry
from model.backoffice.tac_verifier import TacVerifier
from model.backoffice.terms import Reason
from model.errors import TransactionTornError
from model.records.batch import HEADER_SIZE, RECORD_SIZE, encode_record, parse_batch
from model.records.record import TransactionRecord, verify_tac
from model.security.crypto import Algorithm
from model.security.keys import IssuerKeys, IssuerKeyStore, KeyUsage
from model.terminal.load import LoadTerminal
from model.terminal.purchase import PurchaseTerminal
from tests.backoffice_kit import CLEARING_DAY, batch, office
from tests.conftest import MOMENT

Maker = Callable[..., tuple[CardOS, SimChannel]]


def _ride(
    terminal: PurchaseTerminal, channel: SimChannel, n: int, start: datetime = MOMENT
) -> list[TransactionRecord]:
    return [terminal.purchase(channel, 182, start + timedelta(minutes=k + 1)) for k in range(n)]


def _reasons(report_quarantined: list[tuple[Reason, str]]) -> list[Reason]:
    return [reason for reason, _ in report_quarantined]


@pytest.mark.parametrize("algorithm", [Algorithm.DES3, Algorithm.SM4])
def test_fast_verifier_agrees_with_verify_tac(
    algorithm: Algorithm,
    make_card: Maker,
    load_terminal: LoadTerminal,
    purchase_terminal: PurchaseTerminal,
    issuer_keys: IssuerKeys,
) -> None:
    _, channel = make_card(asn_int=3, algorithm=algorithm)
    records = [load_terminal.load(channel, 5_000, MOMENT), *_ride(purchase_terminal, channel, 2)]
    records.append(purchase_terminal.composite_entry(channel, 4, MOMENT + timedelta(minutes=9)))
    store = IssuerKeyStore(issuer_keys)
    verifier = TacVerifier(IssuerKeyStore(issuer_keys, frozenset({KeyUsage.TAC})))
    for record in records:
        wire = encode_record(record)
        parsed = parse_batch(batch([record]))
        assert verify_tac(record, store)
        assert verifier.verify(parsed.records[0][2], wire)
        assert verifier.verify(parsed.records[0][2])  # from the fields alone
        sign = 1 if record.tx_type.is_load else -1
        forged = replace(
            record, amount_fen=record.amount_fen + 1, balance_after_fen=record.balance_after_fen + sign
        )
        forged_wire = parse_batch(batch([forged])).records[0][2]
        assert not verifier.verify(forged_wire, encode_record(forged))
    unknown_index = parse_batch(batch([records[1]])).records[0][2]._replace(key_index=9)
    assert not verifier.verify(unknown_index)


def test_ingest_posts_once_and_is_idempotent_by_content(
    make_card: Maker,
    load_terminal: LoadTerminal,
    purchase_terminal: PurchaseTerminal,
    issuer_keys: IssuerKeys,
    tmp_path: Path,
) -> None:
    back = office(tmp_path, issuer_keys)
    _, channel = make_card(asn_int=1)
    load = load_terminal.load(channel, 5_000, MOMENT)
    rides = _ride(purchase_terminal, channel, 3)
    first = back.clearing.ingest_file(batch([load]), "load.ctb", CLEARING_DAY)
    second = back.clearing.ingest_file(batch(rides), "bus.ctb", CLEARING_DAY)
    assert (first.posted, second.posted) == (1, 3)
    assert not first.quarantined and not second.quarantined
    ledger = back.ledger
    assert -ledger.balance("float") == 5_000 - 3 * 182
    assert ledger.balance("payable:bus") == -3 * 182
    assert ledger.balance("receivable:window") == 5_000
    assert back.clearing.shadow_balance_fen(load.asn) == 5_000 - 3 * 182
    again = back.clearing.ingest_file(batch(rides), "bus-copy.ctb", CLEARING_DAY)
    assert again.already_ingested and again.posted == 0
    assert ledger.balance("payable:bus") == -3 * 182
    ledger.check()


def test_a_new_upload_of_old_records_is_quarantined_as_duplicates(
    make_card: Maker, purchase_terminal: PurchaseTerminal, issuer_keys: IssuerKeys, tmp_path: Path
) -> None:
    back = office(tmp_path, issuer_keys)
    _, channel = make_card(asn_int=1, max_balance_fen=100_000)
    channel.chip.state.ep_balance_fen = 10_000  # type: ignore[attr-defined]
    rides = _ride(purchase_terminal, channel, 3)
    back.clearing.ingest_file(batch(rides[:2]), "day1.ctb", CLEARING_DAY)
    report = back.clearing.ingest_file(batch(rides, seq=2), "day2.ctb", CLEARING_DAY)
    assert report.posted == 1
    assert _reasons(report.quarantined) == [Reason.DUPLICATE, Reason.DUPLICATE]
    kept = back.ledger.db.execute(
        "SELECT raw FROM quarantine WHERE reason = 'duplicate' ORDER BY id"
    ).fetchall()
    assert [bytes(row[0]) for row in kept] == [encode_record(r) for r in rides[:2]]


def test_forged_tac_is_held_and_released_only_once_it_verifies(
    make_card: Maker, purchase_terminal: PurchaseTerminal, issuer_keys: IssuerKeys, tmp_path: Path
) -> None:
    back = office(tmp_path, issuer_keys)
    _, channel = make_card(asn_int=1)
    channel.chip.state.ep_balance_fen = 10_000  # type: ignore[attr-defined]
    ride = _ride(purchase_terminal, channel, 1)[0]
    forged = replace(ride, amount_fen=1, balance_after_fen=ride.balance_before_fen - 1)
    report = back.clearing.ingest_file(batch([forged, ride]), "bus.ctb", CLEARING_DAY)
    assert _reasons(report.quarantined) == [Reason.FORGED_TAC]
    assert "TAC does not verify" in report.quarantined[0][1]
    assert report.posted == 1  # the genuine record with the same counter still clears
    qid = back.clearing.held()[0][0]
    with pytest.raises(ClearingError, match="TAC still does not verify with the issuer keys loaded"):
        back.clearing.release(qid, "looks fine to me", CLEARING_DAY)


def test_hotlisted_card_is_refused_only_from_the_effect_time(
    make_card: Maker, purchase_terminal: PurchaseTerminal, issuer_keys: IssuerKeys, tmp_path: Path
) -> None:
    back = office(tmp_path, issuer_keys)
    _, channel = make_card(asn_int=1)
    channel.chip.state.ep_balance_fen = 10_000  # type: ignore[attr-defined]
    rides = _ride(purchase_terminal, channel, 4)  # at MOMENT + 1..4 min
    with back.ledger.transaction():
        back.hotlist.add(rides[0].asn, MOMENT, MOMENT + timedelta(minutes=3))
    report = back.clearing.ingest_file(batch(rides), "bus.ctb", CLEARING_DAY)
    assert report.posted == 2
    assert _reasons(report.quarantined) == [Reason.HOTLISTED, Reason.HOTLISTED]
    assert back.hotlist.at(MOMENT + timedelta(minutes=2)) == frozenset()
    assert back.hotlist.at(MOMENT + timedelta(minutes=3)) == {rides[0].asn}


def test_out_of_order_uploads_are_held_then_released_by_the_missing_one(
    make_card: Maker, purchase_terminal: PurchaseTerminal, issuer_keys: IssuerKeys, tmp_path: Path
) -> None:
    back = office(tmp_path, issuer_keys)
    _, channel = make_card(asn_int=1)
    channel.chip.state.ep_balance_fen = 10_000  # type: ignore[attr-defined]
    rides = _ride(purchase_terminal, channel, 4)
    later = back.clearing.ingest_file(batch(rides[2:], seq=2), "b2.ctb", CLEARING_DAY)
    assert _reasons(later.quarantined) == [Reason.COUNTER_GAP]
    assert later.posted == 1
    earlier = back.clearing.ingest_file(batch(rides[:2], seq=1), "b1.ctb", CLEARING_DAY)
    assert earlier.posted == 2 and earlier.auto_released == 1
    assert earlier.notes == ["b1.ctb: batch 1 of terminal 000000000101 arrives after batch 2"]
    assert back.clearing.held() == []
    assert back.ledger.balance("payable:bus") == -4 * 182


def test_serial_spent_by_a_failed_card_is_a_gap_only_review_releases(
    make_card: Maker, purchase_terminal: PurchaseTerminal, issuer_keys: IssuerKeys, tmp_path: Path
) -> None:
    back = office(tmp_path, issuer_keys)
    card, channel = make_card(asn_int=1)
    card.state.ep_balance_fen = 10_000
    first = _ride(purchase_terminal, channel, 1)[0]

    def tear_debit(raw: bytes, phase: TearPhase) -> bool:
        return raw[1] == 0x54 and phase is TearPhase.BEFORE_COMMIT

    card.tear_hook = tear_debit
    with pytest.raises(TransactionTornError):
        purchase_terminal.purchase(channel, 182, MOMENT + timedelta(minutes=5))
    card.tear_hook = None
    channel.insert()
    purchase_terminal.recover(channel, MOMENT + timedelta(minutes=6))  # not committed
    second = purchase_terminal.purchase(channel, 182, MOMENT + timedelta(minutes=7))
    assert second.terminal_serial == first.terminal_serial + 2 and second.counter == first.counter + 1
    report = back.clearing.ingest_file(batch([first, second]), "bus.ctb", CLEARING_DAY)
    assert _reasons(report.quarantined) == [Reason.SERIAL_GAP]
    assert f"PSAM serial {first.terminal_serial + 1}" in report.quarantined[0][1]
    qid = back.clearing.held()[0][0]
    with pytest.raises(ClearingError, match="review note is required"):
        back.clearing.release(qid, " ", CLEARING_DAY)
    back.clearing.release(qid, "PSAM log shows serial spent on a failed card", CLEARING_DAY)
    assert back.clearing.held() == []
    assert back.ledger.balance("payable:bus") == -2 * 182
    with pytest.raises(ClearingError, match="already released"):
        back.clearing.release(qid, "again", CLEARING_DAY)


def test_records_older_than_the_cutoff_wait_for_review(
    make_card: Maker, purchase_terminal: PurchaseTerminal, issuer_keys: IssuerKeys, tmp_path: Path
) -> None:
    back = office(tmp_path, issuer_keys, cutoff_days=3)
    _, channel = make_card(asn_int=1)
    channel.chip.state.ep_balance_fen = 10_000  # type: ignore[attr-defined]
    rides = _ride(purchase_terminal, channel, 2)
    late_day = MOMENT.date() + timedelta(days=4)
    report = back.clearing.ingest_file(batch(rides), "late.ctb", late_day)
    assert _reasons(report.quarantined) == [Reason.OLDER_THAN_CUTOFF] * 2
    assert "before the cut-off" in report.quarantined[0][1]
    for qid, _, _ in back.clearing.held():
        back.clearing.release(qid, "depot link was down, upload genuine", late_day)
    assert back.ledger.balance("payable:bus") == -2 * 182


def test_unknown_terminal_batch_is_kept_whole_and_reingested_after_registration(
    make_card: Maker, issuer_keys: IssuerKeys, tmp_path: Path
) -> None:
    back = office(tmp_path, issuer_keys)
    psam_keys = IssuerKeyStore(issuer_keys, frozenset({KeyUsage.PURCHASE, KeyUsage.MAINTENANCE}))
    rogue_id = bytes.fromhex("000000000666")
    rogue = PurchaseTerminal(SimChannel(Psam(rogue_id, psam_keys)))
    _, channel = make_card(asn_int=1)
    channel.chip.state.ep_balance_fen = 10_000  # type: ignore[attr-defined]
    raw = batch(_ride(rogue, channel, 2))
    report = back.clearing.ingest_file(raw, "rogue.ctb", CLEARING_DAY)
    assert _reasons(report.quarantined) == [Reason.UNKNOWN_TERMINAL] and report.posted == 0
    assert "terminal 000000000666 is not registered" in report.quarantined[0][1]
    kept = back.ledger.db.execute("SELECT raw FROM batches WHERE name = 'rogue.ctb'").fetchone()[0]
    assert bytes(kept) == raw
    back.clearing.registry.register(TerminalEntry(rogue_id, rogue_id, "bus"))
    again = back.clearing.reingest("rogue.ctb", CLEARING_DAY)
    assert again.posted == 2
    assert back.clearing.held() == []
    assert back.clearing.reingest("rogue.ctb", CLEARING_DAY).already_ingested
    with pytest.raises(ClearingError, match="no batch"):
        back.clearing.reingest("nothing.ctb", CLEARING_DAY)


def test_a_reingested_batch_posts_its_money_and_releases_the_gap_it_closes(
    make_card: Maker, purchase_terminal: PurchaseTerminal, issuer_keys: IssuerKeys, tmp_path: Path
) -> None:
    """A reingest is a unit of work of its own: its postings and the gap releases it makes are
    written with it (they once waited for a group's end that a reingest never reached)."""
    back = office(tmp_path, issuer_keys)
    psam_keys = IssuerKeyStore(issuer_keys, frozenset({KeyUsage.PURCHASE, KeyUsage.MAINTENANCE}))
    rogue_id = bytes.fromhex("000000000666")
    rogue = PurchaseTerminal(SimChannel(Psam(rogue_id, psam_keys)))
    _, channel = make_card(asn_int=1)
    channel.chip.state.ep_balance_fen = 10_000  # type: ignore[attr-defined]
    first = _ride(rogue, channel, 1)
    second = _ride(purchase_terminal, channel, 1, MOMENT + timedelta(minutes=5))
    back.clearing.ingest_file(batch(first), "rogue.ctb", CLEARING_DAY)
    report = back.clearing.ingest_file(batch(second), "bus.ctb", CLEARING_DAY)
    assert _reasons(report.quarantined) == [Reason.COUNTER_GAP]
    back.clearing.registry.register(TerminalEntry(rogue_id, rogue_id, "bus"))
    again = back.clearing.reingest("rogue.ctb", CLEARING_DAY)
    assert (again.posted, again.auto_released) == (1, 1)
    assert back.clearing.held() == []
    assert back.ledger.balance("payable:bus") == -2 * 182
    assert -back.ledger.balance("float") == -2 * 182
    assert reconcile(back.ledger, back.clearing.registry).ok
    back.close()
    reopened = office(tmp_path, issuer_keys)  # memory from the committed rows agrees
    assert reopened.clearing.held() == []
    assert reopened.clearing.shadow_balance_fen(first[0].asn) == -2 * 182
    reopened.close()


def test_batch_with_the_wrong_psam_is_refused(
    make_card: Maker, purchase_terminal: PurchaseTerminal, issuer_keys: IssuerKeys, tmp_path: Path
) -> None:
    from model.records.batch import write_batch

    back = office(tmp_path, issuer_keys)
    _, channel = make_card(asn_int=1)
    channel.chip.state.ep_balance_fen = 10_000  # type: ignore[attr-defined]
    rides = _ride(purchase_terminal, channel, 1)
    raw = write_batch(rides[0].terminal_id, bytes(6), 1, MOMENT, rides)
    report = back.clearing.ingest_file(raw, "swapped.ctb", CLEARING_DAY)
    assert _reasons(report.quarantined) == [Reason.UNKNOWN_TERMINAL]
    assert "PSAM 000000000000 is not the one registered" in report.quarantined[0][1]


def test_damaged_files_are_quarantined_with_their_bytes_and_the_rest_clears(
    make_card: Maker, purchase_terminal: PurchaseTerminal, issuer_keys: IssuerKeys, tmp_path: Path
) -> None:
    back = office(tmp_path, issuer_keys)
    _, channel = make_card(asn_int=1)
    channel.chip.state.ep_balance_fen = 10_000  # type: ignore[attr-defined]
    rides = _ride(purchase_terminal, channel, 4)
    garbage = back.clearing.ingest_file(b"\x00" * 200, "zeros.ctb", CLEARING_DAY)
    assert _reasons(garbage.quarantined) == [Reason.CORRUPT_BATCH]
    raw = batch(rides)
    flipped = bytearray(raw)
    flipped[HEADER_SIZE + RECORD_SIZE + 20] ^= 0xFF
    report = back.clearing.ingest_file(bytes(flipped[: len(raw) - 20]), "hurt.ctb", CLEARING_DAY)
    reasons = _reasons(report.quarantined)
    assert Reason.BAD_CHECKSUM in reasons and Reason.TRUNCATED in reasons and Reason.CORRUPT_RECORD in reasons
    assert report.posted == 1  # record 0; record 1 is corrupt, 2 is after a gap, 3 is cut
    assert Reason.COUNTER_GAP in reasons
    kept = back.ledger.db.execute("SELECT raw FROM batches WHERE name = 'hurt.ctb'").fetchone()[0]
    assert bytes(kept) == bytes(flipped[: len(raw) - 20])
    whole = back.clearing.ingest_file(raw, "whole-again.ctb", CLEARING_DAY)
    # The terminal sends the file whole again: what cleared is a duplicate, the rest clears.
    assert whole.posted == 2 and whole.auto_released == 1
    assert back.ledger.balance("payable:bus") == -4 * 182


def test_no_proof_record_is_held_for_review(
    make_card: Maker, issuer_keys: IssuerKeys, purchase_terminal: PurchaseTerminal, tmp_path: Path
) -> None:
    back = office(tmp_path, issuer_keys)
    psam_keys = IssuerKeyStore(issuer_keys, frozenset({KeyUsage.PURCHASE, KeyUsage.MAINTENANCE}))
    other = PurchaseTerminal(SimChannel(Psam(bytes.fromhex("000000000102"), psam_keys)))
    card, channel = make_card(asn_int=1)
    card.state.ep_balance_fen = 10_000

    def tear_after(raw: bytes, phase: TearPhase) -> bool:
        if raw[1] == 0x54 and phase is TearPhase.AFTER_COMMIT:
            card.tear_hook = None
            return True
        return False

    card.tear_hook = tear_after
    with pytest.raises(TransactionTornError):
        purchase_terminal.purchase(channel, 182, MOMENT)
    channel.insert()
    other.purchase(channel, 182, MOMENT + timedelta(minutes=5))  # overwrites the card's proof
    recovered = purchase_terminal.recover(channel, MOMENT + timedelta(minutes=9))
    assert recovered[0].record is not None and recovered[0].record.tac == b""
    report = back.clearing.ingest_file(batch(purchase_terminal.journal.drain()), "bus.ctb", CLEARING_DAY)
    assert _reasons(report.quarantined) == [Reason.NO_PROOF]
    assert "needs review" in report.quarantined[0][1]
    back.clearing.release(back.clearing.held()[0][0], "card log shows the debit", CLEARING_DAY)
    assert back.ledger.balance("payable:bus") == -182


def test_state_is_rebuilt_from_the_database_on_reopen(
    make_card: Maker, purchase_terminal: PurchaseTerminal, issuer_keys: IssuerKeys, tmp_path: Path
) -> None:
    back = office(tmp_path, issuer_keys)
    _, channel = make_card(asn_int=1)
    channel.chip.state.ep_balance_fen = 10_000  # type: ignore[attr-defined]
    rides = _ride(purchase_terminal, channel, 3)
    back.clearing.ingest_file(batch(rides[:1]), "a.ctb", CLEARING_DAY)
    back.clearing.ingest_file(batch(rides[2:], seq=3), "c.ctb", CLEARING_DAY)  # held: gap
    back.ledger.db.close()
    reopened = office(tmp_path, issuer_keys)
    assert reopened.clearing.shadow_balance_fen(rides[0].asn) == -182
    report = reopened.clearing.ingest_file(batch(rides[:2], seq=2), "b.ctb", CLEARING_DAY)
    assert _reasons(report.quarantined) == [Reason.DUPLICATE]
    assert report.posted == 1 and report.auto_released == 1


class _CrashingHotlist:
    """A hotlist service that fails in the middle of a batch (a lost connection)."""

    def __init__(self, fail_at: int) -> None:
        self.calls = 0
        self.fail_at = fail_at

    def effective(self, asn: bytes) -> bytes | None:
        self.calls += 1
        if self.calls == self.fail_at:
            raise ConnectionError("hotlist service went away")
        return None


def test_a_failure_mid_batch_rolls_the_whole_batch_back(
    make_card: Maker, purchase_terminal: PurchaseTerminal, issuer_keys: IssuerKeys, tmp_path: Path
) -> None:
    back = office(tmp_path, issuer_keys)
    _, channel = make_card(asn_int=1)
    channel.chip.state.ep_balance_fen = 10_000  # type: ignore[attr-defined]
    raw = batch(_ride(purchase_terminal, channel, 3))
    back.clearing.hotlist = _CrashingHotlist(fail_at=2)
    with pytest.raises(ConnectionError):
        back.clearing.ingest_file(raw, "bus.ctb", CLEARING_DAY)
    db = back.ledger.db
    assert db.execute("SELECT COUNT(*) FROM batches").fetchone()[0] == 0
    assert db.execute("SELECT COUNT(*) FROM records").fetchone()[0] == 0
    assert back.ledger.balances() == {}
    back.clearing.hotlist = _CrashingHotlist(fail_at=-1)
    assert back.clearing.ingest_file(raw, "bus.ctb", CLEARING_DAY).posted == 3


def test_many_cards_many_terminals_clear_exactly_once(
    make_card: Maker, issuer_keys: IssuerKeys, tmp_path: Path
) -> None:
    """Random uploads order over several PSAMs: whatever the order, each record posts once."""
    psam_keys = IssuerKeyStore(issuer_keys, frozenset({KeyUsage.PURCHASE, KeyUsage.MAINTENANCE}))
    back = office(tmp_path, issuer_keys)
    terminals = []
    for n in range(3):
        tid = bytes.fromhex(f"0000000002{n:02d}")
        back.clearing.registry.register(TerminalEntry(tid, tid, "bus"))
        terminals.append(PurchaseTerminal(SimChannel(Psam(tid, psam_keys))))
    rng = random.Random(5)
    cards = [make_card(asn_int=10 + n, seed=n)[1] for n in range(5)]
    for channel in cards:
        channel.chip.state.ep_balance_fen = 50_000  # type: ignore[attr-defined]
    uploads = []
    for round_ in range(3):
        for k in range(12):
            rng.choice(terminals).purchase(
                rng.choice(cards), 100 + k, MOMENT + timedelta(minutes=round_ * 20 + k)
            )
        for t in terminals:
            if len(t.journal):
                uploads.append(batch(t.journal.drain(), seq=round_ + 1))
    rng.shuffle(uploads)
    for n, raw in enumerate(uploads):
        back.clearing.ingest_file(raw, f"u{n}.ctb", CLEARING_DAY)
    assert back.clearing.held() == []
    total = sum(c.chip.state.ep_balance_fen for c in cards)  # type: ignore[attr-defined]
    assert back.ledger.balance("float") == 5 * 50_000 - total


def test_extra_bytes_after_the_records_are_held_and_the_records_still_clear(
    make_card: Maker, purchase_terminal: PurchaseTerminal, issuer_keys: IssuerKeys, tmp_path: Path
) -> None:
    back = office(tmp_path, issuer_keys)
    _, channel = make_card(asn_int=1)
    channel.chip.state.ep_balance_fen = 10_000  # type: ignore[attr-defined]
    raw = batch(_ride(purchase_terminal, channel, 2)) + b"trailing junk"
    report = back.clearing.ingest_file(raw, "long.ctb", CLEARING_DAY)
    assert report.posted == 2
    assert Reason.CORRUPT_BATCH in _reasons(report.quarantined)
    tail = back.ledger.db.execute("SELECT raw FROM quarantine WHERE idx = -1 AND raw IS NOT NULL").fetchone()[
        0
    ]
    assert bytes(tail) == b"trailing junk"


def test_report_lines_are_capped_but_every_entry_is_kept(
    make_card: Maker, purchase_terminal: PurchaseTerminal, issuer_keys: IssuerKeys, tmp_path: Path
) -> None:
    from model.backoffice.terms import REPORT_LINES_MAX

    back = office(tmp_path, issuer_keys)
    _, channel = make_card(asn_int=1)
    channel.chip.state.ep_balance_fen = 100_000  # type: ignore[attr-defined]
    rides = [purchase_terminal.purchase(channel, 1, MOMENT + timedelta(seconds=k)) for k in range(60)]
    back.clearing.ingest_file(batch(rides), "first.ctb", CLEARING_DAY)
    report = back.clearing.ingest_file(batch(rides, seq=2), "again.ctb", CLEARING_DAY)
    assert len(report.quarantined) == 60
    lines = report.lines()
    assert len(lines) == 1 + REPORT_LINES_MAX + 1 and "10 more" in lines[-1]
    assert back.ledger.db.execute("SELECT COUNT(*) FROM quarantine").fetchone()[0] == 60


@pytest.mark.parametrize("algorithm", [Algorithm.DES3, Algorithm.SM4])
def test_cached_key_store_derives_the_same_keys(algorithm: Algorithm, issuer_keys: IssuerKeys) -> None:
    from model.security.crypto import diversify
    from model.security.key_cache import CachedIssuerKeyStore
    from model.security.keys import KeyStoreError

    plain = IssuerKeyStore(issuer_keys)
    cached = CachedIssuerKeyStore(issuer_keys)
    rng = random.Random(11)
    for _ in range(50):
        asn = rng.randbytes(8)
        for usage in KeyUsage:
            expected = diversify(algorithm, issuer_keys.master(usage, algorithm, 1), asn)
            assert (
                cached.card_key(usage, algorithm, 1, asn)
                == expected
                == plain.card_key(usage, algorithm, 1, asn)
            )
    tac_only = CachedIssuerKeyStore(issuer_keys, frozenset({KeyUsage.TAC}))
    with pytest.raises(KeyStoreError, match="may not derive DPK"):
        tac_only.card_key(KeyUsage.PURCHASE, algorithm, 1, b"\x01" * 8)
    with pytest.raises(KeyStoreError, match="no master key"):
        tac_only.card_key(KeyUsage.TAC, algorithm, 7, b"\x01" * 8)
