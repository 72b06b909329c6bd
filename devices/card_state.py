"""The persistent state of one e-purse card, and its compact image at rest.

A city holds millions of cards, so at rest a card is one `bytes` image of about 600 bytes
(`CardState.to_image`). The card OS materialises a `CardState` only while the card is in a
terminal's field, and the owner stores the new image afterwards.

Balances are signed: a card with an overdraft limit may go below zero by at most that limit
(DECIDE: JT/T 978 allows the limit, the sources do not fix the encoding; we use two's
complement in the 4-byte balance fields, identical to unsigned for every non-negative value).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from model.card import (
    CAPP_RECORD_SIZE,
    HOLDER_SIZE,
    LOG_RECORD_SIZE,
    MANAGEMENT_SIZE,
    PUBLIC_SIZE,
    CardType,
    encode_holder,
    encode_management,
)
from model.errors import CardTwinError
from model.security import Algorithm

PIN_TRIES_MAX = 3
# Consecutive wrong MACs under one key (DPK, DLK, DAMK) after which the card blocks its e-purse
# application, as PBOC 2.0 cards' per-key error counters do (issuers set 3 to 15; a blocked
# application answers 6A81 until the issuer unblocks it). A correct MAC resets that key's count.
# The card OS takes the limit as a parameter (`CardOS(mac_errors_max=...)`); this is the default.
MAC_ERRORS_MAX = 3
MAC_ERRORS_LIMIT = 15  # the counter's range on the card (a nibble in PBOC key headers)
MAC_KEYS = ("DPK", "DLK", "DAMK")  # the keys whose MACs a card verifies, in `mac_errors` order
IMAGE_VERSION = 2  # 2: per-key MAC error counters
PROOF_SIZE = 11  # type(1) | counter(2) | MAC(4) | TAC(4)

_HEADER = ">BBBBBB6siiII HHHH BBB"
# The fixed part of an image: header, keys, the three files, the two proof lengths (one unpack).
_FIXED = struct.Struct(f"{_HEADER}64s{PUBLIC_SIZE}s{HOLDER_SIZE}s{MANAGEMENT_SIZE}sBB")
# The same without files 16 and 17, for a card whose two files are its card type's blanks.
_SHORT = struct.Struct(f"{_HEADER}64s{PUBLIC_SIZE}sBB")
_BLOCKED, _BLANK_FILES = 0x01, 0x02  # image flags
_CARD_TYPE_AT = 28  # the card type's byte in file 15


_ALGORITHMS = {int(a): a for a in Algorithm}
# Files 16 (holder) and 17 (management) of an anonymous card of each type, as the factory writes
# them: most of a city's cards, so their images leave the 115 bytes out and say so in a flag.
_BLANKS = {int(t): (encode_holder(t, "", ""), encode_management(t)) for t in CardType}


class CardImageError(CardTwinError):
    """A card image that cannot be read back (wrong version, truncated, inconsistent)."""


@dataclass(slots=True)
class CardState:
    """Everything a card remembers across power cycles.

    Only the card OS mutates it, and only in its commit step: a transaction's balance,
    counter, log and proof change together or not at all.
    """

    algorithm: Algorithm
    key_index: int
    keys: bytes  # DPK | DLK | DTK | DAMK, 16 bytes each
    public: bytes  # file 0x15
    holder: bytes  # file 0x16
    management: bytes  # file 0x17
    ep_balance_fen: int = 0
    ed_balance_fen: int = 0
    max_balance_fen: int = 100_000
    overdraft_limit_fen: int = 0
    ep_online_counter: int = 0
    ep_offline_counter: int = 0
    ed_online_counter: int = 0
    ed_offline_counter: int = 0
    pin: bytes = b"\x12\x34\x56"
    pin_tries_left: int = PIN_TRIES_MAX
    blocked: bool = False
    log: tuple[bytes, ...] = ()  # newest first, at most LOG_RECORDS_MAX
    capp: tuple[bytes, ...] = ()  # composite records, at most CAPP_RECORDS_MAX
    proof_load: bytes = b""
    proof_purchase: bytes = b""
    mac_errors: tuple[int, int, int] = (0, 0, 0)  # consecutive wrong MACs per key of MAC_KEYS

    @property
    def asn(self) -> bytes:
        return self.public[12:20]

    @property
    def dpk(self) -> bytes:
        return self.keys[0:16]

    @property
    def dlk(self) -> bytes:
        return self.keys[16:32]

    @property
    def dtk(self) -> bytes:
        return self.keys[32:48]

    @property
    def damk(self) -> bytes:
        return self.keys[48:64]

    def to_image(self) -> bytes:
        """Pack into the compact at-rest form."""
        assert len(self.keys) == 64 and len(self.public) == PUBLIC_SIZE, "card files have fixed sizes"
        assert len(self.holder) == HOLDER_SIZE and len(self.management) == MANAGEMENT_SIZE
        blank = _BLANKS.get(self.public[_CARD_TYPE_AT]) == (self.holder, self.management)
        header = (
            IMAGE_VERSION,
            self.algorithm,
            self.key_index,
            (_BLOCKED if self.blocked else 0) | (_BLANK_FILES if blank else 0),
            self.pin_tries_left,
            len(self.pin),
            self.pin,  # struct pads it with 00s to 6
            self.ep_balance_fen,
            self.ed_balance_fen,
            self.max_balance_fen,
            self.overdraft_limit_fen,
            self.ep_online_counter,
            self.ep_offline_counter,
            self.ed_online_counter,
            self.ed_offline_counter,
            *self.mac_errors,
            self.keys,
            self.public,
        )
        proofs = (len(self.proof_load), len(self.proof_purchase))
        if blank:
            fixed = _SHORT.pack(*header, *proofs)
        else:
            fixed = _FIXED.pack(*header, self.holder, self.management, *proofs)
        return b"".join(
            (
                fixed,
                self.proof_load,
                self.proof_purchase,
                bytes((len(self.log), len(self.capp))),
                *self.log,
                *self.capp,
            )
        )

    @staticmethod
    def from_image(image: bytes) -> CardState:
        """Unpack an image made by `to_image`: one `struct` call for the whole image, by a
        layout kept for its variable lengths (proofs, log and CAPP records: a few hundred
        combinations at most), since a card is unpacked at every tap."""
        try:
            if image[0] != IMAGE_VERSION:
                raise CardImageError(f"card image: version {image[0]}, expected {IMAGE_VERSION}")
            blank = bool(image[3] & _BLANK_FILES)
            at = (_SHORT if blank else _FIXED).size
            if len(image) < at:
                raise IndexError
            load_len, purchase_len = image[at - 2], image[at - 1]
            at += load_len + purchase_len
            log_n, capp_n = image[at], image[at + 1]
        except IndexError:
            raise CardImageError(f"card image: truncated ({len(image)} bytes)") from None
        at += 2 + log_n * LOG_RECORD_SIZE + capp_n * CAPP_RECORD_SIZE
        if at != len(image):
            raise CardImageError(f"card image: {len(image)} bytes, layout says {at}")
        fields = _layout(blank, load_len, purchase_len, log_n, capp_n).unpack(image)
        (_, algorithm, key_index, flags, tries, pin_len, pin, ep, ed, max_bal, overdraft) = fields[:11]
        (ep_on, ep_off, ed_on, ed_off, e_dpk, e_dlk, e_damk, keys, public) = fields[11:20]
        if blank:
            files = _BLANKS.get(public[_CARD_TYPE_AT])
            if files is None:
                raise CardImageError(
                    f"card image: blank files of unknown card type {public[_CARD_TYPE_AT]:02X}"
                )
            holder, management = files
            at = 20
        else:
            holder, management = fields[20:22]
            at = 22
        proof_load, proof_purchase = fields[at : at + 2]
        at += 2
        algo = _ALGORITHMS.get(algorithm)
        if algo is None:
            raise CardImageError(f"card image: algorithm {algorithm:02X} is unknown")
        return CardState(
            algo,
            key_index,
            keys,
            public,
            holder,
            management,
            ep,
            ed,
            max_bal,
            overdraft,
            ep_on,
            ep_off,
            ed_on,
            ed_off,
            pin[:pin_len],
            tries,
            bool(flags & _BLOCKED),
            fields[at : at + log_n],
            fields[at + log_n :],
            proof_load,
            proof_purchase,
            (e_dpk, e_dlk, e_damk),
        )


LAYOUTS_KEPT_MAX = 1024  # image layouts kept (a city's cards have a few hundred at most)
_layouts: dict[tuple[bool, int, int, int, int], struct.Struct] = {}


def _layout(blank: bool, load_len: int, purchase_len: int, log_n: int, capp_n: int) -> struct.Struct:
    """The `struct` of a whole image with these lengths: the fixed part (its two proof-length
    bytes skipped: they are known), the proofs, the two counts (skipped), the records."""
    key = (blank, load_len, purchase_len, log_n, capp_n)
    layout = _layouts.get(key)
    if layout is None:
        files = "" if blank else f"{HOLDER_SIZE}s{MANAGEMENT_SIZE}s"
        records = f"{LOG_RECORD_SIZE}s" * log_n + f"{CAPP_RECORD_SIZE}s" * capp_n
        layout = struct.Struct(f"{_HEADER}64s{PUBLIC_SIZE}s{files}2x{load_len}s{purchase_len}s2x{records}")
        if len(_layouts) >= LAYOUTS_KEPT_MAX:
            _layouts.clear()
        _layouts[key] = layout
    return layout
