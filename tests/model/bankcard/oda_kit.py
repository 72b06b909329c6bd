"""A test PKI for the bank card tests: one CA, one issuer certified by it, card keys, made once."""

from __future__ import annotations

import functools

from devices.bankcard_oda import OdaKeys, personalise_oda
from devices.bankcard_os import AIP
from devices.bankcard_state import BankCardState
from model.bankcard import IssuerPki, KeyPair, TestCa


def pki(bin_: str = "621700") -> tuple[TestCa, IssuerPki, KeyPair]:
    return _pki(bin_)


@functools.cache
def _pki(bin_: str) -> tuple[TestCa, IssuerPki, KeyPair]:
    ca = TestCa()
    issuer = IssuerPki(bin_)
    ca.certify_issuer(issuer)
    return ca, issuer, KeyPair.generate(1024)


def oda_for(state: BankCardState, bin_: str = "621700") -> OdaKeys:
    _, issuer, icc = pki(bin_)
    return personalise_oda(state, issuer, icc, AIP)


def ca_keys(bin_: str = "621700") -> dict[int, object]:
    ca = pki(bin_)[0]
    return {ca.index: ca.keys.public}
