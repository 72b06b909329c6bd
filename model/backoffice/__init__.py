"""The back office: the clearing house that ingests batch files once and verifies every record
(`clearing`, its face, over the rooms `house` (its state), `batch_ingest`, `record_checks`,
`holds`, `posting`, `stage` and `review`; its vocabulary in `terms`, its tables and identity
indexes in `clearing_schema`, the identities it has seen in `identity`, TACs through
`tac_verifier`, the night's key check in
`key_check`, one writer per database in `writer_lock`, cloned cards in `clone_watch`, the
cycle collector paused for a unit of work in `gc_pause`), the
double-entry ledger on SQLite (`ledger`), T+1 settlement with fees (`settlement`, `fees`),
reconciliation of card-side totals against the ledger and banks (`reconciliation`), the float
carried in from before the books began (`opening_float`), the
participants (`registry`), the issuer's load host that authorises loads (`load_host`) and the
banks that fund them (`bank`), the citizen's online account (`accounts`) and the card lifecycle
(`lifecycle`).
"""

from model.backoffice.accounts import CitizenAccounts
from model.backoffice.bank import Bank, BankFunding
from model.backoffice.clearing import (
    BATCH_BYTES_MAX,
    CUTOFF_DAYS_DEFAULT,
    GROUP_BYTES_MAX,
    GROUP_FILES_MAX,
    ClearingHouse,
    groups,
)
from model.backoffice.clone_watch import find_clones
from model.backoffice.fees import FeeSchedule, load_fee_schedule
from model.backoffice.key_check import ABNORMAL_SAMPLES_MIN, SAMPLE_HEAD_BYTES, check_night_keys
from model.backoffice.ledger import Ledger, open_database
from model.backoffice.lifecycle import CardLifecycle, Hotlist, load_hotlist_file
from model.backoffice.load_host import Funding, LoadHost, LoadRequest
from model.backoffice.opening_float import OPENING_ACCOUNT, book_opening_float, opening_float_fen
from model.backoffice.reconciliation import reconcile
from model.backoffice.registry import Participant, Registry, Sector, TerminalEntry, load_registry
from model.backoffice.settlement import Settlement, SettlementError, SettlementReport
from model.backoffice.tac_verifier import TacVerifier
from model.backoffice.terms import RELEASABLE, ClearingError, IngestReport, Reason, record_key
from model.backoffice.writer_lock import WriterLock

__all__ = [
    "ABNORMAL_SAMPLES_MIN",
    "BATCH_BYTES_MAX",
    "CUTOFF_DAYS_DEFAULT",
    "GROUP_BYTES_MAX",
    "GROUP_FILES_MAX",
    "OPENING_ACCOUNT",
    "RELEASABLE",
    "SAMPLE_HEAD_BYTES",
    "Bank",
    "BankFunding",
    "CardLifecycle",
    "CitizenAccounts",
    "ClearingError",
    "ClearingHouse",
    "FeeSchedule",
    "Funding",
    "Hotlist",
    "IngestReport",
    "Ledger",
    "LoadHost",
    "LoadRequest",
    "Participant",
    "Reason",
    "Registry",
    "Sector",
    "Settlement",
    "SettlementError",
    "SettlementReport",
    "TacVerifier",
    "TerminalEntry",
    "WriterLock",
    "book_opening_float",
    "check_night_keys",
    "find_clones",
    "groups",
    "load_fee_schedule",
    "load_hotlist_file",
    "load_registry",
    "open_database",
    "opening_float_fen",
    "reconcile",
    "record_key",
]
