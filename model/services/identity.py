"""The citizen card as an identity (身份识别): read from the card, checked against a status list.

Seed 003: public bikes lend without a deposit against the card (the card as a personal credit
record), libraries lend on it without a deposit, the park annual card admits its holder without
limit in its validity, the elderly get concessions where they show it, and the bus monthly pass
is activated on it. Each service reads the card's public file through the real `CardChannel`
(SELECT of the e-purse application, its file 0x15: ASN, validity, card type); a blocked
application answers 6A81 and is refused as such.

The status list holds the cards a service must refuse: lost (reported at the service centre),
and in credit default (a bike not returned, a book long overdue). A service checks it online
(the list as it stands) or from its last copy (`ListCopy`, distributed at intervals, the way an
offline terminal's hotlist is): a card listed after the copy was taken still passes there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import Enum

from model.card import CardChannel, CardType, PublicInfo, open_epurse
from model.errors import CardBlockedError, CardTwinError

LIST_MAX = 10_000_000


class IdentityError(CardTwinError):
    """A card a service refuses: unreadable, blocked, expired or on the status list."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason


class Listed(Enum):
    LOST = "lost"
    BIKE_NOT_RETURNED = "bike_not_returned"
    BOOK_OVERDUE = "book_overdue"


def read_identity(card: CardChannel, today: date) -> PublicInfo:
    """The card's public information, or IdentityError (blocked, expired, unreadable)."""
    try:
        info = open_epurse(card)
    except CardBlockedError as exc:
        raise IdentityError("blocked", f"the card's application is blocked: {exc}") from None
    except CardTwinError as exc:
        raise IdentityError("unreadable", f"card refused SELECT/READ: {exc}") from None
    if not info.start <= today <= info.expiry:
        raise IdentityError(
            "expired", f"card {info.asn.hex()} valid {info.start}..{info.expiry}, today {today}"
        )
    return info


@dataclass(slots=True)
class StatusList:
    """Cards refused by the identity services, with why; `version` counts changes."""

    entries: dict[bytes, Listed] = field(default_factory=dict)
    version: int = 0

    def add(self, asn: bytes, why: Listed) -> None:
        if len(asn) != 8:
            raise IdentityError("bad_asn", f"{asn.hex()}: an ASN has 8 bytes")
        if asn not in self.entries and len(self.entries) >= LIST_MAX:
            raise IdentityError("list_full", f"status list holds {LIST_MAX} cards")
        self.entries[asn] = why
        self.version += 1

    def remove(self, asn: bytes) -> None:
        if self.entries.pop(asn, None) is not None:
            self.version += 1

    def copy(self) -> ListCopy:
        return ListCopy(dict(self.entries), self.version)


@dataclass(frozen=True, slots=True)
class ListCopy:
    """A service's copy of the status list taken at one moment (offline checking)."""

    entries: dict[bytes, Listed]
    version: int


def check_status(asn: bytes, online: StatusList | None, copy: ListCopy | None) -> None:
    """Refuse a listed card: online against the live list, else against the service's copy."""
    entries = online.entries if online is not None else copy.entries if copy is not None else {}
    why = entries.get(asn)
    if why is not None:
        raise IdentityError(f"listed_{why.value}", f"card {asn.hex()} is on the status list ({why.value})")


def is_elderly(info: PublicInfo) -> bool:
    return info.card_type is CardType.ELDERLY
