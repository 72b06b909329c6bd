"""The citizen card beyond the purse in the simulated day and the rollout (seed 003, Hangzhou):
the day's processes (`day`: `start_services`, medical visits with the own payment by e-purse
through the twin's purchase at the institution's cashier terminal, the citizen account, identity
services) over a per-shard services back office (`backend`), events drawn per citizen
(`draws`), the service centre's queues and the data-exchange platform (`centre`), the figures
(`tally`), the invariants (`checks`), the results tables and summary lines (`report`), and the
services' adoption over a rollout's months (`rollout`).
"""

from sim.services.checks import ServicesInvariantError, check_services, enforce_services
from sim.services.day import ServicesDay, start_services
from sim.services.tally import ServiceCheck, ServicesTally

__all__ = [
    "ServiceCheck",
    "ServicesDay",
    "ServicesInvariantError",
    "ServicesTally",
    "check_services",
    "enforce_services",
    "start_services",
]
