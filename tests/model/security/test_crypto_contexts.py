"""Reused cipher contexts give the bytes of fresh ones: `MacKey` over many messages, and
diversification through the kept master-key contexts."""

from __future__ import annotations

import random

import pytest
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from model.security import crypto
from model.security.crypto import Algorithm, CryptoError, MacKey


def _fresh_cbc_last(algorithm: Algorithm, key: bytes, iv: bytes, data: bytes) -> bytes:
    """CBC with a new context, the way the MAC is defined."""
    cipher = algorithms.SM4(key) if algorithm is Algorithm.SM4 else TripleDES(key * 3)
    enc = Cipher(cipher, modes.CBC(iv)).encryptor()
    return (enc.update(data) + enc.finalize())[-len(iv) :]


@pytest.mark.parametrize("algorithm", list(Algorithm))
def test_mac_key_reused_over_many_messages_matches_fresh_contexts(algorithm: Algorithm) -> None:
    rng = random.Random(int(algorithm))
    block = crypto.block_size(algorithm)
    for _ in range(50):
        key = rng.randbytes(block)
        mac_key = MacKey(algorithm, key)
        for _ in range(6):
            data = rng.randbytes(rng.randrange(0, 3 * block + 3))
            padded = crypto.pad80(data, block)
            assert mac_key.mac(data) == _fresh_cbc_last(algorithm, key, bytes(block), padded)[:4]
            iv = rng.randbytes(block)
            assert mac_key.last_block(padded, iv) == _fresh_cbc_last(algorithm, key, iv, padded)


@pytest.mark.parametrize("algorithm", list(Algorithm))
def test_diversify_through_kept_contexts_matches_the_definition(algorithm: Algorithm) -> None:
    rng = random.Random(7)
    masters = [rng.randbytes(16) for _ in range(crypto.MASTER_CONTEXTS_MAX + 5)]
    for round_ in range(2):  # the second round finds contexts kept (and some evicted)
        for master in masters:
            asn = rng.randbytes(8)
            inverted = bytes(b ^ 0xFF for b in asn)
            if algorithm is Algorithm.SM4:
                expected = crypto.sm4_ecb(master, asn + inverted)
            else:
                expected = crypto.tdes_ecb(master, asn) + crypto.tdes_ecb(master, inverted)
            assert crypto.diversify(algorithm, master, asn) == expected, round_


def test_mac_key_refuses_partial_blocks_and_bad_keys() -> None:
    with pytest.raises(CryptoError, match="not a whole number of 8-byte blocks"):
        MacKey(Algorithm.DES3, bytes(8)).last_block(bytes(5))
    with pytest.raises(CryptoError, match="not a whole number of 16-byte blocks"):
        MacKey(Algorithm.SM4, bytes(16)).last_block(b"")
    with pytest.raises(CryptoError, match="DES MAC: key of 16 bytes"):
        MacKey(Algorithm.DES3, bytes(16))
    with pytest.raises(CryptoError, match="3DES: key of 8 bytes"):
        crypto.diversify(Algorithm.DES3, bytes(8), bytes(8))
