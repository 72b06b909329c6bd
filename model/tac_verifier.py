"""The clearing house's TAC verifier: `model.records.verify_tac`, fast enough for a city's night.

Verifying a TAC the plain way costs a key diversification (two or one block-cipher setups) and a
CBC-MAC setup per record. A city's records come from far fewer cards than records, so the
verifier keeps, per card, a ready ECB encryptor under the card's TAC key and runs the CBC chain
itself (XOR, encrypt one block at a time). The bytes and the result are those of
`model.crypto.tac` exactly; the test suite checks both agree on real cards' records.

The cache is bounded (`CARDS_CACHED_MAX`); when full it is dropped whole, which costs one
re-derivation per card and keeps memory flat.
"""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from model.crypto import Algorithm, pad80, tac_key
from model.keys import KeyStore, KeyStoreError, KeyUsage
from model.mac_inputs import load_tac_data, purchase_tac_data

CARDS_CACHED_MAX = 500_000
_LOAD_TYPES = (0x01, 0x02)


class TacVerifier:
    """Recomputes record TACs from the issuer keys held by a `KeyStore`."""

    def __init__(self, key_store: KeyStore, cards_cached_max: int = CARDS_CACHED_MAX) -> None:
        self._keys = key_store
        self._limit = cards_cached_max
        self._encryptors: dict[tuple[bytes, int, int], Any] = {}

    def _encryptor(self, asn: bytes, algorithm: int, key_index: int) -> Any:
        key = (asn, algorithm, key_index)
        encryptor = self._encryptors.get(key)
        if encryptor is None:
            algo = Algorithm(algorithm)
            dtk = self._keys.card_key(KeyUsage.TAC, algo, key_index, asn)
            tk = tac_key(algo, dtk)
            cipher = algorithms.SM4(tk) if algo is Algorithm.SM4 else TripleDES(tk * 3)
            encryptor = Cipher(cipher, modes.ECB()).encryptor()
            if len(self._encryptors) >= self._limit:
                self._encryptors.clear()
            self._encryptors[key] = encryptor
        return encryptor

    def compute(
        self,
        asn: bytes,
        algorithm: int,
        key_index: int,
        tac_data: bytes,
    ) -> bytes:
        """The TAC the card `asn` would have made over `tac_data`; KeyStoreError if no key."""
        encryptor = self._encryptor(asn, algorithm, key_index)
        block = 16 if algorithm == Algorithm.SM4 else 8
        data = pad80(tac_data, block)
        chained = 0
        out = b""
        for start in range(0, len(data), block):
            mixed = chained ^ int.from_bytes(data[start : start + block], "big")
            out = encryptor.update(mixed.to_bytes(block, "big"))
            chained = int.from_bytes(out, "big")
        return bytes(out[:4])

    def verify(
        self,
        asn: bytes,
        counter: int,
        amount_fen: int,
        tx_type: int,
        terminal_id: bytes,
        terminal_serial: int,
        date_time: bytes,
        balance_after_fen: int,
        tac: bytes,
        algorithm: int,
        key_index: int,
    ) -> bool:
        """Whether `tac` is the card's TAC over these record fields (False if no key is held)."""
        if tx_type in _LOAD_TYPES:
            data = load_tac_data(balance_after_fen, counter, amount_fen, tx_type, terminal_id, date_time)
        else:
            data = purchase_tac_data(amount_fen, tx_type, terminal_id, terminal_serial, date_time)
        try:
            return self.compute(asn, algorithm, key_index, data) == tac
        except KeyStoreError:
            return False
