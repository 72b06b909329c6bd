"""A PBOC card's public data, read without starting a transaction (no GPO: the ATC is not used).

`read_bank_card` selects the application (PSE, else the candidate AIDs), reads SFI 1 record 1
(PAN, PAN sequence number, expiry, application currency) and GET DATA of the electronic cash
values and counters. What a card does not answer is left None; a card with no PBOC
application is a `CardStatusError` (6A82) from the selection. This is what `cardtwin card info`
prints for a bank card, through any `CardChannel` (a PC/SC reader included).
"""

from __future__ import annotations

from dataclasses import dataclass

import model.bankcard.kernel as k
import model.bankcard.objects as t
from model.bankcard.bcd import decode_amount_fen, decode_date, decode_n, decode_pan
from model.card import CardChannel, encode_command, parse_response
from model.card.tlv import find

LABELS = {
    bytes.fromhex("A000000333010101"): "debit",
    bytes.fromhex("A000000333010102"): "credit",
    bytes.fromhex("A000000333010103"): "quasi-credit",
}


@dataclass(frozen=True, slots=True)
class BankCardInfo:
    aid: bytes
    pan: str
    pan_sequence: int
    expiry: tuple[int, int, int]
    currency: int | None
    ec_balance_fen: int | None
    ec_balance_limit_fen: int | None
    ec_single_limit_fen: int | None
    ec_reset_threshold_fen: int | None
    atc: int | None
    pin_tries_left: int | None

    @property
    def kind(self) -> str:
        return LABELS.get(self.aid, "unknown")

    @property
    def pan_masked(self) -> str:
        """The PAN as a receipt prints it: first six, last four."""
        return self.pan[:6] + "*" * (len(self.pan) - 10) + self.pan[-4:]


def _get(card: CardChannel, tag: int) -> bytes | None:
    answer = parse_response(card.transmit(encode_command(0x80, 0xCA, tag >> 8, tag & 0xFF, le=256)))
    return find(answer.data, tag) if answer.ok else None


def _amount(card: CardChannel, tag: int) -> int | None:
    raw = _get(card, tag)
    return None if raw is None else decode_amount_fen(raw, f"GET DATA {tag:X}")


def read_bank_card(card: CardChannel) -> BankCardInfo:
    aid, _ = k.select_application(card)
    raw = k.send(card, encode_command(0x00, 0xB2, 1, 0x0C, le=256), "READ RECORD 1")
    pan_raw, expiry = find(raw, t.TAG_PAN), find(raw, t.TAG_EXPIRY)
    if pan_raw is None or expiry is None:
        raise k.KernelError("READ RECORD 1: no PAN 5A or expiry 5F24")
    currency = find(raw, t.TAG_APPLICATION_CURRENCY)
    atc, tries = _get(card, t.TAG_ATC), _get(card, t.TAG_PIN_TRY_COUNTER)
    return BankCardInfo(
        aid=aid,
        pan=decode_pan(pan_raw),
        pan_sequence=decode_n(find(raw, t.TAG_PAN_SEQUENCE) or b"\x00", "5F34"),
        expiry=decode_date(expiry, "5F24"),
        currency=int.from_bytes(currency, "big") if currency else None,
        ec_balance_fen=_amount(card, t.TAG_EC_BALANCE),
        ec_balance_limit_fen=_amount(card, t.TAG_EC_BALANCE_LIMIT),
        ec_single_limit_fen=_amount(card, t.TAG_EC_SINGLE_LIMIT),
        ec_reset_threshold_fen=_amount(card, t.TAG_EC_RESET_THRESHOLD),
        atc=int.from_bytes(atc, "big") if atc else None,
        pin_tries_left=tries[0] if tries else None,
    )
