"""Identity services on real simulated cards: reads through the channel, the status list,
bikes not returned, blocked and lost cards at the library, park and elderly entitlements."""

from __future__ import annotations

from datetime import date

import pytest

from devices.card_os import CardOS
from devices.factory import CardFactory, CardProfile
from devices.sim_channel import SimChannel
from model.card import CardType
from model.security import generate_issuer_keys
from model.services import Entitlements, IdentityError, Listed, LoanDesk, LoanError, StatusList, read_identity

DAY = date(2009, 3, 2)
KEYS = generate_issuer_keys(seed=1, issuer_id=bytes.fromhex("3301000000000001"))
ASN = bytes.fromhex("3301200900000042")


def _card(
    card_type: CardType = CardType.ADULT, blocked: bool = False, expiry: date = date(2030, 1, 1)
) -> SimChannel:
    state = CardFactory(KEYS).personalise(
        CardProfile(asn=ASN, card_type=card_type, start=date(2005, 1, 1), expiry=expiry)
    )
    state.blocked = blocked
    return SimChannel(CardOS(state))


def test_the_card_is_read_through_its_channel() -> None:
    info = read_identity(_card(CardType.ELDERLY), DAY)
    assert info.asn == ASN and info.card_type is CardType.ELDERLY


def test_a_blocked_card_at_the_library_is_refused_as_blocked() -> None:
    with pytest.raises(IdentityError, match="blocked") as caught:
        read_identity(_card(blocked=True), DAY)
    assert caught.value.reason == "blocked"


def test_an_expired_card_is_refused() -> None:
    with pytest.raises(IdentityError, match=r"valid 2005-01-01\.\.2008-12-31"):
        read_identity(_card(expiry=date(2008, 12, 31)), DAY)


def test_a_lost_card_cannot_borrow() -> None:
    status = StatusList()
    library = LoanDesk("library", Listed.BOOK_OVERDUE, 5, 30 * 86400.0, status)
    library.lend(ASN, 0.0)
    status.add(ASN, Listed.LOST)
    with pytest.raises(IdentityError, match="lost") as caught:
        library.lend(ASN, 10.0)
    assert caught.value.reason == "listed_lost" and library.made == 1


def test_a_bike_not_returned_lists_the_card_until_it_comes_back() -> None:
    status = StatusList()
    bikes = LoanDesk("bikes", Listed.BIKE_NOT_RETURNED, 1, 4 * 3600.0, status)
    bikes.lend(ASN, 0.0)
    with pytest.raises(LoanError, match="already holds 1"):
        bikes.lend(ASN, 60.0)  # one bike at a time
    assert bikes.sweep_overdue(3 * 3600.0) == 0
    assert bikes.sweep_overdue(5 * 3600.0) == 1 and status.entries[ASN] is Listed.BIKE_NOT_RETURNED
    library = LoanDesk("library", Listed.BOOK_OVERDUE, 5, 30 * 86400.0, status)
    with pytest.raises(IdentityError, match="bike_not_returned"):
        library.lend(ASN, 5 * 3600.0)  # one credit record for every service
    assert bikes.give_back(ASN, 6 * 3600.0) == 6 * 3600.0
    assert ASN not in status.entries
    bikes.lend(ASN, 6 * 3600.0 + 1)


def test_a_station_checking_from_its_list_copy_sees_a_loss_only_after_the_refresh() -> None:
    status = StatusList()
    bikes = LoanDesk("bikes", Listed.BIKE_NOT_RETURNED, 1, 4 * 3600.0, status, online=False)
    bikes.refresh_copy()
    status.add(ASN, Listed.LOST)
    bikes.lend(ASN, 0.0)  # the copy predates the loss: the exposure of list mode
    bikes.give_back(ASN, 10.0)
    bikes.refresh_copy()
    with pytest.raises(IdentityError, match="lost"):
        bikes.lend(ASN, 20.0)
    online = LoanDesk("bikes", Listed.BIKE_NOT_RETURNED, 1, 4 * 3600.0, status, online=True)
    with pytest.raises(IdentityError, match="lost"):
        online.lend(ASN, 0.0)


def test_returns_that_match_no_loan_are_refused() -> None:
    bikes = LoanDesk("bikes", Listed.BIKE_NOT_RETURNED, 1, 3600.0, StatusList())
    with pytest.raises(LoanError, match="no open loan"):
        bikes.give_back(ASN, 0.0)
    bikes.lend(ASN, 100.0)
    with pytest.raises(LoanError, match="before the loan"):
        bikes.give_back(ASN, 50.0)


def test_park_entry_needs_a_valid_annual_card_and_an_unlisted_card() -> None:
    status = StatusList()
    e = Entitlements(status)
    info = read_identity(_card(), DAY)
    with pytest.raises(IdentityError, match="no park annual card"):
        e.enter_park(info, DAY)
    e.activate_park(ASN, date(2009, 3, 1), date(2009, 1, 1))
    with pytest.raises(IdentityError, match="ended 2009-03-01"):
        e.enter_park(info, DAY)
    e.activate_park(ASN, date(2009, 12, 31), DAY)
    e.enter_park(info, DAY)
    e.enter_park(info, DAY)  # no limit on entries
    status.add(ASN, Listed.LOST)
    with pytest.raises(IdentityError, match="lost"):
        e.enter_park(info, DAY)
    assert e.park_entries == 2
    with pytest.raises(IdentityError, match="before"):
        e.activate_park(ASN, date(2009, 1, 1), DAY)


def test_elderly_concession_and_pass_activation() -> None:
    e = Entitlements(StatusList())
    e.elderly_concession(read_identity(_card(CardType.ELDERLY), DAY))
    with pytest.raises(IdentityError, match="adult card"):
        e.elderly_concession(read_identity(_card(CardType.ADULT), DAY))
    e.activate_pass(ASN)
    with pytest.raises(IdentityError, match="already has the monthly pass"):
        e.activate_pass(ASN)
    assert e.concessions == 1 and e.passes == {ASN}


def test_a_bad_asn_is_refused_by_the_list() -> None:
    with pytest.raises(IdentityError, match="8 bytes"):
        StatusList().add(b"\x01\x02", Listed.LOST)
