"""Playback of a rollout month by month: play, pause, step, back and seek.

The state is a small frozen value kept in Streamlit's session state; every control is a pure
function from one state to the next, so the page logic is tested without a browser. While
playing, the page re-renders on a timer; each render calls `tick`, which advances one stride
only when a full interval has passed since the last advance, so a render caused by something
else (a language switch, a resize) does not skip months.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

# A timer fires a little early or late; accept a tick a fifth of an interval early.
TICK_TOLERANCE = 0.8
STRIDES = (1, 3, 6, 12)  # months per step a viewer may choose


@dataclass(frozen=True, slots=True)
class Playback:
    length: int  # months in the run
    index: int = 0  # the month shown, 0-based
    playing: bool = False
    stride: int = 1  # months per step
    last_tick_s: float = 0.0  # monotonic time of the last advance

    def __post_init__(self) -> None:
        assert self.length >= 1, "a rollout has at least one month"
        assert 0 <= self.index < self.length, (self.index, self.length)
        assert self.stride in STRIDES, self.stride

    @property
    def at_end(self) -> bool:
        return self.index == self.length - 1


def _clamp(index: int, length: int) -> int:
    return max(0, min(length - 1, index))


def start(length: int) -> Playback:
    return Playback(length=length)


def play(pb: Playback, now_s: float) -> Playback:
    """Play from here; from the last month, play again from the first."""
    index = 0 if pb.at_end else pb.index
    return replace(pb, index=index, playing=True, last_tick_s=now_s)


def pause(pb: Playback) -> Playback:
    return replace(pb, playing=False)


def step(pb: Playback, months: int) -> Playback:
    """Move by `months` (negative goes back) and pause: stepping is a paused viewer's control."""
    return replace(pb, index=_clamp(pb.index + months, pb.length), playing=False)


def seek(pb: Playback, index: int, now_s: float) -> Playback:
    """Jump to a month (the time slider) while paused. While playing the month only moves
    forward, one stride a tick: a seek then is a stale request and moves nothing."""
    if pb.playing:
        return pb
    return replace(pb, index=_clamp(index, pb.length), last_tick_s=now_s)


def set_stride(pb: Playback, stride: int) -> Playback:
    return replace(pb, stride=stride)


def tick(pb: Playback, now_s: float, interval_s: float) -> Playback:
    """Advance one stride if playing and an interval has passed; stop at the last month."""
    assert interval_s > 0
    if not pb.playing or now_s - pb.last_tick_s < interval_s * TICK_TOLERANCE:
        return pb
    index = _clamp(pb.index + pb.stride, pb.length)
    return replace(pb, index=index, playing=index < pb.length - 1, last_tick_s=now_s)


def resize(pb: Playback, length: int) -> Playback:
    """A new run with a different number of months: keep the position when it still exists."""
    if length == pb.length:
        return pb
    return Playback(length=length, index=_clamp(pb.index, length), stride=pb.stride)
