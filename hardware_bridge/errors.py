"""Errors of the PC/SC bridge: each says what went wrong and where (which reader, which port).

A card that stops answering is `model.errors.CardRemovedError`, as for every `CardChannel`,
because the terminal code must treat it the same way whatever the transport: the commit state
of the command in flight is unknown and is resolved later with GET TRANSACTION PROOF.
"""

from __future__ import annotations

from model.errors import ApduFormatError, CardRemovedError, CardTwinError


class PcscError(CardTwinError):
    """The PC/SC stack (pcscd, a reader) refused a request."""


class PcscUnavailableError(PcscError):
    """No pcscd answers on its socket: it is not running, or not reachable from here."""


class NoReaderError(PcscError):
    """pcscd runs but has no reader at all."""


class ReaderNotFoundError(PcscError):
    """No reader has the name asked for."""


class NoCardError(CardRemovedError):
    """The reader is there but holds no card (a kind of `CardRemovedError`: nothing answers)."""


class GarbageResponseError(ApduFormatError):
    """The reader passed back bytes that are not a response APDU (no valid status word)."""


class VpcdError(CardTwinError):
    """The vpcd socket could not be reached or spoke out of protocol."""
