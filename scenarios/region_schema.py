"""The two-city region scenario (`scenarios/region*.toml`): cities, commuters, interchange.

A region is a list of cities, each with its own issuer (its own keys), its own clearing house
and its buses; residents ride at home, commuters ride at home and in the other city with the
same card. Strict: an unknown key, a missing one or a value out of its range is refused in one
line naming the file and the key (`file: [city hangzhou] buses: ...`).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from scenarios.schema import ScenarioError

REGION_DIR = Path(__file__).resolve().parent
CITIZENS_MAX = 5_000  # per city: every tap runs the real card and PSAM code
BUSES_MAX = 500
FARE_FEN_MAX = 10_000
CITIES = 2
DEFAULT_REGION = "hangzhou-shaoxing-weekday"


@dataclass(frozen=True, slots=True)
class CityScenario:
    name: str
    code: bytes  # 4 bytes: the city code cards' ASNs begin with
    issuer_id: bytes  # 8 bytes, its first 4 the code
    residents: int  # simulated cardholders who ride only at home
    commuters: int  # simulated cardholders who also ride in the other city, both ways
    buses: int
    bus_fare_fen: int
    load_fen: int  # each cardholder's morning top-up at the home kiosk
    bus_fee_bp: int  # the operator's fee on its bus company's takings
    lost_cards: int  # cards reported lost at noon, ridden on by whoever found them
    source: str


@dataclass(frozen=True, slots=True)
class RegionScenario:
    name: str
    path: Path
    seed: int
    day: date
    interchange_fee_bp: int
    hotlist_local_delay_h: float  # issuer's list to its own terminals
    hotlist_interchange_delay_h: float  # the issuer's list to the other city's terminals, on top
    tear_share: float  # share of taps whose card loses power at the committing command
    cities: tuple[CityScenario, ...]
    source: str


_REGION_KEYS = {
    "name",
    "seed",
    "day",
    "interchange_fee_bp",
    "hotlist_local_delay_h",
    "hotlist_interchange_delay_h",
    "tear_share",
    "source",
}
_CITY_KEYS = {
    "name",
    "code",
    "issuer_id",
    "residents",
    "commuters",
    "buses",
    "bus_fare_fen",
    "load_fen",
    "bus_fee_bp",
    "lost_cards",
    "source",
}


def _get(table: dict[str, Any], key: str, kind: type, where: str) -> Any:
    if key not in table:
        raise ScenarioError(f"{where}: {key}: missing")
    value = table[key]
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ScenarioError(f"{where}: {key}: {value!r} is not {kind.__name__}")
    return value


def _int(table: dict[str, Any], key: str, low: int, high: int, where: str) -> int:
    value = int(_get(table, key, int, where))
    if not low <= value <= high:
        raise ScenarioError(f"{where}: {key}: {value} out of range (allowed: {low}..{high})")
    return value


def _float(table: dict[str, Any], key: str, low: float, high: float, where: str) -> float:
    value = float(_get(table, key, float, where))
    if not low <= value <= high:
        raise ScenarioError(f"{where}: {key}: {value} out of range (allowed: {low}..{high})")
    return value


def _hex(table: dict[str, Any], key: str, size: int, where: str) -> bytes:
    text = str(_get(table, key, str, where))
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raise ScenarioError(f"{where}: {key}: {text!r} is not hex") from None
    if len(raw) != size:
        raise ScenarioError(f"{where}: {key}: {len(raw)} bytes, expected {size}")
    return raw


def _unknown(table: dict[str, Any], known: set[str], where: str) -> None:
    extra = sorted(set(table) - known)
    if extra:
        raise ScenarioError(f"{where}: unknown key {extra[0]!r} (allowed: {', '.join(sorted(known))})")


def _city(table: object, where: str) -> CityScenario:
    if not isinstance(table, dict):
        raise ScenarioError(f"{where}: must be a table")
    name = str(_get(table, "name", str, where))
    where = f"{where.split(' [')[0]} [city {name}]"
    _unknown(table, _CITY_KEYS, where)
    code, issuer = _hex(table, "code", 4, where), _hex(table, "issuer_id", 8, where)
    if issuer[:4] != code:
        raise ScenarioError(f"{where}: issuer_id {issuer.hex()} must begin with the city code {code.hex()}")
    return CityScenario(
        name,
        code,
        issuer,
        _int(table, "residents", 0, CITIZENS_MAX, where),
        _int(table, "commuters", 0, CITIZENS_MAX, where),
        _int(table, "buses", 1, BUSES_MAX, where),
        _int(table, "bus_fare_fen", 1, FARE_FEN_MAX, where),
        _int(table, "load_fen", 1, 100_000, where),
        _int(table, "bus_fee_bp", 0, 10_000, where),
        _int(table, "lost_cards", 0, CITIZENS_MAX, where),
        str(_get(table, "source", str, where)),
    )


def region_shipped() -> dict[str, Path]:
    """The region scenarios shipped with CardTwin, by `[region] name`."""
    return {_read(path).name: path for path in sorted(REGION_DIR.glob("region*.toml"))}


def load_region(path: Path | str) -> RegionScenario:
    """Read and check a region scenario: a file, or a shipped one's `[region] name`."""
    p = Path(path)
    if p.is_file():
        return _read(p)
    names = region_shipped()
    if str(path) not in names:
        raise ScenarioError(
            f"{path}: no such file, and no shipped region scenario of that name ({', '.join(names)})"
        )
    return _read(names[str(path)])


def _read(p: Path) -> RegionScenario:
    try:
        doc = tomllib.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ScenarioError(f"{p}: cannot read region scenario: {exc}") from None
    _unknown(doc, {"region", "city"}, str(p))
    region = doc.get("region")
    if not isinstance(region, dict):
        raise ScenarioError(f"{p}: [region]: missing")
    where = f"{p}: [region]"
    _unknown(region, _REGION_KEYS, where)
    try:
        day = date.fromisoformat(str(_get(region, "day", str, where)))
    except ValueError:
        raise ScenarioError(f"{where}: day: not YYYY-MM-DD") from None
    cities = doc.get("city")
    if not isinstance(cities, list) or len(cities) != CITIES:
        raise ScenarioError(f"{p}: [[city]]: exactly {CITIES} cities")
    built = tuple(_city(c, f"{p}: [[city]] #{n}") for n, c in enumerate(cities, 1))
    if built[0].code == built[1].code:
        raise ScenarioError(f"{p}: [[city]]: two cities with code {built[0].code.hex()}")
    return RegionScenario(
        str(_get(region, "name", str, where)),
        p,
        _int(region, "seed", 0, 2**31, where),
        day,
        _int(region, "interchange_fee_bp", 0, 10_000, where),
        _float(region, "hotlist_local_delay_h", 0.0, 48.0, where),
        _float(region, "hotlist_interchange_delay_h", 0.0, 48.0, where),
        _float(region, "tear_share", 0.0, 0.5, where),
        built,
        str(_get(region, "source", str, where)),
    )
