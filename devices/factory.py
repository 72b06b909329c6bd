"""The card factory: personalises e-purse cards from the issuer's master key set.

Personalisation writes the application files, the diversified keys of the chosen algorithm,
the limits (maximum balance, overdraft) and the ED PIN. The result is a `CardState` with
zero balances and counters; its `to_image()` is what a city stores per citizen.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from devices.card_state import CardState
from model.card import CardType, PublicInfo, encode_holder, encode_management
from model.errors import CardTwinError
from model.security import KEY_INDEX_DEFAULT, Algorithm, CardKeys, IssuerKeys

MAX_BALANCE_FEN_DEFAULT = 100_000  # CNY 1,000: the usual cap of an anonymous city e-purse


class PersonalisationError(CardTwinError):
    """Card parameters that cannot be written to a card."""


@dataclass(frozen=True, slots=True)
class CardProfile:
    """What the issuer decides for one card besides its keys."""

    asn: bytes
    card_type: CardType = CardType.ADULT
    algorithm: Algorithm = Algorithm.DES3
    start: date = date(2024, 1, 1)
    expiry: date = date(2034, 12, 31)
    max_balance_fen: int = MAX_BALANCE_FEN_DEFAULT
    overdraft_limit_fen: int = 0
    pin: bytes = b"\x12\x34\x56"
    holder_name: str = ""
    holder_id: str = ""

    def check(self) -> None:
        if len(self.asn) != 8:
            raise PersonalisationError(f"card {self.asn.hex()}: ASN must be 8 bytes")
        if self.start > self.expiry:
            raise PersonalisationError(f"card {self.asn.hex()}: start {self.start} after expiry")
        if not 0 < self.max_balance_fen <= 0x7FFFFFFF:
            raise PersonalisationError(f"card {self.asn.hex()}: max balance out of range")
        if not 0 <= self.overdraft_limit_fen <= 0xFFFFFF:
            raise PersonalisationError(f"card {self.asn.hex()}: overdraft limit out of 0..FFFFFF")
        if not 2 <= len(self.pin) <= 6:
            raise PersonalisationError(f"card {self.asn.hex()}: PIN must be 2..6 bytes")


def personalise_with_keys(profile: CardProfile, issuer_id: bytes, keys: CardKeys) -> CardState:
    """Write a card with explicitly given card keys (test vectors, keys from a real card's file)."""
    profile.check()
    public = PublicInfo(issuer_id, profile.asn, profile.start, profile.expiry, profile.card_type)
    return CardState(
        algorithm=profile.algorithm,
        key_index=keys.key_index,
        keys=keys.dpk + keys.dlk + keys.dtk + keys.damk,
        public=public.encode(),
        holder=encode_holder(profile.card_type, profile.holder_name, profile.holder_id),
        management=encode_management(profile.card_type),
        max_balance_fen=profile.max_balance_fen,
        overdraft_limit_fen=profile.overdraft_limit_fen,
        pin=profile.pin,
    )


class CardFactory:
    """Personalises cards for one issuer, diversifying its master keys per card."""

    def __init__(self, issuer_keys: IssuerKeys, key_index: int = KEY_INDEX_DEFAULT) -> None:
        self.issuer_keys = issuer_keys
        self.key_index = key_index

    def personalise(self, profile: CardProfile) -> CardState:
        profile.check()
        keys = self.issuer_keys.card_keys(profile.asn, profile.algorithm, self.key_index)
        return personalise_with_keys(profile, self.issuer_keys.issuer_id, keys)
