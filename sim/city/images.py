"""Every citizen's card image in one buffer: the population's only per-citizen bytes.

A list of `bytes` costs each image a 33-byte object header and an 8-byte pointer, and, worse,
every tap replaces a card's image with a longer one (a log record more), so the old images'
small-object pools stay allocated, half empty, under the new ones: a full-scale day ended with
roughly old plus new images resident. Here an image is a slot in one byte buffer, found by its
offset; a slot is made with room for one more log record, so most taps write in place; an image
that outgrows its slot moves to the end, and once the abandoned slots exceed a share of the
buffer it is compacted (one pass, in row order). The buffer is a numpy array grown by
`realloc` in steps of at most GROW_BYTES_MAX (a `bytearray` keeps an eighth more than it holds
whenever it grows, ~15 bytes a card), so what it reserves beyond its slots stays small. The
bytes handed out and taken in are the images themselves: same bytes as a list would hold (the
day's digest test compares).

A card no one has written since its issue holds no slot: its image is made again, when read, by
the store's `issue` (the card factory's, deterministic), and a card's first write gives it its
slot. A third of a city's cards are not tapped on a given day, and the build personalises no
card it does not use (personalising every card, then holding it, took ~1.4 MB and its build
garbage ~1.2 MB in a 10,000-citizen shard).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import numpy as np

SLOT_SLACK_BYTES = 24  # one log record (23 bytes) more than the image, so a tap writes in place
GARBAGE_SHARE_MAX = 0.125  # abandoned slot bytes, as a share of the buffer, before compacting
IMAGE_BYTES_MAX = 0xFFFF
_OFFSET32_MAX = 0xFFFF_FFFF
COMPACT_CHUNK = 4096  # slots moved per batch of Python numbers
GROW_BYTES_MAX = 64 * 1024  # the buffer grows by a sixteenth of itself, at most this


class ImageStore:
    """Card images by row: `store[row]` gives one, `store[row] = image` replaces it."""

    __slots__ = ("_at", "_buf", "_cap", "_end", "_garbage", "_issue", "_issued", "_len", "_view")

    def __init__(self, count: int, issue: Callable[[int], bytes]) -> None:
        """`count` rows, each as `issue(row)` makes it until it is first written."""
        self._at = np.zeros(count, np.uint32)  # offsets; widened to int64 past 4 GiB (`_append`)
        self._len = np.zeros(count, np.uint16)
        self._cap = np.zeros(count, np.uint16)  # 0: no slot (the card as issued)
        self._buf = np.zeros(0, np.uint8)
        self._view = self._buf.data  # slices of bytes in and out without numpy's overhead
        self._end = 0  # the bytes in slots (abandoned ones included); the rest is reserve
        self._garbage = 0
        self._issue = issue
        # The last image issued (row, bytes): a tap that leaves an issued card unchanged (refused,
        # or a read) writes back these bytes, which then need no slot.
        self._issued: tuple[int, bytes] = (-1, b"")

    @classmethod
    def of(cls, images: Sequence[bytes]) -> ImageStore:
        """A store holding `images`, each in its slot (no row is left to an issuer)."""
        store = cls(len(images), _not_issued)
        for row, image in enumerate(images):
            store[row] = image
        return store

    def __len__(self) -> int:
        return len(self._at)

    def __getitem__(self, row: int) -> bytes:
        if not self._cap[row]:
            image = self._issue(row)
            self._issued = (row, image)
            return image
        at = int(self._at[row])
        return bytes(self._view[at : at + int(self._len[row])])

    def __setitem__(self, row: int, image: bytes) -> None:
        size = len(image)
        cap = self._cap[row]
        if not cap and self._issued[0] == row and self._issued[1] == image:
            return  # as issued: still no slot
        if size <= cap:
            at = int(self._at[row])
            self._view[at : at + size] = image
            self._len[row] = size
            return
        old_cap = int(self._cap[row])
        self._append(row, image)  # (raises, changing nothing, for an image too big)
        self._garbage += old_cap
        if self._garbage > GARBAGE_SHARE_MAX * self._end:
            self._compact()

    def __iter__(self) -> Iterator[bytes]:
        for row in range(len(self)):
            yield self[row]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ImageStore):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]  # mutable

    @property
    def nbytes(self) -> int:
        """Bytes held: the buffer (its slots with their slack, abandoned slots and its reserve)
        and the slot columns (a card as issued holds none)."""
        return len(self._buf) + self._at.nbytes + self._len.nbytes + self._cap.nbytes

    def _append(self, row: int, image: bytes) -> None:
        size = len(image)
        if size > IMAGE_BYTES_MAX - SLOT_SLACK_BYTES:
            raise ValueError(
                f"card image of row {row}: {size} bytes, at most {IMAGE_BYTES_MAX - SLOT_SLACK_BYTES}"
            )
        at, cap = self._end, size + SLOT_SLACK_BYTES
        if at > _OFFSET32_MAX and self._at.dtype != np.int64:
            self._at = self._at.astype(np.int64)
        if at + cap > len(self._buf):
            self._resize(max(at + cap, len(self._buf) + min(GROW_BYTES_MAX, len(self._buf) // 16)))
        self._view[at : at + size] = image
        self._view[at + size : at + cap] = bytes(SLOT_SLACK_BYTES)
        self._at[row] = at
        self._len[row] = size
        self._cap[row] = cap
        self._end = at + cap

    def _resize(self, nbytes: int) -> None:
        """The buffer at `nbytes`, in place where the C library can (`realloc`: a large block
        is remapped, not copied, so growing never holds two buffers)."""
        self._view.release()
        self._buf.resize(nbytes, refcheck=False)  # (no view of it is left: released above)
        self._view = self._buf.data

    def _compact(self) -> None:
        """Live slots packed down in place, in the order they lie in the buffer (each moves to
        a lower offset or stays, so no slot overwrites one not yet moved), then the tail given
        back: no second buffer, and the slots' offsets made Python numbers COMPACT_CHUNK at a time
        (all of them at once would cost ~80 bytes a card), so compacting adds little peak."""
        view = self._view
        order = np.argsort(self._at, kind="stable")
        end = 0
        for start in range(0, len(order), COMPACT_CHUNK):
            rows = order[start : start + COMPACT_CHUNK]
            at_list, cap_list = self._at[rows].tolist(), self._cap[rows].tolist()
            for k, (at, cap) in enumerate(zip(at_list, cap_list, strict=True)):
                if at != end:
                    view[end : end + cap] = bytes(view[at : at + cap])
                    at_list[k] = end
                end += cap
            self._at[rows] = at_list
        self._end = end
        self._resize(end + min(GROW_BYTES_MAX, end // 16))
        self._garbage = 0


def _not_issued(row: int) -> bytes:
    raise AssertionError(f"card image of row {row}: never written, and this store has no issuer")
