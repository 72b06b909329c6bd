"""Load and run rollout scenarios for the dashboard, with a cache of finished runs.

A run is keyed by the fingerprint of the *loaded* scenario (every value after `extends`,
overrides and the day scenario are resolved), the seed and the sample: the same inputs give
the same result, so the second time they are shown at once, and an edit anywhere in a
scenario's chain of files is a different key. Finished results are frozen, so the cache
hands out the object itself. The cache lives in the Streamlit server process (one per
server, shared by sessions) and is bounded.

A plan whose city runs on the bank card world (`scenarios.bank_schema.bank_city_for`, the test
`cardtwin rollout` dispatches on: Huaibei) runs the same engine with the bank-card city's days
(`sim.bankcity.days.BankDays`); its key adds the bank-card city's values.

Uploaded files are placed among copies of the shipped scenarios so that their relative
references (`extends`, `day_scenario = "../default.toml"`) resolve as they would in
scenarios/rollout/.
"""

from __future__ import annotations

import atexit
import hashlib
import re
import shutil
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from scenarios.bank_schema import bank_city_for, load_bank_city
from scenarios.rollout_loader import ROLLOUT_DIR, load_rollout, shipped
from scenarios.rollout_schema import RolloutScenario
from scenarios.schema import ScenarioError

if TYPE_CHECKING:  # the engine (and matplotlib under it) loads with the first run, not the first page
    from sim.rollout import RolloutResult
    from sim.services.rollout import ServicesRollout

CACHE_ENTRIES = 8
UPLOAD_BYTES_MAX = 1 << 20  # a rollout scenario is a few kB of TOML
Progress = Callable[[int, int], None]


def shipped_scenarios() -> dict[str, Path]:
    return shipped()


def load(path: Path, overrides: Mapping[str, object] | None = None) -> RolloutScenario:
    """Load and validate; a bad file or override raises ScenarioError with its one-line message."""
    return load_rollout(path, dict(overrides or {}))


def fingerprint(scenario: RolloutScenario, seed: int, sample: float) -> str:
    """What the result depends on: every resolved value, the seed and the sample."""
    values = {
        f: getattr(scenario, f) for f in scenario.__dataclass_fields__ if f not in ("source", "located")
    }
    return hashlib.sha256(repr((sorted(values.items()), seed, sample)).encode()).hexdigest()


class RunCache:
    """Finished runs by fingerprint, least recently used dropped first; safe across sessions."""

    def __init__(self, entries: int = CACHE_ENTRIES) -> None:
        assert entries >= 1
        self._entries = entries
        self._runs: OrderedDict[str, RolloutResult] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> RolloutResult | None:
        with self._lock:
            result = self._runs.get(key)
            if result is not None:
                self._runs.move_to_end(key)
            return result

    def put(self, key: str, result: RolloutResult) -> None:
        with self._lock:
            self._runs[key] = result
            self._runs.move_to_end(key)
            while len(self._runs) > self._entries:
                self._runs.popitem(last=False)

    def __len__(self) -> int:
        return len(self._runs)


def run(
    cache: RunCache, scenario: RolloutScenario, seed: int, sample: float, progress: Progress | None = None
) -> tuple[RolloutResult, bool]:
    """The result of a scenario, and whether it came from the cache."""
    bank_path = bank_city_for(scenario.source)
    bank_city = load_bank_city(bank_path) if bank_path is not None else None
    key = fingerprint(scenario, seed, sample) + (
        hashlib.sha256(repr(bank_city).encode()).hexdigest() if bank_city else ""
    )
    cached = cache.get(key)
    if cached is not None:
        return cached, True
    from sim.rollout import run_rollout

    if bank_city is not None:  # the plan runs on the bank card world (`system = "bankcard"`)
        from sim.bankcity.days import BankDays

        result = run_rollout(
            scenario, seed=seed, sample=sample, progress=progress, represent=BankDays(bank_city)
        )
    else:
        result = run_rollout(scenario, seed=seed, sample=sample, progress=progress)
    cache.put(key, result)
    return result, False


def services_of(scenario: RolloutScenario, result: RolloutResult) -> ServicesRollout | None:
    """The run's services outputs, as `cardtwin rollout` computes them (None without [services])."""
    services = scenario.day_scenario.services
    if services is None:
        return None
    from sim.services.rollout import services_rollout

    return services_rollout(services, result.months, result.seed)


class UploadFolder:
    """A private folder laid out like scenarios/ where uploaded rollout files are written."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="cardtwin-dashboard-"))
        atexit.register(self.close)
        scenarios_dir = ROLLOUT_DIR.parent
        for day in scenarios_dir.glob("*.toml"):
            shutil.copy2(day, self.root / day.name)
        shutil.copytree(ROLLOUT_DIR, self.root / ROLLOUT_DIR.name, dirs_exist_ok=True)

    def write(self, filename: str, data: bytes) -> Path:
        """Store an uploaded file; the name carries its content's hash, so sessions that upload
        files of one name never overwrite each other's. Refuses oversize files."""
        if len(data) > UPLOAD_BYTES_MAX:
            raise ScenarioError(f"{filename}: {len(data)} bytes, more than {UPLOAD_BYTES_MAX} for a scenario")
        stem = Path(filename).name.removesuffix(".toml") or "upload"
        digest = hashlib.sha256(data).hexdigest()[:12]
        path = self.root / ROLLOUT_DIR.name / f"upload-{digest}-{stem}.toml"
        path.write_bytes(data)
        return path

    def shown(self, message: str) -> str:
        """An error message naming uploaded files as the viewer named them."""
        folder = re.escape(str(self.root / ROLLOUT_DIR.name))
        return re.sub(folder + r"/upload-[0-9a-f]{12}-", "", message)

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
