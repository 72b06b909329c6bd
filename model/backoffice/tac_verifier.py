"""The clearing house's TAC verifier: `model.records.record.verify_tac`, fast enough for a city's night.

Verifying a TAC the plain way costs a key diversification (two or one block-cipher setups) and a
CBC-MAC setup per record. A city's records come from far fewer cards than records, so the
verifier keeps, per card, a ready CBC context under the card's TAC key (`cbc_context`, made
without the cipher library's re-checks) and the context's last block out. A TAC is a CBC-MAC
with a zero IV; the context chains from its previous message, so each new message's first block
is XORed with that last block, which the context's own XOR then cancels (as `MacKey` does). A
3DES purchase, nearly every record, is then one `update` over its three padded blocks packed
straight from its wire bytes. The bytes and the result are those of `model.security.crypto.tac`
exactly; the test suite checks both agree on real cards' records.

Cost: per card met, one diversification call and one context set-up; per record, one `update`
and a handful of integer operations: O(records + cards).

The cache is bounded (`CARDS_CACHED_MAX`); when full it is dropped whole, which costs one
re-derivation per card and keeps memory flat.
"""

from __future__ import annotations

import struct
from typing import Any

from model.records import WireRecord
from model.security import (
    Algorithm,
    KeyStore,
    KeyStoreError,
    KeyUsage,
    cbc_context,
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
# The third block of a purchase's TAC input is its last 6 bytes then the padding 80 00; read
# from the wire record it is those 6 bytes then two bytes of the next field, masked away.
_LAST_MASK = 0xFFFF_FFFF_FFFF_0000
_LAST_PAD = 0x8000
# A card's cache entry, a list so the chaining value updates in place:
# [algorithm, key index, the context's update, its last output (b"": none yet, zeros)]
_ALGO, _INDEX, _UPDATE, _LAST = 0, 1, 2, 3


class TacVerifier:
    """Recomputes record TACs from the issuer keys held by a `KeyStore`."""

    def __init__(self, key_store: KeyStore, cards_cached_max: int = CARDS_CACHED_MAX) -> None:
        self._keys = key_store
        self._limit = cards_cached_max
        # ASN -> entry (above): a card has one TAC key in practice, so the common lookup is by
        # ASN alone and the algorithm and key index are checked.
        self._cards: dict[bytes, list[Any]] = {}

    def _card(self, asn: bytes, algorithm: int, key_index: int) -> list[Any]:
        """The card's entry, its context set up now if it has none for this key. O(1)."""
        cached = self._cards.get(asn)
        if cached is not None and cached[_ALGO] == algorithm and cached[_INDEX] == key_index:
            return cached
        # DES3 is 0, a falsy member: `get(..) or` would call the enum for every 3DES card.
        algo = _ALGORITHMS[algorithm] if algorithm in _ALGORITHMS else Algorithm(algorithm)  # unknown: raises
        dtk = self._keys.card_key(KeyUsage.TAC, algo, key_index, asn)
        if algo is Algorithm.SM4:
            key = tac_key(algo, dtk)
        else:  # tac_key's fold (left XOR right) on integers, without its checks: once per card
            key = (int.from_bytes(dtk[:8], "big") ^ int.from_bytes(dtk[8:], "big")).to_bytes(8, "big")
        entry = [algorithm, key_index, cbc_context(algo, key), b""]
        if len(self._cards) >= self._limit:
            self._cards.clear()
        self._cards[asn] = entry
        return entry

    def compute(self, asn: bytes, algorithm: int, key_index: int, tac_data: bytes) -> bytes:
        """The TAC the card `asn` would have made over `tac_data`; KeyStoreError if no key."""
        entry = self._card(asn, algorithm, key_index)
        block = 16 if algorithm == _SM4 else 8
        data = tac_data + _PADS[block][len(tac_data) % block]
        last = entry[_LAST]
        if last:  # the context's chaining value, cancelled: the MAC's IV is zeros
            first = int.from_bytes(data[:block], "big") ^ int.from_bytes(last[-block:], "big")
            data = first.to_bytes(block, "big") + data[block:]
        out = entry[_UPDATE](data)
        entry[_LAST] = out
        return bytes(out[-block:][:4])

    def verify_batch(self, records: list[tuple[int, bytes, WireRecord]]) -> list[bool]:
        """`verify` of each (index, wire bytes, record) of a parsed batch, in one call: the hot
        path (a 3DES purchase) inlined, with its lookups bound once per batch instead of once
        per record. A record committed without proof (flags set) carries no TAC: False, never
        looked at (the caller holds it as no-proof). O(records)."""
        out: list[bool] = []
        append = out.append
        cached_get = self._cards.get
        unpack_from = _THREE_BLOCKS.unpack_from
        pack = _THREE_BLOCKS.pack
        from_bytes = int.from_bytes
        for _, wire, r in records:
            if r.flags:
                append(False)
                continue
            if r.tx_type in _LOAD_TYPES or r.algorithm == _SM4:
                append(self.verify(r, wire))
                continue
            entry = cached_get(r.asn)
            if entry is None or entry[0] != r.algorithm or entry[1] != r.key_index:
                try:
                    entry = self._card(r.asn, r.algorithm, r.key_index)
                except KeyStoreError:
                    append(False)
                    continue
            b0, b1, b2 = unpack_from(wire, 10)
            last = entry[3]
            if last:
                b0 ^= from_bytes(last[-8:], "big")
            mac = entry[2](pack(b0, b1, b2 & _LAST_MASK | _LAST_PAD))
            entry[3] = mac
            append(mac[16:20] == r.tac)
        return out

    def verify(self, r: WireRecord, wire: bytes = b"") -> bool:
        """Whether the record's TAC is the card's over its fields (False if no key is held).

        `wire`, the record's bytes in the batch format, saves rebuilding a purchase's TAC input:
        amount, type, terminal, serial and date-time lie there in TAC order (bytes 10..31)."""
        try:
            if wire and r.tx_type not in _LOAD_TYPES and r.algorithm != _SM4:
                return self.verify_batch([(0, wire, r)])[0]
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
