"""`validate` starts with what it needs alone: no AWS SDK, no field docstrings read, and validators
built only for the kinds its spec declares. Checked in a fresh interpreter (the test process has
imported everything already); the times are in BENCHMARKS.md."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SPEC = """\
version: 1
stack: startup-test
region: ap-northeast-2
alarms:
  errors:
    name: errors
    metric: {name: Errors, namespace: Startup, statistic: Sum, period: 300}
    threshold: 1
    comparison: GreaterThanThreshold
    evaluation_periods: 1
"""

EXCEPTIONS_ONLY = ("botocore.exceptions", "botocore.vendored")

_VALIDATE = """
import json, sys
from pacs_reconcile.cli import main
sys.argv = ["pacs-reconcile", "--no-color", "validate", "-f", sys.argv[1]]
try:
    main()
except SystemExit as exc:
    code = exc.code
from pacs_reconcile.resources.cloudwatch import AlarmSpec
from pacs_reconcile.resources.sqs import QueueSpec
print(json.dumps({
    "exit": code,
    "modules": sorted(m for m in sys.modules if m.split(".")[0] in ("boto3", "botocore", "moto")),
    "field_docs_read": "pacs_reconcile.spec.field_docs" in sys.modules,
    "built": {m.__name__: m.__pydantic_complete__ for m in (AlarmSpec, QueueSpec)},
}), file=sys.__stderr__)
"""


def _validate_in_a_fresh_interpreter(tmp_path: Path) -> dict[str, object]:
    spec = tmp_path / "monitoring.yaml"
    spec.write_text(SPEC, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-c", _VALIDATE, str(spec)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=tmp_path,
    )
    report: dict[str, object] = json.loads(done.stderr.strip().splitlines()[-1])
    assert report["exit"] == 0, done.stderr
    return report


def test_validate_needs_no_aws_sdk_no_docstrings_and_only_its_kinds_validators(tmp_path: Path) -> None:
    report = _validate_in_a_fresh_interpreter(tmp_path)
    # botocore.exceptions alone (and what it imports): the kinds name ClientError in their `except`
    # clauses. No client, session or service model is loaded, and boto3 not at all.
    modules = report["modules"]
    assert isinstance(modules, list)
    assert [m for m in modules if m != "botocore" and not m.startswith(EXCEPTIONS_ONLY)] == []
    assert report["field_docs_read"] is False
    assert report["built"] == {"AlarmSpec": True, "QueueSpec": False}


_HELP = """
import sys
from pacs_reconcile.cli import app
try:
    app(["--help"])
except SystemExit:
    pass
server = ("pacs_reconcile.emulator.server", "socket")
print(sorted(m for m in server if m in sys.modules), file=sys.__stderr__)
"""


def test_help_does_not_import_the_emulator_server_for_its_default_port() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _HELP], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.stderr.strip().splitlines()[-1] == "[]", done.stderr


_VALIDATE_PIPED = """
import os, sys
from pacs_reconcile.cli import main
sys.argv = ["pacs-reconcile", *sys.argv[2:], "validate", "-f", sys.argv[1]]
try:
    main()
except SystemExit as exc:
    code = exc.code
print(code, sorted({m.split(".")[0] for m in sys.modules if m.startswith("rich")}), file=sys.__stderr__)
"""


@pytest.mark.parametrize("options", [[], ["--no-color"]], ids=["piped", "no-color"])
def test_validate_says_valid_without_rich_where_nothing_takes_styles(
    tmp_path: Path, options: list[str]
) -> None:
    """stderr is a pipe here: rich would write the text as it is, and its import is most of what
    saying one line costs."""
    spec = tmp_path / "monitoring.yaml"
    spec.write_text(SPEC, encoding="utf-8")
    environ = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE")}
    done = subprocess.run(
        [sys.executable, "-c", _VALIDATE_PIPED, str(spec), *options],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=tmp_path,
        env=environ,
    )
    said, outcome = done.stderr.splitlines()[-2:]
    assert said == "Valid: 1 resources and 0 lookups in 1 files (stack startup-test)."
    assert outcome == "0 []", done.stderr
