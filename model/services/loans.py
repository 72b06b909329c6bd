"""Deposit-free loans against the card: public bikes and library books (seed 003, "credit").

A loan is an identity transaction: the card is read, its status checked, the loan recorded
against its ASN. A card may hold `loans_per_card_max` items at once. An item not returned by
its deadline puts the card on the status list (`StatusList`), so the next loan anywhere is
refused until the item comes back; the deadline is the service's rule (ASSUMPTION in the
scenario). Time is in seconds of the day (`t_s`), so a day's SimPy clock drives it directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from model.errors import CardTwinError
from model.services.identity import IdentityError, ListCopy, Listed, StatusList, check_status

LOANS_MAX = 10_000_000


class LoanError(CardTwinError):
    """A return that matches no loan, or a loan beyond the card's allowance."""


@dataclass(slots=True)
class LoanDesk:
    """One service's loans (all bike stations, or all libraries) against card ASNs."""

    name: str
    listed_as: Listed
    loans_per_card_max: int
    deadline_s: float
    status: StatusList
    online: bool = True
    copy: ListCopy | None = None
    open_loans: dict[bytes, list[float]] = field(default_factory=dict)
    made: int = 0
    returned: int = 0
    defaulted: int = 0

    def refresh_copy(self) -> None:
        """The service receives the current status list (list mode)."""
        self.copy = self.status.copy()

    def lend(self, asn: bytes, t_s: float) -> None:
        """Lend one item to the card read at `t_s`; IdentityError or LoanError when refused."""
        check_status(asn, self.status if self.online else None, self.copy)
        held = self.open_loans.setdefault(asn, [])
        if len(held) >= self.loans_per_card_max:
            raise LoanError(
                f"{self.name}: card {asn.hex()} already holds {len(held)} (max {self.loans_per_card_max})"
            )
        if self.made - self.returned >= LOANS_MAX:
            raise LoanError(f"{self.name}: {LOANS_MAX} loans open")
        held.append(t_s)
        self.made += 1

    def give_back(self, asn: bytes, t_s: float) -> float:
        """The earliest open loan of the card comes back; returns how long it was out (s)."""
        held = self.open_loans.get(asn)
        if not held:
            raise LoanError(f"{self.name}: card {asn.hex()} has no open loan to return")
        lent_s = held.pop(0)
        if t_s < lent_s:
            raise LoanError(f"{self.name}: return at {t_s:.0f} s before the loan at {lent_s:.0f} s")
        self.returned += 1
        if not held and self.status.entries.get(asn) is self.listed_as:
            self.status.remove(asn)  # the debt is settled: the card is good again
        return t_s - lent_s

    def sweep_overdue(self, now_s: float) -> int:
        """List every card holding an item past its deadline; returns how many were listed."""
        listed = 0
        for asn, held in self.open_loans.items():
            if held and now_s - held[0] > self.deadline_s and asn not in self.status.entries:
                self.status.add(asn, self.listed_as)
                self.defaulted += 1
                listed += 1
        return listed


def refused_reason(exc: CardTwinError) -> str:
    return exc.reason if isinstance(exc, IdentityError) else "over_allowance"
