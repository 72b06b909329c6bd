"""Every figure the Hangzhou and one-card-plan rollouts cite equals the seed-facts value.

A value line whose comment starts with a citation tag ([HZ], [PLAN], [CMP], [EXT]) is a cited
figure; so are the numbers of a [[target]], [[batch]] or [[observation]] whose `source` starts
with one (unless the line itself says ASSUMPTION). Each must appear in CITED below with the
seed-facts phrase it comes from: the phrase must occur in seed-facts.md, and the figure computed
from the phrase's numbers must equal the scenario's value. A cited figure missing from CITED
fails, so a new citation cannot slip in unchecked. Borrowed figures marked ASSUMPTION (another
city's plan) may be listed too, and are checked the same way.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# The project's copy of the team's seed facts: CI runs in a fresh clone with no ../shared beside
# it. Where ../shared is present the copy must equal it (test below), so it cannot drift.
SEED_FACTS = ROOT / "docs" / "reference" / "seed-facts.md"
SHARED_SEED_FACTS = ROOT.parent / "shared" / "reference" / "seed-facts.md"
ROLLOUTS = ROOT / "scenarios" / "rollout"
TAGS = ("[HZ]", "[PLAN]", "[CMP]", "[EXT]")
CITED_TABLES = ("target", "batch", "observation")
CITED_FIELDS = ("low", "high", "cards", "value")
FEN_PER_CNY = 100

Figure = Callable[[list[float]], float]
# The one-card plan's table rows, as seed-facts.md prints them.
ROW_2005 = "| 2005 (inferred) | 600,000 | 150 | 1,000 |"
ROW_2006 = "| 2006 | 1.5-2.5 million | 600 | 6,000 | >= 100M CNY | >= 2B CNY |"
ROW_2007 = "| 2007 | 4-6 million | 1,000 | 10,000 | >= 500M CNY | >= 6B CNY |"
ROW_2010 = "| 2010 | 8-10 million | 2,000 | 15,000 | >= 2B CNY | >= 10B CNY |"
# Numbers of a row: [year, cardholders low, (high), points, terminals, (revenue, spending)].
CARDS_LOW, CARDS_HIGH = 1, 2


def nth(i: int, scale: float = 1) -> Figure:
    return lambda n: n[i] * scale


HANGZHOU_TERMINALS_2009 = 10_500  # ASSUMPTION in the scenario: taxis + points + 5,000 buses

CITED: dict[str, dict[str, tuple[tuple[str, ...], Figure]]] = {
    "hangzhou-2004-2009.toml": {
        "adoption.initial_cardholders": (("2004-12-25: pilot issuance",), lambda n: 0),
        "deployment.taxi_share": (
            ("4,600+ taxis retrofitted",),
            lambda n: round(n[0] / HANGZHOU_TERMINALS_2009, 3),
        ),
        "deployment.gate_share": (("Hangzhou Metro Line 1 opened on 2012-11-24",), lambda n: 0.0),
        "deployment.pos_share": (
            ("900+ acceptance points",),
            lambda n: round(n[0] / HANGZHOU_TERMINALS_2009, 3),
        ),
        "finance.platform_fen": (("100M for the business platform",), nth(0, FEN_PER_CNY)),
        "batch[0].cards": (("pilot issuance in three communities", "3,000+ cards"), nth(0)),
        "batch[1].cards": (("100,000 civil servants' cards",), nth(0)),
        "milestone[0].service_windows": (("Service network: 11 service windows",), nth(0)),
        "milestone[1].terminals": ((ROW_2006,), nth(4)),
        "milestone[1].service_windows": (("Service network: 11 service windows",), nth(0)),
        "milestone[2].recharge_points": ((ROW_2006,), nth(3)),
        "milestone[2].terminals": (
            ("4,600+ taxis retrofitted", "900+ acceptance points"),
            lambda n: n[0] + n[1] + 5_000,
        ),
        "milestone[2].service_windows": (("Service network: 11 service windows",), nth(0)),
        "target[0].low": (("3,000+ cards",), nth(0)),
        "target[1].low": (("100,000 civil servants' cards",), nth(0)),
        "target[2].low": (("2.05 million applied, 2.01 million issued",), nth(1)),
        "target[2].high": (("2.05 million applied, 2.01 million issued",), nth(0)),
        "target[3].low": (("4,600+ taxis retrofitted", "900+ acceptance points"), lambda n: n[0] + n[1]),
        "observation[0].value": (("3,000+ cards",), nth(0)),
        "observation[1].value": (("2.05 million applied",), nth(0)),
        "observation[2].value": (("2.01 million issued",), nth(0)),
        "day.city.metro_lines": (("Hangzhou Metro Line 1 opened on 2012-11-24",), lambda n: 0),
        "day.city.taxis": (
            ("4,600+ taxis retrofitted, about 55% of the fleet",),
            lambda n: round(n[0] / n[1]),
        ),
        "day.population.metro_share": (("Hangzhou Metro Line 1 opened on 2012-11-24",), lambda n: 0.0),
    },
    "one-card-plan-2005-2010.toml": {
        "finance.platform_fen": (("100M for the business platform",), nth(0, FEN_PER_CNY)),
        "finance.platform_months": ((ROW_2005, "Investment to 2007"), lambda n: (n[4] - n[0] + 1) * 12),
        "finance.acquirer_terminal_share": (("all raised by the operator",), lambda n: 0.0),
        "finance.budget_fen": (("Investment to 2007: 500M CNY",), nth(1, FEN_PER_CNY)),
        "finance.capital_fen_per_year": (
            ("400M for outlets and terminals",),
            lambda n: round(n[0] * FEN_PER_CNY / 3),
        ),
        "phase[3].eligible_persons": ((ROW_2010,), nth(CARDS_HIGH)),
        "milestone[0].recharge_points": ((ROW_2005,), nth(2)),
        "milestone[0].terminals": ((ROW_2005,), nth(3)),
        "milestone[1].recharge_points": ((ROW_2006,), nth(3)),
        "milestone[1].terminals": ((ROW_2006,), nth(4)),
        "milestone[2].recharge_points": ((ROW_2007,), nth(3)),
        "milestone[2].terminals": ((ROW_2007,), nth(4)),
        "milestone[3].recharge_points": ((ROW_2010,), nth(3)),
        "milestone[3].terminals": ((ROW_2010,), nth(4)),
        "target[0].low": ((ROW_2005,), nth(CARDS_LOW)),
        "target[1].low": ((ROW_2006,), nth(CARDS_LOW)),
        "target[1].high": ((ROW_2006,), nth(CARDS_HIGH)),
        "target[2].low": ((ROW_2007,), nth(CARDS_LOW)),
        "target[2].high": ((ROW_2007,), nth(CARDS_HIGH)),
        "target[3].low": ((ROW_2010,), nth(CARDS_LOW)),
        "target[3].high": ((ROW_2010,), nth(CARDS_HIGH)),
        "target[4].low": ((ROW_2005,), nth(2)),
        "target[5].low": ((ROW_2006,), nth(3)),
        "target[6].low": ((ROW_2007,), nth(3)),
        "target[7].low": ((ROW_2010,), nth(3)),
        "target[8].low": ((ROW_2005,), nth(3)),
        "target[9].low": ((ROW_2006,), nth(4)),
        "target[10].low": ((ROW_2007,), nth(4)),
        "target[11].low": ((ROW_2010,), nth(4)),
        "target[12].low": ((ROW_2006,), nth(5, FEN_PER_CNY)),
        "target[13].low": ((ROW_2007,), nth(5, FEN_PER_CNY)),
        "target[14].low": ((ROW_2010,), nth(5, FEN_PER_CNY)),
        "target[15].low": ((ROW_2006,), nth(6, FEN_PER_CNY)),
        "target[16].low": ((ROW_2007,), nth(6, FEN_PER_CNY)),
        "target[17].low": ((ROW_2010,), nth(6, FEN_PER_CNY)),
    },
}

NUMBER = re.compile(r"(\d[\d,]*(?:\.\d+)?)(?:-(\d[\d,]*(?:\.\d+)?))?\s*(million|M\b|B\b|%)?")
SCALE = {"million": 1e6, "M": 1e6, "B": 1e9, "%": 0.01, None: 1.0}
VALUE_LINE = re.compile(r"^([a-z_0-9]+)\s*=\s*([-0-9][0-9_.]*)\s*(?:#\s*(.*))?$")
HEADER = re.compile(r"^(\[\[?)([a-z_.]+)\]\]?\s*(?:#.*)?$")


def numbers(phrase: str) -> list[float]:
    """The figures of a seed-facts phrase: `2.01 million` 2,010,000; `1.5-2.5 million` both ends;
    `100M` 1e8; `55%` 0.55; dates give their year (`2004-12-25` is 2004)."""
    out: list[float] = []
    for m in NUMBER.finditer(phrase):
        scale = SCALE[m.group(3)]
        out.append(round(float(m.group(1).replace(",", "")) * scale, 6))
        if m.group(2) is not None:
            out.append(round(float(m.group(2).replace(",", "")) * scale, 6))
    return out


def seed_text() -> str:
    return " ".join(SEED_FACTS.read_text("utf-8").split())


def cited_paths(text: str) -> set[str]:
    """The dotted paths of the figures a scenario text cites (see the module docstring)."""
    counts: dict[str, int] = {}
    table = ""
    found: set[str] = set()
    pending: list[str] = []  # numbers of the current array table, cited if its source is
    array = False
    for line in text.splitlines():
        head = HEADER.match(line.strip())
        if head:
            pending, array = [], head.group(1) == "[["
            name = head.group(2)
            if array:
                counts[name] = counts.get(name, -1) + 1
                table = f"{name}[{counts[name]}]"
            else:
                table = name
            continue
        if array and line.startswith("source") and line.split("=", 1)[1].strip().strip('"').startswith(TAGS):
            found.update(pending)
            continue
        m = VALUE_LINE.match(line.strip())
        if not m:
            continue
        key, comment = m.group(1), (m.group(3) or "")
        path = f"{table}.{key}"
        if comment.startswith(TAGS):
            found.add(path)
        elif (
            array
            and table.split("[")[0] in CITED_TABLES
            and key in CITED_FIELDS
            and not comment.startswith("ASSUMPTION")
        ):
            pending.append(path)
    return found


def value_at(doc: dict[str, object], path: str) -> object:
    node: object = doc
    for part in path.split("."):
        name, _, index = part.partition("[")
        assert isinstance(node, dict), path
        node = node[name]
        if index:
            assert isinstance(node, list), path
            node = node[int(index.rstrip("]"))]
    return node


def mismatches(name: str, text: str, facts: str) -> list[str]:
    """Every cited figure of scenario `name` (its TOML text) that does not equal seed-facts."""
    doc = tomllib.loads(text)
    table = CITED[name]
    out = [f"{p}: cited but not in CITED" for p in sorted(cited_paths(text) - set(table))]
    for path, (phrases, figure) in table.items():
        missing = [ph for ph in phrases if " ".join(ph.split()) not in facts]
        if missing:
            out.append(f"{path}: phrase not in seed-facts.md: {missing}")
            continue
        expected = figure([x for ph in phrases for x in numbers(ph)])
        actual = value_at(doc, path)
        assert isinstance(actual, int | float), (path, actual)
        if abs(float(actual) - expected) > 1e-9 * max(1.0, abs(expected)):
            out.append(f"{path}: {actual} in the scenario, {expected:g} from seed-facts")
    return out


@pytest.mark.parametrize("name", sorted(CITED))
def test_every_cited_figure_equals_seed_facts(name: str) -> None:
    text = (ROLLOUTS / name).read_text("utf-8")
    assert mismatches(name, text, seed_text()) == []


def test_a_changed_figure_or_an_unlisted_citation_fails() -> None:
    facts = seed_text()
    text = (ROLLOUTS / "hangzhou-2004-2009.toml").read_text("utf-8")
    wrong = text.replace("low = 2_010_000", "low = 2_100_000")
    assert mismatches("hangzhou-2004-2009.toml", wrong, facts) == [
        "target[2].low: 2100000 in the scenario, 2.01e+06 from seed-facts"
    ]
    extra = text.replace("urban_area_km2 = 430.0  # ASSUMPTION", "urban_area_km2 = 430.0  # [HZ] area")
    assert mismatches("hangzhou-2004-2009.toml", extra, facts) == [
        "deployment.urban_area_km2: cited but not in CITED"
    ]


def test_the_hangzhou_day_has_no_metro_and_uses_the_taxi_share() -> None:
    from scenarios.rollout_loader import load_rollout

    day = load_rollout("hangzhou-2004-2009").day_scenario
    assert day.city.metro_lines == 0 and day.population.metro_share == 0.0
    assert round(4_600 / day.city.taxis, 2) == 0.55


def test_numbers_reads_units() -> None:
    assert numbers("2.05 million applied, 2.01 million issued") == [2_050_000, 2_010_000]
    assert numbers("| 2006 | 1.5-2.5 million | 600 | 6,000 | >= 100M CNY | >= 2B CNY |") == [
        2006, 1_500_000, 2_500_000, 600, 6000, 100_000_000, 2_000_000_000,
    ]  # fmt: skip
    assert numbers("about 55% of the fleet") == [0.55]


def test_the_projects_copy_of_seed_facts_equals_the_shared_one_where_it_is_present() -> None:
    assert SEED_FACTS.stat().st_size > 1_000
    if SHARED_SEED_FACTS.exists():  # a developer's checkout; a fresh CI clone has only the copy
        assert SEED_FACTS.read_bytes() == SHARED_SEED_FACTS.read_bytes(), "refresh docs/reference"
