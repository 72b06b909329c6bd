"""The card lifecycle in the back office: apply, personalise, issue, lose, replace, refund, close.

    APPLIED --personalised--> PERSONALISED --issue (deposit)--> ISSUED
    ISSUED --report_loss--> LOST --replace--> REPLACED   (a new card takes its balance)
    ISSUED --refund_and_close--> CLOSED                  (balance and deposit paid back)

A loss goes on the hotlist at once, but terminals learn of it only after the propagation delay
(offline validators fetch lists at the depot): records up to the effect time are honoured,
records after it are quarantined by the clearing house. The replacement waits for the effect
time so no honoured record can still arrive, then moves the back office's *shadow balance*
(every cleared record of the old card) to the new card: the old card's value is written off the
float into `transfer`, and the operator's transfer window loads it onto the new card, which the
clearing house posts from `transfer` back to the float.

The physical personalisation (keys, files) is the card factory's (devices.factory); the caller
runs it between `apply` and `issue`, so this module stays free of device code.
"""

from __future__ import annotations

import sqlite3
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from pathlib import Path

from model.backoffice.ledger import Ledger
from model.backoffice.terms import day_int
from model.errors import CardTwinError
from model.timefmt import decode_datetime, encode_datetime

DEPOSIT_FEN_DEFAULT = 2_000  # CNY 20, as Beijing and Shanghai charge
PROPAGATION_DELAY_DEFAULT = timedelta(hours=24)
HOTLIST_MAX = 1_000_000
CARDS_MAX = 50_000_000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS cards (
    asn BLOB PRIMARY KEY,
    citizen TEXT NOT NULL,
    state TEXT NOT NULL,
    deposit_fen INTEGER NOT NULL DEFAULT 0,
    replaced_by BLOB
);
CREATE TABLE IF NOT EXISTS card_events (
    id INTEGER PRIMARY KEY,
    asn BLOB NOT NULL,
    kind TEXT NOT NULL,
    amount_fen INTEGER NOT NULL,
    at TEXT NOT NULL,
    posting_id INTEGER
);
CREATE TABLE IF NOT EXISTS hotlist (
    asn BLOB PRIMARY KEY,
    reported_at TEXT NOT NULL,
    effective_at BLOB NOT NULL     -- BCD YYYYMMDDhhmmss
) WITHOUT ROWID;
"""


ShadowBalance = Callable[[bytes], int]
"""The back office's balance of a card from its cleared records (`ClearingHouse.shadow_balance_fen`)."""


class LifecycleError(CardTwinError):
    """A lifecycle step the card's state does not allow."""


class CardStateName(Enum):
    APPLIED = "applied"
    PERSONALISED = "personalised"
    ISSUED = "issued"
    LOST = "lost"
    REPLACED = "replaced"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class Replacement:
    old_asn: bytes
    new_asn: bytes
    balance_fen: int  # to load onto the new card at the transfer window


class Hotlist:
    """Lost and closed cards with the moment their listing takes effect at terminals."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        db.executescript(_SCHEMA)
        self.reload()

    def reload(self) -> None:
        """Memory from the table: after a rolled-back transaction that had added to it."""
        self._effective: dict[bytes, bytes] = {
            bytes(asn): bytes(at) for asn, at in self.db.execute("SELECT asn, effective_at FROM hotlist")
        }

    def add(self, asn: bytes, reported_at: datetime, effective_at: datetime) -> None:
        if len(self._effective) >= HOTLIST_MAX:
            raise LifecycleError(f"hotlist: {HOTLIST_MAX} cards listed, cannot add {asn.hex()}")
        when = encode_datetime(effective_at)
        self.db.execute(
            "INSERT OR IGNORE INTO hotlist(asn, reported_at, effective_at) VALUES (?, ?, ?)",
            (asn, reported_at.isoformat(), when),
        )
        self._effective.setdefault(asn, when)

    def effective(self, asn: bytes) -> bytes | None:
        return self._effective.get(asn)

    def at(self, moment: datetime) -> frozenset[bytes]:
        """The list a terminal holds at `moment`: only the cards whose listing took effect."""
        now = encode_datetime(moment)
        return frozenset(asn for asn, when in self._effective.items() if when <= now)


def load_hotlist_file(path: Path) -> list[tuple[bytes, datetime]]:
    """A hotlist as exchanged with terminals and other back offices (TOML): `[[card]]` tables
    with `asn` (16 hex digits) and `effective` (BCD YYYYMMDDhhmmss as 14 digits)."""
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise LifecycleError(f"{path}: cannot read hotlist: {exc}") from None
    entries: list[tuple[bytes, datetime]] = []
    cards = doc.get("card", [])
    if not isinstance(cards, list) or len(cards) > HOTLIST_MAX:
        raise LifecycleError(f"{path}: 'card' must be an array of at most {HOTLIST_MAX} tables")
    for number, entry in enumerate(cards, start=1):
        where = f"{path}: card #{number}"
        try:
            asn = bytes.fromhex(str(entry["asn"]))
            effective = decode_datetime(bytes.fromhex(str(entry["effective"])), where)
        except (KeyError, TypeError, ValueError):
            raise LifecycleError(f"{where}: needs asn (16 hex) and effective (YYYYMMDDhhmmss)") from None
        if len(asn) != 8:
            raise LifecycleError(f"{where}: asn must be 8 bytes")
        entries.append((asn, effective))
    return entries


class CardLifecycle:
    """Card records of one issuer, with their money effects on the ledger."""

    def __init__(
        self,
        ledger: Ledger,
        hotlist: Hotlist,
        asn_prefix: bytes,
        shadow_balance_fen: ShadowBalance,
        propagation_delay: timedelta = PROPAGATION_DELAY_DEFAULT,
        deposit_fen: int = DEPOSIT_FEN_DEFAULT,
    ) -> None:
        if len(asn_prefix) != 4:
            raise LifecycleError(f"ASN prefix: {len(asn_prefix)} bytes, expected 4")
        self.ledger = ledger
        self.db = ledger.db
        self.hotlist = hotlist
        self.asn_prefix = asn_prefix
        self.shadow_balance_fen = shadow_balance_fen
        self.propagation_delay = propagation_delay
        self.deposit_fen = deposit_fen
        self.db.executescript(_SCHEMA)

    def _state(self, asn: bytes) -> CardStateName:
        row = self.db.execute("SELECT state FROM cards WHERE asn = ?", (asn,)).fetchone()
        if row is None:
            raise LifecycleError(f"card {asn.hex()}: unknown to the back office")
        return CardStateName(row[0])

    def _move(self, asn: bytes, expected: CardStateName, new: CardStateName, step: str) -> None:
        state = self._state(asn)
        if state is not expected:
            raise LifecycleError(
                f"card {asn.hex()}: cannot {step}, it is {state.value} (needs {expected.value})"
            )
        self.db.execute("UPDATE cards SET state = ? WHERE asn = ?", (new.value, asn))

    def _event(self, asn: bytes, kind: str, amount_fen: int, at: datetime, posting_id: int | None) -> None:
        self.db.execute(
            "INSERT INTO card_events(asn, kind, amount_fen, at, posting_id) VALUES (?, ?, ?, ?, ?)",
            (asn, kind, amount_fen, at.isoformat(), posting_id),
        )

    def apply(self, citizen: str, at: datetime) -> bytes:
        """A citizen applies: the card gets its ASN (issuer prefix + sequence)."""
        if not citizen:
            raise LifecycleError("apply: a citizen id is required")
        with self.ledger.transaction():
            return self._apply(citizen, at)

    def _apply(self, citizen: str, at: datetime) -> bytes:
        count = int(self.db.execute("SELECT COUNT(*) FROM cards").fetchone()[0])
        if count >= CARDS_MAX:
            raise LifecycleError(f"apply: {CARDS_MAX} cards issued")
        asn = self.asn_prefix + (count + 1).to_bytes(4, "big")
        self.db.execute(
            "INSERT INTO cards(asn, citizen, state) VALUES (?, ?, ?)",
            (asn, citizen, CardStateName.APPLIED.value),
        )
        self._event(asn, "apply", 0, at, None)
        return asn

    def personalised(self, asn: bytes, at: datetime) -> None:
        with self.ledger.transaction():
            self._move(asn, CardStateName.APPLIED, CardStateName.PERSONALISED, "record personalisation")
            self._event(asn, "personalise", 0, at, None)

    def issue(self, asn: bytes, at: datetime, deposit_fen: int | None = None) -> None:
        """Hand the card over; the deposit is paid in cash into the reserve."""
        deposit = self.deposit_fen if deposit_fen is None else deposit_fen
        if deposit < 0:
            raise LifecycleError(f"issue {asn.hex()}: deposit {deposit} fen is negative")
        with self.ledger.transaction():
            self._move(asn, CardStateName.PERSONALISED, CardStateName.ISSUED, "issue")
            posting = None
            if deposit:
                posting = self.ledger.post(
                    day_int(at.date()),
                    f"deposit card {asn.hex()}",
                    [("reserve", deposit), ("deposits", -deposit)],
                )
            self.db.execute("UPDATE cards SET deposit_fen = ? WHERE asn = ?", (deposit, asn))
            self._event(asn, "issue", deposit, at, posting)

    def report_loss(self, asn: bytes, at: datetime) -> datetime:
        """Hotlist the card; returns when terminals will refuse it."""
        effective = at + self.propagation_delay
        try:
            with self.ledger.transaction():
                self._move(asn, CardStateName.ISSUED, CardStateName.LOST, "report loss")
                self._event(asn, "report-loss", 0, at, None)
                self.hotlist.add(asn, at, effective)
        except BaseException:
            self.hotlist.reload()
            raise
        return effective

    def replace(self, old_asn: bytes, at: datetime) -> Replacement:
        """After the hotlist took effect: a new ASN, and the old card's cleared balance moved."""
        effective = self.hotlist.effective(old_asn)
        if effective is None or encode_datetime(at) < effective:
            raise LifecycleError(f"replace {old_asn.hex()}: wait until the hotlist takes effect")
        balance = self.shadow_balance_fen(old_asn)
        if balance < 0:
            raise LifecycleError(f"replace {old_asn.hex()}: shadow balance {balance} fen is negative")
        citizen = self.db.execute(
            "SELECT citizen, deposit_fen FROM cards WHERE asn = ?", (old_asn,)
        ).fetchone()
        if citizen is None:
            raise LifecycleError(f"replace {old_asn.hex()}: unknown card")
        with self.ledger.transaction():
            new_asn = self._apply(str(citizen[0]), at)
            self._move(old_asn, CardStateName.LOST, CardStateName.REPLACED, "replace")
            posting = None
            if balance:
                posting = self.ledger.post(
                    day_int(at.date()),
                    f"replace {old_asn.hex()} by {new_asn.hex()}: balance written off for transfer",
                    [("float", balance), ("transfer", -balance)],
                )
            # The deposit follows the citizen to the new card.
            self.db.execute("UPDATE cards SET replaced_by = ? WHERE asn = ?", (new_asn, old_asn))
            self.db.execute("UPDATE cards SET deposit_fen = ? WHERE asn = ?", (int(citizen[1]), new_asn))
            self._event(old_asn, "replace-out", balance, at, posting)
        return Replacement(old_asn, new_asn, balance)

    def issue_replacement(self, new_asn: bytes, at: datetime) -> None:
        """The replacement card, personalised, is handed over; its deposit is the old one's."""
        with self.ledger.transaction():
            self._move(new_asn, CardStateName.PERSONALISED, CardStateName.ISSUED, "issue replacement")
            self._event(new_asn, "issue-replacement", 0, at, None)

    def refund_and_close(self, asn: bytes, card_balance_fen: int, at: datetime) -> int:
        """The citizen hands the card back: balance and deposit paid out in cash. Returns fen paid.

        The card's own balance must equal the shadow balance, else records are still in flight
        (upload them and clear first)."""
        shadow = self.shadow_balance_fen(asn)
        if shadow != card_balance_fen:
            raise LifecycleError(
                f"refund {asn.hex()}: card holds {card_balance_fen} fen, cleared {shadow}: clear first"
            )
        try:
            with self.ledger.transaction():
                self._move(asn, CardStateName.ISSUED, CardStateName.CLOSED, "refund and close")
                deposit = int(
                    self.db.execute("SELECT deposit_fen FROM cards WHERE asn = ?", (asn,)).fetchone()[0]
                )
                lines = [("float", shadow), ("deposits", deposit), ("reserve", -(shadow + deposit))]
                posting = None
                if shadow + deposit:
                    posting = self.ledger.post(day_int(at.date()), f"refund and close {asn.hex()}", lines)
                self.hotlist.add(asn, at, at)
                self._event(asn, "refund", shadow, at, posting)
                self._event(asn, "deposit-return", deposit, at, posting)
        except BaseException:
            self.hotlist.reload()
            raise
        return shadow + deposit

    def state(self, asn: bytes) -> CardStateName:
        return self._state(asn)

    def event_total_fen(self, kind: str) -> int:
        row = self.db.execute("SELECT COALESCE(SUM(amount_fen), 0) FROM card_events WHERE kind = ?", (kind,))
        return int(row.fetchone()[0])
