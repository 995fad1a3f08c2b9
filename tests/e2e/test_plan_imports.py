"""What a plan imports: botocore alone, not boto3; no rich where its output takes no styles. Checked
in a fresh interpreter (the test process has imported boto3 and rich already)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from .conftest import Server

_PLAN_THEN_REPORT = """
import atexit, json, sys
# Registered before the command's own handlers, so it runs after them: every import is done.
atexit.register(lambda: print(json.dumps({
    "sdk": sorted(m for m in sys.modules if m.split(".")[0] in ("boto3", "s3transfer")),
    "botocore": "botocore.client" in sys.modules,
    "rich": sorted(m for m in sys.modules if m.split(".")[0] == "rich"),
}), file=sys.__stderr__))
sys.argv = ["pacs-reconcile", "--no-color", *sys.argv[1:]]
from pacs_reconcile.cli import main
main()
"""


def test_a_plan_makes_its_clients_without_importing_boto3(server: Server, stack_dir: Path) -> None:
    """boto3 (its resource layer, s3transfer and the multiprocessing it imports) cost a plan ~16 ms
    of CPU for a session object botocore provides itself. rich, another ~16 ms, writes nothing a pipe
    or --no-color shows that the plan's text is not already (render.PlanPrinter)."""
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            _PLAN_THEN_REPORT,
            *("--endpoint-url", server.endpoint, "plan", "--detailed-exitcode"),
            *("-f", str(stack_dir / "monitoring.yaml")),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=stack_dir,
    )
    report = json.loads(done.stderr.strip().splitlines()[-1])
    assert done.returncode == 2, done.stderr  # the seeded account lacks the stack: changes to make
    assert report["botocore"] is True  # the plan did make its clients
    assert report["sdk"] == []
    assert "will be created" in done.stdout  # the plan was printed, without rich
    assert report["rich"] == []
