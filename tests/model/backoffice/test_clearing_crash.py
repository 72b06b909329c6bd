"""A clearing run killed with SIGKILL mid-ingest leaves a consistent database; a rerun finishes
the job without posting anything twice. Real subprocess, real kill."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from model.security.keys import generate_issuer_keys, issuer_keys_toml
from sim.bench.synthetic_batches import synthetic_batches, synthetic_registry

FILES_RECORDS = 60_000
PER_BATCH = 1_000
TERMINALS = 20
CLI = [sys.executable, "-c", "from sim.cli import main; main()", "clearing"]


def _count(db_path: Path, sql: str) -> int:
    if not db_path.exists():
        return 0
    db = sqlite3.connect(db_path, timeout=5)  # reads only; WAL lets it read beside the writer
    try:
        return int(db.execute(sql).fetchone()[0])
    except sqlite3.OperationalError:
        return 0  # tables not made yet
    finally:
        db.close()


def test_sigkill_mid_ingest_then_rerun_posts_everything_once(tmp_path: Path) -> None:
    folder = tmp_path / "uploads"
    folder.mkdir()
    keys = generate_issuer_keys(3, bytes.fromhex("3301000000000001"))
    files = synthetic_batches(keys, FILES_RECORDS, cards=600, terminals=TERMINALS, per_batch=PER_BATCH)
    for name, raw in files:
        (folder / name).write_bytes(raw)
    (folder / "registry.toml").write_text(synthetic_registry(TERMINALS).to_toml(), encoding="utf-8")
    (folder / "issuer-keys.toml").write_text(issuer_keys_toml(keys), encoding="utf-8")
    db_path = tmp_path / "clearing.db"

    process = subprocess.Popen([*CLI, str(folder), "--db", str(db_path)], stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while _count(db_path, "SELECT COUNT(*) FROM batches") < 3:
        assert process.poll() is None, "the run ended before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.002)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL

    # Consistent: whole batches only, every posting balanced.
    batches = _count(db_path, "SELECT COUNT(*) FROM batches")
    assert 3 <= batches < len(files), "killed after it had started posting and before the end"
    assert _count(db_path, "SELECT COUNT(*) FROM records") == batches * PER_BATCH
    assert (
        _count(
            db_path, "SELECT COUNT(*) FROM (SELECT posting_id FROM entries GROUP BY 1 HAVING SUM(amount_fen))"
        )
        == 0
    )

    rerun = subprocess.run(
        [*CLI, str(folder), "--db", str(db_path)], capture_output=True, text=True, timeout=120
    )
    assert rerun.returncode == 0, rerun.stderr
    assert f"{batches} files seen before" in rerun.stdout
    assert _count(db_path, "SELECT COUNT(*) FROM records") == FILES_RECORDS
    assert _count(db_path, "SELECT COUNT(DISTINCT key) FROM records") == FILES_RECORDS
    assert _count(db_path, "SELECT COUNT(*) FROM quarantine") == 0
    assert _count(db_path, "SELECT COUNT(*) FROM settled") == FILES_RECORDS
    total = sum(182 + n % 17 for n in range(FILES_RECORDS))
    assert _count(db_path, "SELECT SUM(amount_fen) FROM entries WHERE account = 'float'") == total

    again = subprocess.run(
        [*CLI, str(folder), "--db", str(db_path)], capture_output=True, text=True, timeout=120
    )
    assert again.returncode == 0, again.stderr
    assert "0 records posted" in again.stdout and "already run" in again.stdout
    assert _count(db_path, "SELECT COUNT(*) FROM records") == FILES_RECORDS
