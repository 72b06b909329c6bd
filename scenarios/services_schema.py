"""The `[services.*]` tables of a day scenario: the citizen card beyond the purse (seed 003).

Optional: a scenario without `[services]` runs the purse day alone. With them, the day also
runs medical-insurance visits, the citizen account, the identity services and the service
centre (`sim.services`), and `cardtwin rollout` on a plan over this city computes the services'
adoption from `[services.adoption]`. Each table is a frozen dataclass; each field declares its
range in `_RANGES` (with the reason for the bound), and `parse_services` refuses anything else
in one line naming the file and the key, as `scenarios.schema` does for the other tables.

A rollout parameter that is an ASSUMPTION comes as `[low, point, high]`: the rollout reports
the point value's figure and the spread over draws of every such range.
"""

from __future__ import annotations

import dataclasses
import datetime
import math
import typing
from dataclasses import dataclass
from typing import Any

from model.errors import CardTwinError

COUNT_MAX = 10_000_000  # counts of institutions, windows, records: far above any city's
RATE_MAX = 100.0  # events per person per day or year: no person does more
FEN_MAX = 2**31 - 1
SECONDS_MAX = 172_800.0  # two days
DRAWS_MAX = 10_000


class ServicesError(CardTwinError):
    """A `[services]` table that cannot be used (the scenario loader says it as ScenarioError)."""


@dataclass(frozen=True, slots=True)
class Medical:
    insured_share: float
    visits_per_insured_per_year: float
    institutions: int
    card_settlement_from: str
    visit_cost_fen_mean: int
    fund_share_bp: int
    medical_account_fen_mean: int
    own_from_account_share: float
    own_from_purse_share: float
    claim_h: float
    forged_claim_probability: float
    replayed_claim_probability: float


@dataclass(frozen=True, slots=True)
class Account:
    holder_share: float
    opening_fen_mean: int
    payer_batch_share: float
    allowance_fen_mean: int
    voucher_share: float
    voucher_fen: int
    online_payments_per_day: float
    payment_fen_mean: int
    merchants: int


@dataclass(frozen=True, slots=True)
class Identity:
    bike_rentals_per_day: float
    bike_ride_s_mean: float
    bike_not_returned_probability: float
    bike_deadline_s: float
    bike_credit_check: str
    list_refresh_s: float
    library_loans_per_day: float
    library_loans_per_card_max: int
    park_card_share: float
    park_entries_per_holder_per_day: float
    elderly_concessions_per_day: float
    lost_card_probability: float
    pass_activations_per_day: float


@dataclass(frozen=True, slots=True)
class Centre:
    """The service centre. Its windows are the city's (`[city] service_windows`): one count for
    the windows where the e-purse is topped up and the centre's services are given."""

    hotline_agents: int
    open_h: float
    close_h: float
    applications_per_day: float
    loss_reports_per_day: float
    replacement_share: float
    failed_cards_per_day: float
    other_services_per_day: float
    hotline_calls_per_day: float
    application_s: float
    photo_s: float
    issuance_s: float
    loss_report_s: float
    replacement_s: float
    other_service_s: float
    call_s: float
    queue_limit: int
    exchange_records_per_hour: int
    records_per_issuance_check: int
    exchange_background_share: float


@dataclass(frozen=True, slots=True)
class Adoption:
    insured_persons: int
    institutions_from: str
    institutions_full: str
    insured_holder_share: list[float]
    institutions_visit_share: list[float]
    early_use_share: list[float]
    credential_use_share: list[float]
    credential_ramp_months: list[float]
    park_card_from: str
    park_potential_share: list[float]
    park_p: list[float]
    park_q: list[float]
    draws: int


@dataclass(frozen=True, slots=True)
class Services:
    medical: Medical
    account: Account
    identity: Identity
    centre: Centre
    adoption: Adoption


TABLES: dict[str, type[Any]] = {
    "medical": Medical,
    "account": Account,
    "identity": Identity,
    "centre": Centre,
    "adoption": Adoption,
}
CREDIT_CHECKS = ("online", "list")
_DATES = ("card_settlement_from",)
_MONTHS = ("institutions_from", "institutions_full", "park_card_from")


def _bound(key: str, city_wide: bool) -> tuple[float, float, str]:
    """(low, high, why) of a key, by what its name says it is; `city_wide` rates count a city's
    events (the service centre's), not one person's."""
    if city_wide and key.endswith("_per_day"):
        return 0.0, float(COUNT_MAX), "beyond any city's count"
    if key.endswith(("_share", "_probability")):
        return 0.0, 1.0, "a share"
    if key.endswith("_bp"):
        return 0.0, 10_000.0, "basis points of one"
    if "_fen" in key:
        return 0.0, float(FEN_MAX), "a card's 4-byte amount"
    if key.endswith("_h"):
        return 0.0, 24.0, "an hour of the day"
    if key.endswith("_s"):
        return 0.0, SECONDS_MAX, "two days"
    if key.endswith(("_per_day", "_per_year", "_per_holder_per_day")):
        return 0.0, RATE_MAX, "more than any person does"
    if key == "draws":
        return 1.0, float(DRAWS_MAX), "draws of the assumption ranges"
    if key.endswith("_months"):
        return 0.0, 120.0, "ten years"
    return 0.0, float(COUNT_MAX), "beyond any city's count"


def _convert(value: Any, kind: Any, where: str) -> Any:
    if typing.get_origin(kind) is list:
        ok = isinstance(value, list) and len(value) == 3
        ok = ok and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
        if not ok:
            raise ServicesError(f"{where}: {value!r} is not [low, point, high] (three numbers)")
        if not value[0] <= value[1] <= value[2]:
            raise ServicesError(f"{where}: {value!r} out of order (allowed: low <= point <= high)")
        return [float(v) for v in value]
    ok = (
        (kind is int and isinstance(value, int) and not isinstance(value, bool))
        or (kind is float and isinstance(value, int | float) and not isinstance(value, bool))
        or (kind is str and isinstance(value, str))
    )
    if not ok:
        raise ServicesError(
            f"{where}: {value!r} is not {'an integer' if kind is int else 'a ' + kind.__name__}"
        )
    return float(value) if kind is float else value


def _check_value(key: str, value: Any, where: str, city_wide: bool) -> None:
    if isinstance(value, str):
        _check_text(key, value, where)
        return
    low, high, why = _bound(key, city_wide)
    for v in value if isinstance(value, list) else [value]:
        if not (math.isfinite(v) and low <= v <= high):
            raise ServicesError(f"{where}: {value!r} out of range (allowed: {low:g}..{high:g}, {why})")


def _check_text(key: str, value: str, where: str) -> None:
    if key in _DATES:
        try:
            datetime.date.fromisoformat(value)
        except ValueError:
            raise ServicesError(f"{where}: {value!r} is not a date (allowed: YYYY-MM-DD)") from None
    elif key in _MONTHS:
        try:
            datetime.date.fromisoformat(value + "-01")
        except ValueError:
            raise ServicesError(f"{where}: {value!r} is not a month (allowed: YYYY-MM)") from None
    elif key == "bike_credit_check" and value not in CREDIT_CHECKS:
        raise ServicesError(f"{where}: {value!r} out of range (allowed: {', '.join(CREDIT_CHECKS)})")


def _table(cls: type[Any], table: Any, where: str) -> Any:
    if not isinstance(table, dict):
        raise ServicesError(f"{where}: expected a table")
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    for key in table:
        if cls is Centre and key == "windows":
            raise ServicesError(
                f"{where}.windows: the windows are the city's: set [city] service_windows "
                "(one count for the e-purse's windows and the service centre's)"
            )
        if key not in names:
            raise ServicesError(f"{where}.{key}: unknown key (allowed: {', '.join(names)})")
    values = {}
    for name in names:
        if name not in table:
            raise ServicesError(f"{where}.{name}: missing (required: {', '.join(names)})")
        values[name] = _convert(table[name], hints[name], f"{where}.{name}")
        _check_value(name, values[name], f"{where}.{name}", cls is Centre)
    return cls(**values)


def _cross(s: Services, f: str) -> None:
    c = s.centre
    if not c.open_h < c.close_h:
        raise ServicesError(
            f"{f}: services.centre.open_h/close_h: {(c.open_h, c.close_h)} (allowed: open < close)"
        )
    for name in (
        "hotline_agents",
        "queue_limit",
        "exchange_records_per_hour",
        "records_per_issuance_check",
    ):
        if getattr(c, name) < 1:
            raise ServicesError(
                f"{f}: services.centre.{name}: {getattr(c, name)} out of range (allowed: >= 1)"
            )
    if s.medical.institutions < 1:
        raise ServicesError(f"{f}: services.medical.institutions: {s.medical.institutions} (allowed: >= 1)")
    if s.account.merchants < 1:
        raise ServicesError(f"{f}: services.account.merchants: {s.account.merchants} (allowed: >= 1)")
    if s.adoption.institutions_from > s.adoption.institutions_full:
        raise ServicesError(f"{f}: services.adoption.institutions_from: after institutions_full")


def parse_services(doc: Any, source: str) -> Services | None:
    """The `[services]` tables of a scenario document, or None when it has none."""
    if doc is None:
        return None
    if not isinstance(doc, dict):
        raise ServicesError(f"{source}: services: expected tables [services.<name>]")
    for key in doc:
        if key not in TABLES:
            raise ServicesError(f"{source}: [services.{key}]: unknown table (allowed: {', '.join(TABLES)})")
    missing = [k for k in TABLES if k not in doc]
    if missing:
        raise ServicesError(f"{source}: [services.{missing[0]}]: missing (required: {', '.join(TABLES)})")
    tables = {k: _table(cls, doc[k], f"{source}: services.{k}") for k, cls in TABLES.items()}
    services = Services(**tables)
    _cross(services, source)
    return services
