"""The coverage stack (tests/fixtures/full_coverage): every kind of the registry and every attribute
the kinds manage beyond the repository's own stack, applied once per test process on the moto
server. It converges (apply -> empty plan -> a second apply writes nothing), survives `export`
(export -> validate -> plan: nothing to do), and in the drift matrix (tests/e2e/full_coverage_cases.py)
each attribute changed by hand with boto3 is reported by `drift` and `plan` at its path and put back
by `apply`.

The repository's stack is not made to declare all this: it is the real PACS stack, whose plans'
exact calls other tests assert."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import botocore.session
import pytest
import yaml

from moto_snapshot import SeededState
from outside_resources import create_coverage_dependencies
from pacs_reconcile import OWNER_TAG, api, permissions
from pacs_reconcile.aws import AwsContext, AwsSettings
from pacs_reconcile.diff import diff_states
from pacs_reconcile.engine.changes import key_text
from pacs_reconcile.export import Selection, export
from pacs_reconcile.resources.registry import KINDS, LOOKUPS, load_all
from pacs_reconcile.spec.loader import load_spec

from .conftest import REGION, REPO, Cli, Server
from .full_coverage_cases import CASES, FOLLOWERS, Case

FULL_COVERAGE = REPO / "tests" / "fixtures" / "full_coverage"
STACK = "pacs-full-coverage"


def copy_full_coverage(folder: Path) -> Path:
    """A private copy of the coverage stack (its spec and its function's code); returns `folder`."""
    shutil.copytree(FULL_COVERAGE, folder, ignore=shutil.ignore_patterns("__pycache__"), dirs_exist_ok=True)
    return folder


FIRST_APPLY_CALLS: dict[str, int] = {}
"""The AWS calls of the apply that made the coverage stack in this process (service.Operation)."""


@pytest.fixture(scope="session")
def full_coverage_server_state(
    moto_server: Server, seeded_server_state: SeededState, tmp_path_factory: pytest.TempPathFactory
) -> SeededState:
    """The seeded server after one `apply` of the coverage stack, taken once per test process."""

    def seed_and_apply() -> None:
        seeded_server_state.restore()
        create_coverage_dependencies(moto_server.client)
        spec_dir = copy_full_coverage(tmp_path_factory.mktemp("full_coverage"))
        applied = Cli(moto_server, spec_dir, pytest.MonkeyPatch())("apply", "--auto-approve")
        assert applied.exit_code == 0, applied.stdout + applied.stderr
        FIRST_APPLY_CALLS.update(applied.calls)

    return SeededState(seed_and_apply)


@pytest.fixture
def full_coverage(server: Server, full_coverage_server_state: SeededState) -> Server:
    """The server holding the coverage stack as one `apply` left it."""
    full_coverage_server_state.restore()
    return server


@pytest.fixture
def coverage_cli(server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Cli:
    """The CLI on a private copy of the coverage stack."""
    return Cli(server, copy_full_coverage(tmp_path / "stack"), monkeypatch)


def declared() -> dict[str, str]:
    """Address -> kind of everything the coverage stack declares."""
    spec = load_spec(FULL_COVERAGE / "monitoring.yaml", environ={})
    return {node.address: node.kind for node in spec.resources.values()}


def test_every_registered_kind_is_declared() -> None:
    load_all()
    missing = sorted(set(KINDS) - set(declared().values()))
    assert missing == [], (
        f"declare {missing} in tests/fixtures/full_coverage (with every attribute it manages) and "
        "add its out-of-band cases to tests/e2e/full_coverage_cases.py"
    )


NOT_WRITTEN: dict[str, str] = {
    "alarms.tests": "offline examples, never sent to AWS",
    "log_groups.tests": "offline examples, never sent to AWS",
    "metric_filters.tests": "offline examples, never sent to AWS",
    "ecs_services.load_balancers": "needs a target group, which the seeded infrastructure lacks",
    "ecs_services.health_check_grace_period_seconds": "AWS takes it only beside a load balancer",
}
"""kind.field -> why the coverage stack does not write it."""


def written_fields() -> dict[str, set[str]]:
    """Kind -> the fields some entry of the coverage stack writes (children under their parents)."""
    load_all()
    written: dict[str, set[str]] = {}

    def walk(kind: str, entries: dict[str, dict[str, Any]]) -> None:
        for entry in entries.values():
            written.setdefault(kind, set()).update(entry)
            for key, children in entry.items():
                if key in KINDS and KINDS[key].meta.parent == kind:
                    walk(key, children)

    for path in [FULL_COVERAGE / "monitoring.yaml", *sorted((FULL_COVERAGE / "specs").glob("*.yaml"))]:
        for kind, entries in yaml.safe_load(path.read_text(encoding="utf-8")).items():
            if kind in KINDS:
                walk(kind, entries)
    return written


def test_every_field_of_every_kind_is_written() -> None:
    written = written_fields()
    missing = sorted(
        f"{kind}.{name}"
        for kind, reconciler in KINDS.items()
        for name in reconciler.meta.model.model_fields
        if name not in written.get(kind, set())
    )
    assert missing == sorted(NOT_WRITTEN), "write these in tests/fixtures/full_coverage (or say why not)"


def test_every_lookup_kind_is_used() -> None:
    load_all()
    spec = load_spec(FULL_COVERAGE / "monitoring.yaml", environ={})
    used = {lookup.kind for lookup in spec.lookups.values()}
    assert sorted(set(LOOKUPS) - used) == [], "look these up in tests/fixtures/full_coverage"


def test_every_case_names_a_declared_resource() -> None:
    addresses = set(declared())
    unknown = sorted(name for name, case in CASES.items() if case.address not in addresses)
    assert unknown == []
    followers = {a for by_case in FOLLOWERS.values() for a in by_case}
    assert sorted(followers - addresses) == []


def test_every_case_changes_an_attribute_no_other_case_changes() -> None:
    """The matrix makes every change at once: a case whose path another case's path starts with
    (on the same resource) could pass on the other's change alone."""
    overlapping = sorted(
        (first, second)
        for first, a in CASES.items()
        for second, b in CASES.items()
        if first != second and a.address == b.address and _under(b.path, a.path)
    )
    assert overlapping == []


def test_every_registered_kind_has_an_out_of_band_case() -> None:
    load_all()
    kinds = declared()
    covered = {kinds[case.address] for case in CASES.values()}
    assert sorted(set(KINDS) - covered) == []


@pytest.mark.usefixtures("full_coverage")
def test_the_stack_converges(coverage_cli: Cli) -> None:
    clean = coverage_cli("plan", "--detailed-exitcode", "--format", "json")
    assert clean.exit_code == 0, _changes(clean.stdout)
    assert clean.mutating_calls == {}
    again = coverage_cli("apply", "--auto-approve")
    assert again.exit_code == 0, again.stdout + again.stderr
    assert again.mutating_calls == {}, "a converged stack: no write"
    assert coverage_cli("drift").exit_code == 0


def _changes(plan_stdout: str) -> dict[str, dict[str, Any]]:
    """Address -> {action, class (drift's), paths} of every change a JSON plan (or drift report)
    holds."""
    document = json.loads(plan_stdout)
    items = document.get("changes", document.get("findings", []))
    return {
        c["address"]: {
            "action": c.get("action"),
            "class": c.get("class"),
            "paths": [d["path"] for d in c.get("differences") or []],
        }
        for c in items
        if c.get("action", "") != "no-op" and c.get("class", "") != "info"
    }


def test_export_round_trips(coverage_cli: Cli, full_coverage: Server, tmp_path: Path) -> None:
    folder = tmp_path / "exported"
    folder.mkdir()
    path = folder / "monitoring.yaml"
    exported = coverage_cli("export", "--tag", f"{OWNER_TAG}={STACK}", "--out", str(path))
    assert exported.exit_code == 0, exported.stderr
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    top_level = {kind for kind, reconciler in KINDS.items() if reconciler.meta.parent is None}
    assert sorted(top_level - set(document)) == [], "every kind the stack declares is exported"
    env = _exported_inputs(full_coverage, document, folder)
    assert coverage_cli("validate", "-f", str(path), env=env).exit_code == 0
    plan = coverage_cli("plan", "-f", str(path), "--format", "json", "--detailed-exitcode", env=env)
    assert plan.exit_code == 0, _changes(plan.stdout)
    # An empty plan alone would pass an export that left a setting out (unset is not managed):
    # every setting the stack declares must be declared alike by the export.
    declared_states = _desired_states(full_coverage, coverage_cli.spec_dir / "monitoring.yaml", {})
    exported_states = _desired_states(full_coverage, path, env)
    missing = sorted(set(declared_states) - set(exported_states))
    assert missing == [], f"{missing} not in {sorted(exported_states)}"
    lost = {
        resource: diff_states(state, exported_states[resource]).paths()
        for resource, state in declared_states.items()
    }
    assert {resource: paths for resource, paths in lost.items() if paths} == EXPORT_LEAVES_OUT


EXPORT_LEAVES_OUT = {
    # AWS reports a queue without a RedriveAllowPolicy as allowAll: export cannot tell one declared
    # from none, and writes neither.
    "sqs_queues pacs-fc-dead-letters": ["redrive_allow_policy"],
}
"""Declared settings the export writes back as unmanaged, and why."""


def _desired_states(server: Server, path: Path, environ: dict[str, str]) -> dict[str, dict[str, Any]]:
    """(kind, identity) -> the canonical desired state of each resource the spec at `path`
    declares, its references resolved against the server."""
    spec = api.load(path, environ=environ)
    plan = api.plan(spec, endpoint_url=server.endpoint)
    assert plan.values is not None
    states: dict[str, dict[str, Any]] = {}
    for change in plan.changes:
        if change.node is not None:
            config, _ = plan.values.desired(change.node)
            states[f"{change.kind} {key_text(change.key)}"] = KINDS[change.kind].canonical(config)
    return states


def _exported_inputs(server: Server, document: dict[str, Any], folder: Path) -> dict[str, str]:
    """What a person does after exporting: give the sensitive values (exported as variables read
    from the environment) and put the function's code where the export says."""
    ctx = AwsContext(AwsSettings(region=REGION, endpoint_url=server.endpoint), stack=STACK)
    secrets = export(ctx, STACK, Selection(tag=(OWNER_TAG, STACK))).secrets
    for entry in (document.get("lambda_functions") or {}).values():
        shutil.copytree(FULL_COVERAGE / "functions" / "noop", folder / entry["code"]["source_dir"])
    return {document["variables"][name]["from_env"]: value for name, value in secrets.items()}


def _replaced(cases: dict[str, Case]) -> list[str]:
    """`--allow-destroy ADDRESS` for each resource a case makes apply replace (some hold data)."""
    return [
        arg
        for a in sorted({c.address for c in cases.values() if c.action == "replace"})
        for arg in ("--allow-destroy", a)
    ]


def _under(path: str, prefix: str) -> bool:
    """Whether difference `path` is `prefix` or inside it (by path segments, not characters)."""
    return path == prefix or path.startswith((f"{prefix}.", f"{prefix}["))


def _unexpected(cases: dict[str, Case], shown: dict[str, dict[str, Any]]) -> list[str]:
    """What `shown` (address -> action and paths) says that the cases do not, and what it misses."""
    problems: list[str] = []
    for name, case in cases.items():
        change = shown.get(case.address)
        if change is None:
            problems.append(f"{name}: nothing shown at {case.address}")
        elif case.path and not any(_under(p, case.path) for p in change["paths"]):
            problems.append(f"{name}: {case.address} shows {change['paths']}, not {case.path}")
    expected_paths: dict[str, list[str]] = {}
    for case in cases.values():
        expected_paths.setdefault(case.address, []).append(case.path)
        for follower, path in FOLLOWERS.get(case.address, {}).items():
            expected_paths.setdefault(follower, []).append(path)
    for address, change in shown.items():
        wanted = expected_paths.get(address)
        if wanted is None:
            problems.append(f"{address} shows {change} though no case changed it")
        elif "" not in wanted:
            stray = [p for p in change["paths"] if not any(_under(p, w) for w in wanted)]
            if stray:
                problems.append(f"{address} also shows {stray}")
    return problems


@pytest.mark.usefixtures("full_coverage")
def test_out_of_band_changes_are_reported_at_their_paths_and_repaired(
    coverage_cli: Cli, server: Server
) -> None:
    """Every case at once (each on its own attribute): drift and plan report each at its path, and
    nothing else; apply puts all back; then the plan is empty and another apply writes nothing."""
    for case in CASES.values():
        case.mutate(server)

    drift = coverage_cli("drift", "--format", "json")
    assert drift.exit_code == 2, drift.stderr
    assert drift.mutating_calls == {}, "drift only reads"
    findings = _changes(drift.stdout)
    problems = _unexpected(CASES, findings)
    assert problems == [], "\n".join(problems)
    # a resource gone is missing; any other change by hand is drift
    classes = {c.address: "missing" if c.action == "create" else "drifted" for c in CASES.values()}
    assert {a: f["class"] for a, f in findings.items() if a in classes and f["class"] != classes[a]} == {}

    plan = coverage_cli("plan", "--format", "json", "--detailed-exitcode", *_replaced(CASES))
    assert plan.exit_code == 2, plan.stderr
    shown = _changes(plan.stdout)
    problems = _unexpected(CASES, shown)
    assert problems == [], "\n".join(problems)
    # (a resource some case makes AWS unable to change in place is replaced, whatever else changed)
    expected: dict[str, str] = {}
    for case in CASES.values():
        if expected.get(case.address) != "replace":
            expected[case.address] = case.action
    assert {a: shown[a]["action"] for a in expected if shown[a]["action"] != expected[a]} == {}

    repaired = coverage_cli("apply", "--auto-approve", *_replaced(CASES))
    assert repaired.exit_code == 0, repaired.stdout + repaired.stderr
    clean = coverage_cli("plan", "--detailed-exitcode", "--format", "json")
    assert clean.exit_code == 0, _changes(clean.stdout)
    again = coverage_cli("apply", "--auto-approve")
    assert again.exit_code == 0 and again.mutating_calls == {}

    # What `permissions` prints for the stack allows every call all this made (the first apply's
    # creates included); what plan and drift did, its read-only policy allows.
    done = _iam_actions(FIRST_APPLY_CALLS, repaired.calls, again.calls)
    read = _iam_actions(drift.calls, plan.calls, clean.calls)
    creates = {
        "kms:CreateKey",
        "sqs:CreateQueue",
        "events:CreateEventBus",
        "elasticfilesystem:CreateAccessPoint",
    }
    assert creates <= done, "the first apply's calls are counted"
    assert sorted((done | read) - _policy(coverage_cli)) == []
    assert sorted(read - _policy(coverage_cli, "--read-only")) == []


def _iam_actions(*calls: dict[str, int]) -> set[str]:
    """The IAM actions of calls counted as service.Operation (boto3's service names)."""
    models = botocore.session.get_session()
    actions: set[str] = set()
    for counted in calls:
        for call in counted:
            service, operation = call.split(".", 1)
            signing_name = models.get_service_model(service).signing_name
            actions.add(permissions.iam_action(service, signing_name, operation))
    return actions


def _policy(cli: Cli, *args: str) -> set[str]:
    printed = cli("permissions", "-f", str(cli.spec_dir / "monitoring.yaml"), *args)
    assert printed.exit_code == 0, printed.stderr
    return permissions.policy_actions(json.loads(printed.stdout))
