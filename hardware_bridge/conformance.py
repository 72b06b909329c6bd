"""The conformance suite: raw APDUs against a card, each answer checked against the spec.

No terminal code runs here (no `model.terminal`): every case is a list of steps, each a command
APDU, the status word expected (`9000`, or a pattern: `61xx`, `6Cxx`, `63Cx`) and a mask of the
data expected (hex, `..` any byte, a final `*` any rest; empty: no data). Commands that need
the card's random (MACs) are built from the previous answers with the spec's crypto
(`model.security`), the way a card-test tool computes them. Each case names the clause of
the public spec write-up it checks (`shared/reference/epurse-protocol.md`, "EP" below; ISO/IEC
7816-4 sections) or "project decision" with a README pointer.

The channel must not hide the transport: a PC/SC channel runs with `transport=False` so that
61xx and 6Cxx reach the suite. Cases run in order on one card: the positive flows move money
(a load funds the purchases) and each case starts from a SELECT of its own.

The hand-written form of a case is `hardware_bridge.script`.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from hardware_bridge.hil import CaseResult, Outcome
from model.card import CardChannel
from model.errors import CardRemovedError, CardTwinError
from model.security import KeyStore

DATA_MAX = 1024  # a mask or a response longer than this is not an e-purse answer


class ConformanceError(CardTwinError):
    """A malformed step (mask, status pattern) in a case or a script."""


@dataclass
class Context:
    """What the steps of one run share: the card's identity, keys, the answers so far."""

    card: CardChannel
    moment: datetime
    keys: KeyStore
    pin: bytes
    values: dict[str, bytes] = field(default_factory=dict)  # named answers (random, serial...)
    last: bytes = b""  # the previous step's response data


Build = Callable[[Context], bytes]


@dataclass(frozen=True)
class Step:
    command: bytes | Build
    sw: str  # 4 hex digits; 'x' any nibble
    data: str | None = ""  # mask; None: not checked
    keep: str = ""  # store the response data under this name in the context ("+name": append)


@dataclass(frozen=True)
class Case:
    name: str
    clause: str
    steps: tuple[Step, ...]
    blocks_card: bool = False  # permanent on a real card: only with --allow-block


@dataclass(frozen=True, slots=True)
class StepTrace:
    command: bytes
    response: bytes
    ok: bool
    why: str = ""


_SW_PATTERN = re.compile(r"^[0-9A-Fa-fxX]{4}$")


def sw_matches(pattern: str, sw: int) -> bool:
    if not _SW_PATTERN.match(pattern):
        raise ConformanceError(f"status word pattern {pattern!r}: 4 hex digits, x for any")
    text = f"{sw:04X}"
    return all(p in "xX" or p.upper() == t for p, t in zip(pattern, text, strict=True))


def mask_matches(mask: str, data: bytes) -> bool:
    """`..` any byte, a final `*` any rest, spaces ignored; hex otherwise."""
    mask = mask.replace(" ", "")
    rest = mask.endswith("*")
    body = mask[:-1] if rest else mask
    if len(body) % 2 or len(body) > 2 * DATA_MAX or not re.fullmatch(r"([0-9A-Fa-f]{2}|\.\.)*", body):
        raise ConformanceError(f"data mask {mask!r}: pairs of hex digits or '..', optional final '*'")
    count = len(body) // 2
    if len(data) < count or (not rest and len(data) != count):
        return False
    return all(
        body[2 * i : 2 * i + 2] == ".." or int(body[2 * i : 2 * i + 2], 16) == data[i] for i in range(count)
    )


def run_step(ctx: Context, step: Step) -> StepTrace:
    command = step.command(ctx) if callable(step.command) else step.command
    response = ctx.card.transmit(command)
    if len(response) < 2:
        return StepTrace(command, response, False, "no status word")
    data, sw = response[:-2], int.from_bytes(response[-2:], "big")
    ctx.last = data
    if step.keep.startswith("+"):  # the rest of an answer split by 61xx
        ctx.values[step.keep[1:]] = ctx.values.get(step.keep[1:], b"") + data
    elif step.keep:
        ctx.values[step.keep] = data
    if not sw_matches(step.sw, sw):
        return StepTrace(command, response, False, f"status {sw:04X}, expected {step.sw.upper()}")
    if step.data is not None and not mask_matches(step.data, data):
        return StepTrace(
            command, response, False, f"data {data.hex().upper() or '(none)'}, expected {step.data}"
        )
    return StepTrace(command, response, True)


def _line(step: StepTrace) -> str:
    verdict = "ok" if step.ok else f"MISMATCH: {step.why}"
    return f">> {step.command.hex().upper()}  << {step.response.hex().upper() or '(nothing)'}  {verdict}"


def run_case(ctx: Context, case: Case) -> CaseResult:
    started = datetime.now().astimezone()
    start = time.perf_counter()
    traces: list[StepTrace] = []
    outcome, message, error_type = Outcome.PASSED, f"{len(case.steps)} APDUs as expected", ""
    try:
        for number, step in enumerate(case.steps, start=1):
            trace = run_step(ctx, step)
            traces.append(trace)
            if not trace.ok:
                outcome, error_type = Outcome.FAILED, "StatusWordMismatch"
                message = f"step {number} {trace.command.hex().upper()}: {trace.why}"
                break
    except ConformanceError:
        raise
    except CardRemovedError as exc:
        outcome, message, error_type = Outcome.ERROR, f"card gone: {exc}", type(exc).__name__
    except CardTwinError as exc:
        outcome, message, error_type = Outcome.ERROR, f"{type(exc).__name__}: {exc}", type(exc).__name__
    except (KeyError, ValueError, IndexError) as exc:  # a builder found an earlier answer unusable
        outcome, error_type = Outcome.ERROR, type(exc).__name__
        message = f"cannot build the next command from the answers so far: {exc!r}"
    seconds = time.perf_counter() - start
    lines = tuple(_line(t) for t in traces)
    return CaseResult(
        case.name, outcome, seconds, message, case.clause, lines, started, error_type, "conformance"
    )


def run_cases(
    card: CardChannel,
    cases: tuple[Case, ...],
    keys: KeyStore,
    pin: bytes,
    allow_block: bool = False,
    moment: datetime | None = None,
) -> list[CaseResult]:
    """Run `cases` in order against `card`; a card's misbehaviour is in the results, never raised."""
    ctx = Context(card, moment or datetime.now().replace(microsecond=0), keys, pin)
    results = []
    for case in cases:
        if case.blocks_card and not allow_block:
            message = "blocks the card for good: pass --allow-block"
            started = datetime.now().astimezone()
            results.append(
                CaseResult(
                    case.name, Outcome.SKIPPED, 0.0, message, case.clause, (), started, "", "conformance"
                )
            )
            continue
        results.append(run_case(ctx, case))
    return results
