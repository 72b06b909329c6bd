"""The purchase benchmark's floors: block operations counted from a real purchase, replayed on
reused contexts, and OpenSSL's figures read from its own output."""

from __future__ import annotations

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES

from model.security import Algorithm, crypto
from sim.bench.floors import CipherCall, CipherTrace, CryptoFloor, parse_openssl_speed

OPENSSL_3_OUTPUT = """version: 3.0.19
The 'numbers' are in 1000s of bytes per second processed.
type             64 bytes
DES-EDE3-ECB     19214.71k
"""


def test_openssl_speed_output_gives_blocks_per_second() -> None:
    assert parse_openssl_speed(OPENSSL_3_OUTPUT, 8) == 19214.71 * 1000 / 8
    assert parse_openssl_speed("SM4-ECB  80000.00k\n", 16) == 5_000_000
    assert parse_openssl_speed("no table here", 8) is None


def test_the_trace_counts_diversification_on_the_kept_master_context_and_each_mac() -> None:
    master, asn = bytes(range(16)), bytes(range(8))
    crypto.diversify(Algorithm.DES3, master, asn)  # the master's context, kept from now on
    trace = CipherTrace()

    def work() -> None:
        crypto.diversify(Algorithm.DES3, master, asn)
        crypto.MacKey(Algorithm.DES3, bytes(range(8, 16))).mac(b"\x01" * 18)

    trace.record(work)
    assert trace.contexts == 1  # the MAC key's; the master's was kept
    assert trace.calls == [
        CipherCall(TripleDES, 16 + 8, False, 16),  # two 3DES blocks: left and right card key
        CipherCall(TripleDES, 8, True, 24),  # 18 bytes padded to three single-DES blocks
    ]
    assert (trace.blocks, trace.single_des_ops) == (5, 2 * 3 + 3)
    floor = CryptoFloor(trace.calls)
    assert [len(data) for _, data in floor.ops] == [16, 24]
    cpu_s, wall_s = floor.run(10)
    assert cpu_s >= 0 and wall_s > 0
