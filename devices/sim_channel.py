"""A `CardChannel` to a simulated chip (card or PSAM) in the same process.

It models the field of a contactless reader: the chip can be taken away (`remove`) and put
back (`insert`, a fresh power-up). A power cut from the card's tear hook looks to the terminal
exactly like a card pulled away mid-command: `CardRemovedError`, and no response.
"""

from __future__ import annotations

from typing import Protocol

from devices.card_os import PowerLost
from model.errors import CardRemovedError


class Chip(Protocol):
    def process(self, raw: bytes) -> bytes: ...

    def power_on(self) -> None: ...


class SimChannel:
    """The in-process reader slot holding one chip."""

    __slots__ = ("chip", "present")

    def __init__(self, chip: Chip) -> None:
        self.chip = chip
        self.present = True
        chip.power_on()

    def transmit(self, command: bytes) -> bytes:
        if not self.present:
            raise CardRemovedError("simulated reader: no card in the field")
        try:
            return self.chip.process(command)
        except PowerLost:
            self.present = False
            raise CardRemovedError("simulated reader: card lost power during the command") from None

    def remove(self) -> None:
        self.present = False

    def insert(self) -> None:
        self.present = True
        self.chip.power_on()
