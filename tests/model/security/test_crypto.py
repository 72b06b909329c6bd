"""Crypto against published vectors: the PBOC load example, DES and SM4 standard vectors."""

from __future__ import annotations

import warnings

import pytest

from model.security import crypto
from model.security.crypto import Algorithm, CryptoError
from model.security.mac_inputs import load_mac1_data, load_mac2_data, load_session_seed

LOAD_KEY = bytes.fromhex("11223344556677888877665544332211")


def test_published_load_example_session_key_mac1_mac2() -> None:
    sk = crypto.session_key(Algorithm.DES3, LOAD_KEY, load_session_seed(bytes.fromhex("11223344"), 0))
    assert sk.hex().upper() == "9B1D924E05595603"
    mac1 = crypto.mac(Algorithm.DES3, sk, load_mac1_data(0, 0x1000, 0x01, bytes.fromhex("001122334455")))
    assert mac1.hex().upper() == "2988AE5A"
    date_time = bytes.fromhex("20111221214822")
    mac2 = crypto.mac(
        Algorithm.DES3, sk, load_mac2_data(0x1000, 0x01, bytes.fromhex("001122334455"), date_time)
    )
    assert mac2.hex().upper() == "3A845BF0"


def test_des_standard_vector() -> None:
    # The classic DES worked example (key 133457799BBCDFF1).
    out = crypto.des_ecb(bytes.fromhex("133457799BBCDFF1"), bytes.fromhex("0123456789ABCDEF"))
    assert out.hex().upper() == "85E813540F0AB405"


def test_sm4_standard_vector() -> None:
    # GB/T 32907-2016, appendix A example 1.
    key = bytes.fromhex("0123456789abcdeffedcba9876543210")
    assert crypto.sm4_ecb(key, key).hex() == "681edf34d206965e86b3e94f536e4246"


def test_pad80_always_pads() -> None:
    assert crypto.pad80(b"", 8) == bytes.fromhex("8000000000000000")
    assert crypto.pad80(bytes(8), 8) == bytes(8) + bytes.fromhex("8000000000000000")
    assert len(crypto.pad80(bytes(15), 16)) == 16


def test_diversification_left_right_halves() -> None:
    factor = bytes.fromhex("0102030405060708")
    key = crypto.diversify(Algorithm.DES3, LOAD_KEY, factor)
    assert key[:8] == crypto.tdes_ecb(LOAD_KEY, factor)
    assert key[8:] == crypto.tdes_ecb(LOAD_KEY, bytes(b ^ 0xFF for b in factor))
    sm4_key = crypto.diversify(Algorithm.SM4, LOAD_KEY, factor)
    assert len(sm4_key) == 16 and sm4_key != key


def test_tac_key_folds_halves_for_3des_only() -> None:
    dtk = bytes(range(16))
    assert crypto.tac_key(Algorithm.DES3, dtk) == bytes(a ^ b for a, b in zip(dtk[:8], dtk[8:], strict=True))
    assert crypto.tac_key(Algorithm.SM4, dtk) == dtk


def test_maintenance_mac_single_and_multi_block_differ_by_key_half() -> None:
    key = LOAD_KEY
    one = crypto.maintenance_mac(Algorithm.DES3, key, b"\x01\x02\x03\x04", bytes.fromhex("841E000004"))
    # A retail MAC over one block equals 3DES of (IV xor block): check against tdes_ecb.
    block = crypto.pad80(bytes.fromhex("841E000004"), 8)
    iv = b"\x01\x02\x03\x04" + bytes(4)
    assert one == crypto.tdes_ecb(key, bytes(a ^ b for a, b in zip(iv, block, strict=True)))[:4]
    longer = crypto.maintenance_mac(Algorithm.DES3, key, b"\x01\x02\x03\x04", bytes(12))
    assert len(longer) == 4


def test_no_deprecation_warnings() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        crypto.mac(Algorithm.DES3, bytes(8), b"abc")
        crypto.session_key(Algorithm.SM4, bytes(16), bytes(8))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: crypto.mac(Algorithm.DES3, bytes(16), b""), "DES MAC: key of 16 bytes"),
        (lambda: crypto.mac(Algorithm.SM4, bytes(8), b""), "SM4 MAC: key of 8 bytes"),
        (lambda: crypto.session_key(Algorithm.DES3, bytes(16), bytes(7)), "seed of 7 bytes"),
        (lambda: crypto.diversify(Algorithm.DES3, bytes(16), bytes(4)), "factor of 4 bytes"),
        (lambda: crypto.algorithm_from_id(0x02), "algorithm id 02 is not supported"),
    ],
)
def test_bad_sizes_raise_clear_errors(call: object, message: str) -> None:
    with pytest.raises(CryptoError, match=message):
        call()  # type: ignore[operator]
