"""Money: integer fen (CNY 0.01) everywhere; floats never touch an amount.

Cards carry amounts as 4-byte big-endian integers, so every amount that reaches a card must fit
in 32 bits; balances may go below zero only by a card's overdraft limit (see devices.card_os).
"""

from __future__ import annotations

import re

from model.errors import CardTwinError

AMOUNT_FEN_MAX = 0xFFFFFFFF  # the card's 4-byte unsigned amount field
FEN_PER_YUAN = 100

_YUAN_PATTERN = re.compile(r"^(-?)(\d+)(?:\.(\d{1,2}))?$")


class MoneyError(CardTwinError):
    """An amount that is not a valid number of fen."""


def parse_yuan(text: str, where: str = "amount") -> int:
    """Turn a decimal yuan string such as "12.5" into fen (1250), exactly, without floats."""
    match = _YUAN_PATTERN.match(text.strip())
    if match is None:
        raise MoneyError(f"{where}: {text!r} is not an amount in yuan (e.g. 12.50)")
    sign, whole, frac = match.groups()
    fen = int(whole) * FEN_PER_YUAN + int((frac or "0").ljust(2, "0"))
    return -fen if sign else fen


def format_fen(amount_fen: int) -> str:
    """Format fen as yuan with two decimals: 1250 -> '12.50', -5 -> '-0.05'."""
    sign = "-" if amount_fen < 0 else ""
    whole, frac = divmod(abs(amount_fen), FEN_PER_YUAN)
    return f"{sign}{whole}.{frac:02d}"


def check_amount_fen(amount_fen: int, where: str = "amount") -> int:
    """Validate a transaction amount: an int in [0, 2^32 - 1]; returns it unchanged."""
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int):
        raise MoneyError(f"{where}: {amount_fen!r} is not an integer number of fen")
    if not 0 <= amount_fen <= AMOUNT_FEN_MAX:
        raise MoneyError(f"{where}: {amount_fen} fen is outside 0..{AMOUNT_FEN_MAX}")
    return amount_fen
