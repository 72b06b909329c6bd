"""The floors a purchase is measured against: the cipher work it really does, nothing else.

`CipherTrace` records, while one real purchase runs, every cipher context the crypto module
sets up and every `update` call made on one (its cipher, key size, mode and byte count): those
calls are the purchase's block operations, counted from the protocol as it runs, not from a
list written by hand. `CryptoFloor` replays exactly those calls on contexts set up once and
reused: what the purchase would cost if all it did were its block operations through the
`cryptography` package. `openssl_blocks_per_s` asks the C library itself (`openssl speed`) how
many blocks of the cipher it encrypts a second: the floor of the same block work in C.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from unittest import mock

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import algorithms, modes

from model.security import Algorithm, crypto

OPENSSL_TIMEOUT_S = 30
OPENSSL_BYTES = 64  # bytes per call in `openssl speed`: 8 or 4 blocks, the cipher's bulk rate
_SPEED_LINE = re.compile(r"^(DES-EDE3|SM4)\S*\s+([0-9.]+)k\b", re.MULTILINE)

CipherAlgorithm = TripleDES | algorithms.SM4


@dataclass(frozen=True, slots=True)
class CipherCall:
    """One `update` of a purchase: on a context of this cipher, key size and mode."""

    cipher: type[CipherAlgorithm]
    key_bytes: int
    cbc: bool
    data_bytes: int

    @property
    def blocks(self) -> int:
        return self.data_bytes // (self.cipher.block_size // 8)

    @property
    def single_des_ops(self) -> int:
        """Single-DES block operations (a 3DES block is three; a DES key as K1=K2=K3 is one,
        though the library runs it as three); SM4 blocks count as themselves."""
        if self.cipher is not TripleDES or self.key_bytes == 8:
            return self.blocks
        return 3 * self.blocks


@dataclass(slots=True)
class CipherTrace:
    """Every context set-up and `update` call the crypto module makes while active."""

    contexts: int = 0
    calls: list[CipherCall] = field(default_factory=list)

    def record(self, work: Callable[[], object]) -> None:
        """Run `work` with every context set-up and `update` call counted, those on the
        issuer master keys' kept contexts too. The card- and session-key contexts kept from
        before are dropped first, so a context the work shares between card and PSAM counts
        once, as it is set up once; and dropped after, so no counted context outlives the
        trace. The module's `encryptor` is replaced and its kept master contexts wrapped in
        place, for the time of the trace: nothing that a compiled caller of the module
        (`model.native`) would call past, as it calls past a replaced function."""
        real_encryptor = crypto.encryptor
        crypto.drop_session_contexts()

        def traced(cipher: CipherAlgorithm, mode: modes.Mode) -> crypto.Update:
            self.contexts += 1
            return self._counted(real_encryptor(cipher, mode), cipher, mode)

        masters = crypto.master_contexts()
        kept = dict(masters)
        for (algorithm, master_key), update in kept.items():
            cipher: CipherAlgorithm = (
                algorithms.SM4(master_key)
                if algorithm is Algorithm.SM4
                else TripleDES(master_key + master_key[:8])
            )
            masters[(algorithm, master_key)] = self._counted(update, cipher, modes.ECB())
        try:
            with mock.patch.object(crypto, "encryptor", traced):
                work()
        finally:
            for slot in [slot for slot in masters if slot not in kept]:
                del masters[slot]  # set up during the trace, counted: made afresh next time
            masters.update(kept)
        crypto.drop_session_contexts()

    def _counted(self, update: crypto.Update, cipher: CipherAlgorithm, mode: modes.Mode) -> crypto.Update:
        # A DES key goes in as k*3 (24 bytes): its calls are single-DES ones.
        key = cipher.key
        key_bytes = 8 if len(key) == 24 and key[:8] == key[8:16] == key[16:] else len(key)
        call = (type(cipher), key_bytes, isinstance(mode, modes.CBC))

        def counted(data: bytes) -> bytes:
            self.calls.append(CipherCall(*call, len(data)))
            return update(data)

        return counted

    @property
    def blocks(self) -> int:
        return sum(c.blocks for c in self.calls)

    @property
    def single_des_ops(self) -> int:
        return sum(c.single_des_ops for c in self.calls)


class CryptoFloor:
    """A purchase's `update` calls, replayed on contexts set up once (one per cipher, key size
    and mode) and reused for every purchase."""

    def __init__(self, calls: list[CipherCall]) -> None:
        contexts: dict[tuple[type[CipherAlgorithm], int, bool], crypto.Update] = {}
        self.ops: list[tuple[crypto.Update, bytes]] = []
        for call in calls:
            key = (call.cipher, call.key_bytes, call.cbc)
            if key not in contexts:
                block = call.cipher.block_size // 8
                raw = bytes(range(1, call.key_bytes + 1))
                cipher = (
                    TripleDES(raw * 3 if call.key_bytes == 8 else raw)
                    if call.cipher is TripleDES
                    else algorithms.SM4(raw)
                )
                mode = modes.CBC(bytes(block)) if call.cbc else modes.ECB()
                contexts[key] = crypto.encryptor(cipher, mode)
            self.ops.append((contexts[key], bytes(call.data_bytes)))

    def run(self, count: int) -> tuple[float, float]:
        """CPU and wall seconds of `count` purchases' block work."""
        ops = self.ops
        start, start_cpu = time.perf_counter(), time.process_time()
        for _ in range(count):
            for update, data in ops:
                update(data)
        return time.process_time() - start_cpu, time.perf_counter() - start


def openssl_blocks_per_s(algorithm: Algorithm) -> float | None:
    """Blocks a second of the algorithm's cipher in OpenSSL's own C (`openssl speed -evp`, ECB,
    64-byte calls, one second), or None where no `openssl` command runs."""
    exe = shutil.which("openssl")
    if exe is None:
        return None
    cipher, block = ("sm4-ecb", 16) if algorithm is Algorithm.SM4 else ("des-ede3", 8)
    command = [exe, "speed", "-evp", cipher, "-seconds", "1", "-bytes", str(OPENSSL_BYTES)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=OPENSSL_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return parse_openssl_speed(done.stdout, block)


def parse_openssl_speed(output: str, block_bytes: int) -> float | None:
    """Blocks a second from `openssl speed` output: its table row is `NAME  1234.56k`, in 1000s
    of bytes a second. None if no such row."""
    found = _SPEED_LINE.search(output)
    if found is None:
        return None
    return float(found.group(2)) * 1000 / block_bytes
