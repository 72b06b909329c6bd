"""The back office wired together over one clearing database: the parts `model/` defines.

Used by the `cardtwin clearing` command, the clearing benchmark and the simulated week; it only
connects the model's pieces (ledger, clearing house, hotlist, lifecycle, accounts, settlement).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from model.backoffice import (
    BATCH_BYTES_MAX,
    CUTOFF_DAYS_DEFAULT,
    SAMPLE_HEAD_BYTES,
    CardLifecycle,
    CitizenAccounts,
    ClearingError,
    ClearingHouse,
    FeeSchedule,
    Hotlist,
    IngestReport,
    Ledger,
    Reason,
    Registry,
    Settlement,
    TacVerifier,
    WriterLock,
    check_night_keys,
    open_database,
)
from model.security import CachedIssuerKeyStore, IssuerKeys, KeyUsage

BATCH_SUFFIX = ".ctb"
BATCH_FILES_MAX = 100_000


@dataclass(slots=True)
class BackOffice:
    ledger: Ledger
    clearing: ClearingHouse
    hotlist: Hotlist
    lifecycle: CardLifecycle
    accounts: CitizenAccounts
    settlement: Settlement
    writer_lock: WriterLock | None = None

    @staticmethod
    def open(
        db_path: Path | str,
        registry: Registry,
        issuer_keys: IssuerKeys,
        fees: FeeSchedule | None = None,
        cutoff_days: int = CUTOFF_DAYS_DEFAULT,
    ) -> BackOffice:
        # One writer per database: a second process is refused here, in one line.
        writer_lock = WriterLock.acquire(db_path)
        try:
            return BackOffice._build(db_path, registry, issuer_keys, fees, cutoff_days, writer_lock)
        except BaseException:
            if writer_lock is not None:
                writer_lock.release()
            raise

    @staticmethod
    def _build(
        db_path: Path | str,
        registry: Registry,
        issuer_keys: IssuerKeys,
        fees: FeeSchedule | None,
        cutoff_days: int,
        writer_lock: WriterLock | None,
    ) -> BackOffice:
        db = open_database(db_path)
        # Every part makes its tables with IF NOT EXISTS, one statement and one commit each: on a
        # new database 32 synced commits, a quarter of a twin night's wall time and 2% of its
        # CPU. A power cut that loses them costs the next open nothing (it makes them again),
        # so they need not wait for the disk; every transaction of the work that follows sets
        # its own sync mode (Ledger.transaction), and anything else runs FULL again.
        db.execute("PRAGMA synchronous=NORMAL")
        ledger = Ledger(db)
        hotlist = Hotlist(ledger.db)
        # The clearing house may derive TAC keys only: it never needs to make a MAC.
        verifier = TacVerifier(CachedIssuerKeyStore(issuer_keys, frozenset({KeyUsage.TAC})))
        clearing = ClearingHouse(ledger, registry, verifier, hotlist, cutoff_days)
        lifecycle = CardLifecycle(ledger, hotlist, issuer_keys.issuer_id[:4], clearing.shadow_balance_fen)
        accounts = CitizenAccounts(ledger, registry)
        settlement = Settlement(ledger, registry, fees or FeeSchedule())
        db.execute("PRAGMA synchronous=FULL")
        return BackOffice(ledger, clearing, hotlist, lifecycle, accounts, settlement, writer_lock)

    def close(self) -> None:
        """Close the database, then give up the writer lock (in that order: no write after)."""
        self.ledger.db.close()
        if self.writer_lock is not None:
            self.writer_lock.release()

    def ingest_dir(
        self, folder: Path, clearing_day: date, key_file: str = "issuer keys"
    ) -> list[IngestReport]:
        """Every `*.ctb` file in name order (the upload order), in groups of files that commit
        together (`ClearingHouse.group`), each file under its own savepoint.

        First the keys are tried on a sample of every file's records (model.backoffice.key_check):
        a key file that verifies none of an issuer's records stops the night before it posts.
        A file is sized before it is read; one that is too big or cannot be read is reported and
        left in the folder, and the others go on. A database that refuses a write (disk full,
        I/O error) stops the night in one line (ClearingError): the group in flight rolled
        back whole."""
        files = sorted(folder.glob(f"*{BATCH_SUFFIX}"))
        if len(files) > BATCH_FILES_MAX:
            raise ClearingError(f"{folder}: {len(files)} batch files, at most {BATCH_FILES_MAX} per run")
        check_night_keys(self.clearing.verifier, _heads(files), key_file)
        try:
            # Read lazily: a group's files are in memory at a time, not the night's.
            return self.clearing.ingest_files(((path.name, _read(path)) for path in files), clearing_day)
        except sqlite3.OperationalError as exc:
            raise ClearingError(
                f"{folder}: the clearing database refused the write ({exc}); the group of files in "
                "flight rolled back whole (the groups before it are cleared), rerun once it is fixed"
            ) from None


def _read(path: Path) -> bytes | IngestReport:
    """A file's bytes, or the report of a file not read (too big, unreadable)."""
    try:
        size = path.stat().st_size
        if size > BATCH_BYTES_MAX:
            return _unread(path, f"{size} bytes, a batch file has at most {BATCH_BYTES_MAX}: not read")
        return path.read_bytes()
    except OSError as exc:
        return _unread(path, f"cannot read: {exc.strerror}")


def _heads(files: list[Path]) -> Iterator[tuple[str, bytes]]:
    for path in files:
        try:
            with path.open("rb") as handle:
                yield path.name, handle.read(SAMPLE_HEAD_BYTES)
        except OSError:
            continue  # the ingest reports it


def _unread(path: Path, detail: str) -> IngestReport:
    """A file the clearing house did not read: reported, left in the folder for the next run."""
    return IngestReport(path.name, quarantined=[(Reason.CORRUPT_BATCH, f"{path.name}: {detail}")])
