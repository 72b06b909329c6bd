"""One writer per clearing database: an exclusive lock a second process reports in one line.

The clearing house decides duplicates, gaps and shadow balances from memory rebuilt from the
database when it opens; two processes writing one database would each decide from a memory
that misses the other's records. The lock is `flock(LOCK_EX | LOCK_NB)` on `<database>.lock`:
the kernel drops it when the holder exits, however it exits (a SIGKILL leaves no stale lease to
clear by hand). The file carries the holder's pid and start time, for the refusal's message.

The lock file lives only while the lock is held: `release` unlinks it, then closes it. Removing
a lock file is racy in the plain scheme (B opens the file, A unlinks and unlocks it, B locks the
unlinked inode while C creates and locks a new file: two holders). Here a lock counts only on
the file the path names at the moment it is locked: after `flock`, the holder compares the
inode it locked with the one the path names now, and when they differ (it locked a file that
its holder unlinked) it closes it and tries again. The holder unlinks while it still holds the
lock, so whoever then locks the old inode sees the path gone or renamed to a new inode. A
SIGKILLed holder leaves its file behind, unlocked: the next run locks it and removes it on
release. (The lock is advisory: on a filesystem without flock, such as some NFS mounts, it
guards nothing; the unique indexes below still do.)

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
# Each retry means a holder released between our open and our flock: it takes a run of
# releases that fast to exhaust these, and then the database is indeed busy.
LOCK_TRIES_MAX = 100

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
        for _ in range(LOCK_TRIES_MAX):
            handle = _locked(lock_path, db_path)
            if handle is not None:
                break
        else:
            raise ClearingError(f"{db_path}: the writer lock {lock_path} keeps being replaced; try again")
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
        try:
            # Unlinked while still locked: a process that opened this inode and locks it after
            # the close finds the path no longer names it, and starts over (`_locked`).
            os.unlink(self.lock_path)
        except OSError:
            pass  # removed or unwritable directory: the flock still goes with the close
        finally:
            handle.close()


def _locked(lock_path: str, db_path: Path | str) -> IO[bytes] | None:
    """The lock file, opened and locked, if the path still names the inode locked; None when
    it was a file its holder had unlinked (try again); ClearingError when another holds it."""
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
    except OSError as exc:
        handle.close()
        raise ClearingError(f"{lock_path}: cannot lock the writer lock: {exc.strerror}") from None
    try:
        named = os.stat(lock_path)
    except FileNotFoundError:
        named = None
    locked = os.fstat(handle.fileno())
    if named is None or (named.st_dev, named.st_ino) != (locked.st_dev, locked.st_ino):
        handle.close()
        return None
    return handle
