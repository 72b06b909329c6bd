"""The `cardtwin` command line: the click group (`group`) and one module per command. The only
package that imports click; a command parses its options, calls one domain function and prints.

Commands are loaded when asked for (`sim.cli.group.COMMAND_MODULES`), so a command starts
without importing the others' stacks. Every error a user can cause is a `CardTwinError`; the
group prints it on one line, without a traceback, and exits with status 1.
"""

from sim.cli.group import main

__all__ = ["main"]
