"""The lean tap path is byte-identical to the reference: a fixed-seed day (two shards, the
back-office port, so the issuance loads and every upload's batch file are in it) gives the same
digest of every card image and every uploaded batch file as the code before the lean path.

DIGEST_BEFORE was computed on `main` at f57eb18 (before the lean path) with this very function;
any change to a protocol byte, a record, a MAC, a TAC or a card image changes it."""

from __future__ import annotations

import hashlib

from model.records import NO_PSAM
from scenarios.schema import load
from sim.city import Kind, kind_of
from sim.city.world import build_world
from sim.day.night import BatchCollector
from sim.day.twin import CityDay

DIGEST_BEFORE = "172f08aae5a385eae9351e7cba5cbc6f939fee5b32aaa108349478b4fc6766f6"
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
