"""The clearing house as a separate process, for the verify campaign's `clearing-kill9` fault.

    python -m sim.verify.ingest DB FOLDER YYYY-MM-DD

ingests FOLDER's batch files in name order into the clearing database DB (the registry and
issuer keys are FOLDER/registry.toml and FOLDER/issuer-keys.toml), printing `ingesting NAME`
before each file, so the campaign can SIGKILL it in the middle of the night's work. Nothing
else: the settlement and the checks run in the campaign once it has restarted the ingest.
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

from model.backoffice import load_registry
from model.security import load_issuer_keys
from sim.day import BATCH_SUFFIX, BackOffice


def main(argv: list[str]) -> int:
    db, folder, day = Path(argv[0]), Path(argv[1]), date.fromisoformat(argv[2])
    office = BackOffice.open(
        db, load_registry(folder / "registry.toml"), load_issuer_keys(folder / "issuer-keys.toml")
    )
    for path in sorted(folder.glob(f"*{BATCH_SUFFIX}")):
        print(f"ingesting {path.name}", flush=True)
        office.clearing.ingest_file(path.read_bytes(), path.name, day)
    print("done", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
