"""The names of the bank card's fault classes (`sim.verify.bank_faults` injects them), apart so
that the vocabulary (`sim.verify.report.FAULTS`) can list them without importing the bank world.
"""

from __future__ import annotations

BANK_FAULTS: dict[str, str] = {
    "bank-ec-load-tear": "a bank card's EC load torn at any APDU (script included), recovered when "
    "the card returns",
    "bank-network-outage": "an issuing bank or the card network's switch down for a stretch of transactions",
    "bank-reversal": "the answer to an online purchase's second GENERATE AC lost: the purchase reversed",
}
