"""The ODA test keys are fixtures: every one a checked RSA key of its role's size, and a card's
certificates are the same in every process (they were drawn from the OS before)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from model.bankcard import IssuerPki, icc_key_pool
from model.bankcard import TestCa as CertificationAuthority  # (a Test* name pytest would collect)
from model.bankcard.oda import CardCertificates, KeyPair, issuer_key
from model.bankcard.testkeys import BITS, EXPONENT, POOL, _primes, private_numbers, write_fixture

ROOT = Path(__file__).resolve().parents[3]
CERTS = (
    "from scenarios.bank_schema import load_bank_city\n"
    "from sim.bankcity.world import build_world\n"
    "w = build_world(load_bank_city('huaibei-2011-2014', {'run.cardholders_simulated': 12}), 7)\n"
    "print(w.oda[11].certificates.icc_certificate.hex(), w.oda[11].certificates.issuer_certificate.hex())\n"
)


def test_every_fixture_key_is_a_checked_rsa_key_of_its_size() -> None:
    moduli = set()
    for role, count in POOL.items():
        for slot in range(count):
            numbers = private_numbers(role, slot)
            assert numbers.public_numbers.e == EXPONENT
            assert numbers.public_numbers.n.bit_length() == BITS[role]
            assert (
                pow(pow(12345, EXPONENT, numbers.public_numbers.n), numbers.d, numbers.public_numbers.n)
                == 12345
            )
            moduli.add(numbers.public_numbers.n)
    assert len(moduli) == sum(POOL.values()) == len(_primes())  # no key twice
    assert icc_key_pool(3).public == icc_key_pool(3 + POOL["icc"]).public  # the pool wraps


def test_an_issuer_certificate_from_the_fixtures_recovers_under_the_fixture_ca() -> None:
    ca, issuer = CertificationAuthority(), IssuerPki("62220299", slot=4)
    ca.certify_issuer(issuer)
    c = CardCertificates(ca.index, issuer.certificate, issuer.remainder, issuer.keys.public.exponent_bytes())
    assert issuer_key({ca.index: ca.keys.public}, c, "6222029900000001", (2014, 6)) == issuer.keys.public
    assert issuer.keys.public == KeyPair.fixture("issuer", 4).public != IssuerPki("62220299").keys.public


def test_a_cards_certificates_are_the_same_in_two_processes() -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    runs = [
        subprocess.run(
            [sys.executable, "-c", CERTS], capture_output=True, text=True, env=env, check=True
        ).stdout
        for _ in range(2)
    ]
    assert runs[0] == runs[1] and len(runs[0].split()) == 2 and len(runs[0].split()[0]) == 2 * 144


def test_a_rewritten_fixture_loads_and_a_bad_one_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "keys.txt"
    write_fixture(path, {"icc": 1})
    assert private_numbers("icc", 0, path).public_numbers.n.bit_length() == 1024
    bits, p, q = _primes(path)["icc-0"]
    damaged, short = tmp_path / "damaged.txt", tmp_path / "short.txt"
    damaged.write_text(f"icc-0 {bits} {p:x} {q + 2:x}\n", "ascii")
    with pytest.raises(ValueError, match="icc-0"):
        private_numbers("icc", 0, damaged)
    short.write_text(f"icc-0 1024 {p:x} {q:x}\nicc-0 1024 {p:x} {q:x}\n", "ascii")
    with pytest.raises(ValueError, match=r"short\.txt:2: key icc-0 given twice"):
        private_numbers("icc", 0, short)
