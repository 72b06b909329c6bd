"""Banks that fund loads: the load host's `Funding`, routed by where the citizen tops up.

A recharge point belongs to a bank (the scenario's banks take the points in turn) and a top-up
there is paid from the citizen's account at that bank (圈存), through the back office's
two-phase `model.backoffice.bank.BankFunding`: reserve at authorisation, capture when the card committed,
release when it did not. A top-up at a service window is paid in cash into the operator's till.
The bank link can fail (a scenario fault): the reservation is then declined and the card is
never credited.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from model.backoffice import Bank, BankFunding, LoadRequest
from model.errors import LoadDeclinedError
from sim.city.population import index_of
from sim.city.terminals import Kind, kind_of, terminal_number
from sim.rng import keyed

# ASSUMPTION: every citizen's bank account holds CNY 10,000 at the start of the day, so a decline
# comes from the link fault, not from an empty account.
ACCOUNT_OPENING_FEN = 1_000_000


def bank_of_point(point: int, banks: int) -> int:
    """Recharge points are run by the banks in turn."""
    return point % banks


def load_participant(bank: str) -> str:
    return f"load-{bank}"


@dataclass(slots=True)
class CityFunding:
    """Routes each load's funding: window loads to cash, kiosk loads to the kiosk's bank."""

    banks: list[Bank]
    kiosks_per_point: int
    decline_probability: float
    seed: int
    declined: dict[str, int] = field(default_factory=dict)
    cash_fen: int = 0
    cash_count: int = 0
    _funding: list[BankFunding] = field(default_factory=list)
    _cash_open: dict[int, int] = field(default_factory=dict)
    _bank_open: dict[int, BankFunding] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._funding = [BankFunding(bank, _account) for bank in self.banks]

    def _bank_for(self, request: LoadRequest) -> BankFunding:
        point = terminal_number(request.terminal_id) // self.kiosks_per_point
        return self._funding[bank_of_point(point, len(self.banks))]

    def reserve(self, host_serial: int, request: LoadRequest) -> None:
        if kind_of(request.terminal_id) is Kind.WINDOW:
            self._cash_open[host_serial] = request.amount_fen
            return
        funding = self._bank_for(request)
        bank = funding.bank
        # Keyed by card and moment: whether the link fails does not depend on other loads.
        when = int(request.moment.timestamp())
        draw = keyed(self.seed, "bank", int.from_bytes(request.asn, "big"), when).random()
        if self.decline_probability and draw < self.decline_probability:
            self.declined[bank.name] = self.declined.get(bank.name, 0) + 1
            raise LoadDeclinedError(
                f"bank {bank.name}: link down, load for card {request.asn.hex()} declined"
            )
        account = _account(request.asn)
        if account not in bank.balances_fen:
            bank.open_account(account, ACCOUNT_OPENING_FEN)
        funding.reserve(host_serial, request)
        self._bank_open[host_serial] = funding

    def capture(self, host_serial: int) -> None:
        if host_serial in self._cash_open:
            self.cash_fen += self._cash_open.pop(host_serial)
            self.cash_count += 1
            return
        self._bank_open.pop(host_serial).capture(host_serial)

    def release(self, host_serial: int) -> None:
        if self._cash_open.pop(host_serial, None) is not None:
            return
        self._bank_open.pop(host_serial).release(host_serial)

    @property
    def funded_fen(self) -> int:
        return self.cash_fen + sum(b.captured_fen for b in self.banks)

    @property
    def open_reservations(self) -> int:
        return len(self._cash_open) + len(self._bank_open) + sum(len(b.holds) for b in self.banks)


def _account(asn: bytes) -> str:
    return f"citizen-{index_of(asn)}"
