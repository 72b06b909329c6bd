"""The card-image store: the bytes in are the bytes out, whatever grows, moves or compacts."""

from __future__ import annotations

import random

import numpy as np
import pytest

from sim.city import images
from sim.city.images import GARBAGE_SHARE_MAX, SLOT_SLACK_BYTES, ImageStore


@pytest.mark.parametrize("chunk", [images.COMPACT_CHUNK, 7])
def test_images_read_back_as_written_through_growth_moves_and_compactions(
    chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A chunk of 7 slots: each compaction moves slots across hundreds of chunk boundaries.
    monkeypatch.setattr(images, "COMPACT_CHUNK", chunk)
    rng = random.Random(3)
    reference = [rng.randbytes(rng.randint(100, 180)) for _ in range(2_000)]
    store = ImageStore.of(reference)
    for _ in range(20_000):
        row = rng.randrange(len(reference))
        # Mostly a log record more (23 bytes: in place), sometimes much more (a move), or less.
        grow = rng.choice((23, 23, 23, 60, -10))
        image = rng.randbytes(max(1, len(reference[row]) + grow) % 600 + 1)
        store[row] = reference[row] = image
    assert list(store) == reference
    assert store == ImageStore.of(reference)
    # Abandoned slots never exceed their share of the buffer (plus the one being written), and
    # the buffer reserves at most a sixteenth more.
    live = sum(len(i) + SLOT_SLACK_BYTES for i in reference)
    assert store.nbytes - 8 * len(reference) <= (live / (1 - GARBAGE_SHARE_MAX) + 700) * 17 / 16


def test_an_oversized_image_is_refused() -> None:
    store = ImageStore.of([b"x"])
    with pytest.raises(ValueError, match="card image of row 0: 70000 bytes"):
        store[0] = bytes(70_000)
    assert store[0] == b"x"  # nothing changed


def test_offsets_widen_past_32_bits_and_every_image_still_reads_back(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(images, "_OFFSET32_MAX", 1_000)  # a 4 GiB buffer, scaled down
    reference = [bytes([k]) * 150 for k in range(20)]
    store = ImageStore.of(reference)
    assert store._at.dtype == np.int64  # past the limit at the 6th image
    store[3] = reference[3] = bytes(400)  # a move to the end, at a 64-bit offset
    assert list(store) == reference


def test_offsets_are_32_bit_while_the_buffer_is_under_4_gib() -> None:
    store = ImageStore.of([bytes(150)] * 10)
    assert store._at.dtype == np.uint32 and store.nbytes == 10 * (150 + SLOT_SLACK_BYTES) + 10 * 8


def test_a_card_never_written_is_its_issued_image_and_holds_no_bytes() -> None:
    issued = {row: bytes([row]) * 140 for row in range(5)}
    calls: list[int] = []

    def issue(row: int) -> bytes:
        calls.append(row)
        return issued[row]

    store = ImageStore(5, issue)
    assert store.nbytes == 5 * 8  # slot columns only
    assert store[2] == issued[2] and calls == [2]
    store[2] = issued[2]  # a tap that changed nothing writes the same bytes back
    assert store.nbytes == 5 * 8
    store[3] = bytes(163)  # a tap on another card: now it has its slot
    assert store.nbytes == 163 + SLOT_SLACK_BYTES + 5 * 8
    assert store[3] == bytes(163) and calls == [2]  # read from its slot, not issued again
    assert list(store) == [issued[0], issued[1], issued[2], bytes(163), issued[4]]
    assert calls == [2, 0, 1, 2, 4]
