"""Banks that fund loads: the `Funding` the load host calls, in two phases.

A top-up at a recharge point is paid from the citizen's bank account (圈存): the bank reserves
the amount when the load host authorises, captures it when the card committed, releases it
when the card did not. A top-up at a service window is paid in cash into the operator's till.
The bank link can fail (a scenario fault): then the reservation is declined and the card is
never credited.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from model.errors import LoadDeclinedError
from model.load_host import LoadRequest
from sim.rng import keyed
from sim.terminals import Kind, kind_of

RESERVATIONS_OPEN_MAX = 10_000  # the load host bounds open authorisations the same way


@dataclass(slots=True)
class Bank:
    name: str
    reserved: dict[int, int] = field(default_factory=dict)  # host serial -> fen
    captured_fen: int = 0
    captured_count: int = 0
    released_fen: int = 0
    declined_count: int = 0


@dataclass(slots=True)
class CityFunding:
    """Routes each load's funding: window loads to cash, the rest to the citizen's bank."""

    banks: list[Bank]
    bank_of: Callable[[bytes], int]  # card ASN -> index into banks
    decline_probability: float
    seed: int
    cash_fen: int = 0
    cash_count: int = 0
    _cash_open: dict[int, int] = field(default_factory=dict)
    _bank_open: dict[int, Bank] = field(default_factory=dict)

    def reserve(self, host_serial: int, request: LoadRequest) -> None:
        if kind_of(request.terminal_id) is Kind.WINDOW:
            self._cash_open[host_serial] = request.amount_fen
            return
        bank = self.banks[self.bank_of(request.asn)]
        if len(bank.reserved) >= RESERVATIONS_OPEN_MAX:
            raise LoadDeclinedError(f"bank {bank.name}: {RESERVATIONS_OPEN_MAX} reservations open")
        # Keyed by card and counter: whether the link fails does not depend on other loads.
        draw = keyed(self.seed, "bank", int.from_bytes(request.asn, "big"), request.counter).random()
        if self.decline_probability and draw < self.decline_probability:
            bank.declined_count += 1
            raise LoadDeclinedError(
                f"bank {bank.name}: link down, load for card {request.asn.hex()} declined"
            )
        bank.reserved[host_serial] = request.amount_fen
        self._bank_open[host_serial] = bank

    def capture(self, host_serial: int) -> None:
        if host_serial in self._cash_open:
            self.cash_fen += self._cash_open.pop(host_serial)
            self.cash_count += 1
            return
        bank = self._bank_open.pop(host_serial)
        bank.captured_fen += bank.reserved.pop(host_serial)
        bank.captured_count += 1

    def release(self, host_serial: int) -> None:
        if self._cash_open.pop(host_serial, None) is not None:
            return
        bank = self._bank_open.pop(host_serial)
        bank.released_fen += bank.reserved.pop(host_serial)

    @property
    def funded_fen(self) -> int:
        return self.cash_fen + sum(b.captured_fen for b in self.banks)

    @property
    def open_reservations(self) -> int:
        return len(self._cash_open) + len(self._bank_open)
