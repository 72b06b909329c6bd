"""The bank-card city (Huaibei's financial IC card): the world of a sample day (`world`: banks,
switch, acquirers, billers, cards at rest), what its cardholders set out to do (`draws`), the
tills and hosts in SimPy time (`places`), the day itself (`day`: each cardholder a SimPy
process, every payment, load and unload through the real kernel, card, acquirer, switch and
issuer, then clearing and T+1 settlement), the rollout over the plan's months (`rollout`), its
report (`report`), a day as the e-purse rollout engine reads one (`days`, for the dashboard)
and what `rollout`, `compare` and `sweep` do with a bank-card plan (`command`). Nothing here
moves money: the terminals, the network and the ledger of `model.bankcard` do.
"""

from sim.bankcity.day import BankDay, run_day
from sim.bankcity.report import summary, summary_lines, write_bank_report
from sim.bankcity.rollout import BankRolloutResult, run_bank_rollout
from sim.bankcity.world import BankWorld, build_world

__all__ = [
    "BankDay",
    "BankRolloutResult",
    "BankWorld",
    "build_world",
    "run_bank_rollout",
    "run_day",
    "summary",
    "summary_lines",
    "write_bank_report",
]
