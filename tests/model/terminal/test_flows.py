"""The terminal protocol end to end: load, purchase, composite trips, typed errors, SM4."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

import pytest

from devices.card_os import CardOS
from devices.sim_channel import SimChannel
from model.backoffice.load_host import LoadHost
from model.card import commands
from model.card.access import read_capp, read_card
from model.card.files import CappRecord
from model.errors import (
    ApplicationNotFoundError,
    BalanceLimitError,
    CardAuthenticationError,
    CardBlockedError,
    CardExpiredError,
    HotlistedCardError,
    InsufficientBalanceError,
    LoadDeclinedError,
    NoOpenTripError,
    PinError,
)
from model.records.record import TxType, verify_tac
from model.security.crypto import Algorithm
from model.security.keys import IssuerKeys, IssuerKeyStore
from model.terminal.load import LoadTerminal
from model.terminal.purchase import PurchaseTerminal
from tests.conftest import MOMENT

MakeCard = Callable[..., tuple[CardOS, SimChannel]]


def fare_by_stations(entry: CappRecord, exit_station: int, exit_time: datetime) -> int:
    return 200 + 50 * abs(exit_station - entry.entry_station)


@pytest.mark.parametrize("algorithm", list(Algorithm))
def test_load_purchase_composite_end_to_end(
    make_card: MakeCard,
    load_terminal: LoadTerminal,
    purchase_terminal: PurchaseTerminal,
    issuer_keys: IssuerKeys,
    algorithm: Algorithm,
) -> None:
    card, channel = make_card(algorithm=algorithm)
    load = load_terminal.load(channel, 10_000, MOMENT)
    bus = purchase_terminal.purchase(channel, 182, MOMENT + timedelta(minutes=5))
    entry = purchase_terminal.composite_entry(channel, 4, MOMENT + timedelta(minutes=20))
    capp = read_capp(channel, 1)
    assert capp is not None and capp.trip_open and capp.entry_station == 4
    exit_ = purchase_terminal.composite_exit(channel, 11, MOMENT + timedelta(minutes=45), fare_by_stations)

    assert (load.tx_type, bus.tx_type, entry.tx_type, exit_.tx_type) == (
        TxType.EP_LOAD,
        TxType.EP_PURCHASE,
        TxType.CAPP_PURCHASE,
        TxType.CAPP_PURCHASE,
    )
    assert entry.amount_fen == 0 and exit_.amount_fen == 200 + 50 * 7
    assert [r.counter for r in (bus, entry, exit_)] == [0, 1, 2]
    assert [bus.terminal_serial, entry.terminal_serial, exit_.terminal_serial] == [0, 1, 2]
    assert all(r.algorithm is algorithm for r in (load, bus, entry, exit_))
    store = IssuerKeyStore(issuer_keys)
    assert all(verify_tac(r, store) for r in (load, bus, entry, exit_))

    info = read_card(channel)
    assert info.balance_fen == 10_000 - 182 - 550 == card.state.ep_balance_fen
    assert [e.amount_fen for e in info.log] == [550, 0, 182, 10_000]
    closed = read_capp(channel, 1)
    assert (
        closed is not None and not closed.trip_open and closed.exit_station == 11 and closed.fare_fen == 550
    )
    assert load_terminal.host.open_authorisations == 0 and load_terminal.host.confirmed_fen == 10_000
    assert len(purchase_terminal.journal) == 3 and len(load_terminal.journal) == 1


def test_tampered_tac_fails_verification(
    make_card: MakeCard, load_terminal: LoadTerminal, issuer_keys: IssuerKeys
) -> None:
    _, channel = make_card()
    record = load_terminal.load(channel, 500, MOMENT)
    from dataclasses import replace

    forged = replace(record, amount_fen=5000, balance_after_fen=5000)
    assert verify_tac(record, IssuerKeyStore(issuer_keys))
    assert not verify_tac(forged, IssuerKeyStore(issuer_keys))


def test_insufficient_balance_is_a_typed_error_and_charges_nothing(
    make_card: MakeCard, purchase_terminal: PurchaseTerminal
) -> None:
    card, channel = make_card()
    with pytest.raises(InsufficientBalanceError, match="9401"):
        purchase_terminal.purchase(channel, 1, MOMENT)
    assert card.state.ep_balance_fen == 0 and card.state.ep_offline_counter == 0
    assert len(purchase_terminal.journal) == 0


def test_load_over_maximum_is_refused_and_host_not_asked(
    make_card: MakeCard, load_terminal: LoadTerminal
) -> None:
    _, channel = make_card(max_balance_fen=1_000)
    with pytest.raises(BalanceLimitError):
        load_terminal.load(channel, 1_001, MOMENT)
    assert load_terminal.host.open_authorisations == 0


def test_expired_card_is_refused_before_any_transaction(
    make_card: MakeCard, purchase_terminal: PurchaseTerminal
) -> None:
    _, channel = make_card(start=date(2015, 1, 1), expiry=date(2020, 1, 1))
    with pytest.raises(CardExpiredError, match="valid 2015-01-01 to 2020-01-01"):
        purchase_terminal.purchase(channel, 100, MOMENT)


def test_metro_exit_without_entry(make_card: MakeCard, purchase_terminal: PurchaseTerminal) -> None:
    _, channel = make_card()
    with pytest.raises(NoOpenTripError, match="no open trip"):
        purchase_terminal.composite_exit(channel, 3, MOMENT, fare_by_stations)


def test_entry_over_an_open_trip_charges_the_unfinished_trip_fare(
    make_card: MakeCard, load_terminal: LoadTerminal, purchase_terminal: PurchaseTerminal
) -> None:
    _, channel = make_card()
    load_terminal.load(channel, 2_000, MOMENT)
    first = purchase_terminal.composite_entry(channel, 1, MOMENT, open_trip_fare_fen=700)
    second = purchase_terminal.composite_entry(
        channel, 2, MOMENT + timedelta(hours=3), open_trip_fare_fen=700
    )
    assert first.amount_fen == 0 and second.amount_fen == 700


def test_ed_purse_load_and_purchase_with_pin(
    make_card: MakeCard, load_terminal: LoadTerminal, purchase_terminal: PurchaseTerminal
) -> None:
    card, channel = make_card()
    with pytest.raises(PinError) as wrong:
        load_terminal.load(channel, 1_000, MOMENT, purse=commands.PURSE_ED, pin=b"\x00\x00")
    assert wrong.value.tries_left == 2
    record = load_terminal.load(channel, 1_000, MOMENT, purse=commands.PURSE_ED, pin=b"\x12\x34\x56")
    assert record.tx_type == TxType.ED_LOAD and card.state.ed_balance_fen == 1_000
    assert card.state.ep_balance_fen == 0
    spent = purchase_terminal.purchase(channel, 300, MOMENT, purse=commands.PURSE_ED, pin=b"\x12\x34\x56")
    assert spent.tx_type == TxType.ED_PURCHASE and spent.balance_after_fen == 700 == card.state.ed_balance_fen
    assert card.state.ed_offline_counter == 1 and card.state.ep_offline_counter == 0


def test_hotlisted_card_is_blocked_by_the_terminal(
    make_card: MakeCard, psam: object, load_terminal: LoadTerminal
) -> None:
    for algorithm in Algorithm:
        card, channel = make_card(asn_int=77, algorithm=algorithm)
        load_terminal.load(channel, 1_000, MOMENT)
        terminal = PurchaseTerminal(SimChannel(psam), hotlist={card.state.asn})  # type: ignore[arg-type]
        with pytest.raises(HotlistedCardError, match="application blocked"):
            terminal.purchase(channel, 100, MOMENT)
        assert card.state.blocked and card.state.ep_balance_fen == 1_000
        with pytest.raises(CardBlockedError, match="6A81"):
            load_terminal.load(channel, 100, MOMENT)


def test_card_without_the_application(purchase_terminal: PurchaseTerminal) -> None:
    class OtherCard:
        def transmit(self, command: bytes) -> bytes:
            return b"\x6a\x82"

    with pytest.raises(ApplicationNotFoundError, match="SELECT e-purse: card answered 6A82"):
        purchase_terminal.purchase(OtherCard(), 100, MOMENT)


class TamperingChannel:
    """A card channel that rewrites bytes of one response: a forged card or a man in the middle."""

    def __init__(self, inner: SimChannel, ins: int, flip_at: int) -> None:
        self.inner, self.ins, self.flip_at = inner, ins, flip_at

    def transmit(self, command: bytes) -> bytes:
        response = bytearray(self.inner.transmit(command))
        if command[1] == self.ins and len(response) > 2:
            response[self.flip_at] ^= 0xFF
        return bytes(response)


def test_forged_mac1_is_declined_by_the_load_host(make_card: MakeCard, load_terminal: LoadTerminal) -> None:
    card, channel = make_card()
    forged = TamperingChannel(channel, 0x50, 12)  # first byte of MAC1 in INITIALIZE FOR LOAD
    with pytest.raises(LoadDeclinedError, match="MAC1 does not verify"):
        load_terminal.load(forged, 1_000, MOMENT)
    assert card.state.ep_balance_fen == 0 and load_terminal.host.open_authorisations == 0


def test_forged_mac2_is_caught_by_the_psam_and_the_record_kept(
    make_card: MakeCard, load_terminal: LoadTerminal, purchase_terminal: PurchaseTerminal
) -> None:
    card, channel = make_card()
    load_terminal.load(channel, 1_000, MOMENT)
    forged = TamperingChannel(channel, 0x54, 4)  # first byte of MAC2 in the DEBIT response
    with pytest.raises(CardAuthenticationError, match="MAC2 rejected") as error:
        purchase_terminal.purchase(forged, 100, MOMENT)
    assert error.value.record in purchase_terminal.journal.records()
    assert card.state.ep_balance_fen == 900


def test_host_with_other_keys_declines(make_card: MakeCard, issuer_keys: IssuerKeys) -> None:
    from model.security.keys import generate_issuer_keys

    other = generate_issuer_keys(seed=99, issuer_id=issuer_keys.issuer_id)
    terminal = LoadTerminal(bytes(6), LoadHost(IssuerKeyStore(other)))
    _, channel = make_card()
    with pytest.raises(LoadDeclinedError):
        terminal.load(channel, 100, MOMENT)


def test_load_host_refuses_a_hotlisted_card_from_the_moment_it_takes_effect(
    make_card: MakeCard, issuer_keys: IssuerKeys
) -> None:
    from model.timefmt import encode_datetime

    card, channel = make_card(asn_int=61)

    class Listed:
        def effective(self, asn: bytes) -> bytes | None:
            return encode_datetime(MOMENT) if asn == card.state.asn else None

    host = LoadHost(IssuerKeyStore(issuer_keys), hotlist=Listed())
    terminal = LoadTerminal(bytes.fromhex("000000000901"), host)
    before = terminal.load(channel, 500, MOMENT - timedelta(seconds=1))  # not yet in effect
    with pytest.raises(LoadDeclinedError, match="hotlisted"):
        terminal.load(channel, 500, MOMENT)
    assert card.state.ep_balance_fen == before.balance_after_fen == 500
    assert host.open_authorisations == 0 and host.confirmed_fen == 500
