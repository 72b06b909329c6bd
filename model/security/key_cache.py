"""A key store for the back office's bulk work: `IssuerKeyStore` with ready master-key ciphers.

Diversifying a card key the plain way (`model.security.crypto.diversify`) sets up two 3DES ciphers under
the master key per card. The clearing house derives one DTK per card it meets at night, up to
millions, so this store keeps one ECB encryptor per master key and derives a card key with a
single call over ASN || NOT ASN: ECB encrypts the two blocks independently, which is exactly
left || right of the 3DES diversification, and for SM4 that 16-byte block is the SM4 rule
itself. Same keys, same bytes (the tests compare with `diversify`); only the setup is shared.
"""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from model.security.crypto import Algorithm
from model.security.keys import IssuerKeys, IssuerKeyStore, KeyStoreError, KeyUsage

_ALL_ONES_64 = (1 << 64) - 1


class CachedIssuerKeyStore(IssuerKeyStore):
    """An `IssuerKeyStore` that keeps one encryptor per master key (bounded by the key set)."""

    def __init__(self, keys: IssuerKeys, usages: frozenset[KeyUsage] | None = None) -> None:
        super().__init__(keys, usages)
        self._masters = self._keys  # only the allowed usages' masters (see IssuerKeyStore)
        self._allowed = frozenset(KeyUsage) if usages is None else usages
        self._encryptors: dict[tuple[KeyUsage, Algorithm, int], Any] = {}
        # The slot asked last and its encryptor: a night asks for one slot (TAC keys of one
        # algorithm and index) card after card, and hashing the enum members of a slot costs
        # more than the derivation's own cipher call.
        self._last: tuple[KeyUsage, Algorithm, int, Any] | None = None

    def card_key(self, usage: KeyUsage, algorithm: Algorithm, key_index: int, asn: bytes) -> bytes:
        last = self._last
        if last is not None and last[0] is usage and last[1] is algorithm and last[2] == key_index:
            encryptor = last[3]
        else:
            encryptor = self._slot(usage, algorithm, key_index)
        if len(asn) != 8:
            raise KeyStoreError(f"card key: ASN of {len(asn)} bytes, expected 8")
        inverted = (int.from_bytes(asn, "big") ^ _ALL_ONES_64).to_bytes(8, "big")
        return bytes(encryptor.update(asn + inverted))

    def _slot(self, usage: KeyUsage, algorithm: Algorithm, key_index: int) -> Any:
        """The master key's encryptor, set up on first use; KeyStoreError if not held."""
        if usage not in self._allowed:
            raise KeyStoreError(f"this key store may not derive {usage.value} keys")
        slot = (usage, algorithm, key_index)
        encryptor = self._encryptors.get(slot)
        if encryptor is None:
            master = self._masters.master(usage, algorithm, key_index)
            cipher = algorithms.SM4(master) if algorithm is Algorithm.SM4 else TripleDES(master + master[:8])
            encryptor = Cipher(cipher, modes.ECB()).encryptor()
            self._encryptors[slot] = encryptor
        self._last = (usage, algorithm, key_index, encryptor)
        return encryptor
