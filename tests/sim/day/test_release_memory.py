"""Before the day a shard hands its build's garbage back: the C heap's free pages between live
blocks (what the whole population's draw arrays leave) return to the system."""

from __future__ import annotations

import numpy as np
import pytest

from sim.day.shards import _anon_bytes, _malloc_trim, release_free_memory

BLOCK_FLOATS = 2_500  # 20 kB: heap blocks (below glibc's mmap threshold, whatever it has become)
BLOCKS = 8_000  # 160 MB, every other block freed: 80 MB of holes between live blocks


@pytest.mark.skipif(_malloc_trim() is None or _anon_bytes() == 0, reason="glibc and /proc only")
def test_freed_blocks_between_live_ones_leave_the_resident_memory() -> None:
    blocks = [np.ones(BLOCK_FLOATS) for _ in range(BLOCKS)]
    del blocks[::2]
    held = _anon_bytes()
    release_free_memory()
    released = held - _anon_bytes()
    freed = BLOCKS // 2 * BLOCK_FLOATS * 8
    assert released > freed // 2, (released, freed)
    assert all(float(b[-1]) == 1.0 for b in blocks)  # the live blocks are intact
