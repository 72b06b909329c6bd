"""The card image at rest: anonymous cards leave their blank files 16 and 17 out; every image
reads back to the same state; a damaged image is refused in one line."""

from __future__ import annotations

import pytest

from devices.card_state import CardImageError, CardState
from devices.factory import CardFactory, CardProfile
from model.card.files import HOLDER_SIZE, MANAGEMENT_SIZE, CardType
from model.security.keys import generate_issuer_keys

FACTORY = CardFactory(generate_issuer_keys(1, bytes.fromhex("3301000000000001")))


@pytest.mark.parametrize("card_type", list(CardType))
def test_anonymous_cards_leave_their_blank_files_out(card_type: CardType) -> None:
    anonymous = FACTORY.personalise(CardProfile(asn=bytes(7) + b"\x01", card_type=card_type))
    named = FACTORY.personalise(
        CardProfile(asn=bytes(7) + b"\x02", card_type=card_type, holder_name="Li Lei", holder_id="330106")
    )
    for state in (anonymous, named):
        state.log = (bytes(range(23)),)
        state.proof_purchase = bytes(11)
        assert CardState.from_image(state.to_image()) == state
    assert len(named.to_image()) - len(anonymous.to_image()) == HOLDER_SIZE + MANAGEMENT_SIZE


def test_blank_files_of_an_unknown_card_type_are_refused() -> None:
    image = bytearray(FACTORY.personalise(CardProfile(asn=bytes(8))).to_image())
    at = 39 + 64 + 28  # header (with the 3 MAC error counters), keys, then file 15's card type byte
    image[at] = 0x7F
    with pytest.raises(CardImageError, match="blank files of unknown card type 7F"):
        CardState.from_image(bytes(image))
