"""Card cryptography of the e-purse: block ciphers, the PBOC MAC, session keys, TAC, diversification.

Two algorithm families share every flow:

- 3DES (algorithm id 00): 16-byte keys, 8-byte blocks. Session keys are 8 bytes and MACs are
  single-DES CBC, exactly as JR/T 0025 and the published load example.
- SM4 (algorithm id 04, DECIDE): 16-byte keys and blocks. Each step is the 3DES step with SM4 in
  place of DES, with these choices, kept identical in card, PSAM, load host and clearing:
  * session key = SM4(card key, pad80(the same 8-byte input, 16)): 16 bytes;
  * MAC = SM4 CBC with the 16-byte session key, IV = 0, pad80 to a multiple of 16, first 4 bytes;
  * TAC key = the card's 16-byte DTK itself (the 3DES left-XOR-right fold would leave 8 bytes,
    too short for SM4);
  * card key = SM4(master key, ASN || NOT ASN), one block of 16 bytes.

All ciphers come from the `cryptography` package. TripleDES lives in its `decrepit` module; we
always hand it 24-byte keys so no deprecation warning fires (an 8-byte DES key k becomes k*3,
which makes EDE collapse to single DES).
"""

from __future__ import annotations

from enum import IntEnum

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from model.errors import CardTwinError


class Algorithm(IntEnum):
    """Algorithm identifier as the card reports it in INITIALIZE responses."""

    DES3 = 0x00
    SM4 = 0x04


class CryptoError(CardTwinError):
    """A key or block of the wrong size, or an algorithm the project does not support."""


def algorithm_from_id(algorithm_id: int) -> Algorithm:
    try:
        return Algorithm(algorithm_id)
    except ValueError:
        raise CryptoError(f"algorithm id {algorithm_id:02X} is not supported (00 3DES, 04 SM4)") from None


def block_size(algorithm: Algorithm) -> int:
    return 16 if algorithm is Algorithm.SM4 else 8


def _check_key(key: bytes, sizes: tuple[int, ...], what: str) -> None:
    if len(key) not in sizes:
        raise CryptoError(f"{what}: key of {len(key)} bytes, expected {' or '.join(map(str, sizes))}")


def des_ecb(key8: bytes, data: bytes) -> bytes:
    """Single-DES ECB encryption (as 3DES with K1 = K2 = K3)."""
    _check_key(key8, (8,), "DES")
    enc = Cipher(TripleDES(key8 * 3), modes.ECB()).encryptor()
    return enc.update(data) + enc.finalize()


def tdes_ecb(key16: bytes, data: bytes) -> bytes:
    """Two-key 3DES (EDE) ECB encryption."""
    _check_key(key16, (16,), "3DES")
    enc = Cipher(TripleDES(key16 + key16[:8]), modes.ECB()).encryptor()
    return enc.update(data) + enc.finalize()


def sm4_ecb(key16: bytes, data: bytes) -> bytes:
    """SM4 (GB/T 32907) ECB encryption."""
    _check_key(key16, (16,), "SM4")
    enc = Cipher(algorithms.SM4(key16), modes.ECB()).encryptor()
    return enc.update(data) + enc.finalize()


def pad80(data: bytes, block: int) -> bytes:
    """ISO/IEC 9797-1 padding method 2: always append 80, then 00s to a whole block."""
    padded = data + b"\x80"
    return padded + b"\x00" * (-len(padded) % block)


def _cbc_last_block(cipher_algorithm: TripleDES | algorithms.SM4, iv: bytes, data: bytes) -> bytes:
    enc = Cipher(cipher_algorithm, modes.CBC(iv)).encryptor()
    out = enc.update(data) + enc.finalize()
    return out[-len(iv) :]


def mac(algorithm: Algorithm, session_key: bytes, data: bytes) -> bytes:
    """The PBOC transaction MAC (MAC1, MAC2, TAC): CBC over pad80(data), IV 0, first 4 bytes."""
    if algorithm is Algorithm.SM4:
        _check_key(session_key, (16,), "SM4 MAC")
        return _cbc_last_block(algorithms.SM4(session_key), bytes(16), pad80(data, 16))[:4]
    _check_key(session_key, (8,), "DES MAC")
    return _cbc_last_block(TripleDES(session_key * 3), bytes(8), pad80(data, 8))[:4]


def session_key(algorithm: Algorithm, card_key: bytes, seed: bytes) -> bytes:
    """Derive a transaction session key from a card key and the 8-byte seed of the flow.

    Load seed: random(4) || online counter(2) || 8000. Purchase seed: random(4) || offline
    counter(2) || low two bytes of the terminal serial.
    """
    if len(seed) != 8:
        raise CryptoError(f"session key: seed of {len(seed)} bytes, expected 8")
    if algorithm is Algorithm.SM4:
        return sm4_ecb(card_key, pad80(seed, 16))
    return tdes_ecb(card_key, seed)


def tac_key(algorithm: Algorithm, dtk: bytes) -> bytes:
    """The TAC key: left XOR right half of the 16-byte DTK for 3DES, the DTK itself for SM4."""
    _check_key(dtk, (16,), "TAC")
    if algorithm is Algorithm.SM4:
        return dtk
    return bytes(a ^ b for a, b in zip(dtk[:8], dtk[8:], strict=True))


def tac(algorithm: Algorithm, dtk: bytes, data: bytes) -> bytes:
    """Transaction authentication code over a record's fields, keyed by the card's DTK."""
    return mac(algorithm, tac_key(algorithm, dtk), data)


def diversify(algorithm: Algorithm, master_key: bytes, factor: bytes) -> bytes:
    """One level of key diversification: the card key from an issuer master key and the ASN.

    3DES: left = 3DES(MK, factor), right = 3DES(MK, NOT factor). SM4: SM4(MK, factor || NOT
    factor). DECIDE: one level only (city issuer master key -> card); the PSAM's second factor
    carries the issuer ID, which it checks against its own instead of diversifying again.
    """
    if len(factor) != 8:
        raise CryptoError(f"diversify: factor of {len(factor)} bytes, expected the 8-byte ASN")
    inverted = bytes(b ^ 0xFF for b in factor)
    if algorithm is Algorithm.SM4:
        return sm4_ecb(master_key, factor + inverted)
    return tdes_ecb(master_key, factor) + tdes_ecb(master_key, inverted)


def maintenance_mac(algorithm: Algorithm, key: bytes, challenge: bytes, data: bytes) -> bytes:
    """MAC of a secure-messaging command (APPLICATION BLOCK) under the card's maintenance key.

    3DES: ISO/IEC 9797-1 MAC algorithm 3 (DES CBC with the left key, 3DES on the last block),
    IV = challenge(4) || 00000000. SM4: SM4 CBC, IV = challenge(4) || twelve 00s. First 4 bytes.
    """
    _check_key(key, (16,), "maintenance MAC")
    if len(challenge) != 4:
        raise CryptoError(f"maintenance MAC: challenge of {len(challenge)} bytes, expected 4")
    if algorithm is Algorithm.SM4:
        return _cbc_last_block(algorithms.SM4(key), challenge + bytes(12), pad80(data, 16))[:4]
    padded = pad80(data, 8)
    chained = challenge + bytes(4)
    if len(padded) > 8:
        chained = _cbc_last_block(TripleDES(key[:8] * 3), chained, padded[:-8])
    last = bytes(a ^ b for a, b in zip(chained, padded[-8:], strict=True))
    return tdes_ecb(key, last)[:4]
