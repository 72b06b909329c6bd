"""The per-card tallies in their narrow dtypes hold a card's extreme day without wrapping."""

from __future__ import annotations

from devices.card_os import COUNTER_MAX
from model.records import TxType
from sim.day.night import CardTally


def test_a_card_using_every_counter_value_of_both_applications_sums_exactly() -> None:
    tally = CardTally.zeros(2)
    # The card refuses at COUNTER_MAX, so 0..COUNTER_MAX-1 is every counter a record can carry.
    for counter in range(COUNTER_MAX):
        for load, purchase in ((TxType.ED_LOAD, TxType.ED_PURCHASE), (TxType.EP_LOAD, TxType.EP_PURCHASE)):
            tally.add_fields(1, int(load), 100_000, counter)
            tally.add_fields(1, int(purchase), 99_999, counter)
    counter_sum = COUNTER_MAX * (COUNTER_MAX - 1) // 2
    assert int(tally.loads[1]) == int(tally.purchases[1]) == 2 * COUNTER_MAX
    assert int(tally.load_counter_sum[1]) == int(tally.purchase_counter_sum[1]) == 2 * counter_sum
    assert 2 * counter_sum > 2**31  # past a signed 32-bit column: the unsigned one is needed
    assert int(tally.load_fen[1]) == 2 * COUNTER_MAX * 100_000  # past 2**32 fen: int64
    assert int(tally.signed_fen[1]) == 2 * COUNTER_MAX
    assert (int(tally.loads[0]), int(tally.signed_fen[0])) == (0, 0)  # the other card untouched
