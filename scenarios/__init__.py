"""Scenarios: what a run is asked to simulate, read from TOML and refused unless it makes sense.

Two kinds, flat in this folder:

- a day scenario (`default.toml`): one city day, its population and habits, fares, service and
  faults; `schema` holds its sections (the `[fares]` table builds the terminals' own
  `model.terminal.FareRules`) and its strict loader `load`;
- a rollout scenario (`rollout/*.toml`): a plan over years that maps each month onto a day
  scenario; `rollout_schema` holds its tables, `rollout_checks` the rules across them,
  `rollout_loader.load_rollout` reads a file through both, `rollout_docs` writes the reference
  (docs/scenario-reference.md) from the same declarations.

Underneath: `toml_source` reads TOML with the file and line of every value, `strict_tables`
builds a table tree with errors naming file:line and key, `months` counts `YYYY-MM` months.
Scenarios may use `model`, never `sim`: a scenario says what to run, not how.
"""
