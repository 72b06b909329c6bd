"""The bank card's cryptography against pyemv, an independent implementation (test oracle only).

Published vectors: the examples in pyemv's own docstrings (EMV Book 2 style inputs), then
random keys, PANs, counters and data from hypothesis (ORACLE_EXAMPLES each).
"""

from __future__ import annotations

import warnings

import pyemv
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from model.bankcard import (
    BankCryptoError,
    application_cryptogram,
    arpc_method_1,
    card_key,
    cryptogram_input,
    cvr_of,
    issuer_application_data,
    odd_parity,
    retail_mac,
    script_mac,
    session_key,
)

ORACLE_EXAMPLES = 300
# pyemv reaches TripleDES through its deprecated location; the warning is the oracle's, not ours.
# (Our own code runs warning-free: test_published_vectors_from_pyemv_docs turns warnings to errors.)
pytestmark = [
    pytest.mark.filterwarnings("ignore:TripleDES has been moved"),
    pytest.mark.filterwarnings("ignore:Single-key TripleDES"),
    pytest.mark.filterwarnings("ignore:Two-key TripleDES"),
]

keys16 = st.binary(min_size=16, max_size=16)
pans = st.integers(min_value=12, max_value=19).flatmap(
    lambda n: st.text(alphabet="0123456789", min_size=n, max_size=n)
)
atcs = st.integers(min_value=0, max_value=0xFFFF)


def test_published_vectors_from_pyemv_docs() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _published_vectors()


def _published_vectors() -> None:
    mk = bytes.fromhex("0123456789ABCDEFFEDCBA9876543210")
    # kd.derive_icc_mk_a: PAN 12345678901234567, PSN 01; module doc: PAN 99012345678901234, PSN 45
    assert card_key(mk, "12345678901234567", 1).hex().upper() == "73AD54688CEF2934B0979857E3C719F1"
    assert card_key(mk, "99012345678901234", 45).hex().upper() == "67F8292358083E5EA7AB7FDA58D53B6B"
    # kd.derive_common_sk with R = 001C000000000000: ATC 001C
    assert session_key(mk, 0x001C).hex().upper() == "E9FB384AF807B940FEDCEA613461B0C4"
    # ac.generate_ac: the EMV minimum data (amount 20.00, CAD, 2011-03-09), AIP 5800, ATC 0001
    sk = bytes.fromhex("AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBB")
    data = bytes.fromhex("000000002000000000000000012400000080000124110309003804823E")
    arqc = retail_mac(sk, data + bytes.fromhex("5800") + bytes.fromhex("0001"))
    assert arqc.hex().upper() == "3B76CF10FECD8789"
    # ac.generate_arpc_1
    arpc = arpc_method_1(sk, bytes.fromhex("1234567890ABCDEF"), bytes.fromhex("0000"))
    assert arpc.hex().upper() == "F5E6F44147E2F1B0"
    # sm.generate_command_mac: header 8424000008, ATC FFFF, ARQC 1234567890123456, 8 bytes
    full = retail_mac(mk, bytes.fromhex("8424000008FFFF1234567890123456"), 8)
    assert full.hex().upper() == "E07B8DF1B4184282"
    short = script_mac(mk, bytes.fromhex("8424000008"), 0xFFFF, bytes.fromhex("1234567890123456"), b"")
    assert short == full[:4]


@settings(max_examples=ORACLE_EXAMPLES, deadline=None)
@given(mk=keys16, pan=pans, psn=st.integers(min_value=0, max_value=99))
def test_card_key_option_a_agrees_with_pyemv(mk: bytes, pan: str, psn: int) -> None:
    assert card_key(mk, pan, psn) == pyemv.kd.derive_icc_mk_a(mk, pan, f"{psn:02d}")


@settings(max_examples=ORACLE_EXAMPLES, deadline=None)
@given(udk=keys16, atc=atcs)
def test_common_session_key_agrees_with_pyemv(udk: bytes, atc: int) -> None:
    r = atc.to_bytes(2, "big") + bytes(6)
    assert session_key(udk, atc) == pyemv.kd.derive_common_sk(udk, r)


@settings(max_examples=ORACLE_EXAMPLES, deadline=None)
@given(
    mk=keys16,
    pan=pans,
    psn=st.integers(min_value=0, max_value=99),
    atc=atcs,
    cdol=st.binary(min_size=0, max_size=80),
    aip=st.binary(min_size=2, max_size=2),
    cvr=st.binary(min_size=4, max_size=4),
    arc=st.binary(min_size=2, max_size=2),
)
def test_arqc_and_arpc_agree_with_pyemv(
    mk: bytes, pan: str, psn: int, atc: int, cdol: bytes, aip: bytes, cvr: bytes, arc: bytes
) -> None:
    """The whole chain the issuer runs: MK -> UDK -> SK -> ARQC -> ARPC, both sides."""
    sk = session_key(card_key(mk, pan, psn), atc)
    oracle_sk = pyemv.kd.derive_common_sk(
        pyemv.kd.derive_icc_mk_a(mk, pan, f"{psn:02d}"), atc.to_bytes(2, "big") + bytes(6)
    )
    assert sk == oracle_sk
    data = cryptogram_input(cdol, aip, atc, cvr)
    assert data == cdol + aip + atc.to_bytes(2, "big") + cvr
    arqc = application_cryptogram(sk, data)
    assert arqc == pyemv.ac.generate_ac(oracle_sk, data)
    assert arpc_method_1(sk, arqc, arc) == pyemv.ac.generate_arpc_1(oracle_sk, arqc, arc)


@settings(max_examples=ORACLE_EXAMPLES, deadline=None)
@given(
    sk=keys16,
    atc=atcs,
    arqc=st.binary(min_size=8, max_size=8),
    data=st.binary(min_size=0, max_size=40),
)
def test_script_mac_agrees_with_pyemv(sk: bytes, atc: int, arqc: bytes, data: bytes) -> None:
    header = bytes((0x04, 0xDA, 0x9F, 0x79, len(data) + 4))
    expected = pyemv.sm.generate_command_mac(sk, header + atc.to_bytes(2, "big") + arqc + data, 4)
    assert script_mac(sk, header, atc, arqc, data) == expected


@settings(max_examples=ORACLE_EXAMPLES, deadline=None)
@given(key=st.binary(min_size=1, max_size=40))
def test_odd_parity_agrees_with_pyemv(key: bytes) -> None:
    assert odd_parity(key) == pyemv.tools.adjust_key_parity(key)
    assert all(bin(b).count("1") % 2 == 1 for b in odd_parity(key))


def test_a_changed_bit_changes_the_cryptogram() -> None:
    sk = session_key(bytes(range(16)), 7)
    data = cryptogram_input(bytes(29), b"\x7c\x00", 7, b"\x03\xa0\x00\x00")
    flipped = bytes([data[0] ^ 1]) + data[1:]
    assert application_cryptogram(sk, data) != application_cryptogram(sk, flipped)


def test_iad_round_trip_and_bad_input() -> None:
    iad = issuer_application_data(1, b"\x03\xa0\x00\x00")
    assert iad == bytes.fromhex("07010103A00000")
    assert cvr_of(iad) == b"\x03\xa0\x00\x00"
    with pytest.raises(BankCryptoError, match="IAD"):
        cvr_of(bytes.fromhex("06010103A00000"))
    with pytest.raises(BankCryptoError, match="ATC 65536"):
        session_key(bytes(16), 0x10000)
    with pytest.raises(BankCryptoError, match="PAN sequence number 100"):
        card_key(bytes(16), "6222000000000001", 100)
    with pytest.raises(BankCryptoError, match="ARPC: ARC: 3 bytes"):
        arpc_method_1(bytes(16), bytes(8), b"000")
