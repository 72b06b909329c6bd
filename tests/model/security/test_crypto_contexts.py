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


def _fresh_session_key(algorithm: Algorithm, card_key: bytes, seed: bytes) -> bytes:
    if algorithm is Algorithm.SM4:
        return crypto.sm4_ecb(card_key, crypto.pad80(seed, 16))
    return crypto.tdes_ecb(card_key, seed)


@pytest.mark.parametrize("algorithm", list(Algorithm))
def test_kept_session_contexts_give_the_bytes_of_fresh_ones_whoever_asks_first(algorithm: Algorithm) -> None:
    """Two sides (card, PSAM) derive the same session key and MAC under it in turn, over more
    card keys than are kept, some coming back after being dropped."""
    rng = random.Random(11 + int(algorithm))
    card_keys = [rng.randbytes(16) for _ in range(crypto.SESSION_CONTEXTS_MAX + 3)]
    for _ in range(60):
        card_key, seed = rng.choice(card_keys), rng.randbytes(8)
        sk = _fresh_session_key(algorithm, card_key, seed)
        assert crypto.session_key(algorithm, card_key, seed) == sk
        sides = [crypto.session_mac_key(algorithm, card_key, seed) for _ in range(2)]
        assert sides[0] is sides[1]  # the second side found the first one's context
        for turn in range(4):
            data = rng.randbytes(rng.randrange(0, 40))
            fresh = crypto.MacKey(algorithm, sk).mac(data)
            assert sides[turn % 2].mac(data) == fresh == crypto.mac(algorithm, sk, data)
    assert crypto.session_mac_key(algorithm, card_key, seed) is sides[0]
    crypto.drop_session_contexts()
    assert crypto.session_mac_key(algorithm, card_key, seed) is not sides[0]


def test_kept_session_contexts_check_their_keys() -> None:
    with pytest.raises(CryptoError, match="3DES: key of 8 bytes"):
        crypto.session_mac_key(Algorithm.DES3, bytes(8), bytes(8))
    with pytest.raises(CryptoError, match="SM4: key of 15 bytes"):
        crypto.session_key(Algorithm.SM4, bytes(15), bytes(8))
    with pytest.raises(CryptoError, match="seed of 7 bytes"):
        crypto.session_mac_key(Algorithm.SM4, bytes(16), bytes(7))


def test_ciphers_made_without_the_library_checks_equal_the_librarys() -> None:
    rng = random.Random(3)
    for _ in range(20):
        key24, key16, data8, data16 = (
            rng.randbytes(24),
            rng.randbytes(16),
            rng.randbytes(8),
            rng.randbytes(16),
        )
        ecb = modes.ECB()
        assert crypto.encryptor(crypto._tdes(key24), ecb)(data8) == crypto._public_encryptor(
            TripleDES(key24), ecb
        )(data8)
        assert crypto.encryptor(crypto._sm4(key16), ecb)(data16) == crypto._public_encryptor(
            algorithms.SM4(key16), ecb
        )(data16)
