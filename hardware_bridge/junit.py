"""JUnit XML reports of HIL runs (the format every CI server and QA dashboard reads).

The shape CI systems (Jenkins' junit plugin, GitLab, GitHub test reporters) read well:

```
<testsuites name tests failures errors skipped time timestamp>
  <testsuite name id package hostname timestamp tests failures errors skipped time>
    <properties> card / sam / keys source, so a report found later says what it ran on
    <testcase classname="SUITE.conformance|hil" name time>
      <failure message type>   the card answered otherwise than the spec (a check did not hold)
      <error message type>     the case could not run (card gone, reader error, no pcscd)
      <skipped message>
      <system-out>             the clause the case checks, then its APDU trace
```

One <testsuite> per kind of case (conformance: raw APDUs; hil: the terminal code against the
card). Failures and errors are kept apart, with the exception class as `type`. When the run
cannot start (no pcscd, no reader), `write_error_report` still writes a report: one suite
whose single case is the error, so CI shows why instead of "no report found".
"""

from __future__ import annotations

import socket
import xml.etree.ElementTree as ET
from datetime import datetime
from pathlib import Path

from hardware_bridge.hil import CaseResult, Outcome
from model.errors import CardTwinError

MESSAGE_CHARS_MAX = 2_000
SYSTEM_OUT_CHARS_MAX = 200_000  # one case's trace; the trace file keeps everything
_TIMESTAMP = "%Y-%m-%dT%H:%M:%S"  # the JUnit schema's timestamp: ISO 8601 without a zone


class ReportError(CardTwinError):
    """The report file cannot be written."""


def _counts(results: list[CaseResult]) -> dict[str, str]:
    return {
        "tests": str(len(results)),
        "failures": str(sum(r.outcome is Outcome.FAILED for r in results)),
        "errors": str(sum(r.outcome is Outcome.ERROR for r in results)),
        "skipped": str(sum(r.outcome is Outcome.SKIPPED for r in results)),
        "time": f"{sum(r.seconds for r in results):.6f}",
    }


def _stamp(results: list[CaseResult]) -> str:
    first = min((r.started for r in results if r.started is not None), default=None)
    return (first or datetime.now().astimezone()).astimezone().replace(tzinfo=None).strftime(_TIMESTAMP)


def _testcase(parent: ET.Element, suite: str, result: CaseResult) -> None:
    case = ET.SubElement(
        parent,
        "testcase",
        classname=f"{suite}.{result.suite}",
        name=result.name,
        time=f"{result.seconds:.6f}",
    )
    message = result.message[:MESSAGE_CHARS_MAX]
    text = f"{message}\nclause: {result.clause}" if result.clause else message
    if result.outcome is Outcome.FAILED:
        ET.SubElement(case, "failure", message=message, type=result.error_type or "HilCheckError").text = text
    elif result.outcome is Outcome.ERROR:
        ET.SubElement(case, "error", message=message, type=result.error_type or "CardTwinError").text = text
    elif result.outcome is Outcome.SKIPPED:
        ET.SubElement(case, "skipped", message=message)
    lines = [f"clause: {result.clause or '(none given)'}", f"result: {result.outcome.value}: {message}"]
    if result.started is not None:
        lines.append(f"started: {result.started.isoformat(timespec='milliseconds')}")
    lines += result.trace
    ET.SubElement(case, "system-out").text = "\n".join(lines)[:SYSTEM_OUT_CHARS_MAX]


def junit_tree(results: list[CaseResult], suite: str, properties: dict[str, str]) -> ET.ElementTree:
    root = ET.Element("testsuites", {"name": suite, **_counts(results), "timestamp": _stamp(results)})
    host = socket.gethostname()
    kinds = list(dict.fromkeys(r.suite for r in results)) or ["hil"]
    for number, kind in enumerate(kinds):
        mine = [r for r in results if r.suite == kind]
        attributes = {"name": f"{suite}.{kind}", "id": str(number), "package": suite, "hostname": host}
        element = ET.SubElement(root, "testsuite", {**attributes, "timestamp": _stamp(mine), **_counts(mine)})
        props = ET.SubElement(element, "properties")
        for key, value in properties.items():
            ET.SubElement(props, "property", name=key, value=value)
        for result in mine:
            _testcase(element, suite, result)
    tree = ET.ElementTree(root)
    ET.indent(tree)
    return tree


def write_junit(path: Path, results: list[CaseResult], suite: str, properties: dict[str, str]) -> None:
    try:
        junit_tree(results, suite, properties).write(path, encoding="utf-8", xml_declaration=True)
    except OSError as exc:
        raise ReportError(f"{path}: cannot write the JUnit report: {exc.strerror or exc}") from None


def write_error_report(path: Path, suite: str, properties: dict[str, str], error: BaseException) -> None:
    """A report of one error case: the run could not start (no pcscd, no reader, no card)."""
    result = CaseResult(
        "setup",
        Outcome.ERROR,
        0.0,
        f"{type(error).__name__}: {error}",
        "the run's setup: reaching the card and the PSAM",
        (),
        datetime.now().astimezone(),
        type(error).__name__,
        "setup",
    )
    write_junit(path, [result], suite, properties)
