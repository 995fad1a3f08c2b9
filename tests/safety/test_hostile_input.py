"""Point 6, hostile and broken input.

- The golden corpus (tests/golden/broken, run by tests/test_golden_specs.py: exact message,
  location, exit 3, zero AWS calls) holds at least 80 broken specs and reaches every kind and
  every spec feature: checked here. YAML bombs, huge files, deep nesting and non-UTF-8 bytes are
  covered by tests/spec/test_yamlsrc.py; includes that leave the folder by tests/spec/test_loader.py.
- Code paths (a Lambda function's code.source_dir) cannot make the tool read outside the spec's
  folder, through '..', an absolute path or symbolic links: an audit hook records every file the
  process opens or lists while validating.
- Property-based (hypothesis, moto in-process reset per example): random valid specs converge
  (apply -> empty plan -> the next apply sends no mutating call) and a random out-of-band change
  is always planned, at the resource and path it touched.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws
from typer.testing import CliRunner

from pacs_reconcile.cli import app
from pacs_reconcile.engine.apply import apply_plan
from pacs_reconcile.resources.registry import KINDS

from .helpers import REGION, apply, context, failures, pending, plan

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "broken"
CASES = sorted(p for p in GOLDEN.iterdir() if p.is_dir())
EXAMPLES = 12
"""Hypothesis examples per property (each one applies a stack to a fresh in-process moto)."""


# The corpus --------------------------------------------------------------------------------------


def _corpus_text() -> str:
    texts = []
    for case in CASES:
        for path in sorted(case.rglob("*.yaml")):
            if path.is_file() and not path.is_symlink():
                texts.append(path.read_bytes().decode("utf-8", errors="replace"))
    return "\n".join(texts)


def test_the_broken_corpus_reaches_every_kind_and_feature() -> None:
    assert len(CASES) >= 80
    text = _corpus_text()
    missing_kinds = sorted(kind for kind in KINDS if f"{kind}:" not in text)
    assert missing_kinds == [], f"no broken spec uses {missing_kinds}"
    features = [
        "include:",
        "environments:",
        "variables:",
        "${var.",
        "${lookups.",
        "when:",
        "for_each:",
        "lookups:",
        "lifecycle:",
        "depends_on:",
        "sensitive: true",
        "${each.",
    ]
    assert [f for f in features if f not in text] == []
    for case in CASES:
        assert (case / "expected.txt").read_text(encoding="utf-8").endswith("nothing was sent to AWS.\n"), (
            case
        )


# Code paths --------------------------------------------------------------------------------------

_opened: list[str] | None = None


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if _opened is not None and event in ("open", "os.scandir", "os.listdir") and args and args[0] is not None:
        target = args[0]
        if isinstance(target, (str, bytes, os.PathLike)):
            _opened.append(os.fsdecode(target))


sys.addaudithook(_audit)


@contextmanager
def recording_opens() -> Iterator[list[str]]:
    """Every path the process opens or lists inside the block."""
    global _opened
    _opened = []
    try:
        yield _opened
    finally:
        _opened = None


LAMBDA_SPEC = """version: 1
stack: golden
region: ap-northeast-2
lambda_functions:
  collector:
    name: pacs-custom-metrics-collector
    runtime: python3.12
    handler: index.handler
    role: arn:aws:iam::123456789012:role/pacs-lambda
    code: {source_dir: %s}
"""


@pytest.mark.parametrize(
    ("source_dir", "message"),
    [
        ("../outside", "must be a folder inside the spec's folder"),
        ("{outside}", "must be a folder inside the spec's folder"),
        ("linked", "resolves outside the spec's folder"),
        ("leaky", "links outside the folder"),
        ("nested/../../outside", "must be a folder inside the spec's folder"),
    ],
    ids=["dot-dot", "absolute", "symlinked-folder", "symlinked-file", "nested-dot-dot"],
)
def test_code_paths_cannot_read_outside_the_spec_folder(
    tmp_path: Path, source_dir: str, message: str
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "index.py").write_text("SECRET = 'outside the spec folder'\n")
    spec_dir = tmp_path / "spec"
    spec_dir.mkdir()
    (spec_dir / "linked").symlink_to(outside, target_is_directory=True)
    (spec_dir / "leaky").mkdir()
    (spec_dir / "leaky" / "handler.py").write_text("def handler(event, context): pass\n")
    (spec_dir / "leaky" / "index.py").symlink_to(outside / "index.py")
    (spec_dir / "monitoring.yaml").write_text(LAMBDA_SPEC % source_dir.format(outside=outside))
    stderr = refused_without_reading(spec_dir / "monitoring.yaml", outside)
    assert message in stderr


def refused_without_reading(spec: Path, outside: Path) -> str:
    """Validate `spec`: it must be refused (exit 3) without opening anything under `outside`, whose
    files say "outside the spec folder"; returns stderr."""
    with recording_opens() as opened:
        result = CliRunner().invoke(app, ["--no-color", "validate", "-f", str(spec)])
    assert result.exit_code == 3, result.stderr
    assert "outside the spec folder" not in result.stderr + result.stdout
    assert any(p.endswith("monitoring.yaml") for p in opened), "the audit hook saw the spec being read"
    touched = [p for p in opened if Path(p).resolve().is_relative_to(outside.resolve())]
    assert touched == [], f"read outside the spec's folder: {touched}"
    return result.stderr


PARAMETER_SPEC = """version: 1
stack: golden
region: ap-northeast-2
ssm_parameters:
  config:
    name: /pacs/prometheus/config
    value_file: %s
"""


@pytest.mark.parametrize(
    ("value_file", "message"),
    [
        ("../outside/prometheus.yml", "must be a file inside the spec's folder"),
        ("{outside}/prometheus.yml", "must be a file inside the spec's folder"),
        ("linked.yml", "resolves outside the spec's folder"),
        ("linked-folder/prometheus.yml", "resolves outside the spec's folder"),
        ("configs/../../outside/prometheus.yml", "must be a file inside the spec's folder"),
    ],
    ids=["dot-dot", "absolute", "symlinked-file", "symlinked-folder", "nested-dot-dot"],
)
def test_parameter_value_files_cannot_be_read_outside_the_spec_folder(
    tmp_path: Path, value_file: str, message: str
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "prometheus.yml").write_text("password: outside the spec folder\n")
    spec_dir = tmp_path / "spec"
    (spec_dir / "configs").mkdir(parents=True)
    (spec_dir / "linked.yml").symlink_to(outside / "prometheus.yml")
    (spec_dir / "linked-folder").symlink_to(outside, target_is_directory=True)
    (spec_dir / "monitoring.yaml").write_text(PARAMETER_SPEC % value_file.format(outside=outside))
    stderr = refused_without_reading(spec_dir / "monitoring.yaml", outside)
    assert "ssm_parameters.config: value_file: " in stderr
    assert message in stderr


# Property-based -----------------------------------------------------------------------------------

RETENTION = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365]
slug = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=3, max_size=10)
tag_key = st.sampled_from(["Team", "Owner", "CostCenter", "Tier"])
tags = st.dictionaries(tag_key, slug, max_size=2)


@st.composite
def specs(draw: st.DrawFn) -> dict[str, Any]:
    """A valid spec: 1-3 log groups (some with a metric filter), 0-3 alarms, 0-1 topic."""
    names = draw(st.lists(slug, min_size=2, max_size=7, unique=True))
    spec: dict[str, Any] = {"version": 1, "stack": "hypothesis", "region": REGION, "log_groups": {}}
    topic = draw(st.booleans())
    if topic:
        spec["sns_topics"] = {
            "alerts": {"name": f"topic-{names[0]}", "display_name": draw(slug), "tags": draw(tags)}
        }
    for index, name in enumerate(names[: draw(st.integers(1, 3))]):
        group: dict[str, Any] = {
            "name": f"/hypothesis/{name}",
            "retention_days": draw(st.sampled_from(RETENTION)),
            "tags": draw(tags),
        }
        if draw(st.booleans()):
            group["metric_filters"] = {
                "errors": {
                    "name": f"errors-{name}",
                    "pattern": draw(st.sampled_from(["ERROR", '"Exception"', "[level=ERROR, ...]"])),
                    "metric": {"name": f"Errors{index}", "namespace": "Hypothesis", "value": "1"},
                }
            }
        spec["log_groups"][f"g{index}"] = group
    for index, name in enumerate(names[: draw(st.integers(0, 3))]):
        alarm: dict[str, Any] = {
            "name": f"alarm-{name}",
            "metric": {
                "name": f"Metric{index}",
                "namespace": "Hypothesis",
                "statistic": draw(st.sampled_from(["Sum", "Average", "Maximum"])),
                "period": draw(st.sampled_from([60, 300])),
            },
            "comparison": draw(
                st.sampled_from(
                    ["GreaterThanThreshold", "LessThanThreshold", "GreaterThanOrEqualToThreshold"]
                )
            ),
            "threshold": draw(st.integers(0, 1000)),
            "evaluation_periods": draw(st.integers(1, 3)),
            "tags": draw(tags),
        }
        if topic and draw(st.booleans()):
            alarm["alarm_actions"] = ["${sns_topics.alerts.arn}"]
        spec.setdefault("alarms", {})[f"a{index}"] = alarm
    return spec


def _load(spec: dict[str, Any], folder: str) -> Any:
    from pacs_reconcile.spec.loader import load_spec

    path = Path(folder) / "monitoring.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return load_spec(path, environment=None, cli_vars={}, environ={})


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@pytest.mark.slow
@given(spec=specs())
def test_random_valid_specs_converge_and_a_second_apply_sends_nothing(spec: dict[str, Any]) -> None:
    with mock_aws(), tempfile.TemporaryDirectory() as folder:
        loaded = _load(spec, folder)
        the_plan, result = apply(loaded)
        assert result.ok, failures(result)
        assert the_plan.has_changes
        assert pending(plan(loaded)) == []
        again = context(loaded)
        second = plan(loaded, again)
        assert second.values is not None
        apply_plan(second, second.values, again)
        assert again.stats.mutating() == {}


MUTATIONS = [
    "retention",
    "tag added",
    "tag removed",
    "group deleted",
    "filter pattern",
    "threshold",
    "alarm deleted",
    "display name",
    "stray owned alarm",
]


def _mutate(kind: str, spec: dict[str, Any], draw: Any) -> tuple[str, str]:
    """Change AWS by hand; returns (address, path or action) the plan must show."""
    logs, cloudwatch, sns = (boto3.client(s, region_name=REGION) for s in ("logs", "cloudwatch", "sns"))
    group_key, group = next(iter(spec["log_groups"].items()))
    arn = logs.describe_log_groups(logGroupNamePrefix=group["name"])["logGroups"][0][
        "logGroupArn"
    ].removesuffix(":*")
    alarm_key, alarm = next(iter(spec.get("alarms", {}).items()), (None, None))
    if kind == "retention":
        other = draw(st.sampled_from([r for r in RETENTION if r != group["retention_days"]]))
        logs.put_retention_policy(logGroupName=group["name"], retentionInDays=other)
        return f"log_groups.{group_key}", "retention_days"
    if kind == "tag added":
        logs.tag_resource(resourceArn=arn, tags={"HandMade": "yes"})
        return f"log_groups.{group_key}", "tags.HandMade"
    if kind == "tag removed" and group["tags"]:
        key = sorted(group["tags"])[0]
        logs.untag_resource(resourceArn=arn, tagKeys=[key])
        return f"log_groups.{group_key}", f"tags.{key}"
    if kind == "group deleted":
        logs.delete_log_group(logGroupName=group["name"])
        return f"log_groups.{group_key}", "create"
    if kind == "filter pattern" and "metric_filters" in group:
        flt = group["metric_filters"]["errors"]
        logs.put_metric_filter(
            logGroupName=group["name"],
            filterName=flt["name"],
            filterPattern="WARN",
            metricTransformations=[
                {"metricName": flt["metric"]["name"], "metricNamespace": "Hypothesis", "metricValue": "1"}
            ],
        )
        return f"log_groups.{group_key}.metric_filters.errors", "pattern"
    if kind == "threshold" and alarm:
        found = cloudwatch.describe_alarms(AlarmNames=[alarm["name"]])["MetricAlarms"][0]
        keep = (
            "AlarmName",
            "MetricName",
            "Namespace",
            "Statistic",
            "Period",
            "EvaluationPeriods",
            "ComparisonOperator",
            "AlarmActions",
            "Dimensions",
        )
        cloudwatch.put_metric_alarm(
            **{k: found[k] for k in keep if k in found}, Threshold=alarm["threshold"] + 0.5
        )
        return f"alarms.{alarm_key}", "threshold"
    if kind == "alarm deleted" and alarm:
        cloudwatch.delete_alarms(AlarmNames=[alarm["name"]])
        return f"alarms.{alarm_key}", "create"
    if kind == "display name" and "sns_topics" in spec:
        topic_arn = sns.create_topic(Name=spec["sns_topics"]["alerts"]["name"])["TopicArn"]
        sns.set_topic_attributes(TopicArn=topic_arn, AttributeName="DisplayName", AttributeValue="by hand")
        return "sns_topics.alerts", "display_name"
    cloudwatch.put_metric_alarm(
        AlarmName="stray",
        MetricName="m",
        Namespace="n",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanThreshold",
        Tags=[{"Key": "pacs-reconcile:stack", "Value": spec["stack"]}],
    )
    return 'alarms["stray"]', "delete"


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@pytest.mark.slow
@given(spec=specs(), mutation=st.sampled_from(MUTATIONS), data=st.data())
def test_a_random_out_of_band_change_is_always_planned_where_it_happened(
    spec: dict[str, Any], mutation: str, data: st.DataObject
) -> None:
    with mock_aws(), tempfile.TemporaryDirectory() as folder:
        loaded = _load(spec, folder)
        _, result = apply(loaded)
        assert result.ok, failures(result)
        address, expected = _mutate(mutation, spec, data.draw)
        changes = {c.address: c for c in plan(loaded).changes if c.action.mutates}
        assert address in changes, (mutation, address, sorted(changes))
        change = changes[address]
        if expected in ("create", "delete"):
            assert str(change.action) == expected
        else:
            assert str(change.action) == "update"
            assert expected in [d.path for d in change.differences], change.differences
        assert set(changes) == {address}, sorted(changes)
