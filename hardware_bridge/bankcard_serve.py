"""Serving the simulated PBOC bank card on vpcd, as the e-purse card is served (`vpcd.VpcdServer`
takes any chip with `process` and `power_on`: `devices.bankcard_os.BankCardOS` is one; the
bridge never imports `devices`, so the caller hands the chip and its power-loss exception in).

The bank card gets its own ATR (historical bytes `CardTwinPBOC`) so a reader list tells it from
the e-purse card, and the server drops the connection when the card OS's tear hook cuts the
power, exactly as a card pulled from the field.
"""

from __future__ import annotations

from hardware_bridge.vpcd import ServedChip, VpcdServer, build_atr

BANK_ATR = build_atr(b"CardTwinPBOC")


def bank_card_server(
    chip: ServedChip, slot: int = 0, power_lost: tuple[type[BaseException], ...] = (), name: str = "PBOC card"
) -> VpcdServer:
    """A server for the bank card `chip` on vpcd slot `slot` (not started: `.start()` or `with`)."""
    return VpcdServer(chip, slot, atr=BANK_ATR, power_lost=power_lost, name=name)
