"""event_buses on the emulator: a custom bus encrypted with a KMS key and with its dead-letter queue
(both by reference), logging and a resource policy converges with a rule on it (apply -> empty
plan -> zero writes); DescribeEventBus's defaults are no difference; each setting changed by hand
shows at its path and is repaired; export round-trips; and the spec refuses what EventBridge
refuses, a rule naming its bus by reference included."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from pacs_reconcile import OWNER_TAG
from pacs_reconcile.aws import AwsContext
from pacs_reconcile.diff import diff_states
from pacs_reconcile.engine.changes import Action
from pacs_reconcile.errors import SpecError
from pacs_reconcile.export import Selection, check, export, render
from pacs_reconcile.resources.base import Desired, Live, ReadScope
from pacs_reconcile.resources.event_buses import EventBuses, EventBusSpec
from pacs_reconcile.resources.registry import KINDS
from pacs_reconcile.spec.loader import load_spec

from .spec_cycle import actions, converges, plan_of, repaired_by_hand_change

BUSES: EventBuses = KINDS["event_buses"]  # type: ignore[assignment]
NAME = "pacs-audit"
ACCOUNT = "123456789012"
ARN = f"arn:aws:events:ap-northeast-2:{ACCOUNT}:event-bus/{NAME}"
QUEUE = f"arn:aws:sqs:ap-northeast-2:{ACCOUNT}:pacs-audit-dlq"
POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "FromTheSecurityAccount",
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
            "Action": "events:PutEvents",
            "Resource": ARN,
        }
    ],
}
SPEC = f"""\
version: 1
stack: pacs-test
kms_keys:
  events: {{name: pacs-events}}
sqs_queues:
  audit_dlq: {{name: pacs-audit-dlq}}
event_buses:
  audit:
    name: {NAME}
    description: Audit events of the PACS stack
    kms_key_identifier: ${{kms_keys.events.arn}}
    dead_letter_arn: ${{sqs_queues.audit_dlq.arn}}
    log_config: {{level: INFO, include_detail: FULL}}
    policy: {json.dumps(POLICY)}
    tags: {{Name: pacs-audit}}
event_rules:
  logins:
    name: pacs-logins
    event_bus: {NAME}
    event_pattern: {{source: [pacs.keycloak]}}
    depends_on: [event_buses.audit]
"""


def desired(aws: AwsContext, **spec: Any) -> Desired:
    state = BUSES.canonical(EventBusSpec.model_validate({"name": NAME, **spec}).model_dump(mode="json"))
    return Desired("event_buses.audit", NAME, state, {OWNER_TAG: aws.stack, "Name": NAME})


def read(aws: AwsContext, *names: str) -> dict[Any, Live]:
    return BUSES.read(aws, list(names), ReadScope(aws.stack))


def test_registered() -> None:
    assert BUSES.meta.taggable and not BUSES.meta.stateful and BUSES.meta.force_new == {"name"}
    assert set(BUSES.meta.attributes) == {"name", "arn"}


def test_a_bus_and_a_rule_on_it_converge(tmp_path: Path, aws: AwsContext) -> None:
    first = plan_of(tmp_path, aws, SPEC)
    assert set(actions(first).values()) == {Action.CREATE}
    converges(tmp_path, aws, SPEC)
    events = aws.client("events")
    bus = events.describe_event_bus(Name=NAME)
    key = aws.client("kms").describe_key(KeyId="alias/pacs-events")["KeyMetadata"]["Arn"]
    assert bus["KmsKeyIdentifier"] == key and bus["DeadLetterConfig"] == {"Arn": QUEUE}
    assert bus["LogConfig"] == {"Level": "INFO", "IncludeDetail": "FULL"}
    assert json.loads(bus["Policy"])["Statement"][0]["Sid"] == "FromTheSecurityAccount"
    tags = {t["Key"]: t["Value"] for t in events.list_tags_for_resource(ResourceARN=bus["Arn"])["Tags"]}
    assert tags[OWNER_TAG] == "pacs-test", "tagged on create"
    assert [r["Name"] for r in events.list_rules(EventBusName=NAME)["Rules"]] == ["pacs-logins"]


def test_describe_event_bus_defaults_are_no_difference(aws: AwsContext) -> None:
    aws.client("events").create_event_bus(Name=NAME)
    live = read(aws, NAME)[NAME]
    assert diff_states(desired(aws).state, live.state).paths() == []
    explicit = desired(aws, kms_key_identifier="", dead_letter_arn="", log_config={}, policy={})
    assert diff_states(explicit.state, live.state).paths() == [], "no key, queue, logging or policy"


def _events(aws: AwsContext) -> Any:
    return aws.client("events")


OUT_OF_BAND = {
    "description": (lambda aws: _events(aws).update_event_bus(Name=NAME, Description="x"), "description"),
    "dead-letter queue": (
        lambda aws: _events(aws).update_event_bus(Name=NAME, DeadLetterConfig={"Arn": f"{QUEUE}-2"}),
        "dead_letter_arn",
    ),
    "logging": (
        lambda aws: _events(aws).update_event_bus(Name=NAME, LogConfig={"Level": "TRACE"}),
        "log_config",
    ),
    "policy removed": (
        lambda aws: _events(aws).remove_permission(EventBusName=NAME, RemoveAllPermissions=True),
        "policy",
    ),
    "tag added": (
        lambda aws: _events(aws).tag_resource(ResourceARN=ARN, Tags=[{"Key": "Owner", "Value": "bob"}]),
        "tags",
    ),
}


@pytest.mark.parametrize("case", sorted(OUT_OF_BAND))
def test_a_change_by_hand_shows_at_its_path_and_is_repaired(aws: AwsContext, case: str) -> None:
    mutate, path = OUT_OF_BAND[case]
    want = desired(
        aws, description="audit", dead_letter_arn=QUEUE, log_config={"level": "ERROR"}, policy=POLICY
    )
    repaired_by_hand_change(BUSES, aws, want, mutate, path)


def test_unmanaged_settings_keep_their_values_on_update(aws: AwsContext) -> None:
    """UpdateEventBus is sent whole: a setting the spec leaves unmanaged is sent with its live value."""
    BUSES.create(aws, desired(aws, description="one", dead_letter_arn=QUEUE))
    want = desired(aws, description="two")  # the dead-letter queue: not managed
    live = read(aws, NAME)[NAME]
    BUSES.update(aws, want, live, diff_states(want.state, live.state))
    bus = _events(aws).describe_event_bus(Name=NAME)
    assert bus["Description"] == "two" and bus["DeadLetterConfig"] == {"Arn": QUEUE}


def test_export_round_trips(tmp_path: Path, aws: AwsContext) -> None:
    converges(tmp_path, aws, SPEC)
    result = export(aws, aws.stack, Selection(kinds=("event_buses", "sqs_queues"), prefix="pacs-audit"))
    (entry,) = result.entries["event_buses"]
    assert entry.config["dead_letter_arn"] == "${sqs_queues.pacs_audit_dlq.arn}"
    assert entry.config["log_config"] == {"level": "INFO", "include_detail": "FULL"}
    text = render(result, "pacs-reconcile export")
    assert check(text, result, None) == []
    exported = tmp_path / "exported"
    exported.mkdir()
    planned = actions(plan_of(exported, aws, text))
    assert {a: x for a, x in planned.items() if a.startswith(("event_buses", "sqs_queues"))} == {}


def test_a_rule_names_its_bus_by_reference(tmp_path: Path, aws: AwsContext) -> None:
    """The bus is part of a rule's identity, known before plan: a reference to the name the bus's
    spec sets is resolved when the spec is loaded, and still orders the rule after the bus."""
    by_reference = SPEC.replace(f"event_bus: {NAME}", "event_bus: ${event_buses.audit.name}").replace(
        "    depends_on: [event_buses.audit]\n", ""
    )
    path = tmp_path / "monitoring.yaml"
    path.write_text(by_reference)
    rule = load_spec(path).resources["event_rules.logins"]
    assert rule.config["event_bus"] == NAME and "event_buses.audit" in rule.depends_on
    converges(tmp_path, aws, by_reference)
    assert [r["Name"] for r in _events(aws).list_rules(EventBusName=NAME)["Rules"]] == ["pacs-logins"]


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ("${event_buses.audit.arn}", "part of the resource's identity, so it must be known before plan"),
        ("${event_buses.missing.name}", "no resource event_buses.missing"),
    ],
)
def test_a_bus_reference_the_spec_cannot_resolve_is_an_error(
    tmp_path: Path, reference: str, message: str
) -> None:
    path = tmp_path / "monitoring.yaml"
    path.write_text(SPEC.replace(f"event_bus: {NAME}", f"event_bus: {reference}"))
    with pytest.raises(SpecError) as caught:
        load_spec(path)
    assert [d.message for d in caught.value.diagnostics if "event_bus" in (d.field or "")] != []
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"name": "default"}, "the account's own event bus"),
        ({"name": "aws.partner/x/y"}, "1-256 letters, digits"),
        ({"dead_letter_arn": "pacs-dlq"}, "SQS queue ARN"),
        ({"kms_key_identifier": "key id with spaces"}, "KMS key ARN"),
        ({"log_config": {"level": "DEBUG"}}, "'OFF', 'ERROR', 'INFO' or 'TRACE'"),
        ({"policy": {"Version": "2012-10-17"}}, "needs a 'Statement'"),
        ({"description": "x" * 513}, "at most 512"),
    ],
)
def test_validation(spec: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        EventBusSpec.model_validate({"name": NAME, **spec})


def test_a_rule_removed_from_the_spec_is_deleted_from_the_stacks_bus(tmp_path: Path, aws: AwsContext) -> None:
    """The plan finds the stack's rules on its own buses even when the spec names none there."""
    converges(tmp_path, aws, SPEC)
    without_rule = SPEC[: SPEC.index("event_rules:")]
    assert actions(plan_of(tmp_path, aws, without_rule)) == {
        'event_rules["pacs-audit/pacs-logins"]': Action.DELETE
    }
