"""The bank-card city (Huaibei's financial IC card): the world of a sample day (`world`: banks,
switch, acquirers, billers, cards at rest), the day itself (`day`: every payment through the
real kernel, card, acquirer, switch and issuer, then clearing and T+1 settlement), the rollout
over the plan's months (`rollout`) and its report (`report`). Nothing here moves money: the
terminals, the network and the ledger of `model.bankcard` do.
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
