"""Card lifecycle with real cards: issue with deposit, loss and hotlist delay, replacement, refund."""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path

import pytest

from devices.card_os import CardOS
from devices.factory import CardFactory, CardProfile
from devices.sim_channel import SimChannel
from model.backoffice.lifecycle import CardStateName, LifecycleError, load_hotlist_file
from model.backoffice.registry import Participant, Sector, TerminalEntry
from model.errors import HotlistedCardError
from model.records.batch import NO_PSAM
from model.security.keys import IssuerKeys
from model.terminal.load import LoadTerminal
from model.terminal.purchase import PurchaseTerminal
from sim.day.back_office import BackOffice
from tests.backoffice_kit import batch, office
from tests.conftest import MOMENT

TRANSFER_TERMINAL = bytes.fromhex("000000000903")
DAY = MOMENT.date()


def _issued_card(back: BackOffice, factory: CardFactory, citizen: str) -> tuple[bytes, SimChannel]:
    asn = back.lifecycle.apply(citizen, MOMENT)
    state = factory.personalise(CardProfile(asn=asn))
    back.lifecycle.personalised(asn, MOMENT)
    back.lifecycle.issue(asn, MOMENT)
    return asn, SimChannel(CardOS(state, rng=random.Random(asn)))


def test_states_move_only_forward(factory: CardFactory, issuer_keys: IssuerKeys, tmp_path: Path) -> None:
    back = office(tmp_path, issuer_keys)
    asn = back.lifecycle.apply("citizen-1", MOMENT)
    assert asn[:4] == issuer_keys.issuer_id[:4]
    with pytest.raises(LifecycleError, match="cannot issue, it is applied"):
        back.lifecycle.issue(asn, MOMENT)
    back.lifecycle.personalised(asn, MOMENT)
    back.lifecycle.issue(asn, MOMENT)
    assert back.lifecycle.state(asn) is CardStateName.ISSUED
    assert back.ledger.balance("deposits") == -2_000 and back.ledger.balance("reserve") == 2_000
    with pytest.raises(LifecycleError, match="unknown to the back office"):
        back.lifecycle.report_loss(b"\x99" * 8, MOMENT)
    with pytest.raises(LifecycleError, match="citizen id"):
        back.lifecycle.apply("", MOMENT)


def test_loss_replacement_moves_the_shadow_balance(
    factory: CardFactory,
    issuer_keys: IssuerKeys,
    load_terminal: LoadTerminal,
    purchase_terminal: PurchaseTerminal,
    tmp_path: Path,
) -> None:
    back = office(tmp_path, issuer_keys)
    back.clearing.registry.participants["transfer"] = Participant(
        "transfer", "Transfers", Sector.TRANSFER, "HZB"
    )
    back.clearing.registry.register(TerminalEntry(TRANSFER_TERMINAL, NO_PSAM, "transfer"))
    asn, channel = _issued_card(back, factory, "citizen-1")
    loads = [load_terminal.load(channel, 5_000, MOMENT)]
    rides = [purchase_terminal.purchase(channel, 182, MOMENT + timedelta(minutes=1))]
    reported = MOMENT + timedelta(hours=1)
    effective = back.lifecycle.report_loss(asn, reported)
    assert effective == reported + timedelta(hours=24)
    # Inside the propagation delay the card still works: terminals do not know yet.
    purchase_terminal.hotlist = back.hotlist.at(reported + timedelta(hours=2))
    rides.append(purchase_terminal.purchase(channel, 182, reported + timedelta(hours=2)))
    purchase_terminal.hotlist = back.hotlist.at(effective)
    with pytest.raises(HotlistedCardError):
        purchase_terminal.purchase(channel, 182, effective + timedelta(minutes=1))
    back.clearing.ingest_file(batch(loads), "loads.ctb", DAY)
    back.clearing.ingest_file(batch(rides), "bus.ctb", DAY)
    with pytest.raises(LifecycleError, match="wait until the hotlist takes effect"):
        back.lifecycle.replace(asn, effective - timedelta(minutes=1))

    replacement = back.lifecycle.replace(asn, effective)
    assert replacement.balance_fen == 5_000 - 2 * 182
    assert back.lifecycle.state(asn) is CardStateName.REPLACED
    assert back.ledger.balance("transfer") == -replacement.balance_fen
    new_state = factory.personalise(CardProfile(asn=replacement.new_asn))
    back.lifecycle.personalised(replacement.new_asn, effective)
    back.lifecycle.issue_replacement(replacement.new_asn, effective)
    new_channel = SimChannel(CardOS(new_state, rng=random.Random(9)))
    transfer_window = LoadTerminal(TRANSFER_TERMINAL, load_terminal.host)
    reload = transfer_window.load(new_channel, replacement.balance_fen, effective + timedelta(minutes=5))
    back.clearing.ingest_file(batch([reload]), "transfer.ctb", DAY + timedelta(days=1))
    assert back.ledger.balance("transfer") == 0
    assert -back.ledger.balance("float") == new_state.ep_balance_fen == 5_000 - 2 * 182
    assert back.ledger.balance("deposits") == -2_000  # the deposit followed the citizen
    with pytest.raises(LifecycleError, match="cannot replace, it is replaced"):
        back.lifecycle.replace(asn, effective + timedelta(days=1))


def test_refund_and_close_pays_balance_and_deposit(
    factory: CardFactory,
    issuer_keys: IssuerKeys,
    load_terminal: LoadTerminal,
    purchase_terminal: PurchaseTerminal,
    tmp_path: Path,
) -> None:
    back = office(tmp_path, issuer_keys)
    asn, channel = _issued_card(back, factory, "citizen-2")
    load = load_terminal.load(channel, 3_000, MOMENT)
    ride = purchase_terminal.purchase(channel, 182, MOMENT + timedelta(minutes=1))
    balance = channel.chip.state.ep_balance_fen  # type: ignore[attr-defined]
    back.clearing.ingest_file(batch([load]), "loads.ctb", DAY)
    with pytest.raises(LifecycleError, match="clear first"):
        back.lifecycle.refund_and_close(asn, balance, MOMENT + timedelta(hours=1))
    back.clearing.ingest_file(batch([ride]), "bus.ctb", DAY)
    paid = back.lifecycle.refund_and_close(asn, balance, MOMENT + timedelta(hours=1))
    assert paid == balance + 2_000
    assert back.ledger.balance("float") == 0 and back.ledger.balance("deposits") == 0
    assert back.lifecycle.state(asn) is CardStateName.CLOSED
    assert back.hotlist.effective(asn) is not None
    assert back.lifecycle.event_total_fen("refund") == balance


def test_hotlist_file(tmp_path: Path) -> None:
    path = tmp_path / "hotlist.toml"
    path.write_text('[[card]]\nasn = "3301000000000002"\neffective = "20261119090000"\n', encoding="utf-8")
    [(asn, when)] = load_hotlist_file(path)
    assert asn == bytes.fromhex("3301000000000002") and when == MOMENT.replace(day=19, hour=9, minute=0)
    path.write_text('[[card]]\nasn = "33"\neffective = "20261119090000"\n', encoding="utf-8")
    with pytest.raises(LifecycleError, match="asn must be 8 bytes"):
        load_hotlist_file(path)
    path.write_text('[[card]]\nasn = "3301000000000002"\n', encoding="utf-8")
    with pytest.raises(LifecycleError, match="needs asn"):
        load_hotlist_file(path)
    path.write_text("[[card]\n", encoding="utf-8")
    with pytest.raises(LifecycleError, match="cannot read hotlist"):
        load_hotlist_file(path)
