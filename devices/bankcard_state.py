"""The persistent state of one financial IC card (PBOC 2.0 debit with electronic cash), and its
compact image at rest.

Like the e-purse (`devices.card_state`), a city's bank cards rest as `bytes` images (118 bytes)
and become a `BankCardState` only while a card is in a field. Only `devices.bankcard_os`
mutates a state, and only in its commit steps (the ATC at GET PROCESSING OPTIONS, the PIN try
counter at VERIFY, the EC balance at an offline TC or an issuer script).

The card holds its derived keys (UDK-AC, UDK-SMI: `model.bankcard.IssuerMasterKeys.card_keys`),
never an issuer master key.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from model.bankcard import AMOUNT_N12_FEN_MAX, IssuerMasterKeys, check_pan, encode_date, encode_pan
from model.errors import CardTwinError

PIN_TRIES_MAX = 3
PIN_DIGITS_MIN, PIN_DIGITS_MAX = 4, 12
IMAGE_VERSION = 1
AID_DEBIT = bytes.fromhex("A000000333010101")
AID_CREDIT = bytes.fromhex("A000000333010102")
AID_QUASI_CREDIT = bytes.fromhex("A000000333010103")
AIDS = (AID_DEBIT, AID_CREDIT, AID_QUASI_CREDIT)
CURRENCY_CNY = 0x0156
EC_BALANCE_LIMIT_FEN_DEFAULT = 100_000  # CNY 1000, the PBOC ceiling for electronic cash

# version, flags, AID, PAN digits, PAN (cn, F-padded), PSN, expiry YYMMDD, key index, ATC, PIN tries,
# PIN block (2 | N | digits | F..), currency, EC balance, limit, single limit, reset threshold.
# ... keys, and the last offline TC's proof (zeros when none).
_IMAGE = struct.Struct(">BB8sB10sB3sBHB8sH6s6s6s6s32s23s")
_BLOCKED, _HAS_PROOF = 0x01, 0x02
OFFLINE_PROOF_SIZE = 23  # ATC(2) | amount n12(6) | TC(8) | IAD(7)


class BankCardImageError(CardTwinError):
    """A bank card image or state that cannot be right (wrong version or size, bad field)."""


def pin_block(pin: str) -> bytes:
    """The ISO 9564 format 2 plaintext PIN block that VERIFY carries: 2N | PIN | F padding."""
    if not (pin.isascii() and pin.isdigit() and PIN_DIGITS_MIN <= len(pin) <= PIN_DIGITS_MAX):
        raise BankCardImageError(
            f"PIN: {len(pin)} characters, expected {PIN_DIGITS_MIN}-{PIN_DIGITS_MAX} digits"
        )
    return bytes.fromhex(f"2{len(pin):X}{pin}".ljust(16, "F"))


@dataclass(slots=True)
class BankCardState:
    """Everything a bank card remembers across power cycles (amounts in fen)."""

    pan: str
    pan_sequence: int
    expiry: bytes  # YYMMDD, n6
    udk_ac: bytes
    udk_smi: bytes
    pin: bytes  # the format 2 PIN block (`pin_block`)
    aid: bytes = AID_DEBIT
    key_index: int = 1
    atc: int = 0
    pin_tries_left: int = PIN_TRIES_MAX
    currency: int = CURRENCY_CNY
    ec_balance_fen: int = 0
    ec_balance_limit_fen: int = EC_BALANCE_LIMIT_FEN_DEFAULT
    ec_single_limit_fen: int = 50_000
    ec_reset_threshold_fen: int = 10_000
    blocked: bool = False
    last_offline_proof: bytes = b""  # the last EC offline TC (OFFLINE_PROOF_SIZE bytes), or none

    def check(self) -> None:
        """The invariants of a card: raise BankCardImageError naming the first broken one."""
        encode_pan(self.pan)
        if self.aid not in AIDS:
            raise BankCardImageError(f"bank card {self.pan}: AID {self.aid.hex().upper()} is not a PBOC AID")
        if len(self.udk_ac) != 16 or len(self.udk_smi) != 16 or len(self.expiry) != 3 or len(self.pin) != 8:
            raise BankCardImageError(
                f"bank card {self.pan}: a key, the expiry or the PIN block has a wrong size"
            )
        if not 0 <= self.pin_tries_left <= PIN_TRIES_MAX:
            raise BankCardImageError(
                f"bank card {self.pan}: PIN tries {self.pin_tries_left} outside 0..{PIN_TRIES_MAX}"
            )
        if len(self.last_offline_proof) not in (0, OFFLINE_PROOF_SIZE):
            raise BankCardImageError(
                f"bank card {self.pan}: offline proof of {len(self.last_offline_proof)} bytes"
            )
        limits = (self.ec_balance_limit_fen, self.ec_single_limit_fen, self.ec_reset_threshold_fen)
        if not all(0 <= x <= AMOUNT_N12_FEN_MAX for x in limits):
            raise BankCardImageError(f"bank card {self.pan}: an EC limit outside n12")
        if not 0 <= self.ec_balance_fen <= self.ec_balance_limit_fen:
            raise BankCardImageError(
                f"bank card {self.pan}: EC balance {self.ec_balance_fen} fen"
                f" outside 0..{self.ec_balance_limit_fen}"
            )

    def to_image(self) -> bytes:
        """Pack into the compact at-rest form."""
        self.check()
        n12 = (
            self.ec_balance_fen,
            self.ec_balance_limit_fen,
            self.ec_single_limit_fen,
            self.ec_reset_threshold_fen,
        )
        return _IMAGE.pack(
            IMAGE_VERSION,
            (_BLOCKED if self.blocked else 0) | (_HAS_PROOF if self.last_offline_proof else 0),
            self.aid,
            len(self.pan),
            encode_pan(self.pan),  # struct pads a shorter PAN with 00s to 10 bytes
            self.pan_sequence,
            self.expiry,
            self.key_index,
            self.atc,
            self.pin_tries_left,
            self.pin,
            self.currency,
            *(x.to_bytes(6, "big") for x in n12),
            self.udk_ac + self.udk_smi,
            self.last_offline_proof,  # struct writes zeros for none
        )

    @classmethod
    def from_image(cls, image: bytes) -> BankCardState:
        """Unpack an image written by `to_image`; a wrong one is a BankCardImageError."""
        if len(image) != _IMAGE.size:
            raise BankCardImageError(f"bank card image: {len(image)} bytes, expected {_IMAGE.size}")
        fields = _IMAGE.unpack(image)
        version, flags, aid, pan_digits, pan_raw, psn, expiry, key_index, atc, tries, pin, currency = fields[
            :12
        ]
        if version != IMAGE_VERSION:
            raise BankCardImageError(f"bank card image: version {version}, expected {IMAGE_VERSION}")
        balance, limit, single, reset = (int.from_bytes(x, "big") for x in fields[12:16])
        keys: bytes = fields[16]
        state = cls(
            pan=check_pan(pan_raw.hex()[:pan_digits], "bank card image: PAN"),
            pan_sequence=psn,
            expiry=expiry,
            udk_ac=keys[:16],
            udk_smi=keys[16:],
            pin=pin,
            aid=aid,
            key_index=key_index,
            atc=atc,
            pin_tries_left=tries,
            currency=currency,
            ec_balance_fen=balance,
            ec_balance_limit_fen=limit,
            ec_single_limit_fen=single,
            ec_reset_threshold_fen=reset,
            blocked=bool(flags & _BLOCKED),
            last_offline_proof=fields[17] if flags & _HAS_PROOF else b"",
        )
        state.check()
        return state


def personalise(
    keys: IssuerMasterKeys,
    pan: str,
    pan_sequence: int = 0,
    pin: str = "123456",
    expiry: tuple[int, int, int] = (2030, 12, 31),
    /,
    *,
    ec_balance_fen: int = 0,
    ec_balance_limit_fen: int = EC_BALANCE_LIMIT_FEN_DEFAULT,
    ec_single_limit_fen: int = 50_000,
    ec_reset_threshold_fen: int = 10_000,
) -> BankCardState:
    """A new card as the bureau writes it: its keys derived from the bank's master keys."""
    udk_ac, udk_smi = keys.card_keys(pan, pan_sequence)
    state = BankCardState(
        pan=pan,
        pan_sequence=pan_sequence,
        expiry=encode_date(*expiry, where="expiry"),
        udk_ac=udk_ac,
        udk_smi=udk_smi,
        pin=pin_block(pin),
        key_index=keys.key_index,
        ec_balance_fen=ec_balance_fen,
        ec_balance_limit_fen=ec_balance_limit_fen,
        ec_single_limit_fen=ec_single_limit_fen,
        ec_reset_threshold_fen=ec_reset_threshold_fen,
    )
    state.check()
    return state
