"""Offline data authentication with the test CA: CA -> issuer -> card certificates (RSA by
`cryptography`), SDA and DDA checked by the bank POS before it approves offline; a tampered,
swapped, expired or unknown-CA certificate is refused and the purchase goes online instead."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pytest

from devices.bankcard_oda import OdaKeys, static_data
from devices.bankcard_os import AIP, BankCardOS
from devices.bankcard_state import personalise
from devices.sim_channel import SimChannel
from model.bankcard import BankPos, IssuerHost, IssuerMasterKeys, OdaError, PublicKey, card_public_key
from model.bankcard.oda import verify_dynamic, verify_sda
from model.bankcard.oda_terminal import certificates
from tests.model.bankcard.oda_kit import ca_keys, oda_for, pki

KEYS = IssuerMasterKeys.generate(21, "CCB")
PAN, OTHER_PAN = "6217001111222233", "6217009999888877"
NOW = datetime(2013, 5, 9, 9, 0)
EC_FEN = 5_000


def card(oda: OdaKeys | None = None, pan: str = PAN) -> tuple[SimChannel, BankCardOS, IssuerHost]:
    state = personalise(KEYS, pan, 1, "4321", ec_balance_fen=EC_FEN)
    chip = BankCardOS(state, oda=oda if oda is not None else oda_for(state))
    issuer = IssuerHost(KEYS)
    issuer.open_account(pan, 100_000)
    issuer.ec_float_fen = EC_FEN
    return SimChannel(chip), chip, issuer


def tampered(oda: OdaKeys, **fields: bytes) -> OdaKeys:
    return OdaKeys(replace(oda.certificates, **fields), oda.icc)


def flip(raw: bytes, at: int = 40) -> bytes:
    return raw[:at] + bytes((raw[at] ^ 0x01,)) + raw[at + 1 :]


def test_the_chain_recovers_the_card_key_and_sda_gives_its_code() -> None:
    _, chip, _ = card()
    oda = chip.oda
    assert oda is not None
    records = [chip._record(1, 1), *oda.records()]  # SFI 1 record 1, then the certificate records
    assert records[0] is not None
    key = card_public_key(ca_keys(), records, AIP, PAN, NOW, dda=True)  # type: ignore[arg-type]
    assert key == oda.icc.public
    issuer = card_public_key(ca_keys(), records, AIP, PAN, NOW, dda=False)  # type: ignore[arg-type]
    assert issuer == pki()[1].keys.public
    dac = verify_sda(issuer, certificates(records), static_data(chip.state, AIP))  # type: ignore[arg-type]
    assert len(dac) == 2
    with pytest.raises(OdaError, match="signed static data 93: hash does not match"):
        verify_sda(issuer, certificates(records), static_data(chip.state, AIP) + b"\x00")  # type: ignore[arg-type]


def test_the_pos_authenticates_by_dda_and_approves_offline() -> None:
    channel, chip, issuer = card()
    pos = BankPos("POS-ODA", issuer, seed=1, ca_keys=ca_keys())  # type: ignore[arg-type]
    record = pos.purchase_ec(channel, 1_500, NOW)
    assert (
        record.kind == "ec-offline" and pos.oda_failures == 0 and chip.state.ec_balance_fen == EC_FEN - 1_500
    )


@pytest.mark.parametrize(
    ("what", "fields", "message"),
    [
        ("issuer certificate", "issuer_certificate", "issuer certificate 90"),
        ("issuer key remainder", "issuer_remainder", "issuer certificate 90: hash does not match"),
        ("card certificate", "icc_certificate", "ICC certificate 9F46"),
        ("card key remainder", "icc_remainder", "ICC certificate 9F46: hash does not match"),
    ],
)
def test_a_tampered_certificate_is_refused_and_the_purchase_goes_online(
    what: str, fields: str, message: str
) -> None:
    genuine = card()[1].oda
    assert genuine is not None
    value = getattr(genuine.certificates, fields)
    bad = tampered(genuine, **{fields: flip(value, min(40, len(value) - 1))})
    channel, chip, issuer = card(bad)
    records = [chip._record(1, 1), *bad.records()]
    with pytest.raises(OdaError, match=message):
        card_public_key(ca_keys(), records, AIP, PAN, NOW, dda=True)  # type: ignore[arg-type]
    pos = BankPos("POS-ODA", issuer, seed=1, ca_keys=ca_keys())  # type: ignore[arg-type]
    record = pos.purchase_ec(channel, 1_500, NOW)
    assert record.kind == "online", what  # never approved offline
    assert pos.oda_failures == 1 and chip.state.ec_balance_fen == EC_FEN
    assert issuer.accounts_fen[PAN] == 100_000 - 1_500


def test_another_cards_certificates_an_unknown_ca_and_an_expiry_are_refused() -> None:
    other_state = personalise(KEYS, OTHER_PAN, 1, "4321")
    swapped = oda_for(other_state)  # genuine certificates, of another card
    _, chip, _ = card(swapped)
    records = [chip._record(1, 1), *swapped.records()]
    with pytest.raises(OdaError, match="ICC certificate 9F46: hash does not match"):
        card_public_key(ca_keys(), records, AIP, PAN, NOW, dda=True)  # type: ignore[arg-type]
    strange_ca: dict[int, PublicKey] = {0x09: pki()[0].keys.public}
    with pytest.raises(OdaError, match="no CA public key of index 01"):
        card_public_key(strange_ca, records, AIP, PAN, NOW, dda=True)  # type: ignore[arg-type]
    genuine = card()[1]
    assert genuine.oda is not None
    records = [genuine._record(1, 1), *genuine.oda.records()]
    with pytest.raises(OdaError, match="expired 1230"):
        card_public_key(ca_keys(), records, AIP, PAN, datetime(2031, 1, 1), dda=True)  # type: ignore[arg-type]


def test_a_card_signing_with_another_key_fails_dda() -> None:
    genuine = card()[1].oda
    assert genuine is not None
    _, _, other_icc = pki("622202")  # another PKI's card key: the certificate names ours
    impostor = OdaKeys(genuine.certificates, other_icc)
    channel, _, issuer = card(impostor)
    pos = BankPos("POS-ODA", issuer, seed=1, ca_keys=ca_keys())  # type: ignore[arg-type]
    assert pos.purchase_ec(channel, 700, NOW).kind == "online" and pos.oda_failures == 1
    with pytest.raises(OdaError):
        verify_dynamic(
            genuine.icc.public, other_icc.sign(b"\x6a" + bytes(126) + b"\xbc"), b"1234", "DDA signature"
        )
