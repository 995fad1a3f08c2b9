"""Point 4, faults: one retry policy (botocore adaptive mode, shared clients) against what AWS
throws, injected with a botocore before-send hook, in-process (moto) and in server mode (the CLI
against a moto server): throttling storms, 5xx, connection resets and refusals, responses lost
after AWS acted, slow calls, and AccessDenied on one kind.

The figures (faults injected per test) are printed with -s and summed up in the README."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pacs_reconcile.aws import CONNECT_ATTEMPTS, is_mutating
from pacs_reconcile.engine.plan import PlanOptions

from .conftest import Cli, Server
from .faults import RETRIED, FaultInjector, fast_retries, inject_into_every_context
from .helpers import apply, context, duplicates, failures, pending, plan, repo_spec, untagged


def _converged(spec: object) -> list[str]:
    return pending(plan(spec))  # type: ignore[arg-type]


# In-process (mock_aws) --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kinds", "rate", "seed"),
    [(("throttle",), 0.35, 1), (("5xx", "reset", "connect"), 0.2, 2), (("slow", "throttle", "5xx"), 0.2, 3)],
    ids=["throttling-storm", "5xx-and-resets", "slow-and-mixed"],
)
def test_a_storm_is_absorbed_by_the_retry_policy_and_apply_converges(
    seeded_moto: None, monkeypatch: pytest.MonkeyPatch, kinds: tuple[str, ...], rate: float, seed: int
) -> None:
    spec = repo_spec()
    with fast_retries(monkeypatch):
        ctx = context(spec)  # the tool's own policy: adaptive mode, 8 attempts
        # Each call's last attempt goes through: random faults would otherwise exhaust some call of
        # a long run by chance (a bounded policy gives up after max_attempts retries, by design).
        # A call whose attempt meets a refused connection gives up at its CONNECT_ATTEMPTS-th
        # attempt (aws.py), whatever failed before: with refusals in the storm, faults stop
        # before it (5xx and resets on attempts 1-4, then a refusal on the 5th: about 1e-4 a call).
        in_a_row = CONNECT_ATTEMPTS - 1 if "connect" in kinds else ctx.settings.max_attempts
        injector = FaultInjector(rate=rate, kinds=kinds, seed=seed, max_in_a_row=in_a_row)
        injector.attach(ctx.events)
        the_plan, result = apply(spec, ctx)
    assert result.ok, failures(result)
    assert result.count(the_plan.changes[0].action) >= 1
    assert injector.total >= 15, injector.injected
    assert set(injector.injected) <= set(kinds)
    # every answered fault cost one more attempt (raised ones never reach the tool's attempt counter)
    assert ctx.stats.retries >= injector.injected["throttle"] + injector.injected["5xx"]
    assert _converged(spec) == []
    figures = f"{injector.total} faults in {injector.attempts} attempts: {dict(injector.injected)}"
    print(f"\n{'+'.join(kinds)}: {figures}")


def test_with_retries_exhausted_the_error_names_the_call_and_nothing_is_half_done(
    seeded_moto: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every attempt of one service fails: its resources fail with the operation named, the rest
    converges, and the next run (fault gone) finishes the job."""
    spec = repo_spec()
    injector = FaultInjector(rate=1.0, kinds=("5xx",), only=lambda service, _: service == "sns")
    with fast_retries(monkeypatch):
        ctx = context(spec)
        injector.attach(ctx.events)
        try:
            apply(spec, ctx)
        except Exception as exc:  # the topic's reads fail during plan: the plan stops
            assert "ServiceUnavailable" in str(exc)
            assert (
                "GetTopicAttributes" in str(exc)
                or "ListSubscriptionsByTopic" in str(exc)
                or "sns" in str(exc)
            )
        else:
            raise AssertionError("a plan that cannot read SNS must not go ahead")
    assert injector.total >= 8  # every attempt of the retry policy was made, then it gave up
    _, result = apply(spec)
    assert result.ok, failures(result)
    assert _converged(spec) == []


def _read_operations(spec: object) -> set[tuple[str, str]]:
    """(service id, operation) of every read a plan of the applied stack makes."""
    seen: set[tuple[str, str]] = set()
    recorder = FaultInjector(rate=0.0, only=lambda service, operation: bool(seen.add((service, operation))))
    ctx = context(spec)  # type: ignore[arg-type]
    recorder.attach(ctx.events)
    plan(spec, ctx)  # type: ignore[arg-type]
    return {(s, o) for s, o in seen if not is_mutating(o)}


READS_WITH_A_FALLBACK = {
    # A mount target's security groups come from its network interface, all in one call; without
    # ec2:DescribeNetworkInterfaces each mount target is asked directly (resources/efs.py).
    ("ec2", "DescribeNetworkInterfaces"): "efs.DescribeMountTargetSecurityGroups",
    # Role lookups share one listing; a policy may grant GetRole on named roles only
    # (resources/lookups.py).
    ("iam", "ListRoles"): "iam.GetRole",
}


@pytest.mark.slow
def test_access_denied_on_any_read_stops_the_plan_and_nothing_changes(
    seeded_moto: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A refused read is never taken for "absent": for each read a plan makes, denying just that
    one makes plan fail naming the action, and apply sends no mutating call at all."""
    spec = repo_spec()
    apply(spec)
    undeclared = PlanOptions()
    reads = sorted(_read_operations(spec))
    assert len(reads) >= 25, reads
    for service, operation in reads:
        ctx = context(spec)
        denied = FaultInjector(denied=lambda s, o, target=(service, operation): (s, o) == target)
        denied.attach(ctx.events)
        fallback = READS_WITH_A_FALLBACK.get((service, operation))
        if fallback:  # the same facts are read another way: the plan goes on, unchanged
            _, result = apply(spec, ctx, undeclared)
            assert result.ok and ctx.stats.mutating() == {}, (operation, ctx.stats.mutating())
            assert ctx.stats.calls[fallback] >= 1, (operation, dict(ctx.stats.calls))
            assert denied.injected["denied"] >= 1
            continue
        with pytest.raises(Exception) as caught:
            apply(spec, ctx, undeclared)
        message = str(caught.value)
        assert operation in message, (operation, message)
        assert "not authorized to perform" in message, message
        assert ctx.stats.mutating() == {}, (operation, ctx.stats.mutating())
        assert denied.injected["denied"] >= 1
    assert _converged(spec) == []
    print(f"\nAccessDenied injected on each of {len(reads)} read operations in turn")


# Server mode (the CLI against a moto server) -----------------------------------------------------


def test_cli_apply_converges_through_a_storm_of_every_fault_in_server_mode(
    cli: Cli, server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    injector = FaultInjector(rate=0.12, kinds=RETRIED, seed=7)
    with fast_retries(monkeypatch):
        inject_into_every_context(monkeypatch, injector)
        first = cli("apply", "--auto-approve")
        if first.exit_code != 0:  # a create retried after its response was lost may be refused once
            assert "failed" in first.stdout, first.stdout + first.stderr
            assert cli("apply", "--auto-approve").exit_code == 0
        monkeypatch.undo()
    assert injector.total >= 10, injector.injected
    assert cli("plan", "--detailed-exitcode").exit_code == 0
    assert duplicates(server.endpoint) == {}
    assert untagged("pacs-monitoring", server.endpoint) == []
    print(
        f"\nserver mode: {injector.total} faults in {injector.attempts} attempts: {dict(injector.injected)}"
    )


@pytest.mark.usefixtures("converged")
def test_access_denied_on_one_kind_names_action_and_resource_and_deletes_nothing_else(
    cli: Cli, server: Server, stack_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _inventory(server)
    alarms = stack_dir / "specs" / "alarms.yaml"
    text = alarms.read_text()
    alarms.write_text(text[: text.index("  s3_bucket_size:")] + text[text.index("  auto_scaling_cpu:") :])
    logs = stack_dir / "specs" / "logs.yaml"
    logs.write_text(
        logs.read_text().replace("retention_days: ${var.log_retention_days}", "retention_days: 14", 1)
    )
    planned = {
        c["address"]: c["action"]
        for c in json.loads(cli("plan", "--format", "json").stdout)["changes"]
        if c["action"] != "no-op"
    }
    assert planned['alarms["s3-bucket-size"]'] == "delete"
    assert "update" in planned.values()

    injector = FaultInjector(
        denied=lambda service, operation: service == "cloudwatch" and is_mutating(operation)
    )
    inject_into_every_context(monkeypatch, injector)
    denied = cli("apply", "--auto-approve")
    monkeypatch.undo()
    assert denied.exit_code == 1
    assert injector.injected["denied"] >= 1
    line = next(x for x in denied.stdout.splitlines() if "s3-bucket-size" in x and "failed" in x)
    assert "DeleteAlarms: AccessDenied" in line
    assert "not authorized to perform: cloudwatch:DeleteAlarms" in line
    assert "pacs-reconcile permissions" in line
    after = _inventory(server)
    assert after == before, "nothing may be deleted or created when the planned deletion was refused"
    healed = cli("apply", "--auto-approve")
    assert healed.exit_code == 0, healed.stdout
    assert cli("plan", "--detailed-exitcode").exit_code == 0


def _inventory(server: Server) -> set[str]:
    names = {f"alarm {a['AlarmName']}" for a in server.client("cloudwatch").describe_alarms()["MetricAlarms"]}
    names |= {
        f"log group {g['logGroupName']}" for g in server.client("logs").describe_log_groups()["logGroups"]
    }
    names |= {f"topic {t['TopicArn']}" for t in server.client("sns").list_topics()["Topics"]}
    names |= {
        f"dashboard {d['DashboardName']}"
        for d in server.client("cloudwatch").list_dashboards()["DashboardEntries"]
    }
    return names


def test_a_lost_response_on_every_kind_of_write_leaves_no_duplicate_and_converges(
    cli: Cli, server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first response of every mutating operation is lost after AWS carried it out, so
    botocore sends it again: every create meets its own first attempt (or a client token, or a
    look before the retry) and the one apply succeeds with nothing made twice; the next apply
    finds nothing left to do."""
    seen: set[str] = set()

    def first_of_each(service: str, operation: str) -> bool:
        if not is_mutating(operation) or operation in seen:
            return False
        seen.add(operation)
        return True

    injector = FaultInjector(rate=1.0, kinds=("lost",), only=first_of_each)
    with fast_retries(monkeypatch):
        inject_into_every_context(monkeypatch, injector)
        first = cli("apply", "--auto-approve")
        monkeypatch.undo()
    refused = sorted(line.strip() for line in first.stdout.splitlines() if line.strip().startswith("failed:"))
    print(f"\nlost responses: {injector.total} ({', '.join(sorted(seen))}); refused on retry: {refused}")
    assert injector.total >= 15
    assert refused == [] and first.exit_code == 0, first.stdout
    assert duplicates(server.endpoint) == {}  # right after the one apply
    after = cli("plan", "--format", "json")
    left = [
        c["address"] for c in json.loads(after.stdout)["changes"] if c["action"] in ("delete", "retained")
    ]
    assert left == [], f"a repeated create left something extra: {left}"
    assert untagged("pacs-monitoring", server.endpoint) == []
    healed = cli("apply", "--auto-approve")
    assert healed.exit_code == 0, healed.stdout
    assert cli("plan", "--detailed-exitcode").exit_code == 0
    assert duplicates(server.endpoint) == {}


def test_faults_speak_the_protocol_of_every_service_the_tool_calls() -> None:
    """A service missing from faults.SERVICES would get a JSON error body whatever its protocol,
    which botocore cannot parse: the fault would test the parser, not the tool."""
    import re

    from .faults import SERVICES

    src = Path(__file__).resolve().parents[2] / "src" / "pacs_reconcile"
    called = {
        name
        for path in src.rglob("*.py")
        for name in re.findall(r'client\("([a-z0-9-]+)"\)', path.read_text(encoding="utf-8"))
    }
    assert called <= set(SERVICES), sorted(called - set(SERVICES))
