"""Hand-built plans and results for the renderers' golden tests: every action, every drift class,
hostile values (backticks, HTML, a secret), in a fixed order with no clock or account in them."""

from __future__ import annotations

from typing import Any

from pacs_reconcile import FINGERPRINT_TAG, OWNER_TAG
from pacs_reconcile.diff import UNKNOWN, Difference
from pacs_reconcile.engine.apply import ApplyResult, Outcome
from pacs_reconcile.engine.changes import Action, Change
from pacs_reconcile.engine.plan import Plan, PlanOptions
from pacs_reconcile.engine.scheduler import Status
from pacs_reconcile.redact import Redactor
from pacs_reconcile.resources.base import Live
from pacs_reconcile.spec.model import Lifecycle, Location, ResourceNode

STACK = "pacs-monitoring"
REGION = "ap-northeast-2"
APPLIED = "f-applied"
"""The fingerprint of the spec as it is now."""
OLDER = "f-older"
"""A fingerprint of a spec from before the last edit."""
SECRET = "hunter2-grafana-admin"


def redactor() -> Redactor:
    return Redactor([SECRET])


def _node(address: str, kind: str, tags: bool = True, parent: str | None = None) -> ResourceNode:
    return ResourceNode(
        address=address,
        kind=kind,
        name=address.rsplit(".", 1)[-1],
        config={},
        tags={OWNER_TAG: STACK, FINGERPRINT_TAG: APPLIED} if tags else None,
        lifecycle=Lifecycle(),
        location=Location("specs/x.yaml", 1, 1),
        parent=parent,
    )


def _live(key: Any, fingerprint: str | None = APPLIED, pending: str | None = None) -> Live:
    tags = {OWNER_TAG: STACK, FINGERPRINT_TAG: fingerprint} if fingerprint is not None else None
    return Live(key=key, state={}, attrs={"name": str(key)}, tags=tags, pending=pending)


def every_action_plan() -> Plan:
    changes = [
        # AWS moved (fingerprint equals the spec's): drifted
        Change(
            "alarms.backend_errors",
            "alarms",
            Action.UPDATE,
            "pacs-backend-error-rate",
            differences=[
                Difference("threshold", 50.0, 10.0),
                Difference("description", "uses ``` fences", "no </details><script>x</script> here"),
            ],
            node=_node("alarms.backend_errors", "alarms"),
            live=_live("pacs-backend-error-rate"),
        ),
        Change(
            "dashboards.main",
            "dashboards",
            Action.UPDATE,
            "pacs-main",
            differences=[
                Difference(
                    "body",
                    {"widgets": [{"type": "metric", "x": 0, "y": 0, "width": 12, "height": 6}]},
                    {"widgets": [{"type": "metric", "x": 0, "y": 0, "width": 24, "height": 6}]},
                )
            ],
            node=_node("dashboards.main", "dashboards"),
            live=_live("pacs-main"),
        ),
        # The spec moved (older fingerprint on the resource): pending
        Change(
            "log_groups.keycloak",
            "log_groups",
            Action.UPDATE,
            "/aws/ecs/keycloak",
            differences=[Difference("retention_days", 1, 30), Difference("tags.Owner", "ops", None)],
            node=_node("log_groups.keycloak", "log_groups"),
            live=_live("/aws/ecs/keycloak", OLDER),
        ),
        Change(
            "ssm_parameters.grafana_admin",
            "ssm_parameters",
            Action.UPDATE,
            "/pacs/grafana/admin",
            differences=[Difference("value", "old-password-value", SECRET)],
            sensitive_paths={"value"},
            node=_node("ssm_parameters.grafana_admin", "ssm_parameters"),
            live=_live("/pacs/grafana/admin", OLDER),
        ),
        Change(
            "sns_topics.alerts",
            "sns_topics",
            Action.REPLACE,
            "pacs-alerts",
            differences=[Difference("fifo", False, True)],
            reason="fifo cannot change in place",
            node=_node("sns_topics.alerts", "sns_topics"),
            live=_live("pacs-alerts", OLDER),
        ),
        # Spec rewritten without changing AWS: bookkeeping only
        Change(
            "log_groups.backend",
            "log_groups",
            Action.NOOP,
            "/aws/ecs/pacs-backend",
            differences=[Difference(f"tags.{FINGERPRINT_TAG}", OLDER, APPLIED)],
            bookkeeping=True,
            node=_node("log_groups.backend", "log_groups"),
            live=_live("/aws/ecs/pacs-backend", OLDER),
        ),
        # A child declared since its parent was last applied: pending
        Change(
            "log_groups.backend.metric_filters.dicom",
            "metric_filters",
            Action.CREATE,
            ("/aws/ecs/pacs-backend", "dicom-processing"),
            differences=[
                Difference("name", None, "dicom-processing"),
                Difference("pattern", None, '[timestamp, level="INFO", message="DICOM processed"]'),
            ],
            parent="log_groups.backend",
            node=_node(
                "log_groups.backend.metric_filters.dicom", "metric_filters", False, "log_groups.backend"
            ),
        ),
        # A declared resource absent in AWS: missing
        Change(
            "alarms.new_alarm",
            "alarms",
            Action.CREATE,
            "pacs-new-alarm",
            differences=[
                Difference("name", None, "pacs-new-alarm"),
                Difference("alarm_actions", None, [UNKNOWN]),
                Difference("tags.Environment", None, "dev"),
            ],
            node=_node("alarms.new_alarm", "alarms"),
        ),
        # Owned but no longer declared: unmanaged (deleted, or kept because it holds data)
        Change(
            'dashboards["legacy"]',
            "dashboards",
            Action.DELETE,
            "legacy",
            reason="no longer declared",
            live=_live("legacy"),
        ),
        Change(
            'efs_file_systems["old-data"]',
            "efs_file_systems",
            Action.RETAINED,
            "old-data",
            reason="no longer declared; kept because it holds data "
            "(name it with --allow-destroy 'efs_file_systems[\"old-data\"]' to delete it)",
            live=_live("old-data"),
        ),
        # A same-name resource another stack owns: conflict
        Change(
            "alarms.taken",
            "alarms",
            Action.REFUSED,
            "pacs-taken",
            reason="alarm 'pacs-taken' exists but is not owned by this stack (it belongs to stack 'other')",
            node=_node("alarms.taken", "alarms"),
            live=_live("pacs-taken", None),
        ),
        # Worth knowing, not drift
        Change(
            "sns_topics.oncall.subscriptions.email",
            "subscriptions",
            Action.NOOP,
            ("pacs-oncall", "oncall@example.com"),
            notes=[f"awaiting confirmation by oncall@example.com (token {SECRET})"],
            node=_node("sns_topics.oncall.subscriptions.email", "subscriptions", False, "sns_topics.oncall"),
            live=_live(("pacs-oncall", "oncall@example.com"), None, pending="awaiting confirmation"),
        ),
        Change(
            "log_groups.grafana",
            "log_groups",
            Action.NOOP,
            "/aws/ecs/grafana",
            node=_node("log_groups.grafana", "log_groups"),
            live=_live("/aws/ecs/grafana"),
        ),
    ]
    return Plan(STACK, REGION, "spec-digest", changes, PlanOptions())


def no_change_plan() -> Plan:
    changes = [c for c in every_action_plan().changes if c.action is Action.NOOP and not c.bookkeeping]
    return Plan(STACK, REGION, "spec-digest", changes, PlanOptions())


def large_plan(resources: int) -> Plan:
    """Many log groups to create, each with a long pattern: far more than a comment holds."""
    changes = [
        Change(
            f"log_groups.service_{i:04d}",
            "log_groups",
            Action.CREATE,
            f"/aws/ecs/service-{i:04d}",
            differences=[
                Difference("name", None, f"/aws/ecs/service-{i:04d}"),
                Difference("retention_days", None, 30),
                Difference("tags.Description", None, "x" * 200),
            ],
            node=_node(f"log_groups.service_{i:04d}", "log_groups"),
        )
        for i in range(resources)
    ]
    return Plan(STACK, REGION, "spec-digest", changes, PlanOptions())


def apply_result_of(plan: Plan) -> ApplyResult:
    outcomes = []
    for change in plan.changes:
        if not change.action.mutates:
            continue
        if change.address == "sns_topics.alerts":
            outcomes.append(
                Outcome(
                    change.address,
                    change.action,
                    Status.FAILED,
                    "AccessDenied: sns:CreateTopic | denied",
                    0.25,
                )
            )
        elif change.parent == "sns_topics.alerts":
            outcomes.append(
                Outcome(change.address, change.action, Status.SKIPPED, "sns_topics.alerts failed")
            )
        else:
            outcomes.append(Outcome(change.address, change.action, Status.DONE, "", 1.5))
    return ApplyResult(outcomes)
