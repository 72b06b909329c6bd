"""The scenario file: a TOML document (read with stdlib tomllib) and its strict, typed loader.

A scenario says everything a city-day run needs: the city's size, its population and their
habits, the fare rules, the service network, the faults. The loader refuses anything it does
not know: an unknown section or key, a wrong type or a value out of range raises
`ScenarioError` with one line naming the file, the field and what is allowed. Each section is
a frozen dataclass, so the rest of the code reads typed fields, never raw dictionaries; the
`[fares]` section is the fare model's own `FareRules`, which the terminals charge by.

A table is typed first, then checked, and only then built into its section, because a section
may refuse values itself (`FareRules` does): checking first keeps every refusal in the file's
words, `file: section.key: value out of range (allowed: ...)`.
"""

from __future__ import annotations

import dataclasses
import datetime
import math
import re
import tomllib
import types
import typing
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from model.errors import CardTwinError
from model.terminal.fares import FareError, FareRules
from scenarios.services_schema import Services, ServicesError, parse_services

DEFAULT_SCENARIO = "default.toml"
# backoffice: the real clearing house, ledger and settlement; inbox: records tallied, not cleared
CLEARING_PORTS = ("backoffice", "inbox")
# Each real-card tap costs a card swap in the reader (~0.6 s through pcscd): a day of a few
# citizens, not a crowd.
REAL_CARD_CITIZENS_MAX = 100
# Upper bounds, each with its reason: a value past them is a typo, and would crash deep in the
# run (an overflowing card field, a world that cannot be allocated) instead of here, in one line.
CARDHOLDERS_MAX = 50_000_000  # twice the largest city anywhere
COUNT_MAX = 1_000_000  # any count of terminals, lines, districts: 60x a real city's 15,000 terminals
FEN_MAX = 2**31 - 1  # a card's balance and amount fields are 4-byte signed
RATE_MAX = 1_000.0  # trips or purchases per citizen per day, minutes of service: no person does more
HOURS_MAX = 48.0  # a day, and its night until the next morning's uploads
SECONDS_MAX = 172_800.0  # two days, in seconds
KM_MAX = 1_000.0  # a taxi ride inside one city


class ScenarioError(CardTwinError):
    """A scenario file that cannot be used as it stands."""


@dataclass(frozen=True, slots=True)
class Run:
    name: str
    seed: int
    date: str
    sample: float
    shards: int = 1
    clearing: str = "backoffice"
    # Real cards in the loop: these citizens' taps go through a PC/SC reader (a card source,
    # e.g. "vpcd:0"); empty means every card stays in process.
    real_card_reader: str = ""
    real_card_citizens: list[int] = field(default_factory=list)

    @property
    def day(self) -> datetime.date:
        return datetime.date.fromisoformat(self.date)


@dataclass(frozen=True, slots=True)
class City:
    districts: int
    bus_lines: int
    stops_per_bus_line: int
    buses: int
    metro_lines: int
    stations_per_metro_line: int
    gates_per_station: int
    taxis: int
    merchants: int
    recharge_points: int
    kiosks_per_recharge_point: int
    service_windows: int
    banks: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Population:
    cardholders: int
    student_share: float
    elderly_share: float
    transit_trips_per_day: float
    metro_share: float
    transfer_share: float
    monthly_pass_share: float
    taxi_trips_per_day: float
    merchant_purchases_per_day: float
    merchant_spend_fen_mean: int
    initial_balance_fen_mean: int
    topup_threshold_fen: int
    topup_amount_fen: int
    window_share: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Fares(FareRules):
    """The `[fares]` table: the city's fare rules, which the terminals charge by, and the length
    of a mean taxi trip, which the day's taxi demand draws its distances from. The trip length is
    no fare rule (the fare functions never read it); the file keeps it beside the taxi tariff."""

    taxi_trip_km_mean: float


@dataclass(frozen=True, slots=True)
class Demand:
    morning_peak_h: float
    evening_peak_h: float
    peak_width_h: float
    peak_share: float
    service_start_h: float
    service_end_h: float
    # A sector's own time-of-day profile (taxi_*, retail_*): peaks at `*_peaks_h` holding
    # `*_peak_shares` of its taps, over a flat base between `*_start_h` and `*_end_h`. A sector
    # with no peaks listed follows the transit profile above.
    taxi_peaks_h: list[float] = field(default_factory=list)
    taxi_peak_shares: list[float] = field(default_factory=list)
    taxi_peak_width_h: float = 1.0
    taxi_start_h: float = 0.0
    taxi_end_h: float = 24.0
    retail_peaks_h: list[float] = field(default_factory=list)
    retail_peak_shares: list[float] = field(default_factory=list)
    retail_peak_width_h: float = 1.0
    retail_start_h: float = 0.0
    retail_end_h: float = 24.0


@dataclass(frozen=True, slots=True)
class Service:
    bus_tap_s: float
    gate_tap_s: float
    taxi_tap_s: float
    pos_tap_s: float
    kiosk_service_s: float
    window_service_s: float
    queue_limit: int
    walk_to_recharge_s: float
    metro_ride_s_per_station: float
    bus_depot_h: float
    upload_delay_s: float


@dataclass(frozen=True, slots=True)
class Faults:
    tear_probability: float
    late_upload_probability: float
    duplicate_upload_probability: float
    terminal_outage_probability: float
    outage_duration_s: float
    bank_decline_probability: float


@dataclass(frozen=True, slots=True)
class Scenario:
    run: Run
    city: City
    population: Population
    fares: Fares
    demand: Demand
    service: Service
    faults: Faults
    source: str = "<memory>"
    services: Services | None = None  # the optional [services.*] tables (scenarios.services_schema)

    def replace(self, **changes: Any) -> Scenario:
        """A copy with whole sections or run fields changed (`sample=`, `seed=`, `cardholders=`)."""
        run_keys = ("sample", "seed", "shards", "name", "clearing", "real_card_reader", "real_card_citizens")
        run_changes = {k: changes.pop(k) for k in run_keys if k in changes}
        pop_changes = {k: changes.pop(k) for k in ("cardholders",) if k in changes}
        out = dataclasses.replace(self, **changes)
        if run_changes:
            out = dataclasses.replace(out, run=dataclasses.replace(out.run, **run_changes))
        if pop_changes:
            out = dataclasses.replace(out, population=dataclasses.replace(out.population, **pop_changes))
        check(out)
        return out


SECTIONS: dict[str, type[Any]] = {
    "run": Run,
    "city": City,
    "population": Population,
    "fares": Fares,
    "demand": Demand,
    "service": Service,
    "faults": Faults,
}
# Fields of a section that no table sets: the monthly pass's routes are Hangzhou's rule, kept
# with the fare model, not a value a scenario varies.
_NOT_KEYS: dict[type[Any], frozenset[str]] = {Fares: frozenset({"pass_route_max", "pass_routes_excluded"})}

Table = dict[str, Any]
"""One section as its file table says it: every key's value, typed, defaults filled in, not yet
built into the section (whose class may refuse values, as `FareRules` does)."""


def table_keys(cls: type[Any]) -> list[dataclasses.Field[Any]]:
    """The fields of a section that are keys of its table, in the order the file lists them."""
    hidden = _NOT_KEYS.get(cls, frozenset())
    return [f for f in dataclasses.fields(cls) if f.name not in hidden]


def _type_name(kind: Any) -> str:
    if typing.get_origin(kind) is list:
        return f"a list of {typing.get_args(kind)[0].__name__}"
    return {int: "an integer", float: "a number", str: "a string", bool: "true/false"}[kind]


def _convert(value: Any, kind: Any, where: str) -> Any:
    origin = typing.get_origin(kind)
    if origin is list:
        (item,) = typing.get_args(kind)
        if not isinstance(value, list):
            raise ScenarioError(f"{where}: {value!r} is not {_type_name(kind)}")
        return [_convert(v, item, f"{where}[{i}]") for i, v in enumerate(value)]
    ok = (
        (kind is bool and isinstance(value, bool))
        or (kind is int and isinstance(value, int) and not isinstance(value, bool))
        or (kind is float and isinstance(value, int | float) and not isinstance(value, bool))
        or (kind is str and isinstance(value, str))
    )
    if not ok:
        raise ScenarioError(f"{where}: {value!r} is not {_type_name(kind)}")
    return float(value) if kind is float else value


def _table(cls: type[Any], table: Any, where: str) -> Table:
    if not isinstance(table, dict):
        raise ScenarioError(f"{where}: expected a table [{where.rsplit(' ', 1)[-1]}]")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in table_keys(cls)}
    allowed = ", ".join(fields)
    for key in table:
        if key not in fields:
            raise ScenarioError(f"{where}.{key}: unknown key (allowed: {allowed})")
    values: Table = {}
    for name, f in fields.items():
        if name in table:
            kind = hints[name]
            if isinstance(kind, types.UnionType):  # pragma: no cover - no optional fields yet
                raise ScenarioError(f"{where}.{name}: optional fields are not supported")
            values[name] = _convert(table[name], kind, f"{where}.{name}")
        elif f.default is not dataclasses.MISSING:
            values[name] = f.default
        elif f.default_factory is not dataclasses.MISSING:
            values[name] = f.default_factory()
        else:
            raise ScenarioError(f"{where}.{name}: missing (required: {allowed})")
    return values


def _tables_of(s: Scenario) -> dict[str, Table]:
    """A built scenario's sections as tables again, so a changed copy is checked like a file."""
    return {
        name: {f.name: getattr(getattr(s, name), f.name) for f in table_keys(cls)}
        for name, cls in SECTIONS.items()
    }


def _need(ok: bool, where: str, allowed: str, value: object) -> None:
    if not ok:
        raise ScenarioError(f"{where}: {value!r} out of range (allowed: {allowed})")


def _check_real_cards(run: Table, f: str) -> None:
    chosen = run["real_card_citizens"]
    reader = run["real_card_reader"]
    if not reader:
        _need(not chosen, f"{f}: run.real_card_citizens", "empty unless run.real_card_reader is set", chosen)
        return
    # Served cards only: a physical card's balance lives on the chip, outside the twin's
    # accounts, so the day's money invariants could not account for it.
    _need(
        re.fullmatch(r"vpcd(:\d{1,2})?", reader) is not None,
        f"{f}: run.real_card_reader",
        "vpcd or vpcd:N (a simulated card served through pcscd; physical cards cannot stand in for citizens)",
        reader,
    )
    _need(bool(chosen), f"{f}: run.real_card_citizens", "at least one citizen for the reader", chosen)
    _need(
        len(chosen) <= REAL_CARD_CITIZENS_MAX,
        f"{f}: run.real_card_citizens",
        f"at most {REAL_CARD_CITIZENS_MAX}",
        len(chosen),
    )
    _need(len(set(chosen)) == len(chosen), f"{f}: run.real_card_citizens", "distinct citizens", chosen)
    _need(all(c >= 0 for c in chosen), f"{f}: run.real_card_citizens", "citizen numbers >= 0", chosen)
    # One reader serves the cards in turn; shards in other processes could not share it.
    _need(run["shards"] == 1, f"{f}: run.shards", "1 when run.real_card_reader is set", run["shards"])


def _check_run(run: Table, f: str) -> None:
    try:
        datetime.date.fromisoformat(run["date"])
    except ValueError:
        raise ScenarioError(f"{f}: run.date: {run['date']!r} is not a date (allowed: YYYY-MM-DD)") from None
    _need(0 < run["sample"] <= 1, f"{f}: run.sample", "0 < sample <= 1", run["sample"])
    _need(1 <= run["shards"] <= 64, f"{f}: run.shards", "1..64", run["shards"])
    _need(run["clearing"] in CLEARING_PORTS, f"{f}: run.clearing", ", ".join(CLEARING_PORTS), run["clearing"])
    _check_real_cards(run, f)


def _check_by_name(name: str, table: Table, f: str) -> None:
    """The rules every figure of a section follows, by what its key says it is."""
    for key, value in table.items():
        where = f"{f}: {name}.{key}"
        if isinstance(value, int | float) and not isinstance(value, bool):
            # TOML has inf and nan; neither means anything in a scenario (found by fuzzing).
            _need(math.isfinite(value), where, "a finite number", value)
            _need(value >= 0, where, ">= 0", value)
        if key.endswith(("_share", "_probability")):
            _need(0 <= value <= 1, where, "0..1", value)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            bound, why = _upper_bound(key)
            _need(value <= bound, where, f"<= {bound:g} ({why})", value)
        if key.endswith("_percent"):
            _need(0 <= value <= 100, where, "0..100", value)


def _upper_bound(key: str) -> tuple[float, str]:
    """The largest value a figure may take, by what its key says it is, and why."""
    if key == "cardholders":
        return CARDHOLDERS_MAX, "twice the largest city"
    if "_fen" in key:
        return FEN_MAX, "a card's 4-byte signed amount"
    if key.endswith("_h"):
        return HOURS_MAX, "two days"
    if key.endswith(("_s", "_s_per_station")):
        return SECONDS_MAX, "two days"
    if key.endswith("_km_mean"):
        return KM_MAX, "a ride inside one city"
    if key.endswith(("_per_day", "_percent")):
        return RATE_MAX, "more than any person does in a day"
    return COUNT_MAX, "60 times a real city's terminals"


def _check_city(c: Table, f: str) -> None:
    for name in ("districts", "bus_lines", "buses", "merchants", "recharge_points", "service_windows"):
        _need(c[name] >= 1, f"{f}: city.{name}", ">= 1", c[name])
    _need(c["stops_per_bus_line"] >= 2, f"{f}: city.stops_per_bus_line", ">= 2", c["stops_per_bus_line"])
    if c["metro_lines"]:
        stations = c["stations_per_metro_line"]
        _need(stations >= 2, f"{f}: city.stations_per_metro_line", ">= 2", stations)
        _need(c["gates_per_station"] >= 1, f"{f}: city.gates_per_station", ">= 1", c["gates_per_station"])
    kiosks = c["kiosks_per_recharge_point"]
    _need(kiosks >= 1, f"{f}: city.kiosks_per_recharge_point", ">= 1", kiosks)
    _need(len(c["banks"]) >= 1, f"{f}: city.banks", "at least one bank name", c["banks"])


def _check_tables(t: dict[str, Table], f: str) -> None:
    """Ranges and cross-field rules of a scenario's tables, `f` naming its file."""
    _check_run(t["run"], f)
    for name in ("city", "population", "fares", "demand", "service", "faults"):
        _check_by_name(name, t[name], f)
    _check_city(t["city"], f)
    p = t["population"]
    _need(p["cardholders"] >= 1, f"{f}: population.cardholders", ">= 1", p["cardholders"])
    _need(
        p["student_share"] + p["elderly_share"] <= 1,
        f"{f}: population.student_share + elderly_share",
        "<= 1",
        p["student_share"] + p["elderly_share"],
    )
    _need(p["topup_amount_fen"] >= 1, f"{f}: population.topup_amount_fen", ">= 1", p["topup_amount_fen"])
    d = t["demand"]
    _need(
        0 <= d["service_start_h"] < d["service_end_h"] <= 24,
        f"{f}: demand.service_start_h/service_end_h",
        "0 <= start < end <= 24",
        (d["service_start_h"], d["service_end_h"]),
    )
    _need(d["peak_width_h"] > 0, f"{f}: demand.peak_width_h", "> 0", d["peak_width_h"])
    for sector in ("taxi", "retail"):
        _check_profile(d, sector, f)
    fares = t["fares"]
    for key in ("metro_base_stations", "metro_step_stations"):
        _need(fares[key] >= 1, f"{f}: fares.{key}", ">= 1", fares[key])
    queue_limit = t["service"]["queue_limit"]
    _need(queue_limit >= 1, f"{f}: service.queue_limit", ">= 1", queue_limit)


def _check_profile(d: Table, sector: str, f: str) -> None:
    """A sector's own time-of-day profile: peaks inside the day, shares of its taps that sum to
    at most 1, one share per peak, its hours a stretch of the day."""
    where = f"{f}: demand.{sector}_"
    peaks, shares = d[f"{sector}_peaks_h"], d[f"{sector}_peak_shares"]
    _need(len(shares) == len(peaks), where + "peak_shares", f"one share per peak ({len(peaks)})", shares)
    _need(all(0 <= h < 24 for h in peaks), where + "peaks_h", "hours 0 <= h < 24", peaks)
    _need(
        all(0 <= x <= 1 for x in shares) and sum(shares) <= 1, where + "peak_shares", "0..1, sum <= 1", shares
    )
    start, end = d[f"{sector}_start_h"], d[f"{sector}_end_h"]
    _need(0 <= start < end <= 24, where + "start_h/end_h", "0 <= start < end <= 24", (start, end))
    _need(d[f"{sector}_peak_width_h"] > 0, where + "peak_width_h", "> 0", d[f"{sector}_peak_width_h"])


def check(s: Scenario) -> None:
    """Ranges and cross-field rules: what the types alone cannot say."""
    _check_tables(_tables_of(s), s.source)


def with_key(s: Scenario, section: str, key: str, value: Any) -> Scenario:
    """A copy with one table key set (a sweep's point), checked before it is built, as a file
    value is, so a bad value is refused in the same words."""
    tables = _tables_of(s)
    tables[section] = {**tables[section], key: value}
    _check_tables(tables, s.source)
    return _build(tables, s.source, s.services)


def _build(tables: dict[str, Table], source: str, services: Services | None = None) -> Scenario:
    try:
        sections = {name: cls(**tables[name]) for name, cls in SECTIONS.items()}
    except FareError as exc:
        # The checks refuse whatever the fare rules refuse, in the file's words; a rule the fare
        # model gains later still reaches the user as one line naming the file and the key.
        raise ScenarioError(f"{source}: fares: {exc}") from None
    return Scenario(**sections, source=source, services=services)


def parse(text: str, source: str = "<memory>") -> Scenario:
    """Parse scenario TOML text; `source` names it in error messages."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{source}: not valid TOML: {exc}") from None
    return parse_doc(doc, source)


def parse_doc(doc: dict[str, Any], source: str = "<memory>") -> Scenario:
    """Validate an already parsed scenario document (a rollout month builds one in memory)."""
    allowed = ", ".join(f"[{k}]" for k in SECTIONS)
    for key in doc:
        if key not in SECTIONS and key != "services":
            raise ScenarioError(f"{source}: [{key}]: unknown section (allowed: {allowed})")
    missing = [k for k in SECTIONS if k not in doc]
    if missing:
        raise ScenarioError(f"{source}: [{missing[0]}]: missing section (required: {allowed})")
    tables = {k: _table(cls, doc[k], f"{source}: {k}") for k, cls in SECTIONS.items()}
    _check_tables(tables, source)
    try:
        services = parse_services(doc.get("services"), source)
    except ServicesError as exc:
        raise ScenarioError(str(exc)) from None
    return _build(tables, source, services)


def load(path: str | Path | None = None) -> Scenario:
    """Load a scenario file; None loads the default scenario shipped inside the package."""
    if path is None:
        text = resources.files("scenarios").joinpath(DEFAULT_SCENARIO).read_text("utf-8")
        return parse(text, f"scenarios/{DEFAULT_SCENARIO}")
    p = Path(path)
    try:
        text = p.read_text("utf-8")
    except OSError as exc:
        raise ScenarioError(f"{p}: cannot read scenario: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ScenarioError(f"{p}: not UTF-8 text") from None
    return parse(text, str(p))
