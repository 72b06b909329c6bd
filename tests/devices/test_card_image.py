"""The card image at rest: anonymous cards leave their blank files 16 and 17 out; every image
reads back to the same state; a damaged image is refused in one line."""

from __future__ import annotations

import random

import pytest

from devices.card_state import CardImageError, CardState
from devices.factory import CardFactory, CardProfile
from model.card.files import (
    CAPP_RECORD_SIZE,
    CAPP_RECORDS_MAX,
    HOLDER_SIZE,
    LOG_RECORD_SIZE,
    LOG_RECORDS_MAX,
    MANAGEMENT_SIZE,
    CardType,
)
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


def test_every_layout_of_lengths_reads_back_and_a_cut_image_is_refused() -> None:
    """Each combination of proofs, log and CAPP records has its own kept layout: all read back;
    an image cut or grown by a byte names its length (cut in the record counts: truncated)."""
    rng = random.Random(4)
    named = FACTORY.personalise(
        CardProfile(asn=bytes(7) + b"\x05", holder_name="Han Meimei", holder_id="3301")
    )
    for state in (FACTORY.personalise(CardProfile(asn=bytes(7) + b"\x04")), named):
        for log_n in range(LOG_RECORDS_MAX + 1):
            for capp_n in range(CAPP_RECORDS_MAX + 1):
                state.log = tuple(rng.randbytes(LOG_RECORD_SIZE) for _ in range(log_n))
                state.capp = tuple(
                    bytes((k + 1,)) + rng.randbytes(CAPP_RECORD_SIZE - 1) for k in range(capp_n)
                )
                state.proof_load = rng.choice((b"", rng.randbytes(11)))
                state.proof_purchase = rng.choice((b"", rng.randbytes(11)))
                state.ep_balance_fen, state.ep_offline_counter = (
                    rng.randrange(-500, 10**5),
                    rng.randrange(2**16),
                )
                image = state.to_image()
                assert CardState.from_image(image) == state
                with pytest.raises(
                    CardImageError, match=rf"card image: (truncated \()?{len(image) - 1} bytes"
                ):
                    CardState.from_image(image[:-1])
                with pytest.raises(CardImageError, match=f"card image: {len(image) + 1} bytes, layout says"):
                    CardState.from_image(image + b"\x00")
    with pytest.raises(CardImageError, match=r"truncated \(40 bytes\)"):
        CardState.from_image(named.to_image()[:40])
    with pytest.raises(CardImageError, match=r"truncated \(0 bytes\)"):
        CardState.from_image(b"")
