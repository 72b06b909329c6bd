"""Compile the tap path's modules (`model.native.NATIVE_MODULES`) with mypyc into build/native/.

Idempotent: nothing to do when the manifest's digest matches the sources. `scripts/setup.sh`
runs it after installing the project; `--force` rebuilds anyway. The sources are compiled as
they are (mypyc reads their type annotations), so the compiled modules answer what the sources
answer; `tests/devices/test_native.py` checks it byte for byte.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["CARDTWIN_PURE"] = "1"  # this process imports the sources only

from model import native  # noqa: E402  (the path above first)


def build() -> dict[str, str]:
    """Compile, then map every extension the build made (the modules and their shared library)
    to its path under the build directory."""
    from mypyc.build import mypycify
    from setuptools import Distribution
    from setuptools.command.build_ext import build_ext

    paths = [name.replace(".", "/") + ".py" for name in native.NATIVE_MODULES]
    shutil.rmtree(native.BUILD_DIR, ignore_errors=True)
    os.chdir(ROOT)  # mypyc reads the project's mypy settings from pyproject.toml here
    extensions = mypycify(paths, opt_level="3", target_dir="build/native-c")
    # A Distribution built by hand: setuptools' own `setup()` would re-read pyproject.toml's
    # project table, which the build does not need.
    distribution = Distribution({"name": "cardtwin-native", "ext_modules": extensions})
    distribution.verbose = False  # one line per compiler call otherwise
    command = build_ext(distribution)
    command.build_lib = str(native.BUILD_DIR)
    command.build_temp = str(ROOT / "build" / "native-tmp")
    command.parallel = os.cpu_count() or 1
    command.ensure_finalized()
    command.run()
    files = {}
    for path in native.BUILD_DIR.rglob("*.so"):
        relative = path.relative_to(native.BUILD_DIR)
        module = ".".join((*relative.parent.parts, relative.name.split(".")[0]))
        files[module] = str(relative)
    missing = set(native.NATIVE_MODULES) - set(files)
    if missing:
        raise SystemExit(f"build_native: no extension for {', '.join(sorted(missing))}")
    return files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="rebuild even when the build is current")
    args = parser.parse_args()
    digest = native.sources_digest()
    try:
        current = json.loads(native.MANIFEST.read_text()).get("digest") == digest
    except (OSError, ValueError):
        current = False
    if current and not args.force:
        print("build_native: compiled modules are current")
        return
    started = time.perf_counter()
    print(f"build_native: compiling {len(native.NATIVE_MODULES)} modules with mypyc")
    files = build()
    native.MANIFEST.write_text(json.dumps({"digest": digest, "files": files}, indent=1) + "\n")
    print(f"build_native: done in {time.perf_counter() - started:.0f} s ({native.BUILD_DIR})")


if __name__ == "__main__":
    main()
