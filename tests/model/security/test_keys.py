"""Issuer key sets, the key store and key files."""

from __future__ import annotations

from pathlib import Path

import pytest

from model.security.crypto import Algorithm, diversify
from model.security.keys import IssuerKeys, IssuerKeyStore, KeyStoreError, KeyUsage, load_issuer_keys


def test_store_derives_the_card_keys_the_factory_wrote(issuer_keys: IssuerKeys) -> None:
    asn = bytes.fromhex("3301202600000042")
    card = issuer_keys.card_keys(asn, Algorithm.SM4)
    store = IssuerKeyStore(issuer_keys)
    assert store.card_key(KeyUsage.TAC, Algorithm.SM4, 1, asn) == card.dtk
    assert card.dpk != card.dlk != card.dtk


def test_psam_store_cannot_derive_load_keys(issuer_keys: IssuerKeys) -> None:
    store = IssuerKeyStore(issuer_keys, frozenset({KeyUsage.PURCHASE}))
    with pytest.raises(KeyStoreError, match="may not derive DLK"):
        store.card_key(KeyUsage.LOAD, Algorithm.DES3, 1, bytes(8))
    with pytest.raises(KeyStoreError, match="key index 2"):
        store.card_key(KeyUsage.PURCHASE, Algorithm.DES3, 2, bytes(8))


def test_key_file_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "keys.toml"
    path.write_text(
        'issuer_id = "3301000000000001"\n'
        '[[master]]\nusage = "DPK"\nalgorithm = "3des"\nindex = 1\nkey = "11223344556677888877665544332211"\n'
    )
    keys = load_issuer_keys(path)
    master = bytes.fromhex("11223344556677888877665544332211")
    store = IssuerKeyStore(keys)
    assert store.card_key(KeyUsage.PURCHASE, Algorithm.DES3, 1, bytes(8)) == diversify(
        Algorithm.DES3, master, bytes(8)
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("issuer_id = 'zz'", "'issuer_id' is not hex"),
        ("issuer_id = '33'", "'issuer_id' has 1 bytes, expected 8"),
        ("issuer_id = '3301000000000001'\n[[master]]\nusage='XYZ'", "master #1: usage must be one of"),
        (
            "issuer_id = '3301000000000001'\n[[master]]\nusage='DPK'\nalgorithm='aes'",
            "master #1: algorithm must be 3des or sm4",
        ),
        (
            "issuer_id = '3301000000000001'\n[[master]]\nusage='DPK'\nalgorithm='sm4'\nindex=0",
            "index must be an integer 1..255",
        ),
        (
            "issuer_id = '3301000000000001'\n[[master]]\nusage='DPK'\nalgorithm='sm4'\nkey='00'",
            "'key' has 1 bytes, expected 16",
        ),
        ("issuer_id = [", "not a TOML key file"),
    ],
)
def test_bad_key_files(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "keys.toml"
    path.write_text(text)
    with pytest.raises(KeyStoreError, match=message) as error:
        load_issuer_keys(path)
    assert str(error.value).startswith(str(path))
