"""Fuzzing (hypothesis) where hostile bytes enter the system, beyond the card's own APDU parser
(tests/devices/test_card_properties.py) and the batch parser alone (tests/model/records/test_batch.py):

- a hostile card: every response a genuine card gives, mutated (bytes flipped, cut, replaced,
  status word changed) before the terminal application parses it;
- damaged and spliced batch files all the way through the clearing house into the ledger;
- scenario files with values, keys and sections changed at random.

Whatever arrives, the code under test raises only `CardTwinError` (one line for the user) and
keeps its books: a crash, a hang or an unbalanced ledger is a bug.
"""

from __future__ import annotations

import random
import re
import tempfile
import tomllib
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from devices.card_os import CardOS
from devices.factory import CardFactory, CardProfile
from devices.psam import Psam
from devices.sim_channel import SimChannel
from model.backoffice.load_host import LoadHost
from model.backoffice.reconciliation import reconcile
from model.backoffice.registry import Participant, Registry, Sector, TerminalEntry
from model.errors import CardTwinError
from model.records.batch import HEADER_SIZE, NO_PSAM, write_batch
from model.records.record import TransactionRecord
from model.security.keys import IssuerKeyStore, KeyUsage, generate_issuer_keys
from model.terminal.load import LoadTerminal
from model.terminal.purchase import PurchaseTerminal
from scenarios.schema import DEFAULT_SCENARIO, ScenarioError, parse
from sim.day.back_office import BackOffice

KEYS = generate_issuer_keys(5, bytes.fromhex("3301000000000001"))
FACTORY = CardFactory(KEYS)
BUS = bytes.fromhex("330101000001")
KIOSK = bytes.fromhex("330105000001")
MOMENT = datetime(2026, 11, 23, 8, 30)
PSAM_KEYS = IssuerKeyStore(KEYS, frozenset({KeyUsage.PURCHASE, KeyUsage.MAINTENANCE}))

# -- a hostile card ----------------------------------------------------------------------------

mutation = st.one_of(
    st.just(("pass",)),
    st.tuples(st.just("flip"), st.integers(0, 300), st.integers(1, 255)),
    st.tuples(st.just("cut"), st.integers(0, 300)),
    st.tuples(st.just("random"), st.binary(max_size=40)),
    st.tuples(st.just("sw"), st.integers(0, 0xFFFF)),
)


class HostileCard:
    """A genuine card behind a field that mutates its answers, one mutation per command."""

    def __init__(self, card: CardOS, plan: list[tuple[Any, ...]]) -> None:
        self.channel = SimChannel(card)
        self.plan = plan
        self.n = 0

    def transmit(self, command: bytes) -> bytes:
        answer = self.channel.transmit(command)
        step = self.plan[self.n % len(self.plan)]
        self.n += 1
        assert self.n < 200, "the terminal keeps talking to a hostile card"  # a hang
        if step[0] == "flip" and answer:
            at = step[1] % len(answer)
            answer = answer[:at] + bytes((answer[at] ^ step[2],)) + answer[at + 1 :]
        elif step[0] == "cut":
            answer = answer[: step[1] % (len(answer) + 1)]
        elif step[0] == "random":
            answer = step[1]
        elif step[0] == "sw":
            answer = answer[:-2] + step[1].to_bytes(2, "big")
        return answer


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    plan=st.lists(mutation, min_size=1, max_size=12),
    flow=st.sampled_from(["load", "purchase", "entry", "exit"]),
    seed=st.integers(0, 1000),
)
def test_a_hostile_card_never_crashes_a_terminal_nor_leaves_a_load_half_done(
    plan: list[tuple[Any, ...]], flow: str, seed: int
) -> None:
    card = CardOS(
        FACTORY.personalise(CardProfile(asn=(seed + 1).to_bytes(8, "big"))), rng=random.Random(seed)
    )
    card.state.ep_balance_fen = 5_000
    host = LoadHost(IssuerKeyStore(KEYS))
    kiosk = LoadTerminal(KIOSK, host)
    bus = PurchaseTerminal(SimChannel(Psam(BUS, PSAM_KEYS)))
    hostile = HostileCard(card, plan)
    before = card.state.ep_balance_fen
    try:
        if flow == "load":
            record: TransactionRecord | None = kiosk.load(hostile, 1_000, MOMENT)
        elif flow == "purchase":
            record = bus.purchase(hostile, 182, MOMENT)
        elif flow == "entry":
            record = bus.composite_entry(hostile, 3, MOMENT)
        else:
            record = bus.composite_exit(hostile, 9, MOMENT, lambda entry, station, at: 400)
    except CardTwinError as exc:
        assert "\n" not in str(exc)
        record = None
    terminal = kiosk if flow == "load" else bus
    # An authorisation stays open only for a load the terminal holds as torn (to recover).
    assert host.open_authorisations == len(kiosk.pending)
    # Whatever the terminal journaled is what the card really did.
    moved = card.state.ep_balance_fen - before
    journaled = sum(r.signed_amount_fen for r in terminal.journal.records())
    assert journaled == moved or (len(terminal.pending) == 1 and not terminal.journal.records())
    if record is not None:
        assert record in terminal.journal.records()


# -- damaged batches through the clearing house -------------------------------------------------


def _registry() -> Registry:
    return Registry(
        [
            Participant("bus", "Bus company", Sector.BUS, "ICBC"),
            Participant("load-ICBC", "ICBC kiosks", Sector.LOAD, "ICBC"),
        ],
        [TerminalEntry(BUS, BUS, "bus"), TerminalEntry(KIOSK, NO_PSAM, "load-ICBC")],
    )


def _genuine_batches() -> tuple[bytes, bytes, set[tuple[bytes, int, int]]]:
    host = LoadHost(IssuerKeyStore(KEYS))
    kiosk = LoadTerminal(KIOSK, host)
    bus = PurchaseTerminal(SimChannel(Psam(BUS, PSAM_KEYS)))
    loads, rides = [], []
    for n in range(3):
        ch = SimChannel(CardOS(FACTORY.personalise(CardProfile(asn=(100 + n).to_bytes(8, "big")))))
        loads.append(kiosk.load(ch, 2_000, MOMENT - timedelta(hours=1)))
        rides += [bus.purchase(ch, 182 + n, MOMENT + timedelta(minutes=k)) for k in range(2)]
    genuine = {(r.asn, r.counter, r.amount_fen) for r in loads + rides}
    created = MOMENT.replace(hour=23)
    return write_batch(KIOSK, NO_PSAM, 1, created, loads), write_batch(BUS, BUS, 1, created, rides), genuine


LOADS_RAW, RIDES_RAW, GENUINE = _genuine_batches()

damage = st.one_of(
    st.tuples(st.just("flip"), st.integers(0, 10_000), st.integers(1, 255)),
    st.tuples(st.just("cut"), st.integers(0, 10_000)),
    st.tuples(st.just("insert"), st.integers(0, 10_000), st.binary(min_size=1, max_size=60)),
    st.tuples(st.just("splice"), st.integers(0, 10_000), st.integers(0, 10_000)),
    st.tuples(st.just("header"), st.integers(0, HEADER_SIZE - 1), st.integers(0, 255)),
)


def _damaged(raw: bytes, steps: list[tuple[Any, ...]]) -> bytes:
    out = bytearray(raw)
    for step in steps:
        at = step[1] % (len(out) + 1)
        if step[0] == "flip" and out:
            out[at % len(out)] ^= step[2]
        elif step[0] == "cut":
            del out[at:]
        elif step[0] == "insert":
            out[at:at] = step[2]
        elif step[0] == "splice":  # the tail of the other batch glued on
            other = LOADS_RAW if raw is RIDES_RAW else RIDES_RAW
            out[at:] = other[step[2] % len(other) :]
        elif step[0] == "header" and len(out) > step[1]:
            out[step[1]] = step[2]
    return bytes(out)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    files=st.lists(
        st.tuples(st.sampled_from(["loads", "rides"]), st.lists(damage, max_size=4)), min_size=1, max_size=5
    )
)
def test_damaged_batches_never_crash_the_clearing_house_nor_unbalance_the_ledger(
    files: list[tuple[str, list[tuple[Any, ...]]]],
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        office = BackOffice.open(Path(folder) / "c.sqlite", _registry(), KEYS)
        for n, (which, steps) in enumerate(files):
            raw = _damaged(LOADS_RAW if which == "loads" else RIDES_RAW, steps)
            try:
                office.clearing.ingest_file(raw, f"fuzz-{n}.ctb", date(2026, 11, 23))
            except CardTwinError as exc:
                assert "\n" not in str(exc)
        # The genuine files after any damage: each record cleared once, whatever came before.
        for raw, name in ((LOADS_RAW, "loads.ctb"), (RIDES_RAW, "rides.ctb")):
            office.clearing.ingest_file(raw, name, date(2026, 11, 23))
        db = office.ledger.db
        cleared = db.execute("SELECT key, amount_fen FROM records").fetchall()
        got = {(bytes(k)[:8], int.from_bytes(bytes(k)[9:], "big"), a) for k, a in cleared}
        assert len(cleared) == len(got)  # nothing cleared twice
        assert got <= GENUINE  # nothing cleared that no card did
        held = {
            r for r in GENUINE if r not in got
        }  # only records behind a gap may wait: the genuine files close every gap
        assert not held, held
        assert all(c.ok for c in reconcile(office.ledger, _registry()).checks)
        db.close()


# -- scenario files ----------------------------------------------------------------------------

DEFAULT_TEXT = (Path(__file__).parent.parent / "scenarios" / DEFAULT_SCENARIO).read_text("utf-8")
DEFAULT_DOC = tomllib.loads(DEFAULT_TEXT)
KEYS_BY_SECTION = [(s, k) for s, table in DEFAULT_DOC.items() for k in table]

toml_value = st.one_of(
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.booleans(),
    st.lists(st.integers(-5, 5), max_size=3),
    st.sampled_from(["inf", "-inf", "nan", "1e308", "0", "-0.0", '"2009-02-30"', '"ICBC"', "[]", "{}"]),
)


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return {float("inf"): "inf", float("-inf"): "-inf"}.get(
            value, "nan" if value != value else repr(value)
        )
    if isinstance(value, str) and value in ("inf", "-inf", "nan", "1e308", "0", "-0.0", "[]", "{}"):
        return value
    if isinstance(value, str) and value.startswith('"'):
        return value
    if isinstance(value, str):
        return '"' + value.encode("unicode_escape").decode("ascii").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(map(str, value)) + "]"
    return str(value)


edit = st.one_of(
    st.tuples(st.just("set"), st.sampled_from(KEYS_BY_SECTION), toml_value),
    st.tuples(st.just("drop"), st.sampled_from(KEYS_BY_SECTION)),
    st.tuples(
        st.just("add"), st.sampled_from(list(DEFAULT_DOC)), st.from_regex(r"[a-z_]{1,12}", fullmatch=True)
    ),
    st.tuples(st.just("garble"), st.integers(0, len(DEFAULT_TEXT)), st.text(max_size=8)),
)


def _edited(edits: list[tuple[Any, ...]]) -> str:
    text = DEFAULT_TEXT
    for e in edits:
        if e[0] == "set":
            (section, key), value = e[1], e[2]
            text = _replace_value(text, section, key, _toml(value))
        elif e[0] == "drop":
            section, key = e[1]
            text = _replace_value(text, section, key, None)
        elif e[0] == "add":
            text = text.replace(f"[{e[1]}]\n", f"[{e[1]}]\n{e[2]} = 1\n", 1)
        else:
            text = text[: e[1]] + e[2] + text[e[1] :]
    return text


def _replace_value(text: str, section: str, key: str, value: str | None) -> str:
    start = text.find(f"[{section}]\n")
    if start < 0:
        return text
    pattern = re.compile(rf"^{re.escape(key)}\s*=.*$", re.M)
    match = pattern.search(text, start)
    if match is None:
        return text
    line = "" if value is None else f"{key} = {value}"
    return text[: match.start()] + line + text[match.end() :]


@settings(max_examples=300, deadline=None)
@given(st.lists(edit, min_size=1, max_size=4))
@example([("set", ("population", "transit_trips_per_day"), "inf")])  # found: inf was accepted
@example([("set", ("service", "kiosk_service_s"), "nan")])
def test_any_scenario_file_loads_or_is_refused_in_one_line(edits: list[tuple[Any, ...]]) -> None:
    text = _edited(edits)
    try:
        scenario = parse(text, "fuzz.toml")
    except ScenarioError as exc:
        message = str(exc)
        assert message.startswith("fuzz.toml") and "\n" not in message.strip("\n")
        return
    # Whatever loads is something the twin can run: finite numbers, a real date.
    for section in (scenario.city, scenario.population, scenario.fares, scenario.demand, scenario.service):
        for name in section.__dataclass_fields__:
            value = getattr(section, name)
            if isinstance(value, float):
                assert value == value and value not in (float("inf"), float("-inf")), f"{name} = {value}"
    assert isinstance(scenario.run.day, date)
