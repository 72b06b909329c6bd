"""The tap path's modules compiled by mypyc, used in place of their sources when built and current.

The Python sources stay the reference and the only source of truth: `scripts/build_native.py`
(run by `scripts/setup.sh`) compiles the modules of `NATIVE_MODULES`, unchanged, into
`build/native/`, and writes a manifest holding the digest of every source they could depend
on (all of `model/` and `devices/`, the build script and this file). Importing `model` or
`devices` installs a finder that loads those modules from the build, and only when the digest
still matches the sources: an edit anywhere in `model/` or `devices/` makes every module come
from its source again until the next build (a compiled module calls the others of its build
directly, so one stale module makes the whole build stale, never half of it).

`CARDTWIN_PURE=1` in the environment runs the sources even when the build is current (the
reference path; `tests/devices/test_native.py` runs both and compares their bytes).

Which modules: the card OS, its image, the PSAM, the APDU and file layouts, the crypto and MAC inputs,
the terminal applications and their records; and the clearing house's night per record (its
checks, holds, memory of spent identities, stage, postings, TAC verifier, key cache and hotlist:
~17% more records per CPU-second in `cardtwin bench clearing`). `tests/devices/test_native.py`
also runs a city day and its night both ways and compares every report file and every row of
the clearing database. Not compiled: `devices.sim_channel`, `model.terminal.fares` and the
clearing house's `house` and `terms` (classes other modules subclass: an interpreted class
cannot inherit from a compiled one). A compiled module calls a function of its build directly,
so patching one (`unittest.mock`) reaches only interpreted callers; a module-level variable
such as `crypto.encryptor` is still looked up at each call.
"""

from __future__ import annotations

import hashlib
import importlib.abc
import importlib.machinery
import importlib.util
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

PURE_ENV = "CARDTWIN_PURE"
NATIVE_MODULES = (
    "devices.card_answers",
    "devices.card_files",
    "devices.card_os",
    "devices.card_random",
    "devices.card_state",
    "devices.psam",
    "model.backoffice.batch_ingest",
    "model.backoffice.holds",
    "model.backoffice.identity",
    "model.backoffice.lifecycle",
    "model.backoffice.posting",
    "model.backoffice.record_checks",
    "model.backoffice.stage",
    "model.backoffice.tac_verifier",
    "model.card.access",
    "model.card.apdu",
    "model.card.commands",
    "model.card.files",
    "model.card.tlv",
    "model.records.batch",
    "model.records.record",
    "model.security.crypto",
    "model.security.key_cache",
    "model.security.mac_inputs",
    "model.terminal.acceptor",
    "model.terminal.journal",
    "model.terminal.load",
    "model.terminal.purchase",
    "model.terminal.recovery",
    "model.timefmt",
)
ROOT = Path(__file__).resolve().parent.parent
BUILD_DIR = ROOT / "build" / "native"
MANIFEST = BUILD_DIR / "manifest.json"
_SOURCE_DIRS = ("model", "devices")
_BUILD_SCRIPT = ROOT / "scripts" / "build_native.py"


def sources_digest(root: Path = ROOT) -> str:
    """SHA-256 over every source a compiled module could depend on, the module list and the
    Python version (the extensions' ABI)."""
    digest = hashlib.sha256()
    digest.update(f"{sys.version_info[:2]} {NATIVE_MODULES}".encode())
    paths = sorted(p for d in _SOURCE_DIRS for p in (root / d).rglob("*.py"))
    for path in [*paths, root / "scripts" / "build_native.py"]:
        if path.is_file():
            digest.update(str(path.relative_to(root)).encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def current_build() -> dict[str, str] | None:
    """The build's module -> extension file map, if the build exists and matches the sources."""
    try:
        manifest = json.loads(MANIFEST.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(manifest, dict) or manifest.get("digest") != sources_digest():
        return None
    files = manifest.get("files")
    if not isinstance(files, dict) or set(NATIVE_MODULES) - set(files):
        return None
    return {name: str(BUILD_DIR / path) for name, path in files.items()}


class _NativeFinder(importlib.abc.MetaPathFinder):
    """Finds the compiled extension of a module of the build (and the build's shared library)."""

    def __init__(self, files: dict[str, str]) -> None:
        self.files = files

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        location = self.files.get(fullname)
        if location is None:
            return None
        loader = importlib.machinery.ExtensionFileLoader(fullname, location)
        return importlib.util.spec_from_file_location(fullname, location, loader=loader)


def status() -> str:
    """Which code runs the tap path, one word for a benchmark's `key=value` line: `compiled`, or
    `pure:opted-out` (CARDTWIN_PURE set), `pure:no-build`, `pure:stale-build` (sources changed
    since the build: scripts/setup.sh rebuilds it)."""
    if any(isinstance(f, _NativeFinder) for f in sys.meta_path):
        return "compiled"
    if os.environ.get(PURE_ENV, "") not in ("", "0"):
        return "pure:opted-out"
    return "pure:stale-build" if MANIFEST.exists() else "pure:no-build"


def install() -> None:
    """Put the build's finder first on the import path, once, unless told to run the sources."""
    if os.environ.get(PURE_ENV, "") not in ("", "0"):
        return
    if any(isinstance(f, _NativeFinder) for f in sys.meta_path):
        return
    files = current_build()
    if files is not None:
        sys.meta_path.insert(0, _NativeFinder(files))
