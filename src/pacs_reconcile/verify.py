"""`pacs-reconcile verify`: the guide's three test scripts as one check of the applied stack.

test-monitoring.sh     log groups, custom metric namespaces, alarms and the alert topic exist
test-log-collection.sh the backend log group receives log streams
test-notifications.sh  a test message reaches the alert topic; an alarm flips to ALARM and back to OK

and what the guide checked with kubectl: every declared ECS service runs its desired count with its
deployment settled, and Prometheus scrapes its targets (through its HTTP API when it is reachable
from where verify runs, a warning otherwise: it lives in the private subnets).
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from .aws import AwsContext
from .engine.changes import Action, Change
from .engine.plan import Plan
from .resources.common import chunks

DESCRIBE_SERVICES_BATCH = 10
"""DescribeServices takes at most 10 services a call."""
PROMETHEUS_TIMEOUT = 5.0
"""Seconds to wait for Prometheus's HTTP API before calling it unreachable."""


class Outcome(StrEnum):
    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True)
class Check:
    name: str
    outcome: Outcome
    detail: str


def run_checks(
    plan: Plan,
    ctx: AwsContext,
    *,
    notify: bool,
    alarm_name: str | None,
    prometheus_url: str | None = None,
) -> list[Check]:
    checks = [
        _declared_present(plan, "log_groups", "log groups exist"),
        _declared_present(plan, "alarms", "alarms exist"),
        _declared_present(plan, "sns_topics", "alert topic exists"),
        *_metric_namespaces(plan, ctx),
        *_subscriptions(plan),
        _log_streams(plan, ctx),
        *_services(plan, ctx),
    ]
    if prometheus_url is not None or _declared(plan, "ecs_services"):
        checks.append(prometheus_targets(prometheus_url))
    topic = _topic_arn(plan)
    if notify:
        checks.append(_guarded("test message published to the alert topic", lambda: _publish(ctx, topic)))
        name = alarm_name or _first_notifying_alarm(plan, topic)
        if name:
            checks.append(_guarded(f"alarm {name} flips to ALARM and back to OK", lambda: _flip(ctx, name)))
    return checks


@dataclass(frozen=True)
class Summary:
    passed: int
    warnings: int
    failed: int

    @classmethod
    def of(cls, checks: list[Check]) -> Summary:
        count = {outcome: sum(1 for c in checks if c.outcome is outcome) for outcome in Outcome}
        return cls(count[Outcome.PASS], count[Outcome.WARN], count[Outcome.FAIL])

    def __str__(self) -> str:
        """`6 passed, 4 warnings`: a warning is not counted as a pass."""
        parts = [f"{self.passed} passed"]
        if self.warnings:
            parts.append(f"{self.warnings} warning{'s' if self.warnings != 1 else ''}")
        if self.failed:
            parts.append(f"{self.failed} failed")
        return ", ".join(parts)


def _guarded(name: str, action: Callable[[], Check | str]) -> Check:
    try:
        result = action()
    except Exception as exc:  # any AWS failure is this check's failure, not the command's
        return Check(name, Outcome.FAIL, _describe(exc))
    return result if isinstance(result, Check) else Check(name, Outcome.PASS, result)


def _describe(exc: BaseException) -> str:
    response = getattr(exc, "response", None) or {}
    error = response.get("Error", {})
    return f"{error.get('Code', type(exc).__name__)}: {error.get('Message', str(exc))}"


def _declared(plan: Plan, kind: str) -> list[Change]:
    return [c for c in plan.changes if c.kind == kind and c.node is not None]


def _declared_present(plan: Plan, kind: str, name: str) -> Check:
    declared = _declared(plan, kind)
    missing = [c.address for c in declared if c.action is Action.CREATE]
    if not declared:
        return Check(name, Outcome.WARN, f"the spec declares no {kind}")
    if missing:
        return Check(name, Outcome.FAIL, f"missing: {', '.join(missing)}")
    return Check(name, Outcome.PASS, f"{len(declared)} present")


def _metric_namespaces(plan: Plan, ctx: AwsContext) -> list[Check]:
    namespaces = sorted(
        {
            c.node.config["metric"]["namespace"]
            for c in _declared(plan, "metric_filters")
            if c.node and isinstance(c.node.config.get("metric"), dict)
        }
    )
    out = []
    for namespace in namespaces:
        name = f"custom metrics in {namespace}"
        metrics = ctx.client("cloudwatch").list_metrics(Namespace=namespace).get("Metrics", [])
        if metrics:
            out.append(Check(name, Outcome.PASS, f"{len(metrics)} metrics reported"))
        else:
            out.append(
                Check(name, Outcome.WARN, "no data yet (metrics appear once matching log lines arrive)")
            )
    return out


def _subscriptions(plan: Plan) -> list[Check]:
    subscriptions = _declared(plan, "subscriptions")
    if not subscriptions:
        return []
    pending = [c.address for c in subscriptions if c.live is not None and c.live.pending]
    missing = [c.address for c in subscriptions if c.action is Action.CREATE]
    name = "alert subscriptions confirmed"
    if missing:
        return [Check(name, Outcome.FAIL, f"missing: {', '.join(missing)}")]
    if pending:
        return [Check(name, Outcome.WARN, f"awaiting confirmation (check the inbox): {', '.join(pending)}")]
    return [Check(name, Outcome.PASS, f"{len(subscriptions)} confirmed")]


def _log_streams(plan: Plan, ctx: AwsContext) -> Check:
    groups = [c for c in _declared(plan, "log_groups") if c.node and c.action is not Action.CREATE]
    with_filters = {c.parent for c in _declared(plan, "metric_filters")}
    target = next((c for c in groups if c.address in with_filters), groups[0] if groups else None)
    if target is None or target.node is None:
        return Check("log collection", Outcome.WARN, "no log group to check")
    group = target.node.config["name"]
    name = f"log streams in {group}"
    streams = ctx.client("logs").describe_log_streams(logGroupName=group, limit=5).get("logStreams", [])
    if not streams:
        return Check(name, Outcome.WARN, "no log streams yet (is the service writing logs?)")
    return Check(name, Outcome.PASS, f"latest stream {streams[0]['logStreamName']}")


def _topic_arn(plan: Plan) -> str | None:
    for change in _declared(plan, "sns_topics"):
        if change.live is not None:
            arn = change.live.attrs.get("arn")
            return str(arn) if arn else None
    return None


def _first_notifying_alarm(plan: Plan, topic: str | None) -> str | None:
    for change in _declared(plan, "alarms"):
        if change.live is not None and topic and topic in (change.live.state.get("alarm_actions") or []):
            return str(change.live.attrs.get("name"))
    return None


def _publish(ctx: AwsContext, topic: str | None) -> str:
    if topic is None:
        raise RuntimeError("no alert topic exists")
    reply = ctx.client("sns").publish(
        TopicArn=topic,
        Subject="[pacs-reconcile verify] test notification",
        Message="A test message from `pacs-reconcile verify`: the alert path works. No action needed.",
    )
    return f"message {reply['MessageId']}"


def _flip(ctx: AwsContext, alarm: str, timeout: float = 30.0) -> str:
    cloudwatch = ctx.client("cloudwatch")
    for state in ("ALARM", "OK"):
        cloudwatch.set_alarm_state(
            AlarmName=alarm, StateValue=state, StateReason=f"pacs-reconcile verify: testing the {state} path"
        )
        _wait_for_state(cloudwatch, alarm, state, timeout)
    return "ALARM then OK"


def _wait_for_state(cloudwatch: Any, alarm: str, state: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        alarms = cloudwatch.describe_alarms(AlarmNames=[alarm]).get("MetricAlarms", [])
        current = alarms[0]["StateValue"] if alarms else None
        if current == state:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"alarm {alarm} is {current}, not {state}, after {timeout:.0f}s")
        time.sleep(1)


# ECS services ---------------------------------------------------------------------------------


def _services(plan: Plan, ctx: AwsContext) -> list[Check]:
    """One check per declared service: a missing one fails; the others are read with
    DescribeServices, 10 a call per cluster."""
    out: list[Check] = []
    by_cluster: dict[str, list[str]] = {}
    for change in _declared(plan, "ecs_services"):
        assert change.node is not None
        name, cluster = change.node.config["name"], change.node.config["cluster"]
        if change.action is Action.CREATE:
            out.append(Check(f"service {name} running", Outcome.FAIL, f"missing: {change.address}"))
        else:
            by_cluster.setdefault(cluster, []).append(name)
    for cluster, names in by_cluster.items():
        for batch in chunks(names, DESCRIBE_SERVICES_BATCH):
            try:
                reply = ctx.client("ecs").describe_services(cluster=cluster, services=list(batch))
            except Exception as exc:  # any AWS failure is these checks' failure, not the command's
                out += [Check(f"service {name} running", Outcome.FAIL, _describe(exc)) for name in batch]
                continue
            out += [service_check(service) for service in reply.get("services", [])]
            out += [
                Check(
                    f"service {f.get('arn', '').rsplit('/', 1)[-1]} running",
                    Outcome.FAIL,
                    f.get("reason", ""),
                )
                for f in reply.get("failures", [])
            ]
    return out


def service_check(service: Mapping[str, Any]) -> Check:
    """What DescribeServices says of one service: it passes when it is ACTIVE, runs its desired
    count and has one deployment, COMPLETED (ECS API reference, Deployment: rolloutState
    COMPLETED / IN_PROGRESS / FAILED, for services with the rolling update controller). A rollout
    still under way with tasks starting is a warning; a failed rollout, or fewer tasks than desired
    with no rollout under way or with tasks failing to start, is a failure."""
    name = f"service {service['serviceName']} running"
    running, desired = service.get("runningCount", 0), service.get("desiredCount", 0)
    counts = f"{running} of {desired} tasks running"
    if service.get("status") != "ACTIVE":
        return Check(name, Outcome.FAIL, f"status {service.get('status')}")
    deployments = service.get("deployments", [])
    failed = [d for d in deployments if d.get("rolloutState") == "FAILED"]
    if failed:
        return Check(
            name, Outcome.FAIL, f"{counts}; rollout failed: {failed[0].get('rolloutStateReason', '')}"
        )
    rolling = len(deployments) > 1 or any(d.get("rolloutState") == "IN_PROGRESS" for d in deployments)
    failing_tasks = sum(d.get("failedTasks", 0) for d in deployments)
    if running == desired and not rolling:
        return Check(name, Outcome.PASS, counts)
    if rolling and not (running < desired and failing_tasks):
        return Check(
            name,
            Outcome.WARN,
            f"{counts}; a deployment is still rolling out ({len(deployments)} deployments)",
        )
    reason = f"; {failing_tasks} tasks failed to start" if failing_tasks else ""
    return Check(name, Outcome.FAIL, f"{counts}{reason}")


# Prometheus -----------------------------------------------------------------------------------

PROMETHEUS_CHECK = "Prometheus scrape targets up"


def prometheus_targets(url: str | None, timeout: float = PROMETHEUS_TIMEOUT) -> Check:
    """Target health from Prometheus's HTTP API, GET /api/v1/targets?state=active: each active
    target has `health` up, down or unknown (not scraped yet) and `lastError`
    (https://prometheus.io/docs/prometheus/latest/querying/api/#targets). Prometheus runs in the
    private subnets: unreachable from here is a warning, never a failure."""
    if url is None:
        return Check(
            PROMETHEUS_CHECK,
            Outcome.WARN,
            "not checked: give --prometheus-url (an address reachable from here, e.g. from inside the VPC)",
        )
    endpoint = f"{url.rstrip('/')}/api/v1/targets?state=active"
    try:
        with urllib.request.urlopen(endpoint, timeout=timeout) as response:
            document = json.loads(response.read())
        targets = document["data"]["activeTargets"]
    except (OSError, ValueError, KeyError, TypeError) as exc:  # URLError and timeouts are OSErrors
        return Check(
            PROMETHEUS_CHECK, Outcome.WARN, f"not checked: {endpoint} did not answer ({_reason(exc)})"
        )
    if not targets:
        return Check(PROMETHEUS_CHECK, Outcome.WARN, "Prometheus has no active targets")
    by_health: dict[str, list[str]] = {}
    for target in targets:
        labels = target.get("labels", {})
        shown = f"{labels.get('job', '?')} {labels.get('instance', target.get('scrapeUrl', '?'))}"
        if target.get("health") == "down" and target.get("lastError"):
            shown += f" ({target['lastError']})"
        by_health.setdefault(str(target.get("health")), []).append(shown)
    if by_health.get("down"):
        return Check(PROMETHEUS_CHECK, Outcome.FAIL, "down: " + "; ".join(by_health["down"]))
    if set(by_health) != {"up"}:
        waiting = [t for health, shown in by_health.items() if health != "up" for t in shown]
        return Check(PROMETHEUS_CHECK, Outcome.WARN, "not scraped yet: " + "; ".join(waiting))
    return Check(PROMETHEUS_CHECK, Outcome.PASS, f"{len(targets)} targets up")


def _reason(exc: BaseException) -> str:
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code}"
    if isinstance(exc, urllib.error.URLError):
        return str(exc.reason)
    if isinstance(exc, (KeyError, TypeError, ValueError)):
        return "not a Prometheus targets response"
    return str(exc) or type(exc).__name__
