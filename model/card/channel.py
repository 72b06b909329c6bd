"""The `CardChannel`: how terminal code talks to a card, whatever the card is.

As in Eclipse Keyple, the application never knows whether the card is simulated in-process,
served through pcscd, or a real card in a real reader: all of them are a `CardChannel`.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable


@runtime_checkable
class CardChannel(Protocol):
    """Send one command APDU, get its response APDU (data + SW1 SW2).

    Implementations raise `model.errors.CardRemovedError` when the card gives no answer, and
    deal with transport details (T=0 GET RESPONSE, 6Cxx resend) themselves, so that callers
    always see the logical response.
    """

    def transmit(self, command: bytes) -> bytes: ...
