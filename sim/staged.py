"""A results folder that appears only when complete: written aside, then renamed into place.

A run that fails half way leaves no folder that looks finished: the partial one (named
`.NAME.partial-XXXX` next to it) is removed, and an earlier complete folder of the same name is
replaced only once the new one is whole.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def staged_folder(final: Path) -> Iterator[Path]:
    """Yield an empty folder to write into; on success it becomes `final`."""
    final.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{final.name}.partial-", dir=final.parent))
    try:
        yield work
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    old = None
    if final.exists():
        old = final.with_name(f".{final.name}.old-{work.name[-8:]}")
        final.rename(old)
    work.rename(final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
