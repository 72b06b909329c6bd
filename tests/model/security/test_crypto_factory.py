"""The cipher-context factory: the Rust binding's contexts give the public API's bytes."""

from __future__ import annotations

import random

import pytest
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import algorithms, modes

from model.security import crypto


def test_the_fast_contexts_give_the_public_apis_bytes_for_every_cipher_and_mode() -> None:
    rng = random.Random(5)
    for _ in range(50):
        for cipher, block in (
            (TripleDES(rng.randbytes(24)), 8),
            (TripleDES(rng.randbytes(8) * 3), 8),
            (algorithms.SM4(rng.randbytes(16)), 16),
        ):
            for mode in (modes.ECB(), modes.CBC(bytes(block))):
                data = rng.randbytes(block * rng.randint(1, 6))
                assert crypto.encryptor(cipher, mode)(data) == crypto._public_encryptor(cipher, mode)(data)


def test_ecb_refuses_a_partial_block() -> None:
    with pytest.raises(crypto.CryptoError, match="7 bytes is not a whole number of 8-byte blocks"):
        crypto.tdes_ecb(bytes(16), bytes(7))
