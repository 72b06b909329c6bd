"""JUnit XML reports of HIL runs (the format every CI server and QA dashboard reads).

One <testsuite> per run; its <properties> say which card and PSAM source it ran against, so a
report found later still tells what hardware it is about.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from hardware_bridge.hil import CaseResult, Outcome
from model.errors import CardTwinError

MESSAGE_CHARS_MAX = 2_000


class ReportError(CardTwinError):
    """The report file cannot be written."""


def junit_tree(results: list[CaseResult], suite: str, properties: dict[str, str]) -> ET.ElementTree:
    failures = sum(r.outcome is Outcome.FAILED for r in results)
    errors = sum(r.outcome is Outcome.ERROR for r in results)
    skipped = sum(r.outcome is Outcome.SKIPPED for r in results)
    root = ET.Element(
        "testsuite",
        name=suite,
        tests=str(len(results)),
        failures=str(failures),
        errors=str(errors),
        skipped=str(skipped),
        time=f"{sum(r.seconds for r in results):.6f}",
    )
    props = ET.SubElement(root, "properties")
    for key, value in properties.items():
        ET.SubElement(props, "property", name=key, value=value)
    for result in results:
        case = ET.SubElement(
            root, "testcase", classname=suite, name=result.name, time=f"{result.seconds:.6f}"
        )
        message = result.message[:MESSAGE_CHARS_MAX]
        if result.outcome is Outcome.FAILED:
            ET.SubElement(case, "failure", message=message, type="HilCheckError").text = message
        elif result.outcome is Outcome.ERROR:
            ET.SubElement(case, "error", message=message, type="CardRemovedError").text = message
        elif result.outcome is Outcome.SKIPPED:
            ET.SubElement(case, "skipped", message=message)
        else:
            ET.SubElement(case, "system-out").text = message
    tree = ET.ElementTree(root)
    ET.indent(tree)
    return tree


def write_junit(path: Path, results: list[CaseResult], suite: str, properties: dict[str, str]) -> None:
    try:
        junit_tree(results, suite, properties).write(path, encoding="utf-8", xml_declaration=True)
    except OSError as exc:
        raise ReportError(f"{path}: cannot write the JUnit report: {exc.strerror or exc}") from None
