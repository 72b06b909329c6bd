"""The lean tap path is byte-identical to the reference: a fixed-seed day (two shards, the
back-office port, so every upload's batch file is in it) gives the same digest of every card
image and every uploaded batch file as the code before the lean path.

DIGEST_BEFORE was computed with this very function on `main` at 2da91c3: the code before the lean
path, after opening balances became an opening float (no issuance loads; the lean branch matched
its own reference on f57eb18, with them, too). Re-based when the recharge queues became
full-scale (`sim.day.recharge.Background`): other waits give the loads other moments, so other
records; on that commit the day built with the former queues (each shard's share of the points,
sampled arrivals alone) still gave the former digest 7b314af9...ab33453; and again when taxis
and shops got their own time-of-day profiles (other tap times: bc7e85f4...baddf608a with the
full-scale queues and the commuter profile for every sector); and again when a citizen's day
became a trip chain (`sim.city.chains`: other transit and shop times, same counts;
11f18d61...bd4459e398 with the per-sector profiles and independently timed trips). Any change
to a protocol byte, a record, a MAC, a TAC or a card image changes it."""

from __future__ import annotations

import hashlib

from model.records import NO_PSAM
from scenarios.schema import load
from sim.city import Kind, kind_of
from sim.city.world import build_world
from sim.day.night import BatchCollector
from sim.day.twin import CityDay

DIGEST_BEFORE = "511108ce6ca098565a682dd0a49755745863c6de2ae8c392b3515a4b7a72659d"
SHARDS = 2


def _psam_of(terminal: bytes) -> bytes:
    return NO_PSAM if kind_of(terminal) in (Kind.KIOSK, Kind.WINDOW) else terminal


def day_digest(sample: float = 0.001, seed: int = 7) -> tuple[str, int, int]:
    """SHA-256 over every shard's card images (in row order) and upload files (in upload
    order), with the number of images and uploads digested."""
    scenario = load().replace(sample=sample, seed=seed, shards=SHARDS, clearing="backoffice")
    digest = hashlib.sha256()
    images = uploads = 0
    for shard in range(SHARDS):
        world = build_world(scenario, shard, SHARDS)
        port = BatchCollector(shard, world.day_start, _psam_of)
        CityDay(world, port).run()
        for image in world.population.images:
            digest.update(len(image).to_bytes(4, "big") + image)
            images += 1
        for upload in port.uploads:
            digest.update(upload.name.encode() + len(upload.raw).to_bytes(4, "big") + upload.raw)
            uploads += 1
    return digest.hexdigest(), images, uploads


def test_the_lean_day_is_byte_identical_to_the_reference() -> None:
    digest, images, uploads = day_digest()
    assert images > 500 and uploads > 50, (images, uploads)
    assert digest == DIGEST_BEFORE
