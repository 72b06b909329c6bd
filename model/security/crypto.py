"""Card cryptography of the e-purse: block ciphers, the PBOC MAC, session keys, TAC, diversification.

Two algorithm families share every flow:

- 3DES (algorithm id 00): 16-byte keys, 8-byte blocks. Session keys are 8 bytes and MACs are
  single-DES CBC, exactly as JR/T 0025 and the published load example.
- SM4 (algorithm id 04, DECIDE): 16-byte keys and blocks. Each step is the 3DES step with SM4 in
  place of DES, with these choices, kept identical in card, PSAM, load host and clearing:
  * session key = SM4(card key, pad80(the same 8-byte input, 16)): 16 bytes;
  * MAC = SM4 CBC with the 16-byte session key, IV = 0, pad80 to a multiple of 16, first 4 bytes;
  * TAC key = the card's 16-byte DTK itself (the 3DES left-XOR-right fold would leave 8 bytes,
    too short for SM4);
  * card key = SM4(master key, ASN || NOT ASN), one block of 16 bytes.

All ciphers come from the `cryptography` package. TripleDES lives in its `decrepit` module; we
always hand it 24-byte keys so no deprecation warning fires (an 8-byte DES key k becomes k*3,
which makes EDE collapse to single DES).

Speed: setting up a cipher context costs several microseconds (key schedule, OpenSSL context),
running a block through one well under one. A city day runs millions of taps, so a key used
more than once keeps its context: `MacKey` serves every MAC under one session key, the issuer
master keys (a handful, used for every card) keep one ECB context each, per thread, and the
last few card keys and session keys keep theirs (`session_mac_key`): in one tap the card and
its PSAM (or the load host) each derive the same session key from the same card key, and each
then MACs under it, so the second of the two finds both contexts ready.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from enum import IntEnum
from typing import TypeVar

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from model.errors import CardTwinError

MASTER_CONTEXTS_MAX = 64  # master keys with a ready context (an issuer has 8 per key index)
# Card and session keys with a ready context: one tap uses two (the card key, the session key),
# each twice (card, then PSAM or load host); a few more cover a torn tap's retry.
SESSION_CONTEXTS_MAX = 8
_ECB = modes.ECB()  # a mode object holds no state: one serves every context
_CBC_IV0 = {8: modes.CBC(bytes(8)), 16: modes.CBC(bytes(16))}  # nor does a CBC mode: just its IV
_ALL_ONES_64 = (1 << 64) - 1


class Algorithm(IntEnum):
    """Algorithm identifier as the card reports it in INITIALIZE responses."""

    DES3 = 0x00
    SM4 = 0x04


class CryptoError(CardTwinError):
    """A key or block of the wrong size, or an algorithm the project does not support."""


def algorithm_from_id(algorithm_id: int) -> Algorithm:
    try:
        return Algorithm(algorithm_id)
    except ValueError:
        raise CryptoError(f"algorithm id {algorithm_id:02X} is not supported (00 3DES, 04 SM4)") from None


def block_size(algorithm: Algorithm) -> int:
    return 16 if algorithm is Algorithm.SM4 else 8


def _check_key(key: bytes, sizes: tuple[int, ...], what: str) -> None:
    if len(key) not in sizes:
        raise CryptoError(f"{what}: key of {len(key)} bytes, expected {' or '.join(map(str, sizes))}")


Update = Callable[[bytes], bytes]  # a cipher context's `update`: whole blocks in, as many out


def _public_encryptor(cipher_algorithm: TripleDES | algorithms.SM4, mode: modes.Mode) -> Update:
    update: Update = Cipher(cipher_algorithm, mode).encryptor().update  # type: ignore[misc]  # ECB/CBC: no tag
    return update


def _make_encryptor() -> Callable[[TripleDES | algorithms.SM4, modes.Mode], Update]:
    """The context factory every cipher here goes through. `Cipher(...).encryptor()` spends
    more than half its ~8 us in Python-level checks (mode against algorithm, key size through
    ABC isinstance calls) that this module has already made (`_check_key`, fixed modes); the
    Rust binding it ends in makes the same OpenSSL context without them. That binding is not a
    public API, so where it is missing the public path serves (same bytes: the tests compare)."""
    try:
        # (The package, then attributes: `_rust.openssl` is a submodule of a Rust extension,
        # absent from sys.modules, where a compiled `from ... import` would look for it.)
        from cryptography.hazmat.bindings import _rust

        create = _rust.openssl.ciphers.create_encryption_ctx
    except (ImportError, AttributeError):  # another cryptography: the public path
        return _public_encryptor

    def rust_encryptor(cipher_algorithm: TripleDES | algorithms.SM4, mode: modes.Mode) -> Update:
        update: Update = create(cipher_algorithm, mode).update
        return update

    return rust_encryptor


encryptor = _make_encryptor()


def _tdes(key24: bytes) -> TripleDES:
    """A TripleDES of a 24-byte key already checked here (`_check_key`): made without the
    library's own re-checks (byteslike, key size through the ABC), a third of a context's
    set-up cost at one cipher per MAC. Same object as `TripleDES(key24)` (the tests compare)."""
    cipher: TripleDES = object.__new__(TripleDES)
    cipher.key = key24
    return cipher


def _sm4(key16: bytes) -> algorithms.SM4:
    """An SM4 of a 16-byte key already checked here, as `_tdes`."""
    cipher: algorithms.SM4 = object.__new__(algorithms.SM4)
    cipher.key = key16
    return cipher


def cbc_context(algorithm: Algorithm, key: bytes) -> Update:
    """A CBC context with a zero IV under a MAC key (8 bytes DES, 16 bytes SM4), made the fast
    way (`encryptor`). Its `update` chains from one call to the next: a caller computing one
    CBC-MAC after another XORs each new message's first block with the last block out, as
    `MacKey` does."""
    if algorithm is Algorithm.SM4:
        _check_key(key, (16,), "SM4 MAC")
        return encryptor(_sm4(key), _CBC_IV0[16])
    _check_key(key, (8,), "DES MAC")
    return encryptor(_tdes(key * 3), _CBC_IV0[8])


def _ecb(cipher_algorithm: TripleDES | algorithms.SM4, data: bytes) -> bytes:
    block = cipher_algorithm.block_size // 8
    if len(data) % block:
        raise CryptoError(f"ECB: {len(data)} bytes is not a whole number of {block}-byte blocks")
    return bytes(encryptor(cipher_algorithm, _ECB)(data))


def des_ecb(key8: bytes, data: bytes) -> bytes:
    """Single-DES ECB encryption (as 3DES with K1 = K2 = K3)."""
    _check_key(key8, (8,), "DES")
    return _ecb(TripleDES(key8 * 3), data)


def tdes_ecb(key16: bytes, data: bytes) -> bytes:
    """Two-key 3DES (EDE) ECB encryption."""
    _check_key(key16, (16,), "3DES")
    return _ecb(TripleDES(key16 + key16[:8]), data)


def sm4_ecb(key16: bytes, data: bytes) -> bytes:
    """SM4 (GB/T 32907) ECB encryption."""
    _check_key(key16, (16,), "SM4")
    return _ecb(algorithms.SM4(key16), data)


_PADS = {block: [b"\x80" + bytes(-(n + 1) % block) for n in range(block)] for block in (8, 16)}


def pad80(data: bytes, block: int) -> bytes:
    """ISO/IEC 9797-1 padding method 2: always append 80, then 00s to a whole block."""
    pads = _PADS.get(block)
    if pads is None:
        padded = data + b"\x80"
        return padded + b"\x00" * (-len(padded) % block)
    return data + pads[len(data) % block]


class MacKey:
    """A MAC key in use (a session key, a TAC key): CBC-MACs under it share one CBC context.

    A CBC-MAC is the last block of CBC encryption. The context carries its chaining value (the
    last block out) from one update to the next, so each new message has its first block XORed
    with that value and with its own IV: the context's XOR cancels the first, and the cipher
    sees IV XOR block, as a fresh CBC would. Same bytes as a new context per MAC (the tests
    compare), one key schedule instead of one per MAC. One transaction's object: not shared
    between threads.
    """

    __slots__ = ("_block", "_last", "_update")

    def __init__(self, algorithm: Algorithm, key: bytes) -> None:
        cipher: TripleDES | algorithms.SM4
        if algorithm is Algorithm.SM4:
            _check_key(key, (16,), "SM4 MAC")
            cipher, self._block = _sm4(key), 16
        else:
            _check_key(key, (8,), "DES MAC")
            cipher, self._block = _tdes(key * 3), 8
        self._update = encryptor(cipher, _CBC_IV0[self._block])
        self._last = b""  # the context's chaining value: its last block out (none yet: zeros)

    def last_block(self, data: bytes, iv: bytes = b"") -> bytes:
        """The last block of CBC over `data` (whole blocks) with `iv` (empty: zeros)."""
        block = self._block
        if len(data) % block or not data:
            raise CryptoError(f"CBC: {len(data)} bytes is not a whole number of {block}-byte blocks")
        start = int.from_bytes(self._last, "big")  # (b"": 0, a fresh context's zero chaining value)
        if iv:
            start ^= int.from_bytes(iv, "big")
        if start:
            data = (int.from_bytes(data[:block], "big") ^ start).to_bytes(block, "big") + data[block:]
        last: bytes = self._update(data)[-block:]
        self._last = last
        return last

    def mac(self, data: bytes) -> bytes:
        """The PBOC MAC: CBC over pad80(data), IV 0, first 4 bytes."""
        block = self._block
        return self.last_block(data + _PADS[block][len(data) % block])[:4]


def mac(algorithm: Algorithm, session_key: bytes, data: bytes) -> bytes:
    """The PBOC transaction MAC (MAC1, MAC2, TAC): CBC over pad80(data), IV 0, first 4 bytes.
    (A key used for more than one MAC should be a `MacKey`.) One MAC, one fresh context: no
    chaining value to carry, so no `MacKey` is made (the tests compare)."""
    cipher: TripleDES | algorithms.SM4
    if algorithm is Algorithm.SM4:
        _check_key(session_key, (16,), "SM4 MAC")
        cipher, block = _sm4(session_key), 16
    else:
        _check_key(session_key, (8,), "DES MAC")
        cipher, block = _tdes(session_key * 3), 8
    return bytes(encryptor(cipher, _CBC_IV0[block])(data + _PADS[block][len(data) % block])[-block:][:4])


def session_key(algorithm: Algorithm, card_key: bytes, seed: bytes) -> bytes:
    """Derive a transaction session key from a card key and the 8-byte seed of the flow.

    Load seed: random(4) || online counter(2) || 8000. Purchase seed: random(4) || offline
    counter(2) || low two bytes of the terminal serial.
    """
    if len(seed) != 8:
        raise CryptoError(f"session key: seed of {len(seed)} bytes, expected 8")
    # One block, whole: the context's update gives it all (no finalize needed).
    if algorithm is Algorithm.SM4:
        return bytes(_card_key_update(algorithm, card_key)(pad80(seed, 16)))
    return bytes(_card_key_update(algorithm, card_key)(seed))


def session_mac_key(algorithm: Algorithm, card_key: bytes, seed: bytes) -> MacKey:
    """The MAC key of a transaction's session key (`session_key`), its context kept for the
    other side of the same transaction: the card and its PSAM (or the load host) derive the
    same session key, and the second finds its `MacKey` ready. A kept MacKey's chaining value
    travels with it, so a MAC under it is the same whoever asks first (the tests compare)."""
    sk = session_key(algorithm, card_key, seed)
    kept = _KEPT.macs
    mac_key = kept.get((algorithm, sk))
    if mac_key is None:
        mac_key = MacKey(algorithm, sk)
        _keep(kept, (algorithm, sk), mac_key)
    return mac_key


class _Kept(threading.local):
    """This thread's kept card-key ECB contexts and session MacKeys (a context must not run in
    two threads at once)."""

    def __init__(self) -> None:
        self.card_keys: dict[tuple[Algorithm, bytes], Update] = {}
        self.macs: dict[tuple[Algorithm, bytes], MacKey] = {}


_KEPT = _Kept()
T = TypeVar("T")


def _keep(kept: dict[tuple[Algorithm, bytes], T], slot: tuple[Algorithm, bytes], value: T) -> None:
    """Keep `value`; past SESSION_CONTEXTS_MAX the older ones go, all at once. The other side of
    a tap looks up what its first side has just kept, which stays: only a new key is kept, and
    it goes in after the clear. (Dropping the oldest one by one from the front of a dict would
    leave a trail of dead slots that each later look for the front walks again.)"""
    if len(kept) >= SESSION_CONTEXTS_MAX:
        kept.clear()
    kept[slot] = value


def _card_key_update(algorithm: Algorithm, card_key: bytes) -> Update:
    """The ECB `update` of a card key's context (3DES two-key, or SM4), kept for a while."""
    kept = _KEPT.card_keys
    update = kept.get((algorithm, card_key))
    if update is None:
        if algorithm is Algorithm.SM4:
            _check_key(card_key, (16,), "SM4")
            update = encryptor(_sm4(card_key), _ECB)
        else:
            _check_key(card_key, (16,), "3DES")
            update = encryptor(_tdes(card_key + card_key[:8]), _ECB)
        _keep(kept, (algorithm, card_key), update)
    return update


def drop_session_contexts() -> None:
    """Forget the kept card- and session-key contexts of this thread (a benchmark's trace
    counts the contexts one purchase sets up, so it starts from none)."""
    _KEPT.card_keys.clear()
    _KEPT.macs.clear()


def tac_key(algorithm: Algorithm, dtk: bytes) -> bytes:
    """The TAC key: left XOR right half of the 16-byte DTK for 3DES, the DTK itself for SM4."""
    _check_key(dtk, (16,), "TAC")
    if algorithm is Algorithm.SM4:
        return dtk
    return (int.from_bytes(dtk[:8], "big") ^ int.from_bytes(dtk[8:], "big")).to_bytes(8, "big")


def tac(algorithm: Algorithm, dtk: bytes, data: bytes) -> bytes:
    """Transaction authentication code over a record's fields, keyed by the card's DTK."""
    return mac(algorithm, tac_key(algorithm, dtk), data)


_masters = threading.local()  # per thread: a cipher context must not run in two threads at once


def master_contexts() -> dict[tuple[Algorithm, bytes], Update]:
    """This thread's kept master-key contexts (the purchase benchmark's trace counts the block
    work done on them)."""
    contexts: dict[tuple[Algorithm, bytes], Update] | None = getattr(_masters, "contexts", None)
    if contexts is None:
        contexts = _masters.contexts = {}
    return contexts


def _master_update(algorithm: Algorithm, master_key: bytes) -> Update:
    """The ECB `update` of a master key's context, set up once (per thread) and kept."""
    contexts = master_contexts()
    update = contexts.get((algorithm, master_key))
    if update is None:
        _check_key(master_key, (16,), "SM4" if algorithm is Algorithm.SM4 else "3DES")
        cipher = _sm4(master_key) if algorithm is Algorithm.SM4 else _tdes(master_key + master_key[:8])
        if len(contexts) >= MASTER_CONTEXTS_MAX:
            contexts.clear()
        update = contexts[(algorithm, master_key)] = encryptor(cipher, _ECB)
    return update


def diversify(algorithm: Algorithm, master_key: bytes, factor: bytes) -> bytes:
    """One level of key diversification: the card key from an issuer master key and the ASN.

    3DES: left = 3DES(MK, factor), right = 3DES(MK, NOT factor). SM4: SM4(MK, factor || NOT
    factor). DECIDE: one level only (city issuer master key -> card); the PSAM's second factor
    carries the issuer ID, which it checks against its own instead of diversifying again.
    (ECB encrypts blocks independently, so for 3DES one pass over factor || NOT factor gives
    left || right.)
    """
    if len(factor) != 8:
        raise CryptoError(f"diversify: factor of {len(factor)} bytes, expected the 8-byte ASN")
    inverted = (int.from_bytes(factor, "big") ^ _ALL_ONES_64).to_bytes(8, "big")
    return bytes(_master_update(algorithm, master_key)(factor + inverted))


def maintenance_mac(algorithm: Algorithm, key: bytes, challenge: bytes, data: bytes) -> bytes:
    """MAC of a secure-messaging command (APPLICATION BLOCK) under the card's maintenance key.

    3DES: ISO/IEC 9797-1 MAC algorithm 3 (DES CBC with the left key, 3DES on the last block),
    IV = challenge(4) || 00000000. SM4: SM4 CBC, IV = challenge(4) || twelve 00s. First 4 bytes.
    """
    _check_key(key, (16,), "maintenance MAC")
    if len(challenge) != 4:
        raise CryptoError(f"maintenance MAC: challenge of {len(challenge)} bytes, expected 4")
    if algorithm is Algorithm.SM4:
        return MacKey(Algorithm.SM4, key).last_block(pad80(data, 16), challenge + bytes(12))[:4]
    padded = pad80(data, 8)
    chained = challenge + bytes(4)
    if len(padded) > 8:
        chained = MacKey(Algorithm.DES3, key[:8]).last_block(padded[:-8], chained)
    last = (int.from_bytes(chained, "big") ^ int.from_bytes(padded[-8:], "big")).to_bytes(8, "big")
    return tdes_ecb(key, last)[:4]
