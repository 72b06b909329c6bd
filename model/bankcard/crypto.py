"""The EMV/PBOC 2.0 cryptography of the financial IC card: card keys, session keys, cryptograms.

One algorithm, two-key 3DES (DECIDE: JR/T 0025 2.0 is 3DES; SM4 cryptograms belong to PBOC 3.0,
which the reference leaves optional, so a bank card here has no SM4 path). The issuer holds
one master key per purpose (MK-AC for the cryptograms, MK-SMI for issuer script integrity) and
derives every card's key from it; the card holds only its derived keys.

- Card key (UDK), EMV Book 2 A1.4.1 option A: Y = the rightmost 16 digits of PAN || PAN
  sequence number (two digits), packed into 8 bytes; UDK = 3DES(MK, Y) || 3DES(MK, Y XOR FF..FF),
  each byte set to odd parity.
- Session key, DECIDE: the EMV common session key (Book 2 A1.3.1) with R = ATC || 00 00 00 00 00
  00: left = 3DES(UDK, R with byte 2 = F0), right = 3DES(UDK, R with byte 2 = 0F), odd parity.
  The same derivation from UDK-SMI gives the script MAC session key, so card and issuer need
  only the ATC to agree on both. (The PBOC variant 00..00 || ATC is not used.)
- Application cryptogram (ARQC, TC, AAC), DECIDE: ISO/IEC 9797-1 MAC algorithm 3, padding
  method 2, 8 bytes, over CDOL1 data || AIP || ATC || CVR, where CVR is the four CVR bytes of
  `9F10` (its length byte 03 included). The second GENERATE AC covers CDOL1 data || CDOL2 data
  || AIP || ATC || CVR (CVR as it stands after the issuer's answer).
- ARPC method 1 (Book 2 A1.2.1): 3DES(session key, ARQC XOR (ARC || 00 00 00 00 00 00)).
- Issuer script MAC (Book 2 9.2.3): MAC algorithm 3, padding method 2, over the command header
  (CLA INS P1 P2 Lc, Lc counting the MAC) || ATC || ARQC || data; the first 4 bytes.
- `9F10` issuer application data, DECIDE: 07 | DKI | CVN 01 | CVR(4), seven bytes after the
  length byte, as PBOC cards commonly write it.
"""

from __future__ import annotations

import hashlib

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, modes

from model.bankcard.bcd import check_pan
from model.errors import CardTwinError

KEY_SIZE = 16
CRYPTOGRAM_SIZE = 8
SCRIPT_MAC_SIZE = 4
ARC_SIZE = 2
ATC_MAX = 0xFFFF
CVR_SIZE = 4
CVN = 0x01
IAD_SIZE = 7  # 07 | DKI | CVN | CVR(4)
_ECB = modes.ECB()
_ALL_ONES_64 = (1 << 64) - 1


class BankCryptoError(CardTwinError):
    """A key, counter or cryptogram input of the wrong size or range."""


def _check_size(value: bytes, size: int, what: str) -> None:
    if len(value) != size:
        raise BankCryptoError(f"{what}: {len(value)} bytes, expected {size}")


def _tdes(key16: bytes, data: bytes) -> bytes:
    _check_size(key16, KEY_SIZE, "3DES key")
    enc = Cipher(TripleDES(key16 + key16[:8]), _ECB).encryptor()
    return enc.update(data) + enc.finalize()


def odd_parity(key: bytes) -> bytes:
    """Each byte with its low bit set so the byte has an odd number of ones (DES key parity)."""
    return bytes((b & 0xFE) | ((bin(b >> 1).count("1") + 1) & 1) for b in key)


def card_key(issuer_master_key: bytes, pan: str, pan_sequence: int) -> bytes:
    """The card's 16-byte key (UDK) for one purpose, EMV option A."""
    check_pan(pan)
    if not 0 <= pan_sequence <= 99:
        raise BankCryptoError(f"card key: PAN sequence number {pan_sequence} outside 00..99")
    y = bytes.fromhex((pan + f"{pan_sequence:02d}")[-16:].zfill(16))
    y_inverted = (int.from_bytes(y, "big") ^ _ALL_ONES_64).to_bytes(8, "big")
    return odd_parity(_tdes(issuer_master_key, y + y_inverted))


def session_key(card_key16: bytes, atc: int) -> bytes:
    """The EMV common session key for the transaction with counter `atc`."""
    if not 0 <= atc <= ATC_MAX:
        raise BankCryptoError(f"session key: ATC {atc} outside 0..{ATC_MAX}")
    r = atc.to_bytes(2, "big") + bytes(6)
    left, right = bytearray(r), bytearray(r)
    left[2], right[2] = 0xF0, 0x0F
    return odd_parity(_tdes(card_key16, bytes(left + right)))


def retail_mac(key16: bytes, data: bytes, size: int = CRYPTOGRAM_SIZE) -> bytes:
    """ISO/IEC 9797-1 MAC algorithm 3 with padding method 2, the first `size` bytes.

    Single-DES CBC under the left key over every block but the last; the last chained block
    through 3DES (E left, D right, E left), which is one two-key 3DES encryption.
    """
    _check_size(key16, KEY_SIZE, "retail MAC key")
    if not 4 <= size <= 8:
        raise BankCryptoError(f"retail MAC: size {size} outside 4..8")
    padded = data + b"\x80" + bytes(-(len(data) + 1) % 8)
    chained = bytes(8)
    if len(padded) > 8:
        left = key16[:8]
        enc = Cipher(TripleDES(left * 3), modes.CBC(bytes(8))).encryptor()
        chained = enc.update(padded[:-8])[-8:]
    last = (int.from_bytes(chained, "big") ^ int.from_bytes(padded[-8:], "big")).to_bytes(8, "big")
    return _tdes(key16, last)[:size]


def cryptogram_input(dol_data: bytes, aip: bytes, atc: int, cvr: bytes) -> bytes:
    """What an application cryptogram covers: DOL data || AIP || ATC || CVR."""
    _check_size(aip, 2, "AIP")
    _check_size(cvr, CVR_SIZE, "CVR")
    if not 0 <= atc <= ATC_MAX:
        raise BankCryptoError(f"cryptogram: ATC {atc} outside 0..{ATC_MAX}")
    return dol_data + aip + atc.to_bytes(2, "big") + cvr


def application_cryptogram(session_key16: bytes, data: bytes) -> bytes:
    """ARQC, TC or AAC: the 8-byte retail MAC of the cryptogram input under the AC session key."""
    return retail_mac(session_key16, data, CRYPTOGRAM_SIZE)


def arpc_method_1(session_key16: bytes, arqc: bytes, arc: bytes) -> bytes:
    """The issuer's answer cryptogram: 3DES(SK, ARQC XOR (ARC || 00*6))."""
    _check_size(arqc, CRYPTOGRAM_SIZE, "ARPC: ARQC")
    _check_size(arc, ARC_SIZE, "ARPC: ARC")
    mixed = (int.from_bytes(arqc, "big") ^ int.from_bytes(arc + bytes(6), "big")).to_bytes(8, "big")
    return _tdes(session_key16, mixed)


def script_mac(session_key16: bytes, header: bytes, atc: int, arqc: bytes, data: bytes) -> bytes:
    """The 4-byte MAC of an issuer script command. `header` is CLA INS P1 P2 Lc (Lc with the MAC)."""
    _check_size(header, 5, "script MAC: header")
    _check_size(arqc, CRYPTOGRAM_SIZE, "script MAC: ARQC")
    if not 0 <= atc <= ATC_MAX:
        raise BankCryptoError(f"script MAC: ATC {atc} outside 0..{ATC_MAX}")
    return retail_mac(session_key16, header + atc.to_bytes(2, "big") + arqc + data, SCRIPT_MAC_SIZE)


def issuer_application_data(key_index: int, cvr: bytes) -> bytes:
    """The value of `9F10`: 07 | DKI | CVN | CVR(4)."""
    _check_size(cvr, CVR_SIZE, "IAD: CVR")
    if not 0 <= key_index <= 0xFF:
        raise BankCryptoError(f"IAD: key index {key_index} outside 00..FF")
    return bytes((0x07, key_index, CVN)) + cvr


def cvr_of(iad: bytes) -> bytes:
    """The CVR inside a `9F10` value written by `issuer_application_data`."""
    if len(iad) < 7 or iad[0] != 0x07 or iad[2] != CVN:
        raise BankCryptoError(f"IAD: {iad.hex().upper()} is not 07 | DKI | CVN 01 | CVR")
    return iad[3:7]


class IssuerMasterKeys:
    """One issuing bank's master keys: MK-AC (cryptograms) and MK-SMI (script integrity)."""

    __slots__ = ("key_index", "mk_ac", "mk_smi")

    def __init__(self, mk_ac: bytes, mk_smi: bytes, key_index: int = 1) -> None:
        _check_size(mk_ac, KEY_SIZE, "issuer MK-AC")
        _check_size(mk_smi, KEY_SIZE, "issuer MK-SMI")
        self.mk_ac, self.mk_smi, self.key_index = mk_ac, mk_smi, key_index

    @classmethod
    def generate(cls, seed: int, bank: str) -> IssuerMasterKeys:
        """Test keys from a seed and the bank's name (BLAKE2b), never for a real card."""
        digest = hashlib.blake2b(f"{bank}/{seed}".encode(), digest_size=32).digest()
        return cls(odd_parity(digest[:16]), odd_parity(digest[16:]))

    def card_keys(self, pan: str, pan_sequence: int) -> tuple[bytes, bytes]:
        """(UDK-AC, UDK-SMI) of one card, as the personalisation bureau writes them."""
        return card_key(self.mk_ac, pan, pan_sequence), card_key(self.mk_smi, pan, pan_sequence)
