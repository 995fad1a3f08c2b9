"""`pacs-reconcile demo`: the whole reconcile loop on the embedded emulator, no AWS account needed.

plan (all creates) -> apply -> plan (clean) -> out-of-band changes -> plan (shows them) -> apply
-> plan (clean). Exits non-zero if any step does not do what it should.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from rich.rule import Rule

from ..commands import GlobalOptions, Session, SpecInputs
from ..errors import ExitStatus, ReconcileError
from .server import running_emulator


class DemoFailed(ReconcileError):
    pass


def run_demo(spec_path: Path, environment: str | None, variables: dict[str, str], color: bool) -> int:
    from .. import commands

    started = time.perf_counter()
    spec_path = _spec_or_example(spec_path, Session(GlobalOptions(color=color)))
    inputs = SpecInputs(spec_path, environment, variables)
    probe = commands.load(inputs, Session(GlobalOptions()))
    region = probe.region or "ap-northeast-2"
    with running_emulator(region) as emulator:
        options = GlobalOptions(region=region, endpoint_url=emulator.endpoint_url, color=color)
        session = Session(options)
        session.say(
            f"Local AWS emulator on {emulator.endpoint_url} (region {region}), seeded with the "
            f"PACS stack's existing infrastructure: {', '.join(sorted(emulator.seeded))}."
        )

        def step(title: str, expected: int, action: Any) -> None:
            session.stdout.print(Rule(title))
            code = action()
            if code != expected:
                raise DemoFailed(f"demo step {title!r} exited {code}, expected {expected}")

        def plan() -> int:
            return commands.plan(
                inputs, session, out=None, detailed_exitcode=True, targets=[], excludes=[], allow_destroy=[]
            )

        def apply() -> int:
            return commands.apply(
                inputs,
                session,
                plan_file=None,
                auto_approve=True,
                targets=[],
                excludes=[],
                allow_destroy=[],
                parallelism=8,
                show_plan=False,
            )

        step("1. plan: everything is to be created", ExitStatus.CHANGES, plan)
        step("2. apply", ExitStatus.OK, apply)
        step("3. plan: AWS now matches the spec", ExitStatus.OK, plan)
        step("4. someone changes things by hand", ExitStatus.OK, lambda: _out_of_band(emulator, session))
        step("5. plan: the hand-made changes show up, attribute by attribute", ExitStatus.CHANGES, plan)
        step("6. apply: put them back", ExitStatus.OK, apply)
        step("7. plan: clean again", ExitStatus.OK, plan)
        session.say(f"Demo finished in {time.perf_counter() - started:.1f}s.", "bold green")
    return ExitStatus.OK


def _spec_or_example(spec_path: Path, session: Session) -> Path:
    """The default monitoring.yaml when there is one here, else the example shipped in the package
    (an installed pacs-reconcile runs its demo anywhere)."""
    from ..bundled import example_spec

    if spec_path != DEFAULT_SPEC or spec_path.is_file():
        return spec_path
    example = example_spec()
    if example is None:
        return spec_path  # loading it reports the missing file
    session.say(
        f"No {DEFAULT_SPEC} here: the demo runs on the example stack shipped in the package ({example})."
    )
    return example


DEFAULT_SPEC = Path("monitoring.yaml")


# What DescribeAlarms returns that PutMetricAlarm takes back (it replaces the whole alarm).
PUT_ALARM_FIELDS = (
    "AlarmName", "AlarmDescription", "ActionsEnabled", "OKActions", "AlarmActions",
    "InsufficientDataActions", "MetricName", "Namespace", "Statistic", "Dimensions", "Period",
    "EvaluationPeriods", "ComparisonOperator", "TreatMissingData", "Threshold",
)  # fmt: skip


def alarm_put_arguments(alarm: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """PutMetricAlarm arguments that recreate a described alarm, with `changes` applied (a hand edit)."""
    return {**{k: alarm[k] for k in PUT_ALARM_FIELDS if k in alarm}, **changes}


def _out_of_band(emulator: Any, session: Session) -> int:
    import boto3

    region = emulator.region
    endpoint = emulator.endpoint_url
    cloudwatch: Any = boto3.client("cloudwatch", region_name=region, endpoint_url=endpoint)
    logs = boto3.client("logs", region_name=region, endpoint_url=endpoint)
    alarm: dict[str, Any] = cloudwatch.describe_alarms(AlarmNames=["pacs-backend-error-rate"])[
        "MetricAlarms"
    ][0]
    cloudwatch.put_metric_alarm(**alarm_put_arguments(alarm, Threshold=50.0))
    session.say("  alarm pacs-backend-error-rate: threshold 10 -> 50")
    logs.put_retention_policy(logGroupName="/aws/ecs/keycloak", retentionInDays=1)
    session.say("  log group /aws/ecs/keycloak: retention 30 -> 1 day")
    logs.delete_metric_filter(logGroupName="/aws/ecs/pacs-backend", filterName="dicom-processing")
    session.say("  metric filter dicom-processing: deleted")
    group_arn = logs.describe_log_groups(logGroupNamePrefix="/aws/ecs/grafana")["logGroups"][0]["logGroupArn"]
    logs.untag_resource(resourceArn=group_arn, tagKeys=["Environment"])
    session.say("  log group /aws/ecs/grafana: tag Environment removed")
    return ExitStatus.OK
