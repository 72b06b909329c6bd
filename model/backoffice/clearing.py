"""The clearing house: ingests terminal batches, proves every record, posts it once, or holds it.

One batch file is one unit of work: the batch row, the records posted, the records
quarantined (each with its bytes; the whole file's bytes too when any part of it is held) and
the ledger postings commit together, in the file's own transaction (`ingest_file`) or under its
savepoint in a group of files that commit together (`group`, `ingest_files`). A batch is known
by the SHA-256 of its bytes, so ingesting the same file again is a no-op, and a process killed
in the middle leaves nothing of the batch (or of its group) behind: the rerun ingests it whole.

Duplicates, gaps and shadow balances are decided from memory (every key, counter and serial
seen), rebuilt from the committed tables when the clearing house opens and after any rolled
back batch, so memory never disagrees with the database.

Why this room is over 600 lines: the ingest and the review of held records (release, reject,
re-verify, reingest) read and rebuild that one memory, and each rollback must rebuild it whole;
the review is the next cut (its own module over a narrow view of the house), left for a session
that can run the crash tests against the split.

Each record goes through these checks, in order; the first that fails sends it to quarantine
with that reason code (the batch's other records go on):

    corrupt-record     its own CRC fails or a field is out of range (see model.records.batch)
    no-proof           committed without proof (empty TAC): real money, needs a person
    forged-tac         the TAC does not verify with the issuer's keys
    duplicate          the same transaction again: its PSAM serial (purchases) or card counter
                       (loads) cleared or held with the same card fields; or a no-proof record
                       whose serial or counter a TAC-proven record holds
    serial-reused      the PSAM serial cleared already with other card fields (an ALERT): the
                       purchase TAC does not cover the card counter, so a dishonest terminal can
                       re-encode it; whichever copy arrives second is held, the serial pays once
    counter-conflict   a valid TAC at a fresh PSAM serial, on a card counter another transaction
                       spent (an ALERT: a re-encoded counter or a cloned card); releasable, never
                       condemned, since its TAC proves the card paid
    hotlisted          the card was hotlisted and the record is at or after the effect time
    older-than-cutoff  the record's day is more than `cutoff_days` before the clearing day
    counter-gap        the card's previous counter of this family has not been seen
    serial-gap         the PSAM's previous terminal serial has not been seen (purchases)

and each batch through these, which quarantine the whole file (bytes kept, nothing posted):

    corrupt-batch      header unreadable, or more bytes than the header's count says
    unknown-terminal   the terminal is not in the registry, or its PSAM is not the registered one

or flag it while its readable records are still processed: bad-checksum, truncated,
totals-mismatch.

A no-proof record takes nothing: its counter and serial close gaps (the card did count it) but
a TAC-proven record with the same counter or serial still clears, and the no-proof one's
release is then refused with the reason. A forged no-proof record cannot strand a genuine one.

Gaps are not errors by themselves: uploads arrive out of order, and a PSAM spends a serial when
a card fails after MAC1. A record held for a gap is released by itself when the missing number
arrives; one that stays held needs a person (`release`). Records held as no-proof, hotlisted or
older-than-cutoff or counter-conflict are released only by review; forged TACs only once their TAC
verifies with the keys loaded (a key file put right); duplicates, reused serials and corrupt bytes
never. Any held record can be rejected with a note; a rejected one gives back what it held.

Postings: loads `Dr receivable:<recharge point> / Cr float` (`Dr transfer` for a replaced card's
balance reloaded by the operator's transfer window); purchases `Dr float /
Cr payable:<participant>`, aggregated per participant per batch (each record row names the
posting that carries it, so every record is on the ledger exactly once).
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Protocol

from model.backoffice.clearing_schema import ensure_schema
from model.backoffice.identity import DECIDED_SQL, Spent
from model.backoffice.ledger import Ledger
from model.backoffice.registry import Participant, Registry, Sector
from model.backoffice.tac_verifier import TacVerifier
from model.backoffice.terms import (
    FAMILY_BYTE,
    LOAD_TYPES,
    RELEASABLE,
    REVERIFIABLE,
    ClearingError,
    HotlistLookup,
    IngestReport,
    NoHotlist,
    Reason,
    day_int,
    hold_detail,
    record_key,
)
from model.records import BatchHeader, WireRecord, decode_record, parse_batch

CUTOFF_DAYS_DEFAULT = 7
QUARANTINE_MAX = 1_000_000
BATCH_BYTES_MAX = 64 * 1024 * 1024
# A group of files in one transaction closes at whichever comes first. Bounded so that a kill
# costs a rerun little work and the WAL stays small; large enough that a night of 8-record
# files pays a commit per few thousand records, as a night of 2,000-record files does.
GROUP_FILES_MAX = 512
GROUP_BYTES_MAX = 1024 * 1024


_ALERTING = frozenset({Reason.SERIAL_REUSED, Reason.COUNTER_CONFLICT})
_GAPS = frozenset({Reason.COUNTER_GAP.value, Reason.SERIAL_GAP.value})


@dataclass(slots=True)
class _Posting:
    """One batch's records on their way to the ledger: one participant, one posting."""

    participant: str
    debit_account: str  # of the loads: the recharge point's receivable, or `transfer`
    posting_id: int  # the id the posting will get (the batch holds the database's write lock)
    rows: list[tuple[bytes, int, str, int, int, int, bytes, int, int]] = field(default_factory=list)
    load_fen: int = 0
    purchase_fen: int = 0


class ClearingHouse:
    """Ingest, verify, quarantine, post. One instance per clearing database."""

    def __init__(
        self,
        ledger: Ledger,
        registry: Registry,
        verifier: TacVerifier,
        hotlist: HotlistLookup | None = None,
        cutoff_days: int = CUTOFF_DAYS_DEFAULT,
    ) -> None:
        self.ledger = ledger
        self.db: sqlite3.Connection = ledger.db
        self.registry = registry
        self.verifier = verifier
        self.hotlist: HotlistLookup = hotlist if hotlist is not None else NoHotlist()
        self.cutoff_days = cutoff_days
        self._grouped = False  # inside `group`: files take savepoints, the group commits
        ensure_schema(self.db, "clearing database")
        self._load_state()

    # -- state rebuilt from the database ------------------------------------------------

    def _load_state(self) -> None:
        """Memory is whatever the committed rows say: after a crash or a rolled-back batch too."""
        self._spent = Spent.load(self.db, self.registry)
        self._batch_seqs: dict[bytes, int] = {
            bytes(terminal): int(seq)
            for terminal, seq in self.db.execute(
                "SELECT terminal_id, MAX(batch_seq) FROM batches "
                "WHERE batch_seq IS NOT NULL GROUP BY terminal_id"
            )
        }
        self._quarantine_rows = int(self.db.execute("SELECT COUNT(*) FROM quarantine").fetchone()[0])

    # -- ingest -------------------------------------------------------------------------

    def ingest_file(self, raw: bytes, name: str, clearing_day: date) -> IngestReport:
        """Ingest one batch file's bytes. Idempotent by content.

        A record already on the books under another writer (the unique identity indexes refuse
        it) rolls the batch back; memory is rebuilt from the database and the batch runs again
        once, so what the other writer posted is held here as duplicates."""
        if len(raw) > BATCH_BYTES_MAX:
            raise ClearingError(f"{name}: {len(raw)} bytes, a batch file has at most {BATCH_BYTES_MAX}")
        digest = hashlib.sha256(raw).digest()
        for attempt in (1, 2):
            if self.db.execute("SELECT 1 FROM batches WHERE digest = ?", (digest,)).fetchone():
                return IngestReport(name, already_ingested=True)
            try:
                with self._file_scope():
                    return self._ingest(raw, digest, name, clearing_day)
            except sqlite3.IntegrityError as exc:
                self._load_state()
                if attempt == 2:
                    raise ClearingError(
                        f"{name}: refused by the database's identity rule after a reload ({exc})"
                    ) from None
            except BaseException:
                self._load_state()  # the batch rolled back; so does memory
                raise
        raise AssertionError("unreachable: the second attempt returns or raises")

    def ingest_files(self, files: Iterable[tuple[str, bytes]], clearing_day: date) -> list[IngestReport]:
        """`ingest_file` for each (name, bytes), in order, several files to a transaction
        (`group`, cut by `groups`): same books, same reports, one commit per group."""
        reports: list[IngestReport] = []
        for chunk in groups(files):
            with self.group():
                reports += [self.ingest_file(raw, name, clearing_day) for name, raw in chunk]
        return reports

    @contextmanager
    def group(self) -> Iterator[None]:
        """One transaction for the files ingested inside it, each file under its own savepoint.

        A small batch paid its own BEGIN and COMMIT (the WAL frames of every page it touched,
        the index pages again each time): most of a night of 8-record files. Grouped, the pages
        are written once per group. Guarantees kept: a file's batch row (what marks it seen)
        and its records are in the same transaction, so a kill at any point leaves either the
        whole group or nothing of it, and the rerun ingests what is missing. A file refused by
        the identity rule rolls back to its savepoint only (then runs again once, as alone). A
        file refused in one line (ClearingError) rolls back to its savepoint, the files before
        it commit, and the error goes on: as when each file was its own transaction. Anything
        else (disk full, I/O, an interrupt) rolls the whole group back; memory follows."""
        assert not self._grouped, "groups do not nest"
        refused: ClearingError | None = None
        try:
            with self.ledger.transaction(durable=False):
                self._grouped = True
                try:
                    yield
                except ClearingError as exc:
                    refused = exc
                finally:
                    self._grouped = False
        except BaseException:
            self._load_state()  # the group rolled back; so does memory
            raise
        if refused is not None:
            raise refused

    @contextmanager
    def _file_scope(self) -> Iterator[None]:
        """One file's unit of work: its own transaction, or a savepoint inside the open group."""
        if not self._grouped:
            with self.ledger.transaction(durable=False):
                yield
            return
        self.db.execute("SAVEPOINT batch_file")
        try:
            yield
        except BaseException:
            # On a full disk or an I/O error SQLite may have rolled the whole transaction back.
            if self.db.in_transaction:
                self.db.execute("ROLLBACK TO batch_file")
                self.db.execute("RELEASE batch_file")
            raise
        self.db.execute("RELEASE batch_file")

    def _ingest(self, raw: bytes, digest: bytes, name: str, clearing_day: date) -> IngestReport:
        report = IngestReport(name)
        parsed = parse_batch(raw, name)
        header = parsed.header
        if header is not None:
            report.notes += self._upload_order(header.terminal_id, header.batch_seq, name)
        cursor = self.db.execute(
            "INSERT INTO batches(digest, name, terminal_id, batch_seq, clearing_day, declared_load_fen, "
            "declared_purchase_fen, raw) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                digest,
                name,
                header.terminal_id if header else None,
                header.batch_seq if header else None,
                day_int(clearing_day),
                header.load_total_fen if header else 0,
                header.purchase_total_fen if header else 0,
                None,
            ),
        )
        assert cursor.lastrowid is not None
        batch_id = int(cursor.lastrowid)
        held: list[tuple[int, int, str, str, bytes | None, bytes | None]] = []

        def hold(index: int, reason: Reason, detail: str, chunk: bytes | None, key: bytes | None) -> None:
            held.append((batch_id, index, reason.value, detail, chunk, key))
            report.quarantined.append((reason, detail))

        for fault, detail in parsed.batch_faults:
            hold(-1, Reason(fault.value), detail, None, None)
        owner = self._owner(header, name, hold) if header is not None else None
        # A readable header is enough to go on: each record is proven by its own CRC and TAC.
        if owner is not None and header is not None:
            for fault_record in parsed.faults:
                hold(
                    fault_record.index,
                    Reason(fault_record.fault.value),
                    fault_record.detail,
                    fault_record.raw,
                    None,
                )
            transfer = owner.sector is Sector.TRANSFER
            debit = "transfer" if transfer else f"receivable:{owner.participant_id}"
            posting = _Posting(owner.participant_id, debit, self.ledger.next_posting_id())
            self._check_records(
                parsed.records,
                batch_id,
                header.terminal_id,
                owner.participant_id,
                clearing_day,
                name,
                hold,
                posting,
            )
            self._post(batch_id, name, clearing_day, posting, report)
        self._add_quarantine(held)
        self._add_alerts(batch_id, report)
        if held:
            # Clean files stay in the terminal archive; a file with anything held is kept here whole.
            self.db.execute("UPDATE batches SET raw = ? WHERE id = ?", (raw, batch_id))
        touched = [r for _, _, r in parsed.records] if header is not None and owner is not None else []
        report.auto_released = self._release_closed_gaps(clearing_day, touched)
        return report

    def _owner(self, header: BatchHeader, name: str, hold: _Hold) -> Participant | None:
        """The participant a file's terminal belongs to, or None (the whole file held) when the
        terminal is not registered or its PSAM is not the one registered to it."""
        owner = self.registry.owner(header.terminal_id)
        if owner is None:
            hold(
                -1,
                Reason.UNKNOWN_TERMINAL,
                f"{name}: terminal {header.terminal_id.hex()} is not registered",
                None,
                None,
            )
            return None
        entry = self.registry.terminals[header.terminal_id]
        if entry.psam_id != header.psam_id:
            hold(
                -1,
                Reason.UNKNOWN_TERMINAL,
                f"{name}: PSAM {header.psam_id.hex()} is not the one registered to terminal "
                f"{header.terminal_id.hex()} ({entry.psam_id.hex()})",
                None,
                None,
            )
            return None
        return owner

    def _upload_order(self, terminal_id: bytes, batch_seq: int, name: str) -> list[str]:
        """Say when a terminal's uploads arrive out of their sequence: the records tell the rest
        (a later batch's first records wait for gaps, a repeated one's are duplicates). O(1):
        each terminal's highest batch is remembered."""
        highest = self._batch_seqs.get(terminal_id)
        if highest is None or batch_seq > highest:
            self._batch_seqs[terminal_id] = batch_seq
        if highest is None:
            return []
        if batch_seq <= highest:
            return [
                f"{name}: batch {batch_seq} of terminal {terminal_id.hex()} arrives after batch {highest}"
            ]
        if batch_seq > highest + 1:
            return [f"{name}: terminal {terminal_id.hex()} skipped from batch {highest} to {batch_seq}"]
        return []

    def _check_records(
        self,
        records: Iterable[tuple[int, bytes, WireRecord]],
        batch_id: int,
        terminal_id: bytes,
        participant: str,
        clearing_day: date,
        name: str,
        hold: _Hold,
        posting: _Posting,
    ) -> None:
        """Each record's checks, in the module docstring's order. O(records): every check is a
        set or dict lookup by the record's own counter or serial."""
        # The hot loop of the night: locals for everything it touches, messages only on faults.
        cutoff = day_int(clearing_day - timedelta(days=self.cutoff_days))
        verify = self.verifier.verify
        effective = self.hotlist.effective
        spent = self._spent
        counters = spent.counters
        pending = spent.pending_counters
        shadow = spent.shadow
        # The parser checked that every record carries the header's terminal ID.
        terminal_serials = spent.serials[terminal_id]
        pending_serials = spent.pending_serials.get(terminal_id, ())
        rows = posting.rows
        append = rows.append
        posting_id = posting.posting_id
        days: dict[bytes, int] = {}
        load_total = purchase_total = 0
        for index, chunk, r in records:
            tx_type, counter, asn = r.tx_type, r.counter, r.asn
            fam_key = asn + FAMILY_BYTE[tx_type]
            is_load = tx_type in LOAD_TYPES
            serial = r.terminal_serial
            seen = counters[fam_key]
            key = fam_key + counter.to_bytes(2, "big")
            reason = self._identity_fault(r, key, seen, terminal_serials, is_load, chunk, verify)
            if reason is not None:
                hold(index, reason, hold_detail(reason, name, index, r), chunk, _held_key(reason, key))
                if reason is Reason.NO_PROOF:
                    spent.claim(r)
                elif reason is Reason.COUNTER_CONFLICT:
                    terminal_serials[serial] = key
                continue
            date_time = r.date_time
            day = days.get(date_time[:4])
            if day is None:
                day = days[date_time[:4]] = int(date_time[:4].hex())
            listed = effective(asn)
            if listed is not None and date_time >= listed:
                reason = Reason.HOTLISTED
            elif day < cutoff:
                reason = Reason.OLDER_THAN_CUTOFF
            elif counter > 0 and (counter - 1) not in seen and (counter - 1) not in pending.get(fam_key, ()):
                reason = Reason.COUNTER_GAP
            elif (
                not is_load
                and serial > 0
                and (serial - 1) not in terminal_serials
                and (serial - 1) not in pending_serials
            ):
                reason = Reason.SERIAL_GAP
            seen.add(counter)
            if not is_load:
                terminal_serials[serial] = key
            if reason is not None:
                detail = hold_detail(reason, name, index, r, effective(asn), cutoff)
                hold(index, reason, detail, chunk, key)
                continue
            amount = r.amount_fen
            append((key, batch_id, participant, tx_type, amount, day, terminal_id, serial, posting_id))
            if is_load:
                load_total += amount
                shadow[asn] += amount
            else:
                purchase_total += amount
                shadow[asn] -= amount
        posting.load_fen += load_total
        posting.purchase_fen += purchase_total

    @staticmethod
    def _identity_fault(
        r: WireRecord,
        key: bytes,
        seen: set[int],
        terminal_serials: dict[int, bytes],
        is_load: bool,
        chunk: bytes,
        verify: Callable[[WireRecord, bytes], bool],
    ) -> Reason | None:
        """No proof, a forged TAC, or an identity already spent; O(1). A purchase is known by
        its PSAM serial (its TAC covers it), a load by its card counter (its TAC covers that)."""
        if r.flags:  # the only flag: committed without proof
            taken = r.counter in seen if is_load else r.terminal_serial in terminal_serials
            return Reason.DUPLICATE if taken else Reason.NO_PROOF
        if not verify(r, chunk):
            return Reason.FORGED_TAC
        if is_load:
            return Reason.DUPLICATE if r.counter in seen else None
        holder = terminal_serials.get(r.terminal_serial)
        if holder is not None:
            return Reason.DUPLICATE if holder == key else Reason.SERIAL_REUSED
        return Reason.COUNTER_CONFLICT if r.counter in seen else None

    def _post(
        self, batch_id: int, name: str, clearing_day: date, posting: _Posting, report: IngestReport
    ) -> None:
        if not posting.rows:
            return
        participant = posting.participant
        lines = [
            (posting.debit_account, posting.load_fen),
            ("float", -posting.load_fen),
            ("float", posting.purchase_fen),
            (f"payable:{participant}", -posting.purchase_fen),
        ]
        rows = posting.rows
        # A metro entry is a record of 0 fen: it is cleared (its counter is spent) but moves no money.
        if any(amount for _, amount in lines):
            posting_id = self.ledger.post(day_int(clearing_day), f"batch {batch_id} {name}", lines)
            assert posting_id == posting.posting_id, "the rows named the posting before it was made"
        else:
            rows = [(*row[:-1], 0) for row in rows]
        self.db.executemany(
            "INSERT INTO records(key, batch_id, participant, tx_type, amount_fen, day, terminal_id, serial, "
            "posting_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        report.posted = len(posting.rows)
        report.posted_load_fen = posting.load_fen
        report.posted_purchase_fen = posting.purchase_fen
        # Money is conserved through the check: what went in is what the posting carries.
        assert posting.load_fen + posting.purchase_fen == sum(row[4] for row in posting.rows)

    def _add_quarantine(self, held: list[tuple[int, int, str, str, bytes | None, bytes | None]]) -> None:
        if not held:
            return
        if self._quarantine_rows + len(held) > QUARANTINE_MAX:
            raise ClearingError(
                f"quarantine would exceed {QUARANTINE_MAX} entries: review it before ingesting more"
            )
        first = int(self.db.execute("SELECT COALESCE(MAX(id), 0) FROM quarantine").fetchone()[0]) + 1
        self.db.executemany(
            "INSERT INTO quarantine(id, batch_id, idx, reason, detail, raw, key) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(first + n, *row) for n, row in enumerate(held)],
        )
        self._quarantine_rows += len(held)
        for n, (_, _, reason, _, chunk, key) in enumerate(held):
            if reason in _GAPS and chunk is not None and key is not None:
                record = decode_record(chunk, "held record", check_crc=False)
                owner = self.registry.owner(record.terminal_id)
                assert owner is not None
                self._spent.hold_gap(first + n, reason, record, owner.participant_id)

    def _add_alerts(self, batch_id: int, report: IngestReport) -> None:
        """A reused serial or a spent counter under a valid TAC is someone's dishonesty or a
        clone: an alert for a person, kept in the database beside the hold."""
        for reason, detail in report.quarantined:
            if reason in _ALERTING:
                report.alerts.append(f"{reason.value}: {detail}")
                self.db.execute(
                    "INSERT INTO alerts(batch_id, kind, detail) VALUES (?, ?, ?)",
                    (batch_id, reason.value, detail),
                )

    # -- review and gaps ----------------------------------------------------------------

    def _release_closed_gaps(self, clearing_day: date, touched: list[WireRecord] | None = None) -> int:
        """Post every held gap that `touched` (a batch's records) closed, and the gaps those
        close in turn; all held gaps when `touched` is None (after a review).

        O(touched + released): a held gap is found by the counter or serial it waits for, never
        by scanning every held gap at every batch (which made the night quadratic)."""
        spent = self._spent
        queue = sorted(spent.held_gaps) if touched is None else spent.waiting_on(touched)
        released = 0
        while queue:
            qid = queue.pop(0)
            entry = spent.held_gaps.get(qid)
            if entry is None or spent.gap_open(entry[1]):
                continue
            self._post_released(qid, entry[1], entry[2], clearing_day, "gap closed by a later upload")
            released += 1
            queue += spent.waiting_on([entry[1]])
        return released

    def _post_released(self, qid: int, record: WireRecord, participant: str, day: date, note: str) -> None:
        key = record_key(record.asn, record.tx_type, record.counter)
        if record.is_load:
            owner = self.registry.participants[participant]
            debit = "transfer" if owner.sector is Sector.TRANSFER else f"receivable:{participant}"
            lines = [(debit, record.amount_fen), ("float", -record.amount_fen)]
        else:
            lines = [("float", record.amount_fen), (f"payable:{participant}", -record.amount_fen)]
        posting_id = None
        if record.amount_fen:
            posting_id = self.ledger.post(day_int(day), f"release quarantine {qid}: {note}", lines)
        batch_id = self.db.execute("SELECT batch_id FROM quarantine WHERE id = ?", (qid,)).fetchone()[0]
        self.db.execute(
            "INSERT INTO records(key, batch_id, participant, tx_type, amount_fen, day, terminal_id, serial, "
            "posting_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                key,
                batch_id,
                participant,
                record.tx_type,
                record.amount_fen,
                record.day,
                record.terminal_id,
                record.terminal_serial,
                posting_id or 0,
            ),
        )
        self.db.execute(
            "INSERT INTO releases(quarantine_id, posting_id, note) VALUES (?, ?, ?)", (qid, posting_id, note)
        )
        self._spent.shadow[record.asn] += record.amount_fen if record.is_load else -record.amount_fen
        self._spent.see(record)
        self._spent.drop_gap(qid)

    def _undecided(self, verb: str, quarantine_id: int, note: str) -> tuple[Reason, bytes | None]:
        row = self.db.execute("SELECT reason, raw FROM quarantine WHERE id = ?", (quarantine_id,)).fetchone()
        if row is None:
            raise ClearingError(f"{verb}: no quarantine entry {quarantine_id}")
        if self.db.execute("SELECT 1 FROM releases WHERE quarantine_id = ?", (quarantine_id,)).fetchone():
            raise ClearingError(f"{verb}: quarantine {quarantine_id} is already released")
        if self.db.execute("SELECT 1 FROM rejections WHERE quarantine_id = ?", (quarantine_id,)).fetchone():
            raise ClearingError(f"{verb}: quarantine {quarantine_id} is already rejected")
        if not note.strip():
            raise ClearingError(f"{verb}: quarantine {quarantine_id}: a review note is required")
        return Reason(row[0]), None if row[1] is None else bytes(row[1])

    def refusal(self, reason: Reason, record: WireRecord) -> str:
        """Why a held record cannot be posted now, or '' when it can (re-verified against the
        keys and the books as they are now)."""
        if reason not in RELEASABLE and reason not in REVERIFIABLE:
            return f"a {reason.value} record can never be posted: its transaction is paid or unproven"
        if reason in REVERIFIABLE and not self.verifier.verify(record):
            return "its TAC still does not verify with the issuer keys loaded (correct the key file first)"
        if reason in (Reason.NO_PROOF, Reason.FORGED_TAC):
            return self._spent.taken_by(record)  # the counter or serial a proven record holds
        return ""

    def release(self, quarantine_id: int, note: str, clearing_day: date) -> None:
        """A person reviewed the held record and accepts it: post it now, or say why not."""
        reason, raw = self._undecided("release", quarantine_id, note)
        if raw is None:
            raise ClearingError(
                f"release: quarantine {quarantine_id} ({reason.value}) is a whole file or unreadable "
                "bytes: it can never be posted"
            )
        record = decode_record(raw, f"quarantine {quarantine_id}", check_crc=False)
        why = self.refusal(reason, record)
        if why:
            raise ClearingError(f"release: quarantine {quarantine_id} ({reason.value}): {why}")
        owner = self.registry.owner(record.terminal_id)
        if owner is None:
            raise ClearingError(
                f"release: quarantine {quarantine_id}: terminal {record.terminal_id.hex()} unknown"
            )
        try:
            with self.ledger.transaction():
                self._post_released(quarantine_id, record, owner.participant_id, clearing_day, note)
                self._release_closed_gaps(clearing_day)
        except BaseException:
            self._load_state()  # rolled back: memory follows the database
            raise

    def reject(self, quarantine_id: int, note: str) -> None:
        """A person reviewed the held record and refuses it for good: it is never paid, and
        what it held (a counter, a serial) is given back."""
        self._undecided("reject", quarantine_id, note)
        with self.ledger.transaction():
            self.db.execute(
                "INSERT INTO rejections(quarantine_id, note) VALUES (?, ?)", (quarantine_id, note)
            )
        self._load_state()

    def release_reverified(self, clearing_day: date) -> list[int]:
        """Every forged-tac hold whose TAC verifies with the keys loaded now, released: the
        night a key file was wrong is put right by rerunning with the corrected one."""
        released: list[int] = []
        for quarantine_id, reason, _ in self.held():
            if reason != Reason.FORGED_TAC.value:
                continue
            raw = self.db.execute("SELECT raw FROM quarantine WHERE id = ?", (quarantine_id,)).fetchone()[0]
            if raw is None:
                continue
            if self.refusal(Reason.FORGED_TAC, decode_record(bytes(raw), "held", check_crc=False)):
                continue
            self.release(quarantine_id, "re-verified with corrected issuer keys", clearing_day)
            released.append(quarantine_id)
        return released

    def reingest(self, batch_name: str, clearing_day: date) -> IngestReport:
        """A batch quarantined whole (unknown terminal) is ingested again once the registry
        knows its terminal: the kept bytes are the input, under a new name."""
        row = self.db.execute(
            "SELECT b.raw, q.id FROM batches b JOIN quarantine q ON q.batch_id = b.id "
            "WHERE b.name = ? AND q.reason = ? AND q.idx = -1",
            (batch_name, Reason.UNKNOWN_TERMINAL.value),
        ).fetchone()
        if row is None:
            raise ClearingError(f"reingest: no batch {batch_name!r} held for an unknown terminal")
        return self._reingest(bytes(row[0]), int(row[1]), batch_name, clearing_day)

    def _reingest(self, raw: bytes, qid: int, batch_name: str, clearing_day: date) -> IngestReport:
        # The file's own digest is taken by its first ingest; a reingest is keyed apart from it.
        digest = hashlib.sha256(b"reingest:" + raw).digest()
        if self.db.execute("SELECT 1 FROM batches WHERE digest = ?", (digest,)).fetchone():
            return IngestReport(f"{batch_name}#reingest", already_ingested=True)
        try:
            with self.ledger.transaction():
                report = self._ingest(raw, digest, f"{batch_name}#reingest", clearing_day)
                self.db.execute(
                    "INSERT INTO releases(quarantine_id, posting_id, note) VALUES (?, NULL, ?)",
                    (qid, f"terminal registered, batch reingested as {batch_name}#reingest"),
                )
                return report
        except BaseException:
            self._load_state()
            raise

    # -- queries ------------------------------------------------------------------------

    def held(self) -> list[tuple[int, str, str]]:
        """Quarantine entries neither released nor rejected: (id, reason, detail)."""
        return [
            (int(q), str(r), str(d))
            for q, r, d in self.db.execute(
                f"SELECT id, reason, detail FROM quarantine WHERE id NOT IN ({DECIDED_SQL}) ORDER BY id"
            )
        ]

    def shadow_balance_fen(self, asn: bytes) -> int:
        """The card's balance as the back office knows it: every posted record's effect, both purses."""
        return self._spent.shadow.get(asn, 0)


def groups(
    files: Iterable[tuple[str, bytes]],
    files_max: int = GROUP_FILES_MAX,
    bytes_max: int = GROUP_BYTES_MAX,
) -> Iterator[list[tuple[str, bytes]]]:
    """The files, in order, cut into groups of at most `files_max` files; a group closes as
    soon as it holds `bytes_max` bytes (one big file is a group by itself). O(files)."""
    chunk: list[tuple[str, bytes]] = []
    size = 0
    for item in files:
        chunk.append(item)
        size += len(item[1])
        if len(chunk) >= files_max or size >= bytes_max:
            yield chunk
            chunk, size = [], 0
    if chunk:
        yield chunk


def _held_key(reason: Reason, key: bytes) -> bytes | None:
    """The card key a held record keeps: those that may still be posted (or close a gap)."""
    return key if reason in (Reason.NO_PROOF, Reason.COUNTER_CONFLICT) else None


class _Hold(Protocol):
    def __call__(
        self, index: int, reason: Reason, detail: str, chunk: bytes | None, key: bytes | None
    ) -> None: ...
