"""Helpers of the bank card tests: a tear hook that cuts the power at a chosen APDU."""

from __future__ import annotations

from dataclasses import dataclass

from devices.card_os import TearPhase


@dataclass
class Cut:
    """A tear hook that cuts the power at APDU number `at` (from 0), in `phase`; or counts."""

    at: int = -1
    phase: TearPhase = TearPhase.BEFORE_COMMIT
    seen: int = 0
    fired: bool = False

    def __call__(self, raw: bytes, phase: TearPhase) -> bool:
        if phase is TearPhase.BEFORE_COMMIT:
            self.seen += 1
        if not self.fired and self.seen - 1 == self.at and phase is self.phase:
            self.fired = True
            return True
        return False
