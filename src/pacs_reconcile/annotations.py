"""Spec diagnostics for CI: GitHub Actions workflow commands (annotations on the pull request's
files) and SARIF 2.1.0 (GitHub code scanning and other SARIF viewers)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .errors import Diagnostic

RULE_ID = "invalid-spec"
SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"


def _escape_data(text: str) -> str:
    # The escaping of @actions/core's `issueCommand` (toolkit packages/core/src/command.ts): a
    # newline would otherwise end the command, and `%` starts an escape.
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def github_annotations(diagnostics: Sequence[Diagnostic]) -> str:
    """One `::error file=..,line=..,col=..::message` line per problem, for a workflow's log."""
    lines = []
    for diagnostic in diagnostics:
        properties = [f"file={_escape_property(diagnostic.file)}"]
        if diagnostic.line:
            properties += [f"line={diagnostic.line}", f"col={diagnostic.column}"]
        properties.append(f"title={_escape_property('invalid spec: ' + (diagnostic.field or 'file'))}")
        message = f"{diagnostic.field}: {diagnostic.message}" if diagnostic.field else diagnostic.message
        lines.append(f"::error {','.join(properties)}::{_escape_data(message)}")
    return "".join(line + "\n" for line in lines)


def sarif_log(diagnostics: Sequence[Diagnostic]) -> dict[str, Any]:
    """A SARIF 2.1.0 log of one run; no result when the spec is valid (code scanning then closes
    the alerts an earlier run opened)."""
    from . import __version__  # read on first use (package metadata)

    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "pacs-reconcile",
                        "version": __version__,
                        "rules": [
                            {
                                "id": RULE_ID,
                                "name": "InvalidSpec",
                                "shortDescription": {"text": "The monitoring spec is invalid."},
                                "fullDescription": {
                                    "text": "A syntax, type, value-domain, reference or cycle error in "
                                    "monitoring.yaml or a file it includes: plan and apply refuse it."
                                },
                                "defaultConfiguration": {"level": "error"},
                            }
                        ],
                    }
                },
                "columnKind": "unicodeCodePoints",
                "results": [_result(d) for d in diagnostics],
            }
        ],
    }


def _result(diagnostic: Diagnostic) -> dict[str, Any]:
    location: dict[str, Any] = {"artifactLocation": {"uri": diagnostic.file.replace("\\", "/")}}
    if diagnostic.line:
        location["region"] = {"startLine": diagnostic.line, "startColumn": max(diagnostic.column, 1)}
    message = f"{diagnostic.field}: {diagnostic.message}" if diagnostic.field else diagnostic.message
    return {
        "ruleId": RULE_ID,
        "level": "error",
        "message": {"text": message},
        "locations": [{"physicalLocation": location}],
    }
