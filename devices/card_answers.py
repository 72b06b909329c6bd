"""The e-purse card's answer formats: the SELECT answer (FCI) and ISO 7816's Le rules."""

from __future__ import annotations

from model.card import EPURSE_AID, SW, status

_OK = status(SW.OK)


def fci(public: bytes) -> bytes:
    """The SELECT answer: FCI 6F { 84 AID, A5 { 9F0C file 15 } } and 9000."""
    head = _FCI_HEADS.get(len(public))
    if head is None:
        discretionary_len = 3 + len(public)
        body_len = 2 + len(EPURSE_AID) + 2 + discretionary_len
        head = bytes((0x6F, body_len, 0x84, len(EPURSE_AID))) + EPURSE_AID
        head += bytes((0xA5, discretionary_len, 0x9F, 0x0C, len(public)))
        _FCI_HEADS[len(public)] = head
    return head + public + _OK


_FCI_HEADS: dict[int, bytes] = {}  # FCI bytes before file 15, by its length (one length in practice)


def with_le(content: bytes, le: int) -> bytes:
    """ISO 7816 Le rules: 00 (256) takes what is there; a longer Le gets 6Cxx with the length."""
    if le == 256 or le == len(content):
        return content + _OK
    if le > len(content):
        return status(0x6C00 | len(content))
    return content[:le] + _OK
