"""The verify campaign: many seeded city periods with faults injected everywhere, and the money
checked after every night (in the style of TigerBeetle's simulator and FoundationDB's tests).

One seed runs a short period (`days` city days of a small sample of the default scenario) of
the real twin (`sim.day.twin.CityDay`, the real terminal applications, cards, PSAMs, load host,
banks) and the real back office (clearing house, ledger, settlement, reconciliation) over one
clearing database. Faults are drawn at random from streams named by seed, class and day, so a
seed replays exactly. The fault classes (`FAULTS`) are injected at the boundary where each
happens in the field (see `sim.verify.injectors` for the component wrappers).

After every night the campaign checks, and records every violation (it never stops early):
- the twin's own day invariants (`sim.day.invariants.check_day`), cumulative over the period;
- the back office's reconciliation (`model.backoffice.reconciliation.reconcile`);
- money conservation: balances on the cards = ledger float + records held in quarantine +
  records still in terminals + records uploaded and not yet ingested; every bank's accounts
  plus what it paid out equal what it opened them with;
- every record the clearing house posted is one a card made (same amount, terminal, serial),
  and is posted once (no double charge); none is both posted and held;
- every posted record dated up to the settled day is settled exactly once; settlement
  positions net to zero;
- cards' counters and PSAM serials never go back;
- no card was accepted by a terminal after the hotlist naming it reached that terminal;
- the clone rule (`model.backoffice.clone_watch`) names no card: there is no clone in this city.
At the end of the period the terminals upload what they hold, the rest of the uploads arrive,
a reviewer releases what may be paid, and every committed record must be settled exactly once
(hotlisted ones stay held: the operator refuses them).
"""

from __future__ import annotations

import dataclasses
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import traceback
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import numpy as np

from devices.card_state import CardState
from model.backoffice import RELEASABLE, LoadRequest, Reason, Registry, find_clones, reconcile, record_key
from model.records import decode_record
from model.security import issuer_keys_toml
from model.terminal import PurchaseTerminal
from model.timefmt import encode_datetime
from scenarios.schema import Scenario, load
from sim.city import (
    ACCOUNT_OPENING_FEN,
    Kind,
    World,
    bank_of_point,
    build_registry,
    build_world,
    draw_columns,
    draw_demand,
    for_shard,
    kind_of,
    load_participant,
    registry_entries,
    terminal_number,
)
from sim.day import BATCH_SUFFIX, DAY_S, BackOffice, check_day
from sim.rng import keyed, stream
from sim.verify.faulty_day import FaultyDay, FaultyPort, GroundTruth, Transit
from sim.verify.injectors import BankOutage, FlakyPsam, PowerCut, SkewedApp
from sim.verify.report import (  # noqa: F401 - the campaign's vocabulary, importable from here too
    FAULTS,
    Report,
    SeedResult,
    VerifyError,
    faults_arg,
    parse_faults,
    replay_command,
)

DAYS_MAX = 14
SEEDS_MAX = 100_000
SAMPLE_DEFAULT = 0.0002  # ~400 citizens of the default scenario: a seed takes seconds
VIOLATIONS_KEPT_MAX = 50

# Rates per opportunity, high enough that a two-day seed sees each class several times.
PSAM_FAILURE_PER_COMMAND = 0.004
POWER_LOSS_PER_RECORD = 0.004
CLOCK_SKEW_PER_TERMINAL = 0.2
CLOCK_SKEW_S_MAX = 3 * 3600
OUTAGE_S = (1800.0, 4 * 3600.0)
CHILD_WAIT_S = 120.0  # a clearing child that takes longer has hung
CLEARING_CRASH_OPS = 20  # SQLite VM steps between interrupt checks


# -- the campaign of one seed -----------------------------------------------------------------


def scenario_for(seed: int, sample: float, faults: frozenset[str]) -> Scenario:
    """The default scenario, small, with the twin's own scenario faults raised for the classes on."""
    s = load(None).replace(seed=seed, sample=sample)
    f = s.faults
    return dataclasses.replace(
        s,
        faults=dataclasses.replace(
            f,
            tear_probability=0.01 if "card-tear" in faults else 0.0,
            late_upload_probability=0.1 if "upload-late" in faults else 0.0,
            duplicate_upload_probability=0.05 if "upload-duplicate" in faults else 0.0,
            terminal_outage_probability=f.terminal_outage_probability if "power-loss" in faults else 0.0,
            bank_decline_probability=0.01 if "bank-outage" in faults else 0.0,
        ),
    )


def _day_scenario(base: Scenario, day_index: int) -> Scenario:
    """Day n of the period: the next date, its own demand streams (the issuer keys stay)."""
    run = dataclasses.replace(
        base.run,
        date=(cast(date, base.run.day) + timedelta(days=day_index)).isoformat(),
        seed=base.run.seed * 1_000 + day_index if day_index else base.run.seed,
    )
    return dataclasses.replace(base, run=run)


class _ReportedCards:
    """The campaign's lost-card reports as the load host's hotlist view."""

    def __init__(self, reported: dict[bytes, datetime]) -> None:
        self.reported = reported

    def effective(self, asn: bytes) -> bytes | None:
        at = self.reported.get(asn)
        return None if at is None else encode_datetime(at)


class Campaign:
    """One seed: build the world, run the days and nights with faults, check everything."""

    def __init__(self, seed: int, faults: frozenset[str], days: int, sample: float, db_path: Path) -> None:
        if not 1 <= days <= DAYS_MAX:
            raise VerifyError(f"--days: {days} out of range (allowed: 1..{DAYS_MAX})")
        self.seed = seed
        self.faults = faults
        self.days = days
        self.db_path = db_path
        self.truth = GroundTruth(seed, faults)
        self.counts = self.truth.injected
        self.violations: list[str] = []
        self.genuine = self.truth.genuine
        self.hotlisted = self.truth.hotlisted
        self.hotlist_at = self.truth.hotlist_at
        self.base = scenario_for(seed, sample, faults)
        self.world = build_world(self.base)
        # The load host is online: it refuses a lost card from the moment of the report.
        self.world.host.hotlist = _ReportedCards(self.hotlisted)
        self.registry: Registry = build_registry(self.base, registry_entries(self.world))
        self.port = FaultyPort(self.world, self.truth)
        self.transactions = 0
        self._skew: dict[bytes, timedelta] = {}
        self._counters = np.zeros((2, len(self.world.population)), np.int64)
        self._serials: dict[bytes, int] = {}
        self._listed_in_db: set[bytes] = set()
        self._install()

    # -- wiring the injectors ----------------------------------------------------------------

    def _install(self) -> None:
        w = self.world
        rng_psam = keyed(self.seed, "verify/psam")
        rng_power = keyed(self.seed, "verify/power")
        rng_skew = stream(self.seed, "verify/skew")
        for t in w.fleet.all():
            app: Any = t.app
            if isinstance(app, PurchaseTerminal):
                if "psam-failure" in self.faults:
                    app.psam = FlakyPsam(app.psam, PSAM_FAILURE_PER_COMMAND, rng_psam, self.counts)
                if "power-loss" in self.faults:
                    # Purchase terminals only: a load terminal that reboots would also have to
                    # confirm the load to its host, which the model's load terminal cannot yet.
                    cast(Any, app).record_committed = PowerCut(
                        app.record_committed, POWER_LOSS_PER_RECORD, rng_power, self.counts
                    )
                app.hotlist = set()
            if "clock-skew" in self.faults and rng_skew.random() < CLOCK_SKEW_PER_TERMINAL:
                skew = timedelta(seconds=int(rng_skew.integers(-CLOCK_SKEW_S_MAX, CLOCK_SKEW_S_MAX)))
                self._skew[t.terminal_id] = skew
                self.counts["clock-skew"] += 1
                t.app = cast(Any, SkewedApp(app, skew))
        if "bank-outage" in self.faults:
            self._outages()

    def _outages(self) -> None:
        """Each bank's link is down for one stretch of the day (the window repeats daily)."""
        banks = self.base.city.banks
        rng = stream(self.seed, "verify/bank-outage")
        d = self.base.demand
        windows = {}
        for bank in banks:
            start = float(rng.uniform(d.service_start_h * 3600, d.service_end_h * 3600))
            windows[bank] = (start, start + float(rng.uniform(*OUTAGE_S)))
        per_point = self.base.city.kiosks_per_recharge_point

        def bank_of(request: LoadRequest) -> str | None:
            if kind_of(request.terminal_id) is Kind.WINDOW:
                return None
            point = terminal_number(request.terminal_id) // per_point
            return banks[bank_of_point(point, len(banks))]

        host = self.world.host
        host._funding = BankOutage(  # the host's funding link, seen through the outage
            host._funding, lambda: self._now(), windows, bank_of, self.counts
        )

    def _now(self) -> float:
        return self._day.env.now if self._day is not None else 0.0

    # -- the period --------------------------------------------------------------------------

    def run(self) -> SeedResult:
        started = time.perf_counter()
        self._day: FaultyDay | None = None
        try:
            for d in range(self.days):
                self._run_day(d)
            self._close_period()
        except Exception as exc:  # a crash is a finding: keep the seed, report where
            where = traceback.extract_tb(exc.__traceback__)[-1]
            self.violations.append(
                f"crash: {type(exc).__name__}: {exc} ({Path(where.filename).name}:{where.lineno})"
            )
        return SeedResult(
            seed=self.seed,
            days=self.days,
            transactions=self.transactions,
            records=len(self.genuine),
            faults={
                name: self.counts[name] for name in (*FAULTS, "power-loss-unflushed") if name in self.faults
            }
            | (
                {"power-loss-unflushed": self.counts["power-loss-unflushed"]}
                if "power-loss" in self.faults
                else {}
            ),
            violations=self.violations[:VIOLATIONS_KEPT_MAX],
            wall_s=time.perf_counter() - started,
            cleared=self._cleared,
            held=self._held,
        )

    def _run_day(self, d: int) -> None:
        w = self.world
        scenario = _day_scenario(self.base, d)
        if d:
            w.scenario = scenario
            columns = draw_columns(scenario, w.city.district_share)
            w.demand = [for_shard(t, 0, 1) for t in draw_demand(scenario, w.city, columns)]
            pop = w.population
            pop.recharging[:] = False  # a trip cut off at midnight is abandoned
            pop.last_board_s[:] = np.nan
        self.port.day_start = w.day_start
        self.port.day_offset_s = d * DAY_S
        day = FaultyDay(w, self.port, self.truth, d, self._day)
        self._day = day
        night = day.run()
        self.transactions += int(day.metrics.tx_count.sum())
        checks, _closing = check_day(w, day.sent, day.sent_records, night, day.issued_fen)
        self._fail(d, [(c.name, c.ok, c.detail) for c in checks])
        self._night(d, (d + 1) * DAY_S)

    def _close_period(self) -> None:
        """The terminals upload what they still hold, every upload arrives, a reviewer releases
        what may be paid, the last settlement runs: every committed record is settled once."""
        assert self._day is not None
        for t in self.world.terminals():
            self._day._send(t, measured=False)
        end = self.days * DAY_S
        for u in self.port.transit:
            u.at_s = min(u.at_s, end + DAY_S - 1)
        self._night(self.days, (self.days + 1) * DAY_S, review=True)

    # -- the night -----------------------------------------------------------------------------

    def _open(self) -> BackOffice:
        office = BackOffice.open(self.db_path, self.registry, self.world.issuer_keys)
        for asn, at in sorted(self.hotlisted.items()):
            if asn not in self._listed_in_db:
                office.hotlist.add(asn, at, at)
                self._listed_in_db.add(asn)
        return office

    def _night(self, d: int, until_s: float, review: bool = False) -> None:
        business = cast(date, self.base.run.day) + timedelta(days=d)
        due = sorted((u for u in self.port.transit if u.at_s < until_s), key=lambda u: (u.at_s, u.order))
        self.port.transit = [u for u in self.port.transit if u.at_s >= until_s]
        office = self._open()  # the clearing house starts each night from its database
        crash_at = -1
        rng = stream(self.seed, "verify/clearing-crash", d)
        if "clearing-kill9" in self.faults and d == 0 and due:
            # Once a seed (a process start costs a second): the night's ingest runs in a child
            # process that is SIGKILLed mid-way; then this process restarts the ingest.
            office.ledger.db.close()
            self._kill9(due, business, int(rng.integers(len(due))))
            office = self._open()
            ok = office.ledger.db.execute("PRAGMA integrity_check").fetchone()[0]
            self._fail(d, [("clearing database intact after SIGKILL", ok == "ok", str(ok))])
        if "clearing-crash" in self.faults and due:
            crash_at = int(rng.integers(len(due)))
        i = 0
        while i < len(due):
            u = due[i]
            if i == crash_at:
                crash_at = -1
                self._arm_kill(office.ledger.db, int(rng.integers(1, 8)))
            try:
                office.clearing.ingest_file(u.raw, u.name, business)
            except sqlite3.OperationalError as exc:
                if "interrupted" not in str(exc):
                    raise
                # Killed mid-ingest: the process is gone; a new one opens the database and
                # ingests the inbox again from this file (earlier ones are no-ops by digest).
                self.counts["clearing-crash"] += 1
                office.ledger.db.close()
                office = self._open()
                continue
            office.ledger.db.set_progress_handler(None, 0)
            i += 1
        if review:
            for qid, reason, _detail in office.clearing.held():
                if Reason(reason) in RELEASABLE and Reason(reason) is not Reason.HOTLISTED:
                    office.clearing.release(
                        qid, f"verify review: {reason} confirmed by the card log", business
                    )
        settle_until = business + timedelta(days=2 if review else 1)
        report = office.settlement.run(settle_until)
        positions = sum(line.position_fen for line in report.lines) + report.reserve_position_fen
        self._fail(d, [("settlement positions net to zero", positions == 0, f"sum {positions}")])
        self._check_books(d, office, settle_until, final=review)
        office.ledger.db.close()

    def _kill9(self, due: list[Transit], business: date, target: int) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            for i, u in enumerate(due):
                (folder / f"{i:06d}{BATCH_SUFFIX}").write_bytes(u.raw)
            (folder / "registry.toml").write_text(self.registry.to_toml(), encoding="utf-8")
            (folder / "issuer-keys.toml").write_text(
                issuer_keys_toml(self.world.issuer_keys), encoding="utf-8"
            )
            command = [
                sys.executable,
                "-m",
                "sim.verify.ingest",
                str(self.db_path),
                tmp,
                business.isoformat(),
            ]
            child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            killed = False
            assert child.stdout is not None
            for line in child.stdout:
                if line.strip() == f"ingesting {target:06d}{BATCH_SUFFIX}":
                    os.kill(child.pid, signal.SIGKILL)  # our own child, by its id
                    killed = True
                    break
            try:
                _, err = child.communicate(timeout=CHILD_WAIT_S)
            except subprocess.TimeoutExpired:
                os.kill(child.pid, signal.SIGKILL)
                child.communicate()
                self.violations.append(f"clearing child hung over {CHILD_WAIT_S:.0f} s")
                return
            if killed:
                self.counts["clearing-kill9"] += 1
            elif child.returncode != 0:
                last = err.strip().splitlines()[-1] if err.strip() else f"exit {child.returncode}"
                self.violations.append(f"clearing child failed: {last}")

    @staticmethod
    def _arm_kill(db: sqlite3.Connection, after: int) -> None:
        """Interrupt SQLite after `after` progress ticks: the ingest dies mid-statement."""
        ticks = [0]

        def handler() -> int:
            ticks[0] += 1
            return 1 if ticks[0] == after else 0

        db.set_progress_handler(handler, CLEARING_CRASH_OPS)

    # -- the checks ----------------------------------------------------------------------------

    def _fail(self, d: int, checks: list[tuple[str, bool, str]]) -> None:
        for name, ok, detail in checks:
            if not ok:
                self.violations.append(f"day {d}: {name}: {detail}")

    _cleared = 0
    _held = 0

    def _check_books(self, d: int, office: BackOffice, settled_through: date, final: bool) -> None:
        db = office.ledger.db
        w = self.world
        checks: list[tuple[str, bool, str]] = []
        # Bank captures are checked below, with the loads held for review counted.
        for c in reconcile(office.ledger, self.registry, None, None).checks:
            checks.append((f"reconciliation: {c.name}", c.ok, f"{c.left_fen} vs {c.right_fen}"))
        cleared_rows = db.execute(
            "SELECT key, amount_fen, terminal_id, serial FROM records WHERE length(key) = 11"
        ).fetchall()
        cleared = Counter(bytes(k) for k, *_ in cleared_rows)
        twice = [k for k, n in cleared.items() if n > 1]
        checks.append(("no record cleared twice (no double charge)", not twice, f"{len(twice)} keys"))
        wrong = [
            bytes(k)
            for k, amount, tid, serial in cleared_rows
            if (g := self.genuine.get(bytes(k))) is None
            or (g.amount_fen, g.terminal_id, g.terminal_serial) != (amount, bytes(tid), serial)
        ]
        checks.append(
            (
                "every cleared record is one a card made, with its amount, terminal and serial",
                not wrong,
                f"{len(wrong)} records, e.g. {wrong[0].hex() if wrong else ''}",
            )
        )
        held_keys: set[bytes] = set()
        held_net = 0
        held_loads: Counter[str] = Counter()
        for raw, reason in db.execute(
            "SELECT raw, reason FROM quarantine WHERE key IS NOT NULL "
            "AND id NOT IN (SELECT quarantine_id FROM releases)"
        ):
            if Reason(reason) not in RELEASABLE:
                continue
            r = decode_record(bytes(raw), "quarantine", check_crc=False)
            held_keys.add(record_key(r.asn, r.tx_type, r.counter))
            held_net += r.amount_fen if r.is_load else -r.amount_fen
            if r.is_load:
                owner = self.registry.owner(r.terminal_id)
                held_loads[owner.participant_id if owner else "?"] += r.amount_fen
        if final:
            checks += self._banks_against_books(db, held_loads)
        both = held_keys & set(cleared)
        checks.append(("no record both cleared and held", not both, f"{len(both)} keys"))
        in_transit = {k for u in self.port.transit for k in u.keys}
        missing = [k for k in self.genuine if k not in cleared and k not in held_keys and k not in in_transit]
        checks.append(
            (
                "every uploaded record is cleared, held, or still in transit",
                not missing,
                f"{len(missing)} lost, e.g. {missing[0].hex() if missing else ''}",
            )
        )
        pending_net = sum(
            g.signed_amount_fen
            for k, g in self.genuine.items()
            if k not in cleared and k not in held_keys and k in in_transit
        )
        in_terminals = sum(r.signed_amount_fen for t in w.terminals() for r in t.app.journal.records())
        balances = np.array([CardState.from_image(i).ep_balance_fen for i in w.population.images], np.int64)
        cards = int(balances.sum())
        float_fen = -office.ledger.balance("float")
        checks.append(
            (
                "cards = ledger float + held + in terminals + in transit",
                cards == float_fen + held_net + in_terminals + pending_net,
                f"cards {cards}, float {float_fen}, held {held_net}, terminals {in_terminals}, "
                f"transit {pending_net}",
            )
        )
        for b in w.funding.banks:
            opened = len(b.balances_fen) * ACCOUNT_OPENING_FEN
            have = sum(b.balances_fen.values()) + b.captured_fen
            checks.append(
                (f"bank {b.name}: accounts + paid out = opened", have == opened, f"{have} vs {opened}")
            )
        through = settled_through.year * 10_000 + settled_through.month * 100 + settled_through.day - 1
        unsettled = int(
            db.execute(
                "SELECT COUNT(*) FROM records r WHERE r.day <= ? "
                "AND NOT EXISTS (SELECT 1 FROM settled s WHERE s.record_id = r.id)",
                (through,),
            ).fetchone()[0]
        )
        orphans = int(
            db.execute(
                "SELECT COUNT(*) FROM settled s "
                "WHERE NOT EXISTS (SELECT 1 FROM records r WHERE r.id = s.record_id)"
            ).fetchone()[0]
        )
        checks.append(
            (
                "every cleared record up to the settled day settled exactly once",
                unsettled == 0 and orphans == 0,
                f"{unsettled} unsettled, {orphans} settled without a record",
            )
        )
        # No clone in the city: duplicates from re-sent, corrupted or replayed uploads must
        # never make the clone rule name a genuine card.
        clones = find_clones(db)
        checks.append(("no genuine card flagged as a clone", not clones, clones[0].line() if clones else ""))
        checks += self._monotonic(w)
        checks += self._hotlist_honoured()
        if final:
            not_settled = [
                k
                for k, g in self.genuine.items()
                if k not in cleared and not (k in held_keys and g.asn in self.hotlisted)
            ]
            in_terminals_left = sum(len(t.app.journal) for t in w.terminals())
            checks.append(
                (
                    "at the period's close every committed record is settled once (hotlisted ones held)",
                    not not_settled and not in_transit and in_terminals_left == 0,
                    f"{len(not_settled)} not settled, {len(in_transit)} in transit, "
                    f"{in_terminals_left} in terminals",
                )
            )
        self._cleared, self._held = len(cleared), len(held_keys)
        self._fail(d, checks)

    def _banks_against_books(
        self, db: sqlite3.Connection, held_loads: Counter[str]
    ) -> list[tuple[str, bool, str]]:
        """What each bank paid for loads = the loads its recharge points cleared + those held
        for review (a lost card loaded after its hotlisting: the money is on the card)."""
        out = []
        for b in self.world.funding.banks:
            p = load_participant(b.name)
            cleared = int(
                db.execute(
                    "SELECT COALESCE(SUM(amount_fen), 0) FROM records "
                    "WHERE participant = ? AND tx_type IN (1, 2)",
                    (p,),
                ).fetchone()[0]
            )
            out.append(
                (
                    f"bank {b.name}: captured for loads = cleared + held loads of {p}",
                    b.captured_fen == cleared + held_loads[p],
                    f"captured {b.captured_fen}, cleared {cleared}, held {held_loads[p]}",
                )
            )
        return out

    def _monotonic(self, w: World) -> list[tuple[str, bool, str]]:
        counters = np.array(
            [
                (s.ep_offline_counter, s.ep_online_counter)
                for s in (CardState.from_image(i) for i in w.population.images)
            ],
            np.int64,
        ).T.reshape(2, -1)
        back = int((counters < self._counters).sum())
        self._counters = counters
        serials_back = 0
        for t in w.fleet.all():
            if t.kind in (Kind.KIOSK, Kind.WINDOW):
                continue
            chip: Any = cast(Any, t.app).psam
            while not hasattr(chip, "chip"):
                chip = chip.inner
            serial = int(chip.chip.serial)
            serials_back += serial < self._serials.get(t.terminal_id, 0)
            self._serials[t.terminal_id] = serial
        return [
            ("card counters never go back", back == 0, f"{back} counters went back"),
            ("PSAM serials never go back", serials_back == 0, f"{serials_back} serials went back"),
        ]

    def _hotlist_honoured(self) -> list[tuple[str, bool, str]]:
        """A terminal that has received the list never accepts the card again (by its clock)."""
        late = [
            k
            for k, r in self.genuine.items()
            if r.tac
            and (got := self.hotlist_at.get((r.terminal_id, r.asn))) is not None
            and r.moment >= got + self._skew.get(r.terminal_id, timedelta()) + timedelta(seconds=1)
        ]
        return [
            (
                "no terminal accepted a card after the hotlist naming it reached the terminal",
                not late,
                f"{len(late)} records, e.g. {late[0].hex() if late else ''}",
            )
        ]


def run_seed(seed: int, faults: frozenset[str], days: int, sample: float, folder: Path) -> SeedResult:
    db = folder / f"clearing-seed{seed}.sqlite"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    try:
        return Campaign(seed, faults, days, sample, db).run()
    finally:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
