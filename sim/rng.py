"""Named random streams: one numpy Generator per purpose, derived from the scenario seed.

A stream's numbers depend only on (seed, name, shard), never on how many numbers another
stream drew, so adding a fault draw does not move the population, and a run is reproducible
to the last fen.
"""

from __future__ import annotations

import hashlib
import random

import numpy as np

# Imported here, not on first use: numpy loads `random` lazily, and each forked shard would
# load it (~1 MB) for itself.
from numpy.random import PCG64, Generator, SeedSequence


def stream(seed: int, name: str, shard: int = 0) -> np.random.Generator:
    """The generator for `name`; the same arguments always give the same sequence."""
    digest = hashlib.sha256(f"{name}/{shard}".encode()).digest()
    key = int.from_bytes(digest[:8], "big")
    return Generator(PCG64(SeedSequence([seed, key])))


def keyed(seed: int, name: str, *key: int) -> random.Random:
    """A small generator for one event of one citizen (e.g. its 3rd recharge trip): the draw
    depends on who and which event, not on what other citizens did before, so a citizen's day
    is the same in whichever shard it runs."""
    digest = hashlib.blake2b(f"{seed}/{name}/{'/'.join(map(str, key))}".encode(), digest_size=8).digest()
    return random.Random(int.from_bytes(digest, "big"))
