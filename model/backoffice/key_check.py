"""Before a night posts anything: do the issuer keys verify the night's records at all?

A wrong key file (a master missing, a key mistyped, last year's file) makes every TAC fail:
each record would be held as `forged-tac` and the night would exit as if terminals had lied.
This check samples the first records of every file (a bounded read of each file's head), groups
them by card issuer (the ASN's first 4 bytes), algorithm and key index, and stops the night
before anything is posted when a group's TACs all fail: the key file is named in the error.
Forged records are rare and come one by one; a whole group failing together is the keys.

Cost: O(files x SAMPLE_RECORDS_PER_FILE), capped at SAMPLE_RECORDS_MAX verifications.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from model.backoffice.tac_verifier import TacVerifier
from model.backoffice.terms import ClearingError
from model.errors import CardTwinError
from model.records import HEADER_SIZE, RECORD_SIZE, decode_record, parse_header

SAMPLE_RECORDS_PER_FILE = 4
SAMPLE_RECORDS_MAX = 4_000
# A group of fewer samples may be a handful of genuinely forged records: not judged.
ABNORMAL_SAMPLES_MIN = 8
SAMPLE_HEAD_BYTES = HEADER_SIZE + SAMPLE_RECORDS_PER_FILE * RECORD_SIZE


@dataclass(slots=True)
class _Group:
    tried: int = 0
    failed: int = 0
    example: str = ""


def check_night_keys(verifier: TacVerifier, heads: Iterable[tuple[str, bytes]], key_file: str) -> int:
    """ClearingError when a whole issuer/algorithm/key-index group of sampled TACs fails; else
    the number of TACs sampled.

    `heads`: each file's name and its first bytes (SAMPLE_HEAD_BYTES are enough)."""
    groups: dict[tuple[bytes, int, int], _Group] = {}
    sampled = 0
    for name, head in heads:
        try:
            count = parse_header(head[:HEADER_SIZE], name).record_count
        except CardTwinError:
            continue  # the ingest reports a damaged header
        for index in range(min(count, SAMPLE_RECORDS_PER_FILE, (len(head) - HEADER_SIZE) // RECORD_SIZE)):
            if sampled >= SAMPLE_RECORDS_MAX:
                break
            chunk = head[HEADER_SIZE + index * RECORD_SIZE : HEADER_SIZE + (index + 1) * RECORD_SIZE]
            try:
                record = decode_record(chunk, name, index)
            except CardTwinError:
                continue
            if record.no_proof:
                continue
            sampled += 1
            group = groups.setdefault((record.asn[:4], record.algorithm, record.key_index), _Group())
            group.tried += 1
            if not verifier.verify(record, chunk):
                group.failed += 1
                group.example = group.example or f"{name} record {index}"
    for (issuer, algorithm, key_index), group in sorted(groups.items()):
        if group.tried >= ABNORMAL_SAMPLES_MIN and group.failed == group.tried:
            raise ClearingError(
                f"{key_file}: all {group.tried} sampled records of issuer {issuer.hex()} "
                f"(algorithm {algorithm:02x}, key index {key_index}) fail their TAC, e.g. {group.example}: "
                "the key file is wrong; nothing was posted"
            )
    return sampled
