"""Interchange faults for the verify campaign: a seeded two-city region day whose interchange
files between the clearing houses are lost, late or duplicated, or whose receiving house is
down for a night, checked for every fen in both ledgers and the interchange.

Each seed runs the shipped region scenario (a smaller sample, the seed as its seed, a tenth of
taps torn when `card-tear` is chosen too) through `sim.region.run_region` under the faults the
classes draw, over the nights they need: the faults hit the first nights, so by the end every file
must have been taken once and every advice applied once. The checks are the region's own
(`sim.region.checks`) and two of liveness: nothing left in transit, every advice applied.
"""

from __future__ import annotations

import dataclasses
import random
import shutil
from pathlib import Path

from scenarios.region_schema import load_region
from sim.region import Faults, RegionResult, run_region
from sim.region.night import fault_plan

REGION_FAULTS: dict[str, str] = {
    "interchange-late": "an interchange file between clearing houses arrives a night late, after its resend",
    "interchange-lost": "an interchange file, or its acknowledgement, is lost in transit (then resent)",
    "interchange-duplicate": "every interchange file and settlement advice is delivered twice",
    "interchange-house-down": "one city's clearing house is down for a night: its uploads and files wait",
}
_SCENARIO = Path(__file__).resolve().parents[2] / "scenarios" / "region-hangzhou-shaoxing.toml"


def draw_faults(seed: int, chosen: frozenset[str], cities: tuple[str, ...]) -> tuple[Faults, int]:
    """The seed's faults (which city is down, a lost file or a lost acknowledgement) and nights."""
    rng = random.Random(f"verify/region:{seed}")
    down = rng.choice(cities) if "interchange-house-down" in chosen else None
    lose_file = rng.random() < 0.5
    lost = "interchange-lost" in chosen
    return fault_plan(
        lost and lose_file,
        lost and not lose_file,
        "interchange-late" in chosen,
        "interchange-duplicate" in chosen,
        down,
    )


def _liveness(r: RegionResult) -> list[str]:
    out = []
    for pair, f in r.interchange.items():
        if f["unacked_fen"] or f["pending_fen"]:
            out.append(
                f"region {pair}: {f['unacked_fen'] + f['pending_fen']} fen still in transit after the nights"
            )
        if f["acked_fen"] and not f["settled_gross_fen"]:
            out.append(f"region {pair}: files taken but no advice applied")
    return out


def run_region_seed(seed: int, chosen: frozenset[str], folder: Path) -> tuple[dict[str, int], list[str]]:
    """(faults injected by class, violations) of one seed's region run."""
    base = load_region(_SCENARIO)
    small = tuple(
        dataclasses.replace(c, residents=c.residents // 4, commuters=c.commuters // 2) for c in base.cities
    )
    tear = 0.1 if "card-tear" in chosen else base.tear_share
    s = dataclasses.replace(base, seed=seed, cities=small, tear_share=tear)
    faults, nights = draw_faults(seed, chosen, tuple(c.name for c in small))
    where = folder / f"region-seed{seed}"
    shutil.rmtree(where, ignore_errors=True)
    try:
        r = run_region(s, where, faults, nights)
    finally:
        shutil.rmtree(where, ignore_errors=True)
    violations = [
        f"region {c.name}: {c.left_fen} != {c.right_fen} ({c.detail})" for c in r.checks if not c.ok
    ]
    injected = {
        "interchange-late": r.traffic.files["late"],
        "interchange-lost": r.traffic.files["lost"] + r.traffic.files["ack-lost"],
        "interchange-duplicate": r.traffic.files["duplicated"] + r.traffic.advices["duplicated"],
        "interchange-house-down": r.traffic.files["receiver-down"] + r.traffic.advices["receiver-down"],
    }
    return {k: v for k, v in injected.items() if k in chosen}, violations + _liveness(r)
