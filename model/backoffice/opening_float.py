"""The opening float: the e-purse liability the issuer carries into its books' first day.

Cards in use hold money loaded before the clearing database began: the issuer owes it to the
cardholders (it is on the `float`), and the reserve at the custodian bank that backs it was
funded on earlier days. None of it is a load of the day, and no cash or bank money moves for
it, so it must not pass through the clearing of records or the day's settlement. It is booked
once, as its own posting against its own account:

    Dr opening   (the liability brought forward: what earlier days' loads put on the cards)
    Cr float

Afterwards `float = opening + cleared loads - cleared purchases - refunds - replaced`
(model.backoffice.reconciliation), and the day's settlement moves exactly the day's money.

Booked once per database (the posting's memo is its key), so a rerun of the night books nothing
twice; a second call with another amount is refused in one line.

Known limit: the carried float is booked as a total, not per card, so the clearing house's
shadow balance of a card (used for refunds) covers only what its records moved since.
"""

from __future__ import annotations

from datetime import date

from model.backoffice.ledger import Ledger
from model.backoffice.terms import ClearingError, day_int

OPENING_ACCOUNT = "opening"
_MEMO = "opening float carried from before "
OPENING_FLOAT_FEN_MAX = 10**15  # a city's whole e-purse float is far below 10 trillion CNY


def book_opening_float(ledger: Ledger, day: date, amount_fen: int) -> bool:
    """Book the float carried into `day` (True), or nothing if it is booked already (False)."""
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int) or amount_fen < 0:
        raise ClearingError(f"opening float: {amount_fen!r} is not a non-negative integer of fen")
    if amount_fen > OPENING_FLOAT_FEN_MAX:
        raise ClearingError(f"opening float: {amount_fen} fen is above the bound {OPENING_FLOAT_FEN_MAX}")
    booked = opening_float_fen(ledger)
    if ledger.db.execute("SELECT 1 FROM postings WHERE memo LIKE ?", (_MEMO + "%",)).fetchone():
        if booked != amount_fen:
            raise ClearingError(
                f"opening float: {booked} fen booked already, refusing a second opening of {amount_fen} fen"
            )
        return False
    if amount_fen == 0:
        return False
    with ledger.transaction():
        ledger.post(
            day_int(day), f"{_MEMO}{day.isoformat()}", [(OPENING_ACCOUNT, amount_fen), ("float", -amount_fen)]
        )
    return True


def opening_float_fen(ledger: Ledger) -> int:
    """The float carried from before the books began (0 if none was booked)."""
    return ledger.balance(OPENING_ACCOUNT)
