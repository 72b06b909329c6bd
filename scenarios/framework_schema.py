"""The five-stage operating framework scenario (`kind = "five-stage"` in a rollout file).

A file of this kind is run by the framework engine (`sim.operator`), not the rollout engine:
`cardtwin rollout five-stage-framework` dispatches on `kind`. Strict: every section and key
below must be there, nothing else may be, each value in its range; an error names the file,
the section and the key. Figures carry units in their names (`_fen`, `_bp`, `_share`,
`_days`); `[[range]]` gives the assumptions the replications draw (uniformly, by seed).
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scenarios.months import is_month
from scenarios.schema import ScenarioError

KIND = "five-stage"
ROLLOUT_DIR = Path(__file__).resolve().parent / "rollout"
MONTHS_MAX = 360
REPLICATIONS_MAX = 2_000
MONEY_MAX = 10**15  # fen
TARGETS_MAX = 50
KPIS = ("cardholders", "float_fen", "stage_month", "stress_holds", "investment_fen")

# section -> key -> (type, low, high)
FIELDS: dict[str, dict[str, tuple[type, float, float]]] = {
    "framework": {
        "months": (int, 12, MONTHS_MAX),
        "seed": (int, 0, 2**31),
        "replications": (int, 0, REPLICATIONS_MAX),
    },
    "city": {
        "eligible_persons": (int, 1, 50_000_000),
        "service_windows": (int, 1, 10_000),
        "cards_per_window_per_day": (int, 1, 10_000),
        "working_days_per_month": (int, 1, 31),
        "second_city_persons": (int, 0, 50_000_000),
    },
    "adoption": {"innovation_p": (float, 0.0001, 0.5), "imitation_q": (float, 0.0, 2.0)},
    "spending": {
        "spend_fen_per_cardholder_per_month": (int, 0, MONEY_MAX),
        "spend_growth_stage2_share": (float, 0.0, 5.0),
        "balance_fen_per_cardholder": (int, 0, 500_000),
        "deposit_fen": (int, 0, 100_000),
    },
    "revenue": {
        "card_price_fen": (int, 0, 100_000),
        "card_cost_fen": (int, 0, 100_000),
        "fee_bp": (int, 0, 10_000),
        "vas_fen_per_cardholder_per_month": (int, 0, 100_000),
        "media_fen_per_cardholder_per_month": (int, 0, 100_000),
        "second_city_fee_fen_per_cardholder_per_month": (int, 0, 100_000),
    },
    "cost": {
        "platform_fen": (int, 0, MONEY_MAX),
        "opex_fen_per_month": (int, 0, MONEY_MAX),
        "opex_fen_per_cardholder_per_month": (int, 0, 100_000),
        "second_city_fen": (int, 0, MONEY_MAX),
    },
    "float": {
        "reserve_confidence": (float, 0.5, 0.999999),
        "liquidity_horizon_days": (int, 1, 365),
        "outflow_mean_share_per_day": (float, 0.0, 0.1),
        "outflow_sd_share_per_day": (float, 0.0, 0.1),
        "reserve_floor_share": (float, 0.0, 1.0),
        "reserve_rate_bp": (int, 0, 2_000),
        "yield_bp": (int, 0, 5_000),
        "yield_sd_bp": (int, 0, 5_000),
    },
    "stress": {
        "refund_wave_share": (float, 0.0, 1.0),
        "refund_wave_days": (int, 1, 365),
        "yield_shock_bp": (int, -5_000, 5_000),
        "haircut_bp": (int, 0, 10_000),
    },
    "stages": {
        "saturation_share": (float, 0.1, 1.0),
        "profit_months": (int, 1, 120),
        "float_threshold_fen": (int, 0, MONEY_MAX),
    },
}
_TEXT = {"framework": ("name", "title", "start_month", "source")}
# Optional: the day scenario whose twin the plan's spending and float are set beside (a path
# relative to the framework file); the report shows the plan's inputs and the twin's prediction.
_OPTIONAL_TEXT = {"spending": ("twin_day",)}


@dataclass(frozen=True, slots=True)
class Target:
    kpi: str
    month: int  # months from the start (0-based) the target is due
    low: float
    high: float
    stage: int  # for stage_month: which stage
    plan_input: bool  # the plan fixes the figure: reported, never "met"
    source: str


@dataclass(frozen=True, slots=True)
class Range:
    key: str  # section.key
    low: float
    high: float
    source: str


@dataclass(frozen=True, slots=True)
class FrameworkScenario:
    path: Path
    name: str
    title: str
    start_month: str
    source: str
    values: dict[str, float]  # "section.key" -> value
    targets: tuple[Target, ...]
    ranges: tuple[Range, ...]
    twin_day: Path | None = None  # the day scenario the report compares spending and float with

    def v(self, key: str) -> float:
        return self.values[key]

    def i(self, key: str) -> int:
        return int(self.values[key])

    def with_values(self, changes: dict[str, float]) -> FrameworkScenario:
        return FrameworkScenario(
            self.path,
            self.name,
            self.title,
            self.start_month,
            self.source,
            self.values | changes,
            self.targets,
            self.ranges,
            self.twin_day,
        )


def is_framework(path: Path) -> bool:
    """Whether a scenario file is of the framework kind (read cheaply: the first lines)."""
    try:
        head = path.read_text(encoding="utf-8")[:2_000]
    except (OSError, UnicodeDecodeError):
        return False
    return any(line.replace(" ", "") == f'kind="{KIND}"' for line in head.splitlines())


def framework_shipped() -> dict[str, Path]:
    """The framework scenarios shipped among the rollout files, by file stem."""
    return {p.stem: p for p in sorted(ROLLOUT_DIR.glob("*.toml")) if is_framework(p)}


def framework_path(text: str) -> Path | None:
    """The framework scenario a SCENARIO argument names (a file or a shipped stem), or None."""
    path = Path(text)
    if path.is_file():
        return path if is_framework(path) else None
    return framework_shipped().get(text)


def apply_sets(s: FrameworkScenario, sets: dict[str, object]) -> FrameworkScenario:
    """`--set section.key=value` overrides, checked as the file's values are."""
    changes = {}
    for key, value in sets.items():
        section, _, name = key.partition(".")
        if name not in FIELDS.get(section, {}):
            raise ScenarioError(f"--set {key}: not a framework value (e.g. adoption.imitation_q)")
        kind, low, high = FIELDS[section][name]
        changes[key] = _value(f"--set {key}", name, value, kind, low, high)
    out = s.with_values(changes)
    months = out.i("framework.months")
    late = [n for n, t in enumerate(s.targets, 1) if t.month >= months]
    if late:
        raise ScenarioError(
            f"--set framework.months={months}: [[target]] #{late[0]} falls after the run's end"
        )
    return out


def _value(where: str, key: str, value: Any, kind: type, low: float, high: float) -> float:
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ScenarioError(f"{where}: {key}: {value!r} is not {kind.__name__}")
    number = float(value) if isinstance(value, (int, float)) else math.nan
    if not low <= number <= high:
        raise ScenarioError(f"{where}: {key}: {value} out of range (allowed: {low}..{high})")
    return number


def _section(doc: dict[str, Any], section: str, p: Path) -> dict[str, float]:
    table = doc.get(section)
    where = f"{p}: [{section}]"
    if not isinstance(table, dict):
        raise ScenarioError(f"{where}: missing")
    known = set(FIELDS[section]) | set(_TEXT.get(section, ())) | set(_OPTIONAL_TEXT.get(section, ()))
    known |= {"source", "kind"}
    extra = sorted(set(table) - known)
    if extra:
        raise ScenarioError(f"{where}: unknown key {extra[0]!r} (allowed: {', '.join(sorted(known))})")
    out = {}
    for key, (kind, low, high) in FIELDS[section].items():
        if key not in table:
            raise ScenarioError(f"{where}: {key}: missing")
        out[f"{section}.{key}"] = _value(where, key, table[key], kind, low, high)
    return out


def _target(entry: Any, n: int, p: Path, months: int, start: str) -> Target:
    where = f"{p}: [[target]] #{n}"
    if not isinstance(entry, dict) or set(entry) - {
        "kpi",
        "month",
        "low",
        "high",
        "stage",
        "plan_input",
        "source",
    }:
        raise ScenarioError(f"{where}: takes kpi, month, low, high, stage, plan_input, source")
    kpi = entry.get("kpi")
    if kpi not in KPIS:
        raise ScenarioError(f"{where}: kpi: {kpi!r} is not known (allowed: {', '.join(KPIS)})")
    month = str(entry.get("month", ""))
    if not is_month(month):
        raise ScenarioError(f"{where}: month: {month!r} is not YYYY-MM")
    offset = (int(month[:4]) - int(start[:4])) * 12 + int(month[5:]) - int(start[5:])
    if not 0 <= offset < months:
        raise ScenarioError(f"{where}: month: {month} outside the run ({start} + {months} months)")
    low = _value(where, "low", entry.get("low"), float, -MONEY_MAX, MONEY_MAX)
    high = _value(where, "high", entry.get("high", MONEY_MAX), float, low, MONEY_MAX)
    stage = int(_value(where, "stage", entry.get("stage", 0), int, 0, 5))
    if kpi == "stage_month" and stage < (1 if entry.get("plan_input") else 2):
        raise ScenarioError(f"{where}: stage: a stage_month target names stage 2..5 (1 is the plan's start)")
    plan_input = entry.get("plan_input", False)
    if not isinstance(plan_input, bool) or not isinstance(entry.get("source"), str):
        raise ScenarioError(f"{where}: plan_input is true/false and source a text")
    return Target(str(kpi), offset, low, high, stage, plan_input, str(entry["source"]))


def _range(entry: Any, n: int, p: Path, values: dict[str, float]) -> Range:
    where = f"{p}: [[range]] #{n}"
    if not isinstance(entry, dict) or set(entry) != {"key", "low", "high", "source"}:
        raise ScenarioError(f"{where}: takes key, low, high, source")
    key = str(entry["key"])
    if key not in values:
        raise ScenarioError(f"{where}: key: {key!r} is not a framework value")
    section, name = key.split(".")
    kind, lo, hi = FIELDS[section][name]
    low = _value(where, "low", entry["low"], kind, lo, hi)
    high = _value(where, "high", entry["high"], kind, low, hi)
    return Range(key, low, high, str(entry["source"]))


def _twin_day(text: object, p: Path) -> Path | None:
    """The day scenario `[spending] twin_day` names: a file beside the framework file, else one of
    the shipped day scenarios (scenarios/NAME)."""
    if text is None:
        return None
    if isinstance(text, str) and text:
        for folder in (p.parent, ROLLOUT_DIR.parent):
            if (folder / text).is_file():
                return (folder / text).resolve()
    raise ScenarioError(
        f"{p}: [spending]: twin_day: {text!r} is not a day scenario file (beside it or shipped)"
    )


def load_framework(path: Path | str) -> FrameworkScenario:
    p = Path(path)
    try:
        doc = tomllib.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ScenarioError(f"{p}: cannot read framework scenario: {exc}") from None
    extra = sorted(set(doc) - set(FIELDS) - {"kind", "target", "range"})
    if doc.get("kind") != KIND or extra:
        raise ScenarioError(
            f"{p}: kind must be {KIND!r} and sections only {', '.join(FIELDS)}, target, range"
        )
    values: dict[str, float] = {}
    for section in FIELDS:
        values |= _section(doc, section, p)
    fw = doc["framework"]
    texts = {k: fw.get(k) for k in _TEXT["framework"]}
    if not all(isinstance(v, str) and v for v in texts.values()) or not is_month(str(texts["start_month"])):
        raise ScenarioError(f"{p}: [framework]: name, title, source are texts and start_month YYYY-MM")
    months = int(values["framework.months"])
    twin_day = _twin_day(doc["spending"].get("twin_day"), p)
    targets, ranges = doc.get("target", []), doc.get("range", [])
    if not isinstance(targets, list) or not isinstance(ranges, list) or len(targets) > TARGETS_MAX:
        raise ScenarioError(
            f"{p}: [[target]] and [[range]] are arrays of tables (at most {TARGETS_MAX} targets)"
        )
    return FrameworkScenario(
        p,
        str(texts["name"]),
        str(texts["title"]),
        str(texts["start_month"]),
        str(texts["source"]),
        values,
        tuple(_target(t, n, p, months, str(texts["start_month"])) for n, t in enumerate(targets, 1)),
        tuple(_range(r, n, p, values) for n, r in enumerate(ranges, 1)),
        twin_day,
    )
