"""The catalogue of conformance cases (`hardware_bridge.conformance`), in the order they run:
the flows (`conformance_flows`), then the negative matrix (`conformance_matrix`), the case
that blocks the card last.
"""

from __future__ import annotations

from hardware_bridge.conformance import Case
from hardware_bridge.conformance_flows import positive_cases
from hardware_bridge.conformance_matrix import instruction_cases, matrix_cases


def all_cases() -> tuple[Case, ...]:
    """Every case, in the order they run: the blocking case last."""
    cases = [*positive_cases(), *matrix_cases(), *instruction_cases()]
    blocking = [c for c in cases if c.blocks_card]
    return (*(c for c in cases if not c.blocks_card), *blocking)
