"""Entitlements held against a card: the park annual card, the bus monthly pass, elderly status.

Seed 003: "a citizen card with the park annual card switched on and valid admits its holder to
the parks it covers, within its validity, with no limit on entries" (36,000+ holders by the end
of 2008); the bus monthly pass is a card function switched on at the service centre; the
elderly get concessions where the card shows they qualify. An entitlement is keyed by the
card's ASN as read from the card (`model.services.identity.read_identity`), never by what a
terminal claims.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from model.card import PublicInfo
from model.services.identity import IdentityError, StatusList, check_status, is_elderly

ENTITLEMENTS_MAX = 20_000_000


@dataclass(slots=True)
class Entitlements:
    """Which cards hold which entitlement, with validity; entries and concessions counted."""

    status: StatusList
    parks: dict[bytes, date] = field(default_factory=dict)  # ASN -> last valid day
    passes: set[bytes] = field(default_factory=set)
    park_entries: int = 0
    concessions: int = 0

    def activate_park(self, asn: bytes, valid_to: date, today: date) -> None:
        if valid_to < today:
            raise IdentityError(
                "bad_validity", f"park card of {asn.hex()} would end {valid_to}, before {today}"
            )
        self._room(self.parks)
        self.parks[asn] = max(valid_to, self.parks.get(asn, valid_to))

    def activate_pass(self, asn: bytes) -> None:
        """Switch the monthly pass on (the service centre's 城市通应用开卡); twice is refused."""
        if asn in self.passes:
            raise IdentityError("already_active", f"card {asn.hex()} already has the monthly pass")
        self._room(self.passes)
        self.passes.add(asn)

    def enter_park(self, info: PublicInfo, today: date) -> None:
        """A gate admits an annual-card holder: listed (lost) cards and lapsed cards are refused."""
        check_status(info.asn, self.status, None)
        valid_to = self.parks.get(info.asn)
        if valid_to is None:
            raise IdentityError("no_park_card", f"card {info.asn.hex()} has no park annual card")
        if today > valid_to:
            raise IdentityError("park_card_lapsed", f"card {info.asn.hex()}: park card ended {valid_to}")
        self.park_entries += 1

    def elderly_concession(self, info: PublicInfo) -> None:
        """The card shows an elderly holder: the concession applies (counted), else refused."""
        check_status(info.asn, self.status, None)
        if not is_elderly(info):
            raise IdentityError(
                "not_elderly", f"card {info.asn.hex()} is a {info.card_type.name.lower()} card"
            )
        self.concessions += 1

    @staticmethod
    def _room(held: dict[bytes, date] | set[bytes]) -> None:
        if len(held) >= ENTITLEMENTS_MAX:
            raise IdentityError("full", f"{ENTITLEMENTS_MAX} entitlements held")
