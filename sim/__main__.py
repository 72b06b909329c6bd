"""`python -m sim` is the `cardtwin` command."""

from sim.cli import main

main()
