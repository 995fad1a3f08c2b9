"""`pacs-reconcile test`: the spec's offline examples, reported for people, as JSON or as JUnit XML."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from xml.etree import ElementTree

from rich.text import Text

from ..errors import ExitStatus
from .runner import ExampleResult, run_examples

if TYPE_CHECKING:
    from ..commands import Session, SpecInputs


def run(inputs: SpecInputs, session: Session) -> int:
    """Load the spec, run every example, report; 0 when all hold, 1 when one fails."""
    from ..commands import load

    results = run_examples(load(inputs, session))
    if session.output_format == "json":
        session.emit_json(as_json(results))
    elif session.output_format == "junit":
        sys.stdout.write(as_junit(results))
        sys.stdout.flush()
    else:
        for result in results:
            mark = ("PASS ", "green") if result.passed else ("FAIL ", "bold red")
            session.say(Text.assemble(mark, f"{result.location}: {result.kind}: {result.title}"))
            if result.failure:
                session.say(f"     {result.failure}", "red")
    failed = sum(not r.passed for r in results)
    summary = f"{len(results) - failed} passed, {failed} failed ({len(results)} examples, offline)."
    session.say(summary, "bold red" if failed else "bold green")
    return ExitStatus.ERROR if failed else ExitStatus.OK


def as_json(results: Sequence[ExampleResult]) -> dict[str, Any]:
    return {
        "format_version": 1,
        "passed": sum(r.passed for r in results),
        "failed": sum(not r.passed for r in results),
        "examples": [
            {
                "address": r.address,
                "field": r.field,
                "file": r.location.file,
                "line": r.location.line,
                "kind": r.kind,
                "title": r.title,
                "passed": r.passed,
                "failure": r.failure,
            }
            for r in results
        ],
    }


def as_junit(results: Sequence[ExampleResult]) -> str:
    """One testsuite, one testcase per example (classname: the spec entry), failures with their reason."""
    failed = sum(not r.passed for r in results)
    suite = ElementTree.Element(
        "testsuite",
        name="pacs-reconcile monitoring examples",
        tests=str(len(results)),
        failures=str(failed),
        errors="0",
        time=f"{sum(r.seconds for r in results):.4f}",
    )
    for result in results:
        case = ElementTree.SubElement(
            suite,
            "testcase",
            classname=result.address,
            name=f"{result.field}: {result.title}",
            file=result.location.file,
            line=str(result.location.line),
            time=f"{result.seconds:.4f}",
        )
        if result.failure:
            failure = ElementTree.SubElement(case, "failure", message=result.failure, type=result.kind)
            failure.text = f"{result.location}: {result.failure}"
    return ElementTree.tostring(suite, encoding="unicode", xml_declaration=True) + "\n"
