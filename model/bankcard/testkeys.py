"""The project's RSA test keys for offline data authentication: the test CA's, the issuing
banks' and a pool of card (ICC) keys, stored by their primes in `testkeys.txt` beside this file.

DECIDE: fixed fixture keys, generated once by `cryptography` (`write_fixture`; rewrite the file
with `python -m model.bankcard.testkeys`), not derived from the run's seed. `cryptography` takes
no seed; a seeded prime search would be our own code for what that library does well; and a
key set per seed would cost a prime search per sample day. Fixed keys are the same in every
process and every run, so the same scenario and seed give the same certificates and signatures
byte for byte (before, each process drew new keys from the OS). Each key is rebuilt through
`cryptography`'s `RSAPrivateNumbers.private_key()` once per process, and checked by a round trip.

Slots: `ca-0`; `issuer-0..31` (a scenario's bank k takes slot k, as many as `BANKS_MAX`);
`icc-0..31` (a card takes a pool slot: its certificate binds its PAN, signed by its own issuer).
They are test keys of no scheme: never use them outside the twin.
"""

from __future__ import annotations

import functools
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import rsa

FIXTURE = Path(__file__).with_name("testkeys.txt")
EXPONENT = 3
POOL = {"ca": 1, "issuer": 32, "icc": 32}
BITS = {"ca": 1408, "issuer": 1152, "icc": 1024}


@functools.cache
def _primes(path: Path = FIXTURE) -> dict[str, tuple[int, int, int]]:
    """(bits, p, q) by slot name, from lines `name bits p q` (hex primes)."""
    out = {}
    for number, line in enumerate(path.read_text("ascii").splitlines(), 1):
        if not line or line.startswith("#"):
            continue
        name, bits, p, q = line.split()
        if name in out:
            raise ValueError(f"{path}:{number}: key {name} given twice")
        out[name] = (int(bits), int(p, 16), int(q, 16))
    return out


@functools.cache
def private_numbers(role: str, slot: int, path: Path = FIXTURE) -> rsa.RSAPrivateNumbers:
    """The fixture key of `role` ("ca", "issuer", "icc") in `slot` (taken modulo the pool)."""
    name = f"{role}-{slot % POOL[role]}"
    bits, p, q = _primes(path)[name]
    try:
        d = pow(EXPONENT, -1, (p - 1) * (q - 1))
        numbers = rsa.RSAPrivateNumbers(
            p, q, d, rsa.rsa_crt_dmp1(d, p), rsa.rsa_crt_dmq1(d, q), rsa.rsa_crt_iqmp(p, q),
            rsa.RSAPublicNumbers(EXPONENT, p * q),
        )  # fmt: skip
        key = numbers.private_key()  # cryptography checks the numbers form one RSA key
    except ValueError as bad:
        raise ValueError(f"{path}: key {name} is no RSA key ({bad}): a damaged prime?") from None
    if key.key_size != bits or bits != BITS[role]:
        raise ValueError(f"{path}: key {name} has {key.key_size} bits, {role} keys have {BITS[role]}")
    probe = 0x6A0BC  # a wrong prime breaks the round trip: catches a damaged file
    if pow(pow(probe, EXPONENT, p * q), d, p * q) != probe:
        raise ValueError(f"{path}: key {name} does not decrypt what it encrypts (a damaged prime?)")
    return numbers


def write_fixture(path: Path = FIXTURE, pool: dict[str, int] | None = None) -> None:
    """Generate every slot's key with `cryptography` and write the fixture file."""
    lines = ["# CardTwin RSA test keys (ODA): name bits p q, hex; made by model.bankcard.testkeys"]
    for role, count in (pool or POOL).items():
        for slot in range(count):
            numbers = rsa.generate_private_key(
                public_exponent=EXPONENT, key_size=BITS[role]
            ).private_numbers()
            lines.append(f"{role}-{slot} {BITS[role]} {numbers.p:x} {numbers.q:x}")
    path.write_text("\n".join(lines) + "\n", "ascii")


if __name__ == "__main__":
    write_fixture()
