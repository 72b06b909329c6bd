"""The `cardtwin` command line: the click group (`group`) and one module per command. The only
package that imports click; a command parses its options, calls one domain function and prints.

Every error a user can cause is a `CardTwinError`; the group prints it on one line, without a
traceback, and exits with status 1.
"""

from sim.cli.bench import bench
from sim.cli.card import card, hil
from sim.cli.clearing import clearing
from sim.cli.dashboard import dashboard
from sim.cli.demo import demo
from sim.cli.group import main
from sim.cli.keys import keys
from sim.cli.plan import plan
from sim.cli.region import region
from sim.cli.rollout import compare, rollout
from sim.cli.run import run
from sim.cli.sweep import sweep
from sim.cli.verify import verify

for _command in (
    demo,
    bench,
    clearing,
    card,
    hil,
    keys,
    run,
    verify,
    rollout,
    compare,
    dashboard,
    plan,
    sweep,
    region,
):
    main.add_command(_command)

__all__ = ["main"]
