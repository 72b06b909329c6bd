"""Scripted APDU sequences QA writes by hand, run against any card source by `cardtwin hil --script`.

```
# a comment; blank lines are ignored
case select_and_balance: EP Card commands (SELECT, GET BALANCE)
  00A4040008 A000000632010105 00  -> 9000  6F..8408A000000632010105*
  805C000204                       -> 9000  ........
case unknown_instruction: ISO 7816-4 5.4.2
  00 FE 00 00 00                   -> 6D00
```

A `case NAME: CLAUSE` line starts a case (the clause says what it checks). Each step line is
`APDU -> SW [DATA]`: the command in hex (spaces allowed), the status word expected (4 hex
digits, `x` for any nibble: `61xx`, `63Cx`) and the data expected as a mask (hex, `..` any
byte, a final `*` any rest; spaces allowed). No DATA means the answer carries no data; `*`
alone accepts any. The steps of a case run in order; a mismatch fails the case there.
"""

from __future__ import annotations

import re
from pathlib import Path

from hardware_bridge.conformance import Case, ConformanceError, Step, mask_matches, sw_matches

SCRIPT_BYTES_MAX = 1_000_000
CASES_MAX = 2_000
STEPS_MAX = 256  # per case
APDU_BYTES_MAX = 261  # a short APDU: header, Lc, 255 bytes, Le

_CASE = re.compile(r"^case\s+([A-Za-z0-9_.-]{1,100})\s*:\s*(.+)$")


class ScriptError(ConformanceError):
    """A script line that is not a case header nor a step."""


def parse_script(text: str, where: str = "script") -> tuple[Case, ...]:
    if len(text) > SCRIPT_BYTES_MAX:
        raise ScriptError(f"{where}: {len(text)} characters, at most {SCRIPT_BYTES_MAX}")
    cases: list[Case] = []
    name, clause, steps = "", "", list[Step]()
    names: set[str] = set()

    def close(line_number: int) -> None:
        if name:
            if not steps:
                raise ScriptError(f"{where}:{line_number}: case {name!r} has no step")
            cases.append(Case(name, clause, tuple(steps)))

    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        header = _CASE.match(line)
        if header:
            close(number)
            name, clause, steps = header.group(1), header.group(2).strip(), []
            if name in names:
                raise ScriptError(f"{where}:{number}: case {name!r} given twice")
            names.add(name)
            if len(cases) >= CASES_MAX:
                raise ScriptError(f"{where}:{number}: more than {CASES_MAX} cases")
            continue
        if not name:
            raise ScriptError(f"{where}:{number}: a step before any 'case NAME: CLAUSE' line")
        if len(steps) >= STEPS_MAX:
            raise ScriptError(f"{where}:{number}: case {name!r} has more than {STEPS_MAX} steps")
        steps.append(_step(line, f"{where}:{number}"))
    close(len(text.splitlines()))
    if not cases:
        raise ScriptError(f"{where}: no case (a script starts with 'case NAME: CLAUSE')")
    return tuple(cases)


def _step(line: str, where: str) -> Step:
    if "->" not in line:
        raise ScriptError(f"{where}: expected 'APDU -> SW [DATA]', got {line!r}")
    left, right = line.split("->", 1)
    try:
        command = bytes.fromhex(left.replace(" ", ""))
    except ValueError:
        raise ScriptError(f"{where}: APDU {left.strip()!r} is not hex") from None
    if not 1 <= len(command) <= APDU_BYTES_MAX:
        raise ScriptError(f"{where}: APDU of {len(command)} bytes, expected 1..{APDU_BYTES_MAX}")
    fields = right.split()
    if not fields:
        raise ScriptError(f"{where}: no status word after '->'")
    sw, mask = fields[0], "".join(fields[1:])
    try:
        sw_matches(sw, 0x9000)
        mask_matches(mask, b"")
    except ConformanceError as exc:
        raise ScriptError(f"{where}: {exc}") from None
    return Step(command, sw, mask)


def load_script(path: Path) -> tuple[Case, ...]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScriptError(
            f"{path}: cannot read the script: {getattr(exc, 'strerror', None) or exc}"
        ) from None
    return parse_script(text, str(path))
