"""The back office wired together over one clearing database: the parts `model/` defines.

Used by the `cardtwin clearing` command, the clearing benchmark and the simulated week; it only
connects the model's pieces (ledger, clearing house, hotlist, lifecycle, accounts, settlement).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from model.backoffice import (
    CUTOFF_DAYS_DEFAULT,
    CardLifecycle,
    CitizenAccounts,
    ClearingError,
    ClearingHouse,
    FeeSchedule,
    Hotlist,
    IngestReport,
    Ledger,
    Registry,
    Settlement,
    TacVerifier,
    WriterLock,
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
        ledger = Ledger(open_database(db_path))
        hotlist = Hotlist(ledger.db)
        # The clearing house may derive TAC keys only: it never needs to make a MAC.
        verifier = TacVerifier(CachedIssuerKeyStore(issuer_keys, frozenset({KeyUsage.TAC})))
        clearing = ClearingHouse(ledger, registry, verifier, hotlist, cutoff_days)
        lifecycle = CardLifecycle(ledger, hotlist, issuer_keys.issuer_id[:4], clearing.shadow_balance_fen)
        accounts = CitizenAccounts(ledger, registry)
        settlement = Settlement(ledger, registry, fees or FeeSchedule())
        return BackOffice(ledger, clearing, hotlist, lifecycle, accounts, settlement, writer_lock)

    def close(self) -> None:
        """Close the database, then give up the writer lock (in that order: no write after)."""
        self.ledger.db.close()
        if self.writer_lock is not None:
            self.writer_lock.release()

    def ingest_dir(self, folder: Path, clearing_day: date) -> list[IngestReport]:
        """Every `*.ctb` file in name order (the upload order), each its own transaction."""
        files = sorted(folder.glob(f"*{BATCH_SUFFIX}"))
        if len(files) > BATCH_FILES_MAX:
            raise ClearingError(f"{folder}: {len(files)} batch files, at most {BATCH_FILES_MAX} per run")
        return [self.clearing.ingest_file(path.read_bytes(), path.name, clearing_day) for path in files]
