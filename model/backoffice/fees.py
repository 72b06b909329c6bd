"""The fee schedule: what the operator keeps of a participant's daily takings, per sector.

A sector's fee is a percentage in basis points (1 bp = 0.01 %) of the day's gross plus a fixed
amount per record. Integer arithmetic only; the rounding rule is:

    fee_fen = round_half_up(gross_fen * fee_bp / 10_000) + fixed_fen * records
            = (gross_fen * fee_bp + 5_000) // 10_000 + fixed_fen * records

computed once per participant per settlement day (not per record, so a day's fee never depends
on how its records were split), and capped at the gross so a net is never negative.
Recharge points (sector `load`) pay no fee: they hand over the money they collected.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from model.backoffice.registry import Sector
from model.errors import CardTwinError

BP_PER_UNIT = 10_000
FEE_BP_MAX = 10_000


class FeeError(CardTwinError):
    """A fee schedule that cannot be applied."""


@dataclass(frozen=True, slots=True)
class SectorFee:
    fee_bp: int = 0
    fixed_fen: int = 0

    def __post_init__(self) -> None:
        if not 0 <= self.fee_bp <= FEE_BP_MAX or self.fixed_fen < 0:
            raise FeeError(f"fee: {self.fee_bp} bp must be 0..{FEE_BP_MAX} and {self.fixed_fen} fen >= 0")


DEFAULT_FEES: dict[Sector, SectorFee] = {
    Sector.BUS: SectorFee(fee_bp=50),
    Sector.METRO: SectorFee(fee_bp=50),
    Sector.TAXI: SectorFee(fee_bp=80),
    Sector.RETAIL: SectorFee(fee_bp=60, fixed_fen=1),
    Sector.UTILITIES: SectorFee(fee_bp=0, fixed_fen=10),
    Sector.LOAD: SectorFee(),
    Sector.TRANSFER: SectorFee(),
}


class FeeSchedule:
    """Fees by sector; a sector left out pays none."""

    def __init__(self, fees: dict[Sector, SectorFee] | None = None) -> None:
        self.fees = dict(DEFAULT_FEES if fees is None else fees)
        if self.fees.get(Sector.LOAD, SectorFee()) != SectorFee():
            raise FeeError("fee: recharge points (sector load) cannot be charged a fee")

    def fee_fen(self, sector: Sector, gross_fen: int, records: int) -> int:
        assert gross_fen >= 0 and records >= 0
        fee = self.fees.get(sector, SectorFee())
        amount = (gross_fen * fee.fee_bp + BP_PER_UNIT // 2) // BP_PER_UNIT + fee.fixed_fen * records
        return min(amount, gross_fen)


def load_fee_schedule(path: Path) -> FeeSchedule:
    """TOML: one table per sector, e.g. `[bus]` with `fee_bp = 50` and `fixed_fen = 0`."""
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise FeeError(f"{path}: cannot read fee schedule: {exc}") from None
    fees: dict[Sector, SectorFee] = {}
    for name, table in doc.items():
        try:
            sector = Sector(name)
        except ValueError:
            raise FeeError(f"{path}: [{name}] is not a sector ({[s.value for s in Sector]})") from None
        if not isinstance(table, dict) or set(table) - {"fee_bp", "fixed_fen"}:
            raise FeeError(f"{path}: [{name}] takes only fee_bp and fixed_fen")
        bp, fixed = table.get("fee_bp", 0), table.get("fixed_fen", 0)
        if not isinstance(bp, int) or not isinstance(fixed, int):
            raise FeeError(f"{path}: [{name}] fee_bp and fixed_fen must be integers")
        fees[sector] = SectorFee(bp, fixed)
    return FeeSchedule(fees)
