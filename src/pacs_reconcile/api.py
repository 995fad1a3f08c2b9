"""pacs-reconcile from Python: load a spec, plan, apply and check drift, with typed results.

For tooling that drives the reconciler itself (a deployment service, a chat bot, a notebook). The
functions print nothing and return objects instead of exit codes; failures raise the exceptions
of `pacs_reconcile.errors` (`SpecError` with every `Diagnostic` of an invalid spec, `AwsError`,
`PlanRefused`, ...). The command line is a thin layer over the same calls.

    from pacs_reconcile import api

    spec = api.load("monitoring.yaml", environment="prod")
    plan = api.plan(spec, api.PlanOptions(targets=["alarms.pacs_backend_error_rate"]))
    for change in plan.changes:
        if change.action.mutates:
            print(change.action, change.address, [d.path for d in change.differences])
    if plan.has_changes and not plan.refused:
        applied = api.apply(spec)
        assert applied.result.ok
    report = api.drift(spec)
    print(len(report.of(api.Finding.DRIFTED)), "resources drifted")

Each call opens its own AWS session unless given one (`api.connect(spec, ...)`), so several calls
can share clients and call accounting. Nothing here reads the command line's options or prints.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .aws import AwsContext, AwsSettings
from .diff import Difference
from .engine.apply import ApplyResult, Outcome
from .engine.changes import Action, Change
from .engine.drift import DriftItem, DriftReport, Finding
from .engine.plan import Plan, PlanOptions
from .errors import AwsError, Diagnostic, PlanRefused, ReconcileError, SpecError
from .spec.model import Spec

__all__ = [
    "Action",
    "Applied",
    "ApplyResult",
    "AwsContext",
    "AwsError",
    "Change",
    "Diagnostic",
    "Difference",
    "DriftItem",
    "DriftReport",
    "Finding",
    "Outcome",
    "Plan",
    "PlanOptions",
    "PlanRefused",
    "ReconcileError",
    "Spec",
    "SpecError",
    "apply",
    "connect",
    "drift",
    "load",
    "plan",
]


@dataclass(frozen=True)
class Applied:
    """What `apply` planned (under the stack's lock) and what came of each change."""

    plan: Plan
    result: ApplyResult

    @property
    def ok(self) -> bool:
        return self.result.ok


def load(
    path: str | Path,
    *,
    environment: str | None = None,
    variables: Mapping[str, str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Spec:
    """Read and validate a spec offline (no AWS call). `variables` are `--var NAME=VALUE`s;
    `environ` is where `from_env` variables are read (default: this process's environment).
    Raises SpecError listing every problem."""
    from .spec.loader import load_spec

    return load_spec(
        Path(path),
        environment=environment,
        cli_vars=dict(variables or {}),
        environ=os.environ if environ is None else environ,
    )


def connect(
    spec: Spec,
    *,
    region: str | None = None,
    profile: str | None = None,
    endpoint_url: str | None = None,
    parallelism: int = 8,
) -> AwsContext:
    """An AWS session for the spec's stack: the region is `region`, else the spec's, else AWS
    config's; `endpoint_url` points at an emulator."""
    role = spec.assume_role
    settings = AwsSettings(
        region=region or spec.region,
        profile=profile,
        endpoint_url=endpoint_url,
        max_pool_connections=max(10, parallelism * 2),
        role_arn=role.role_arn if role else None,
        role_session_name=role.session_name if role else "pacs-reconcile",
        role_external_id=role.external_id if role else None,
    )
    aws = AwsContext(settings, stack=spec.stack)
    check_account(spec, aws)
    return aws


def check_account(spec: Spec, aws: AwsContext) -> None:
    """The environment's account guard (Terraform's allowed_account_ids): checked before anything
    else is read or written, so credentials for the wrong account change nothing."""
    if spec.account_id is None or aws.account_id == spec.account_id:
        return
    raise PlanRefused(
        f"refusing to run: environment {spec.environment} is for AWS account {spec.account_id} "
        f"(environments.{spec.environment}.account_id), but the credentials are for account "
        f"{aws.account_id}; nothing was read or changed"
    )


def plan(
    spec: Spec,
    options: PlanOptions | None = None,
    *,
    aws: AwsContext | None = None,
    region: str | None = None,
    endpoint_url: str | None = None,
) -> Plan:
    """Read AWS and decide an action per resource; only reads. `options` are the command line's
    `--target`, `--exclude`, `--allow-destroy` and destroy. `plan.has_changes`, `plan.refused` and
    each `Change` (action, address, differences) say what apply would do."""
    from .engine.plan import make_plan

    context = aws or connect(spec, region=region, endpoint_url=endpoint_url)
    return make_plan(spec, context, options or PlanOptions())


def apply(
    spec: Spec,
    options: PlanOptions | None = None,
    *,
    aws: AwsContext | None = None,
    parallelism: int = 8,
    lock_timeout: float = 0.0,
    region: str | None = None,
    endpoint_url: str | None = None,
) -> Applied:
    """Converge AWS to the spec, as `apply --auto-approve` does: under the stack's lock, plan
    again and carry the plan out in dependency order. Raises PlanRefused (nothing applied) when
    the plan refuses a change; a failed change is an Outcome in the result, not an exception."""
    from .engine.apply import apply_plan
    from .engine.lock import stack_lock
    from .engine.plan import make_plan
    from .engine.values import Values

    context = aws or connect(spec, region=region, endpoint_url=endpoint_url, parallelism=parallelism)
    options = options or PlanOptions()
    operation = "destroy" if options.destroy else "apply"
    with stack_lock(context, spec.stack, lock_timeout, operation, lambda _: None):
        context.forget_all()  # what was read before the lock was taken may have moved since
        the_plan = make_plan(spec, context, options)
        if the_plan.refused:
            raise PlanRefused(
                "the plan has refused changes; nothing was applied:\n  "
                + "\n  ".join(f"{c.address}: {c.reason}" for c in the_plan.refused)
            )
        values = the_plan.values or Values(the_plan.lookups)
        return Applied(the_plan, apply_plan(the_plan, values, context, parallelism))


def drift(
    spec: Spec,
    *,
    aws: AwsContext | None = None,
    region: str | None = None,
    endpoint_url: str | None = None,
) -> DriftReport:
    """Read-only: every difference classified as drifted, pending, missing, unmanaged, conflict or
    info (`report.of(Finding.DRIFTED)`, `report.findings`)."""
    from .engine.drift import classify

    return classify(plan(spec, aws=aws, region=region, endpoint_url=endpoint_url))
