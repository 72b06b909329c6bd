"""The clearing house: ingests terminal batches, proves every record, posts it once, or holds it.

One batch file is one unit of work: the batch row, the records posted, the records
quarantined (each with its bytes; the whole file's bytes too when any part of it is held) and
the ledger postings commit together, in the file's own transaction (`ingest_file`) or in a
group of files that commit together (`ingest_files`). A batch is known by the SHA-256 of its
bytes, so ingesting the same file again is a no-op, and a process killed in the middle leaves
nothing of the batch (or of its group) behind: the rerun ingests it whole.

Duplicates, gaps and shadow balances are decided from memory (every key, counter and serial
seen), rebuilt from the committed tables when the clearing house opens and after any rolled
back batch, so memory never disagrees with the database (model.backoffice.house).

This module is the house's face: the unit of work (a group of files, each file's fate inside
it) and the operator's door. The work is in rooms, one purpose each: `batch_ingest` reads a
file, `record_checks` proves its records, `holds` holds and releases them, `posting` posts a
group's batches (one posting per participant), `stage` writes a group's rows together,
`review` is the operator's review.

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
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from datetime import date

from model.backoffice import review
from model.backoffice.batch_ingest import ingest_batch, stage_group_end
from model.backoffice.house import CUTOFF_DAYS_DEFAULT, House
from model.backoffice.terms import ClearingError, IngestReport, Reason
from model.records import WireRecord

__all__ = [
    "BATCH_BYTES_MAX",
    "CUTOFF_DAYS_DEFAULT",
    "GROUP_BYTES_MAX",
    "GROUP_FILES_MAX",
    "ClearingError",
    "ClearingHouse",
    "groups",
]

BATCH_BYTES_MAX = 64 * 1024 * 1024
# A group of files in one transaction closes at whichever comes first. Bounded so that a kill
# costs a rerun little work and the stage and the WAL stay small; large enough that a night of
# 8-record files pays a commit per few thousand records, as a night of 2,000-record files does.
GROUP_FILES_MAX = 512
GROUP_BYTES_MAX = 1024 * 1024
_DIGESTS_PER_QUERY = 500  # below SQLite's oldest limit on a statement's parameters (999)

File = tuple[str, "bytes | IngestReport"]  # a file's name and bytes, or the report of one not read


class ClearingHouse(House):
    """Ingest, verify, quarantine, post. One instance per clearing database."""

    # -- ingest -------------------------------------------------------------------------

    def ingest_file(self, raw: bytes, name: str, clearing_day: date) -> IngestReport:
        """Ingest one batch file's bytes in its own transaction. Idempotent by content."""
        return self._group([(name, raw)], clearing_day)[0]

    def ingest_files(self, files: Iterable[File], clearing_day: date) -> list[IngestReport]:
        """`ingest_file` for each (name, bytes), in order, several files to a transaction (cut
        by `groups`): same books, same reports, one commit per group. A file given as its
        report (one the caller could not read) keeps it and takes no part."""
        reports: list[IngestReport] = []
        for chunk in groups(files):
            reports += self._group(chunk, clearing_day)
        return reports

    def ingest_with(
        self, files: list[File], clearing_day: date, finish: Callable[[list[IngestReport]], None]
    ) -> list[IngestReport]:
        """The files and the caller's own rows in ONE transaction: `finish` runs inside it with
        the files' reports (e.g. an interchange file's acknowledgement, which must be written
        with the records it acknowledges, or neither). All or nothing: a file refused in one
        line, an identity clash or a crash rolls back every file and the caller's rows."""
        with self.staged(durable=False):
            reports, refused = self._stage_files(files, clearing_day)
            if refused is not None:
                raise refused
            finish(reports)
        return reports

    def _group(self, chunk: list[File], clearing_day: date, retry: bool = True) -> list[IngestReport]:
        """One transaction for the files of `chunk`, their rows staged and written at its end.

        Guarantees: a file's batch row (what marks it seen) and its records are in the same
        transaction, so a kill at any point leaves the whole group or nothing of it, and the
        rerun ingests what is missing. A file refused in one line (ClearingError) is cut off
        the stage; the files before it commit and the error goes on, as when each file was its
        own transaction. A record already on the books under another writer (the unique
        identity indexes refuse it at the write) rolls the group back; memory is rebuilt from
        the database and each file runs again alone, once more at most, so what the other
        writer posted is held here as duplicates. Anything else (disk full, I/O, an interrupt)
        rolls the whole group back; memory follows."""
        refused: ClearingError | None = None
        try:
            with self.staged(durable=False):
                reports, refused = self._stage_files(chunk, clearing_day)
        except sqlite3.IntegrityError as exc:
            if len(chunk) > 1:
                return [report for item in chunk for report in self._group([item], clearing_day)]
            if not retry:
                raise ClearingError(
                    f"{chunk[0][0]}: refused by the database's identity rule after a reload ({exc})"
                ) from None
            return self._group(chunk, clearing_day, retry=False)
        if refused is not None:
            self.load_state()  # the refused file's checks touched memory; the database did not
            raise refused
        return reports

    def _stage_files(
        self, chunk: list[File], clearing_day: date
    ) -> tuple[list[IngestReport], ClearingError | None]:
        """Each file of the chunk onto the stage, in order, until one is refused; then the staged
        files' postings, one per participant, and the gap releases they made
        (batch_ingest.stage_group_end)."""
        reports, refused = self._stage_each(chunk, clearing_day)
        stage_group_end(self, clearing_day)
        return reports, refused

    def _stage_each(
        self, chunk: list[File], clearing_day: date
    ) -> tuple[list[IngestReport], ClearingError | None]:
        digests = {id(item): hashlib.sha256(item).digest() for _, item in chunk if isinstance(item, bytes)}
        known = self._known_digests(list(digests.values()))
        reports: list[IngestReport] = []
        for name, item in chunk:
            if isinstance(item, IngestReport):
                reports.append(item)
                continue
            if len(item) > BATCH_BYTES_MAX:
                return reports, ClearingError(
                    f"{name}: {len(item)} bytes, a batch file has at most {BATCH_BYTES_MAX}"
                )
            digest = digests[id(item)]
            if digest in known or digest in self.stage.digests:
                reports.append(IngestReport(name, already_ingested=True))
                continue
            mark = self.stage.mark()
            try:
                reports.append(ingest_batch(self, item, digest, name, clearing_day))
            except ClearingError as exc:
                self.stage.truncate(mark)
                return reports, exc
        return reports, None

    def _known_digests(self, digests: list[bytes]) -> set[bytes]:
        """Which of these file digests the database has seen: one query per 500 files."""
        known: set[bytes] = set()
        for start in range(0, len(digests), _DIGESTS_PER_QUERY):
            part = digests[start : start + _DIGESTS_PER_QUERY]
            marks = ", ".join("?" * len(part))
            known |= {
                bytes(row[0])
                for row in self.db.execute(f"SELECT digest FROM batches WHERE digest IN ({marks})", part)
            }
        return known

    # -- the operator's door (model.backoffice.review) ------------------------------------

    def refusal(self, reason: Reason, record: WireRecord) -> str:
        """Why a held record cannot be posted now, or '' when it can."""
        return review.refusal(self, reason, record)

    def release(self, quarantine_id: int, note: str, clearing_day: date) -> None:
        """A person reviewed the held record and accepts it: post it now, or say why not."""
        review.release(self, quarantine_id, note, clearing_day)

    def reject(self, quarantine_id: int, note: str) -> None:
        """A person refuses the held record for good; what it held is given back."""
        review.reject(self, quarantine_id, note)

    def release_reverified(self, clearing_day: date) -> list[int]:
        """Every forged-tac hold whose TAC verifies with the keys loaded now, released."""
        return review.release_reverified(self, clearing_day)

    def reingest(self, batch_name: str, clearing_day: date) -> IngestReport:
        """A batch held whole for an unknown terminal, ingested again once it is registered."""
        return review.reingest(self, batch_name, clearing_day)

    def held(self) -> list[tuple[int, str, str]]:
        """Quarantine entries neither released nor rejected: (id, reason, detail)."""
        return review.held(self)

    def shadow_balance_fen(self, asn: bytes) -> int:
        """The card's balance as the back office knows it: every posted record's effect, both purses."""
        return self.spent.shadow.get(asn, 0)


def groups(
    files: Iterable[File],
    files_max: int = GROUP_FILES_MAX,
    bytes_max: int = GROUP_BYTES_MAX,
) -> Iterator[list[File]]:
    """The files, in order, cut into groups of at most `files_max` files; a group closes as
    soon as it holds `bytes_max` bytes (one big file is a group by itself). O(files)."""
    chunk: list[File] = []
    size = 0
    for item in files:
        chunk.append(item)
        size += len(item[1]) if isinstance(item[1], bytes) else 0
        if len(chunk) >= files_max or size >= bytes_max:
            yield chunk
            chunk, size = [], 0
    if chunk:
        yield chunk
