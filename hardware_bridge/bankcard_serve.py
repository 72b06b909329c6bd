"""Serving the simulated PBOC bank card on vpcd, as the e-purse card is served (`vpcd.VpcdServer`
takes any chip with `process` and `power_on`: `devices.bankcard_os.BankCardOS` is one).

The bank card gets its own ATR (historical bytes `CardTwinPBOC`) so a reader list tells it from
the e-purse card, and the server drops the connection when the card OS's tear hook cuts the
power (`PowerLost`), exactly as a card pulled from the field.
"""

from __future__ import annotations

from devices.bankcard_os import BankCardOS
from devices.card_os import PowerLost
from hardware_bridge.vpcd import VpcdServer, build_atr

BANK_ATR = build_atr(b"CardTwinPBOC")


def bank_card_server(chip: BankCardOS, slot: int = 0) -> VpcdServer:
    """A server for `chip` on vpcd slot `slot` (not started: `.start()` or `with`)."""
    return VpcdServer(
        chip, slot, atr=BANK_ATR, power_lost=(PowerLost,), name=f"PBOC card {chip.state.pan[-4:]}"
    )
