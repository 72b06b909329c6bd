"""The terminal's offline data authentication of a bank card: the certificates read from the
card's records, checked up the chain to a CA public key the terminal holds.

`card_public_key` recovers the issuer key (certificate `90` under the CA key `8F` names) and,
for DDA and fDDA, the card's key (certificate `9F46` over the static data); `authenticate`
is the contact terminal's step before the first GENERATE AC: SDA (the signed static data `93`)
or DDA (INTERNAL AUTHENTICATE over a fresh unpredictable number, the answer checked under the
card's key). Every failure is an `OdaError` naming what did not verify; the bank POS then sets
"offline data authentication failed" in the TVR and asks for an ARQC instead of a TC, so no
card that fails is ever approved offline.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import model.bankcard.objects as t
from model.bankcard.oda import (
    CardCertificates,
    OdaError,
    PublicKey,
    icc_key,
    issuer_key,
    verify_dynamic,
    verify_sda,
)
from model.card import CardChannel, encode_command, parse_response
from model.card.tlv import find

TVR_ODA_FAILED = bytes.fromhex("0400000000")  # byte 1 bit 3: offline data authentication failed


def certificates(records: Sequence[bytes]) -> CardCertificates:
    """The ODA objects of the card's records (an OdaError when the issuer certificate is absent)."""
    data = b"".join(records)
    index, cert = find(data, t.TAG_CA_INDEX), find(data, t.TAG_ISSUER_CERTIFICATE)
    if index is None or cert is None:
        raise OdaError("ODA: the card's records carry no CA index 8F or issuer certificate 90")

    def get(tag: int) -> bytes:
        return find(data, tag) or b""

    return CardCertificates(
        index[0], cert, get(t.TAG_ISSUER_REMAINDER), get(t.TAG_ISSUER_EXPONENT), get(t.TAG_ICC_CERTIFICATE),
        get(t.TAG_ICC_REMAINDER), get(t.TAG_ICC_EXPONENT), get(t.TAG_SSAD),
    )  # fmt: skip


def static_data(records: Sequence[bytes], aip: bytes) -> bytes:
    """The static data to be authenticated: SFI 1 record 1's value || AIP (`model.bankcard.oda`)."""
    return records[0] + aip


def card_public_key(
    ca_keys: dict[int, PublicKey], records: Sequence[bytes], aip: bytes, pan: str, now: datetime, dda: bool
) -> PublicKey:
    """The issuer's key (SDA) or the card's own key (DDA), each certificate verified."""
    c = certificates(records)
    today = (now.year, now.month)
    issuer = issuer_key(ca_keys, c, pan, today)
    if not dda:
        return issuer
    return icc_key(issuer, c, pan, static_data(records, aip), today)


def authenticate(
    card: CardChannel, ca_keys: dict[int, PublicKey], records: Sequence[bytes], aip: bytes, pan: str,
    now: datetime, unpredictable: bytes,
) -> str:  # fmt: skip
    """SDA or DDA as the AIP offers (DDA preferred); the method used, or an OdaError."""
    dda = bool(aip[0] & 0x20)
    key = card_public_key(ca_keys, records, aip, pan, now, dda)
    if not dda:
        verify_sda(key, certificates(records), static_data(records, aip))
        return "sda"
    answer = parse_response(card.transmit(encode_command(0x00, 0x88, 0x00, 0x00, unpredictable, 256)))
    signed = find(answer.data, t.TAG_RESPONSE_FORMAT_1) if answer.ok else None
    if signed is None:
        raise OdaError(f"DDA: INTERNAL AUTHENTICATE answered {answer.sw:04X} with no signature")
    verify_dynamic(key, signed, unpredictable, "DDA signature")
    return "dda"
