"""The clearing house's TAC verifier: `model.records.record.verify_tac`, fast enough for a city's night.

Verifying a TAC the plain way costs a key diversification (two or one block-cipher setups) and a
CBC-MAC setup per record. A city's records come from far fewer cards than records, so the
verifier keeps, per card, a ready ECB encryptor under the card's TAC key and runs the CBC chain
itself (XOR, encrypt one block at a time). The bytes and the result are those of
`model.security.crypto.tac` exactly; the test suite checks both agree on real cards' records.

The cache is bounded (`CARDS_CACHED_MAX`); when full it is dropped whole, which costs one
re-derivation per card and keeps memory flat.
"""

from __future__ import annotations

import struct
from typing import Any

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from model.records import WireRecord
from model.security import (
    Algorithm,
    KeyStore,
    KeyStoreError,
    KeyUsage,
    load_tac_data,
    pad80,
    purchase_tac_data,
    tac_key,
)

CARDS_CACHED_MAX = 500_000
# pad80 (ISO/IEC 9797-1 method 2) by the data's length modulo the block: 80, then 00s.
_PADS = {block: [pad80(bytes(n), block)[n:] for n in range(block)] for block in (8, 16)}
_LOAD_TYPES = (0x01, 0x02)
_THREE_BLOCKS = struct.Struct(">QQQ")
_SM4 = int(Algorithm.SM4)
_ALGORITHMS = {int(a): a for a in Algorithm}  # the enum's lookup by value, without its call
_ECB = modes.ECB()  # a mode object holds no state: one serves every card
# The third block of a purchase's TAC input is its last 6 bytes then the padding 80 00; read
# from the wire record it is those 6 bytes then two bytes of the next field, masked away.
_LAST_MASK = 0xFFFF_FFFF_FFFF_0000
_LAST_PAD = 0x8000


class TacVerifier:
    """Recomputes record TACs from the issuer keys held by a `KeyStore`."""

    def __init__(self, key_store: KeyStore, cards_cached_max: int = CARDS_CACHED_MAX) -> None:
        self._keys = key_store
        self._limit = cards_cached_max
        # ASN -> (algorithm, key index, encryptor): a card has one TAC key in practice, so the
        # common lookup is by ASN alone and the other two are checked.
        self._encryptors: dict[bytes, tuple[int, int, Any]] = {}

    def _encryptor(self, asn: bytes, algorithm: int, key_index: int) -> Any:
        cached = self._encryptors.get(asn)
        if cached is not None and cached[0] == algorithm and cached[1] == key_index:
            return cached[2]
        # DES3 is 0, a falsy member: `get(..) or` would call the enum for every 3DES card.
        algo = _ALGORITHMS[algorithm] if algorithm in _ALGORITHMS else Algorithm(algorithm)  # unknown: raises
        dtk = self._keys.card_key(KeyUsage.TAC, algo, key_index, asn)
        if algo is Algorithm.SM4:
            encryptor = Cipher(algorithms.SM4(tac_key(algo, dtk)), _ECB).encryptor()
        else:
            # tac_key's fold (left XOR right), done on integers: this runs once per card.
            tk = (int.from_bytes(dtk[:8], "big") ^ int.from_bytes(dtk[8:], "big")).to_bytes(8, "big")
            encryptor = Cipher(TripleDES(tk * 3), _ECB).encryptor()
        if len(self._encryptors) >= self._limit:
            self._encryptors.clear()
        self._encryptors[asn] = (algorithm, key_index, encryptor)
        return encryptor

    def compute(self, asn: bytes, algorithm: int, key_index: int, tac_data: bytes) -> bytes:
        """The TAC the card `asn` would have made over `tac_data`; KeyStoreError if no key."""
        update = self._encryptor(asn, algorithm, key_index).update
        if algorithm != Algorithm.SM4 and len(tac_data) == 22:
            # A 3DES purchase, nearly every record: three blocks, unrolled.
            data = tac_data + b"\x80\x00"
            _, b1, b2 = _THREE_BLOCKS.unpack(data)
            out = update(data[:8])
            out = update((int.from_bytes(out, "big") ^ b1).to_bytes(8, "big"))
            out = update((int.from_bytes(out, "big") ^ b2).to_bytes(8, "big"))
            return bytes(out[:4])
        block = 16 if algorithm == Algorithm.SM4 else 8
        data = tac_data + _PADS[block][len(tac_data) % block]
        out = update(data[:block])
        for start in range(block, len(data), block):
            mixed = int.from_bytes(out, "big") ^ int.from_bytes(data[start : start + block], "big")
            out = update(mixed.to_bytes(block, "big"))
        return bytes(out[:4])

    def verify_batch(self, records: list[tuple[int, bytes, WireRecord]]) -> list[bool]:
        """`verify` of each (index, wire bytes, record) of a parsed batch, in one call: the hot
        path (a 3DES purchase of a card whose encryptor is ready) inlined, with its lookups
        bound once per batch instead of once per record. A record committed without proof
        (flags set) carries no TAC: False, never looked at (the caller holds it as no-proof)."""
        out: list[bool] = []
        append = out.append
        cached_get = self._encryptors.get
        unpack_from = _THREE_BLOCKS.unpack_from
        from_bytes = int.from_bytes
        for _, wire, r in records:
            if r.flags:
                append(False)
                continue
            if r.tx_type in _LOAD_TYPES or r.algorithm == _SM4:
                append(self.verify(r, wire))
                continue
            cached = cached_get(r.asn)
            if cached is not None and cached[0] == r.algorithm and cached[1] == r.key_index:
                update = cached[2].update
            else:
                try:
                    update = self._encryptor(r.asn, r.algorithm, r.key_index).update
                except KeyStoreError:
                    append(False)
                    continue
            _, b1, b2 = unpack_from(wire, 10)
            block = update(wire[10:18])
            block = update((from_bytes(block, "big") ^ b1).to_bytes(8, "big"))
            block = update((from_bytes(block, "big") ^ (b2 & _LAST_MASK | _LAST_PAD)).to_bytes(8, "big"))
            append(block[:4] == r.tac)
        return out

    def verify(self, r: WireRecord, wire: bytes = b"") -> bool:
        """Whether the record's TAC is the card's over its fields (False if no key is held).

        `wire`, the record's bytes in the batch format, saves rebuilding a purchase's TAC input:
        amount, type, terminal, serial and date-time lie there in TAC order (bytes 10..31)."""
        try:
            if wire and r.tx_type not in _LOAD_TYPES and r.algorithm != _SM4:
                # The hot path, a 3DES purchase, inlined: three CBC blocks over wire[10:32] + 8000.
                cached = self._encryptors.get(r.asn)
                if cached is not None and cached[0] == r.algorithm and cached[1] == r.key_index:
                    update = cached[2].update
                else:
                    update = self._encryptor(r.asn, r.algorithm, r.key_index).update
                _, b1, b2 = _THREE_BLOCKS.unpack_from(wire, 10)
                out = update(wire[10:18])
                out = update((int.from_bytes(out, "big") ^ b1).to_bytes(8, "big"))
                out = update((int.from_bytes(out, "big") ^ (b2 & _LAST_MASK | _LAST_PAD)).to_bytes(8, "big"))
                return bool(out[:4] == r.tac)
            if r.tx_type in _LOAD_TYPES:
                data = load_tac_data(
                    r.balance_after_fen, r.counter, r.amount_fen, r.tx_type, r.terminal_id, r.date_time
                )
            else:
                data = purchase_tac_data(
                    r.amount_fen, r.tx_type, r.terminal_id, r.terminal_serial, r.date_time
                )
            return self.compute(r.asn, r.algorithm, r.key_index, data) == r.tac
        except KeyStoreError:
            return False
