"""The card's random source: the challenges and random numbers its commands draw.

A card OS draws from anything with `randbytes` (a `random.Random` in tests); the city twin
gives every materialised card a `DerivedRandom`, which is reproducible from the card's seed.
"""

from __future__ import annotations

import hashlib
from typing import Protocol


class RandomSource(Protocol):
    def randbytes(self, n: int) -> bytes: ...


class DerivedRandom:
    """A deterministic random source from a seed: BLAKE2b(seed || draw number).

    A card is materialised for every tap, so its random source must be cheap to make:
    seeding `random.Random` costs about 9 us, this costs nothing until the first draw."""

    __slots__ = ("_draws", "_seed")

    def __init__(self, seed: bytes) -> None:
        self._seed = seed
        self._draws = 0

    def randbytes(self, n: int) -> bytes:
        if n <= 32:  # (every INITIALIZE draws 4: one digest, no loop)
            self._draws += 1
            return hashlib.blake2b(self._seed + self._draws.to_bytes(4, "big"), digest_size=32).digest()[:n]
        out = b""
        while len(out) < n:
            self._draws += 1
            out += hashlib.blake2b(self._seed + self._draws.to_bytes(4, "big"), digest_size=32).digest()
        return out[:n]
