"""Security checks across the system: forged and replayed TACs, cloned cards, hotlisted cards at
terminals, where the issuer's master keys live, and the ED PIN try limit."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from devices.card_os import CardOS, TearPhase
from devices.card_state import PIN_TRIES_MAX, CardState
from devices.psam import Psam
from devices.sim_channel import SimChannel
from model.backoffice.clone_watch import find_clones, hotlist_clones
from model.backoffice.load_host import LoadHost
from model.backoffice.terms import Reason
from model.card import commands
from model.errors import CardBlockedError, CardRemovedError, CardStatusError, HotlistedCardError, PinError
from model.records.record import TransactionRecord
from model.security.keys import IssuerKeys, IssuerKeyStore, KeyUsage
from model.terminal.load import LoadTerminal
from model.terminal.purchase import PurchaseTerminal
from sim.city.world import build_world
from sim.verify.campaign import scenario_for
from tests.backoffice_kit import CLEARING_DAY, batch, office
from tests.conftest import MOMENT

MakeCard = Callable[..., tuple[CardOS, SimChannel]]


def _rides(terminal: PurchaseTerminal, channel: SimChannel, fares: list[int]) -> list[TransactionRecord]:
    return [terminal.purchase(channel, f, MOMENT + timedelta(minutes=i)) for i, f in enumerate(fares)]


# -- forged and replayed TACs ------------------------------------------------------------------


def test_forged_tacs_are_refused_and_nothing_is_posted(
    tmp_path: Path,
    issuer_keys: IssuerKeys,
    make_card: MakeCard,
    load_terminal: LoadTerminal,
    purchase_terminal: PurchaseTerminal,
) -> None:
    _, ch = make_card(7)
    load_terminal.load(ch, 5_000, MOMENT - timedelta(hours=1))
    a, b, c = _rides(purchase_terminal, ch, [182, 200, 300])
    forged = [
        # amount raised, balance after adjusted to match, TAC kept
        dataclasses.replace(a, amount_fen=a.amount_fen + 1, balance_after_fen=a.balance_after_fen - 1),
        dataclasses.replace(b, tac=a.tac),  # another record's TAC transplanted
        dataclasses.replace(c, tac=bytes(4)),  # a made-up TAC
    ]
    bo = office(tmp_path, issuer_keys)
    report = bo.clearing.ingest_file(batch(forged), "forged.ctb", CLEARING_DAY)
    assert [r for r, _ in report.quarantined] == [Reason.FORGED_TAC] * 3
    assert report.posted == 0 and bo.ledger.balance("float") == 0
    # The genuine records still clear afterwards: a forgery does not burn the card's counters.
    genuine = bo.clearing.ingest_file(batch([a, b, c], seq=2), "genuine.ctb", CLEARING_DAY)
    assert genuine.posted == 3 and genuine.posted_purchase_fen == 682


def test_replayed_records_clear_once(
    tmp_path: Path,
    issuer_keys: IssuerKeys,
    make_card: MakeCard,
    load_terminal: LoadTerminal,
    purchase_terminal: PurchaseTerminal,
) -> None:
    _, ch = make_card(8)
    load = load_terminal.load(ch, 5_000, MOMENT - timedelta(hours=1))
    rides = _rides(purchase_terminal, ch, [182, 182])
    bo = office(tmp_path, issuer_keys)
    bo.clearing.ingest_file(batch([load]), "load.ctb", CLEARING_DAY)
    first = bo.clearing.ingest_file(batch(rides), "rides.ctb", CLEARING_DAY)
    # The same records replayed in a new batch (new sequence number, so new bytes), then the
    # original file again, then one record inside a batch of fresh ones.
    replay = bo.clearing.ingest_file(batch(rides, seq=9), "replay.ctb", CLEARING_DAY)
    again = bo.clearing.ingest_file(batch(rides), "rides-again.ctb", CLEARING_DAY)
    fresh = _rides(purchase_terminal, ch, [300])
    mixed = bo.clearing.ingest_file(batch([rides[0], *fresh], seq=10), "mixed.ctb", CLEARING_DAY)
    assert first.posted == 2
    assert replay.posted == 0 and [r for r, _ in replay.quarantined] == [Reason.DUPLICATE] * 2
    assert again.already_ingested
    assert mixed.posted == 1 and [r for r, _ in mixed.quarantined] == [Reason.DUPLICATE]
    assert -bo.ledger.balance("float") == 5_000 - 182 - 182 - 300
    assert find_clones(bo.ledger.db) == []  # a replay is the same transaction, not a clone


# -- cloned cards ------------------------------------------------------------------------------


def test_a_cloned_card_is_detected_and_hotlisted_within_one_clearing_cycle(
    tmp_path: Path,
    issuer_keys: IssuerKeys,
    make_card: MakeCard,
    load_terminal: LoadTerminal,
    purchase_terminal: PurchaseTerminal,
) -> None:
    genuine, ch = make_card(9)
    load = load_terminal.load(ch, 5_000, MOMENT - timedelta(hours=1))
    # The attacker copies the card's whole persistent state (same ASN, same keys).
    clone = CardOS(CardState.from_image(genuine.state.to_image()), rng=random.Random(99))
    clone_ch = SimChannel(clone)
    assert clone.state.asn == genuine.state.asn
    ours = _rides(purchase_terminal, ch, [182, 200])
    # The clone rides elsewhere, with its own PSAM: the balances diverge.
    psam = Psam(
        bytes.fromhex("000000000101"),
        IssuerKeyStore(issuer_keys, frozenset({KeyUsage.PURCHASE, KeyUsage.MAINTENANCE})),
        serial=500,
    )
    theirs = [PurchaseTerminal(SimChannel(psam)).purchase(clone_ch, 4_000, MOMENT + timedelta(hours=2))]
    assert genuine.state.ep_balance_fen == 5_000 - 382 and clone.state.ep_balance_fen == 1_000
    assert theirs[0].counter == ours[0].counter  # both cards spent counter 0
    bo = office(tmp_path, issuer_keys)
    bo.clearing.ingest_file(batch([load]), "load.ctb", CLEARING_DAY)
    bo.clearing.ingest_file(batch(ours), "ours.ctb", CLEARING_DAY)
    report = bo.clearing.ingest_file(batch(theirs, seq=2), "theirs.ctb", CLEARING_DAY)
    # The TAC verifies (same keys) at a fresh PSAM serial: the counter was spent by another card.
    assert [r for r, _ in report.quarantined] == [Reason.COUNTER_CONFLICT]
    suspects = hotlist_clones(bo.ledger.db, bo.hotlist, MOMENT + timedelta(hours=3))
    assert [(s.asn, s.counter) for s in suspects] == [(genuine.state.asn, 0)]
    assert "cloned card" in suspects[0].line()
    assert bo.hotlist.effective(genuine.state.asn) is not None
    # Every terminal that takes the next hotlist blocks both cards.
    for card_ch in (ch, clone_ch):
        with pytest.raises(HotlistedCardError):
            PurchaseTerminal(purchase_terminal.psam, hotlist={genuine.state.asn}).purchase(
                card_ch, 100, MOMENT + timedelta(hours=4)
            )


# -- hotlisted cards at terminals --------------------------------------------------------------


def test_a_hotlisted_card_is_blocked_once_the_list_reaches_the_terminal(
    make_card: MakeCard, load_terminal: LoadTerminal, purchase_terminal: PurchaseTerminal
) -> None:
    card, ch = make_card(10)
    load_terminal.load(ch, 5_000, MOMENT - timedelta(hours=1))
    listed: set[bytes] = set()
    purchase_terminal.hotlist = listed
    purchase_terminal.purchase(ch, 182, MOMENT)  # before the list arrives: honoured
    listed.add(card.state.asn)  # the list reaches the terminal
    before = card.state.ep_balance_fen
    with pytest.raises(HotlistedCardError, match="application blocked"):
        purchase_terminal.purchase(ch, 182, MOMENT + timedelta(minutes=5))
    assert card.state.ep_balance_fen == before
    # Blocked on the card itself: a terminal that never got the list cannot charge it either,
    # and neither can a load terminal top it up.
    listed.clear()
    with pytest.raises(CardStatusError):
        purchase_terminal.purchase(ch, 182, MOMENT + timedelta(minutes=6))
    with pytest.raises(CardBlockedError):
        load_terminal.load(ch, 1_000, MOMENT + timedelta(minutes=7))
    assert card.state.ep_balance_fen == before


# -- master keys -------------------------------------------------------------------------------


def _reachable(root: object, skip: tuple[type, ...] = ()) -> list[tuple[str, object]]:
    """Every object reachable from `root` through attributes and containers, with its path;
    objects of a `skip` type are listed but not entered."""
    out: list[tuple[str, object]] = []
    seen: set[int] = set()
    todo: list[tuple[str, object]] = [("", root)]
    while todo:
        path, obj = todo.pop()
        if id(obj) in seen or isinstance(obj, type) or (callable(obj) and not hasattr(obj, "__dict__")):
            continue
        seen.add(id(obj))
        out.append((path, obj))
        assert len(out) < 200_000, "object graph too big to walk"
        if isinstance(obj, skip) and path:
            continue
        if isinstance(obj, dict):
            todo += [(f"{path}[{k!r}]", v) for k, v in obj.items()]
            todo += [(f"{path}.key", k) for k in obj]
        elif isinstance(obj, list | tuple | set | frozenset):
            todo += [(f"{path}[{i}]", v) for i, v in enumerate(obj)]
        elif not isinstance(obj, bytes | str | int | float | bool | type(None)):
            names = list(getattr(obj, "__dict__", {}))
            for cls in type(obj).__mro__:
                # (a class compiled by mypyc, `model.native`, lists its attributes in __mypyc_attrs__)
                names += list(getattr(cls, "__slots__", ())) + list(getattr(cls, "__mypyc_attrs__", ()))
            for name in names:
                if hasattr(obj, name):
                    todo.append((f"{path}.{name}", getattr(obj, name)))
    return out


def test_no_terminal_holds_an_issuer_master_key() -> None:
    world = build_world(scenario_for(3, 0.0002, frozenset()))
    masters = world.issuer_keys.masters
    all_keys = set(masters.values())
    psam_may = {
        v for (usage, _, _), v in masters.items() if usage in (KeyUsage.PURCHASE, KeyUsage.MAINTENANCE)
    }
    assert psam_may and psam_may < all_keys
    terminals = world.terminals()
    assert {t.kind.name for t in terminals} == {"BUS", "GATE", "TAXI", "POS", "KIOSK", "WINDOW", "MEDICAL"}
    for t in terminals:
        # Outside its PSAM and the load host it calls, a terminal holds no master key at all.
        for path, obj in _reachable(t, skip=(Psam, LoadHost)):
            assert not (isinstance(obj, bytes) and obj in all_keys), f"{t.terminal_id.hex()}{path}"
            assert not isinstance(obj, IssuerKeys | IssuerKeyStore), f"{t.terminal_id.hex()}{path}"
        app: Any = t.app
        if isinstance(app, PurchaseTerminal):
            chip: Any = app.psam.chip
            assert isinstance(chip, Psam)
            # A PSAM holds the purchase and maintenance masters, never the load or TAC ones.
            held = {o for _, o in _reachable(chip) if isinstance(o, bytes) and o in all_keys}
            assert held and held <= psam_may, t.terminal_id.hex()
        else:
            assert isinstance(app, LoadTerminal) and app.host is world.host


# -- the ED PIN try limit ----------------------------------------------------------------------


def test_ed_pin_try_limit_holds_through_terminals_power_cuts_and_card_images(
    make_card: MakeCard, purchase_terminal: PurchaseTerminal
) -> None:
    card, ch = make_card(11)
    card.state.ed_balance_fen = 10_000
    wrong = b"\x99\x99\x99"
    with pytest.raises(PinError):
        purchase_terminal.purchase(ch, 500, MOMENT, purse=commands.PURSE_ED, pin=wrong)
    assert card.state.pin_tries_left == PIN_TRIES_MAX - 1

    # The attacker cuts the power right after the card checked a wrong PIN, hoping the try
    # was not counted: it was (the counter is persistent before the answer leaves the card).
    def cut_after_pin(raw: bytes, phase: TearPhase) -> bool:
        return raw[1] == 0x20 and phase is TearPhase.AFTER_COMMIT

    card.tear_hook = cut_after_pin
    with pytest.raises(CardRemovedError):
        purchase_terminal.purchase(ch, 500, MOMENT, purse=commands.PURSE_ED, pin=wrong)
    card.tear_hook = None
    ch.insert()
    assert card.state.pin_tries_left == PIN_TRIES_MAX - 2
    # Stored and restored (as the twin keeps every card between taps): the count stays.
    card = CardOS(CardState.from_image(card.state.to_image()))
    ch = SimChannel(card)
    with pytest.raises(PinError):
        purchase_terminal.purchase(ch, 500, MOMENT, purse=commands.PURSE_ED, pin=wrong)
    assert card.state.pin_tries_left == 0
    # Blocked: the right PIN no longer opens the ED, and nothing was ever charged.
    with pytest.raises(PinError):
        purchase_terminal.purchase(ch, 500, MOMENT, purse=commands.PURSE_ED, pin=b"\x12\x34\x56")
    assert card.state.ed_balance_fen == 10_000 and card.state.ed_offline_counter == 0
    assert datetime(2026, 1, 1) < MOMENT  # the moments used are inside the card's validity


_TID = bytes.fromhex("000000000101")
_DT = bytes.fromhex("20261123083000")


def _wrong_debit(card: CardOS) -> int:
    from tests.cardkit import send

    assert send(card, commands.initialize_for_purchase(commands.PURSE_EP, 1, 10, _TID))[1] == 0x9000
    return send(card, commands.debit_for_purchase(1, _DT, bytes(4)))[1]


@pytest.mark.parametrize("limit", [3, 5])
def test_wrong_purchase_macs_block_the_card_at_its_limit_and_the_terminal_gets_a_typed_error(
    limit: int, make_card: Callable[..., tuple[CardOS, SimChannel]], purchase_terminal: PurchaseTerminal
) -> None:
    from tests.cardkit import send

    card, channel = make_card(asn_int=1)
    card.state.ep_balance_fen = 10_000
    card.mac_errors_max = limit
    assert send(card, commands.select())[1] == 0x9000
    assert [_wrong_debit(card) for _ in range(limit - 1)] == [0x9302] * (limit - 1)
    assert card.state.mac_errors == (limit - 1, 0, 0)
    # A correct MAC (a real purchase) resets the key's count: errors must be consecutive.
    purchase_terminal.purchase(channel, 182, MOMENT)
    assert card.state.mac_errors == (0, 0, 0) and not card.state.blocked
    assert send(card, commands.select())[1] == 0x9000
    answers = [_wrong_debit(card) for _ in range(limit - 1)]
    assert send(card, commands.initialize_for_purchase(commands.PURSE_EP, 1, 10, _TID))[1] == 0x9000
    answers.append(send(card, commands.debit_for_purchase(1, _DT, bytes(4)))[1])
    assert answers == [0x9302] * (limit - 1) + [0x6A81]  # the limit's own answer: blocked
    assert card.state.blocked and card.state.mac_errors == (limit, 0, 0)
    # The block and the count survive the card going back to its compact image.
    again = CardState.from_image(card.state.to_image())
    assert again.blocked and again.mac_errors == (limit, 0, 0)
    channel.insert()
    with pytest.raises(CardBlockedError):
        purchase_terminal.purchase(channel, 182, MOMENT + timedelta(minutes=1))


def test_wrong_load_and_block_macs_are_counted_per_key(
    make_card: Callable[..., tuple[CardOS, SimChannel]],
) -> None:
    from tests.cardkit import send

    card, _ = make_card(asn_int=2)
    assert send(card, commands.select())[1] == 0x9000
    terminal = bytes.fromhex("000000000901")
    for expected in (0x9302, 0x9302):
        assert send(card, commands.initialize_for_load(commands.PURSE_EP, 1, 100, terminal))[1] == 0x9000
        assert send(card, commands.credit_for_load(_DT, bytes(4)))[1] == expected
    assert card.state.mac_errors == (0, 2, 0)
    for _ in range(2):
        assert send(card, commands.get_challenge())[1] == 0x9000
        assert send(card, commands.application_block(bytes(4)))[1] == 0x9302
    assert card.state.mac_errors == (0, 2, 2) and not card.state.blocked
    assert send(card, commands.get_challenge())[1] == 0x9000
    assert send(card, commands.application_block(bytes(4)))[1] == 0x6A81
    assert card.state.blocked
