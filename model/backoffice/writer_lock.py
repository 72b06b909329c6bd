"""One writer per clearing database: an exclusive lock a second process reports in one line.

The clearing house decides duplicates, gaps and shadow balances from memory rebuilt from the
database when it opens; two processes writing one database would each decide from a memory
that misses the other's records. The lock is `flock(LOCK_EX | LOCK_NB)` on `<database>.lock`:
the kernel drops it when the holder exits, however it exits (a SIGKILL leaves no stale lease to
clear by hand). The file carries the holder's pid and start time, for the refusal's message.

The lock is the first guard; the second is in the schema (`model.backoffice.clearing`): unique
indexes on a record's identity make a double post impossible even if the lock is bypassed (a
copy of the database on a filesystem without locks, a tool that opens the file directly).

Inside one process the lock is counted, so the week's simulation and the verify campaign can
reopen the database they already hold; the unique indexes guard that case too.
"""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path
from typing import IO

from model.backoffice.terms import ClearingError

LOCK_SUFFIX = ".lock"
HOLDER_TEXT_MAX = 200  # bytes of the holder's note read back for the message

_held: dict[str, tuple[IO[bytes], int]] = {}  # resolved lock path -> (open file, opens)


class WriterLock:
    """The held lock of one clearing database; `release` once per `acquire`."""

    def __init__(self, lock_path: str) -> None:
        self.lock_path = lock_path
        self._released = False

    @staticmethod
    def acquire(db_path: Path | str) -> WriterLock | None:
        """The database's writer lock, or ClearingError naming the holder. None for ':memory:'."""
        if str(db_path) == ":memory:":
            return None
        lock_path = str(Path(str(db_path) + LOCK_SUFFIX).resolve())
        held = _held.get(lock_path)
        if held is not None:
            _held[lock_path] = (held[0], held[1] + 1)
            return WriterLock(lock_path)
        try:
            handle = open(lock_path, "a+b")  # noqa: SIM115 - held open for the lock's lifetime
        except OSError as exc:
            raise ClearingError(f"{lock_path}: cannot open the writer lock: {exc.strerror}") from None
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read(HOLDER_TEXT_MAX).decode("ascii", "replace").strip() or "another process"
            handle.close()
            raise ClearingError(
                f"{db_path}: another clearing run holds this database ({holder}); "
                "wait for it to finish, one writer per database"
            ) from None
        handle.truncate(0)
        handle.write(f"pid {os.getpid()} since {time.strftime('%Y-%m-%dT%H:%M:%S')}".encode())
        handle.flush()
        _held[lock_path] = (handle, 1)
        return WriterLock(lock_path)

    def release(self) -> None:
        if self._released:
            return
        self._released = True
        handle, opens = _held[self.lock_path]
        if opens > 1:
            _held[self.lock_path] = (handle, opens - 1)
            return
        del _held[self.lock_path]
        handle.close()  # closing the last descriptor drops the flock
