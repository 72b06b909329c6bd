"""What a bank card carries for offline data authentication, and how it signs.

`OdaKeys` is personalisation data beside the compact `BankCardState` image (the certificates
are ~400 bytes, more than the whole image: a city's cards at rest keep an index into the
bureau's store, and the card OS gets its `OdaKeys` when it is powered). `personalise_oda`
writes them as the bureau does: the issuer's certificate from the CA, the card's own
certificate and the signed static data from the issuer, both over the static data to be
authenticated (`static_data`: SFI 1 record 1's value || AIP, `model.bankcard.oda`).

The card signs (format 05, `model.bankcard.oda.sign_dynamic`):
- `dda_signature`: the answer to INTERNAL AUTHENTICATE, over the terminal's DDOL data
  (DDOL `9F37 04`, DECIDE: the unpredictable number only); its ICC dynamic number is 8 bytes
  derived from the card's AC key, the ATC and the terminal's data (unpredictable to anyone
  without the key, the same on a replay of the same command);
- `fdda_signature`: `9F4B` at a qPBOC GPO, DECIDE: over the PDOL data the reader sent (its
  unpredictable number, amount and currency among them), the card's dynamic data being
  ATC || cryptogram, so the signature also binds the TC it accompanies.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from devices.bankcard_state import BankCardState
from model.bankcard import encode_pan, tlv
from model.bankcard import objects as t
from model.bankcard.oda import CardCertificates, IssuerPki, KeyPair, sign_dynamic

DDOL = bytes.fromhex("9F3704")
DAC_SIZE = 2


@dataclass(frozen=True, slots=True)
class OdaKeys:
    """A card's certificates and its private key."""

    certificates: CardCertificates
    icc: KeyPair

    def records(self) -> tuple[bytes, bytes, bytes]:
        """The values of SFI 2 records 1-3 (inside their `70` templates)."""
        c = self.certificates
        one = (
            tlv(t.TAG_CA_INDEX, bytes((c.ca_index,)))
            + tlv(t.TAG_ISSUER_CERTIFICATE, c.issuer_certificate)
            + tlv(t.TAG_ISSUER_REMAINDER, c.issuer_remainder)
            + tlv(t.TAG_ISSUER_EXPONENT, c.issuer_exponent)
        )
        two = (
            tlv(t.TAG_ICC_CERTIFICATE, c.icc_certificate)
            + tlv(t.TAG_ICC_EXPONENT, c.icc_exponent)
            + tlv(t.TAG_ICC_REMAINDER, c.icc_remainder)
        )
        three = tlv(t.TAG_SSAD, c.ssad) + tlv(t.TAG_SDA_TAG_LIST, bytes((t.TAG_AIP,))) + tlv(t.TAG_DDOL, DDOL)
        return one, two, three


def record_one(state: BankCardState) -> bytes:
    """SFI 1 record 1's value: PAN, PAN sequence number, expiry, application currency."""
    return b"".join(
        (
            tlv(t.TAG_PAN, encode_pan(state.pan)),
            tlv(t.TAG_PAN_SEQUENCE, bytes.fromhex(f"{state.pan_sequence:02d}")),
            tlv(t.TAG_EXPIRY, state.expiry),
            tlv(t.TAG_APPLICATION_CURRENCY, state.currency.to_bytes(2, "big")),
        )
    )


def static_data(state: BankCardState, aip: bytes) -> bytes:
    return record_one(state) + aip


def personalise_oda(state: BankCardState, issuer: IssuerPki, icc: KeyPair, aip: bytes) -> OdaKeys:
    """The card's certificates, signed over its static data (the issuer certified by the CA)."""
    assert issuer.certificate, "the CA certifies the issuer first"
    data = static_data(state, aip)
    dac = hashlib.sha256(state.pan.encode()).digest()[:DAC_SIZE]
    icc_cert, icc_remainder = issuer.certify_card(state.pan, icc.public, data)
    certificates = CardCertificates(
        ca_index=issuer.ca_index,
        issuer_certificate=issuer.certificate,
        issuer_remainder=issuer.remainder,
        issuer_exponent=issuer.keys.public.exponent_bytes(),
        icc_certificate=icc_cert,
        icc_remainder=icc_remainder,
        icc_exponent=icc.public.exponent_bytes(),
        ssad=issuer.sign_static(data, dac),
    )
    return OdaKeys(certificates, icc)


def dda_signature(oda: OdaKeys, udk_ac: bytes, atc: int, ddol_data: bytes) -> bytes:
    number = hashlib.sha256(udk_ac + atc.to_bytes(2, "big") + ddol_data).digest()[:8]
    return sign_dynamic(oda.icc, bytes((len(number),)) + number, ddol_data)


def fdda_signature(oda: OdaKeys, atc: int, pdol_data: bytes, cryptogram: bytes) -> bytes:
    return sign_dynamic(oda.icc, atc.to_bytes(2, "big") + cryptogram, pdol_data)
