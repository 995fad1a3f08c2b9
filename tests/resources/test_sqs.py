"""sqs_queues on the emulator: a queue with its dead-letter queue (by reference) and policy converges
(apply -> empty plan -> zero writes); AWS's defaults in GetQueueAttributes' strings are no
difference; each attribute changed by hand shows at its path and is repaired; encryption switches
one mode for the other; reads cost two calls a queue; a queue is kept when removed from the spec;
export round-trips; and the spec refuses what SQS refuses."""

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
from pacs_reconcile.resources.registry import KINDS
from pacs_reconcile.resources.sqs import Queues, QueueSpec
from pacs_reconcile.spec.loader import load_spec

from .spec_cycle import actions, applied, converges, plan_of, repaired_by_hand_change

QUEUES: Queues = KINDS["sqs_queues"]  # type: ignore[assignment]
ARN = "arn:aws:sqs:ap-northeast-2:123456789012:"
NAME = "pacs-dicom-events"
EVENTS_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "FromEventBridge",
            "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"},
            "Action": ["sqs:SendMessage"],
            "Resource": "*",
        }
    ],
}
SPEC = f"""\
version: 1
stack: pacs-test
sqs_queues:
  dlq:
    name: pacs-dicom-events-dlq
    message_retention_period: 1209600
    redrive_allow_policy: {{permission: byQueue, source_queue_arns: ["{ARN}{NAME}"]}}
  events:
    name: {NAME}
    visibility_timeout: 120
    receive_wait_time: 20
    delay_seconds: 5
    max_message_size: 262144
    redrive_policy: {{dead_letter_queue_arn: "${{sqs_queues.dlq.arn}}", max_receive_count: 5}}
    policy: {json.dumps(EVENTS_POLICY)}
    kms_master_key_id: alias/aws/sqs
    kms_data_key_reuse_period: 600
    tags: {{Name: dicom-events}}
  updates:
    name: pacs-study-updates.fifo
    fifo: true
    content_based_deduplication: true
    deduplication_scope: messageGroup
    fifo_throughput_limit: perMessageGroupId
"""


def desired(aws: AwsContext, **spec: Any) -> Desired:
    state = QUEUES.canonical(QueueSpec.model_validate({"name": NAME, **spec}).model_dump(mode="json"))
    return Desired(f"sqs_queues.{NAME}", state["name"], state, {OWNER_TAG: aws.stack})


def read(aws: AwsContext, *names: str) -> dict[Any, Live]:
    return QUEUES.read(aws, list(names), ReadScope(aws.stack))


def differences(want: Desired, live: Live) -> list[str]:
    return diff_states(want.state, QUEUES.canonical(dict(live.state))).paths()


def url_of(aws: AwsContext, name: str = NAME) -> str:
    return str(aws.client("sqs").get_queue_url(QueueName=name)["QueueUrl"])


def attributes_of(aws: AwsContext, name: str = NAME) -> dict[str, str]:
    found = aws.client("sqs").get_queue_attributes(QueueUrl=url_of(aws, name), AttributeNames=["All"])
    return dict(found["Attributes"])


def test_registered_as_a_stateful_kind() -> None:
    assert QUEUES.meta.stateful and QUEUES.meta.taggable
    assert QUEUES.meta.force_new == {"name", "fifo"}
    assert set(QUEUES.meta.attributes) == {"name", "arn", "url"}


def test_queues_converge_and_a_second_apply_writes_nothing(tmp_path: Path, aws: AwsContext) -> None:
    first = plan_of(tmp_path, aws, SPEC)
    assert set(actions(first).values()) == {Action.CREATE} and len(actions(first)) == 3
    converges(tmp_path, aws, SPEC)

    events = attributes_of(aws)
    assert json.loads(events["RedrivePolicy"]) == {
        "deadLetterTargetArn": f"{ARN}pacs-dicom-events-dlq",
        "maxReceiveCount": 5,
    }
    assert events["KmsMasterKeyId"] == "alias/aws/sqs" and events["SqsManagedSseEnabled"] == "false"
    tags = aws.client("sqs").list_queue_tags(QueueUrl=url_of(aws))["Tags"]
    assert tags["Name"] == "dicom-events" and tags[OWNER_TAG] == "pacs-test", "tagged on create"
    assert aws.stats.mutating().get("sqs.TagQueue") is None
    fifo = attributes_of(aws, "pacs-study-updates.fifo")
    assert fifo["FifoQueue"] == "true" and fifo["FifoThroughputLimit"] == "perMessageGroupId"


@pytest.mark.parametrize(
    ("attributes", "spec"),
    [
        ({}, {}),
        ({"FifoQueue": "true"}, {"name": "pacs-a.fifo", "fifo": True}),
        ({"KmsMasterKeyId": "alias/aws/sqs"}, {"kms_master_key_id": "alias/aws/sqs"}),
    ],
    ids=["standard", "fifo", "kms"],
)
def test_aws_defaults_are_no_difference(
    aws: AwsContext, attributes: dict[str, str], spec: dict[str, Any]
) -> None:
    """A queue made with nothing but its name (and type): every default GetQueueAttributes reports as
    a string (VisibilityTimeout "30", MessageRetentionPeriod "345600", SqsManagedSseEnabled...) or
    leaves out (RedriveAllowPolicy: allowAll) equals the spec's defaults."""
    name = spec.get("name", NAME)
    aws.client("sqs").create_queue(QueueName=name, Attributes=attributes)
    want = desired(aws, **spec)
    assert differences(want, read(aws, name)[name]) == []
    allow_all = desired(aws, **spec, redrive_allow_policy={"permission": "allowAll"})
    assert differences(allow_all, read(aws, name)[name]) == []


def _set(**attributes: str) -> Any:
    return lambda aws: aws.client("sqs").set_queue_attributes(QueueUrl=url_of(aws), Attributes=attributes)


OTHER_POLICY = json.dumps(
    {**EVENTS_POLICY, "Statement": [{**EVENTS_POLICY["Statement"][0], "Action": "sqs:*"}]}
)
OUT_OF_BAND = {
    "visibility timeout": (_set(VisibilityTimeout="31"), "visibility_timeout"),
    "retention": (_set(MessageRetentionPeriod="60"), "message_retention_period"),
    "delay": (_set(DelaySeconds="9"), "delay_seconds"),
    "long polling": (_set(ReceiveMessageWaitTimeSeconds="1"), "receive_wait_time"),
    "redrive policy added": (
        lambda aws: (
            aws.client("sqs").create_queue(QueueName="other"),
            _set(RedrivePolicy=json.dumps({"deadLetterTargetArn": f"{ARN}other", "maxReceiveCount": "3"}))(
                aws
            ),
        ),
        "redrive_policy",
    ),
    "policy widened": (_set(Policy=OTHER_POLICY), "policy"),
    "encryption turned off": (_set(SqsManagedSseEnabled="false"), "sqs_managed_sse"),
    "tag added": (
        lambda aws: aws.client("sqs").tag_queue(QueueUrl=url_of(aws), Tags={"Owner": "bob"}),
        "tags",
    ),
}


@pytest.mark.parametrize("case", sorted(OUT_OF_BAND))
def test_a_change_by_hand_shows_at_its_path_and_is_repaired(aws: AwsContext, case: str) -> None:
    mutate, path = OUT_OF_BAND[case]
    repaired_by_hand_change(
        QUEUES, aws, desired(aws, policy=EVENTS_POLICY, sqs_managed_sse=True), mutate, path
    )


def test_the_policy_compares_by_meaning(aws: AwsContext) -> None:
    want = desired(aws, policy=EVENTS_POLICY)
    QUEUES.create(aws, want)
    # The same document as AWS may return it: a one-element list as a scalar, keys reordered.
    statement = {**EVENTS_POLICY["Statement"][0], "Action": "sqs:SendMessage"}
    _set(Policy=json.dumps({"Statement": [statement], "Version": "2012-10-17"}))(aws)
    assert differences(want, read(aws, NAME)[NAME]) == []


@pytest.mark.parametrize(
    ("start", "end", "sent"),
    [
        ({}, {"kms_master_key_id": "alias/aws/sqs"}, [{"KmsMasterKeyId": "alias/aws/sqs"}]),
        ({"kms_master_key_id": "alias/aws/sqs"}, {"sqs_managed_sse": True}, [{"KmsMasterKeyId": ""}]),
        (
            {"kms_master_key_id": "alias/aws/sqs"},
            {"kms_master_key_id": "", "sqs_managed_sse": False},
            [{"KmsMasterKeyId": ""}, {"SqsManagedSseEnabled": "false"}],
        ),
        ({}, {"sqs_managed_sse": False}, [{"SqsManagedSseEnabled": "false"}]),
    ],
    ids=["sse-sqs-to-kms", "kms-to-sse-sqs", "kms-to-none", "sse-sqs-to-none"],
)
def test_encryption_switches_one_mode_for_the_other(
    aws: AwsContext, start: dict[str, Any], end: dict[str, Any], sent: list[dict[str, str]]
) -> None:
    """SQS allows one encryption at a time and flips SqsManagedSseEnabled itself when a key is set or
    removed: the calls never ask for both, and the result converges."""
    QUEUES.create(aws, desired(aws, **start))
    requests: list[dict[str, str]] = []
    aws.client("sqs").meta.events.register(
        "provide-client-params.sqs.SetQueueAttributes",
        lambda params, **_: requests.append(params["Attributes"]),
    )
    want = desired(aws, **end)
    live = read(aws, NAME)[NAME]
    updated = QUEUES.update(aws, want, live, diff_states(want.state, live.state))
    assert requests == sent
    assert differences(want, read(aws, NAME)[NAME]) == []
    assert diff_states(want.state, updated.state).paths() == [], "the state update returns is AWS's"


def test_changing_the_type_is_a_replacement(aws: AwsContext) -> None:
    QUEUES.create(aws, desired(aws))
    fifo = desired(aws, name=f"{NAME}.fifo", fifo=True)
    delta = diff_states(fifo.state, read(aws, NAME)[NAME].state)
    assert set(QUEUES.replacing_paths(delta)) == {"name", "fifo"}


def test_reads_cost_two_calls_a_queue_with_tags_from_the_sweep(aws: AwsContext) -> None:
    for index in range(5):
        QUEUES.create(aws, desired(aws, name=f"q-{index}"))
    aws.client("sqs").create_queue(QueueName="not-owned")
    aws.stats.calls.clear()
    found = read(aws, "q-0", "q-1", "not-owned", "missing")
    assert set(found) == {f"q-{i}" for i in range(5)} | {"not-owned"}, "owned ones found by the sweep too"
    assert found["not-owned"].tags == {} and found["q-3"].tags == {OWNER_TAG: aws.stack}
    calls = dict(aws.stats.calls)
    assert calls["sqs.GetQueueUrl"] == 7 and calls["sqs.GetQueueAttributes"] == 6
    assert calls["sqs.ListQueueTags"] == 1, "only the queue outside the owner-tag sweep"


def test_a_queue_removed_from_the_spec_is_kept_unless_named(tmp_path: Path, aws: AwsContext) -> None:
    applied(tmp_path, aws, SPEC)
    header = SPEC.split("sqs_queues:")[0]
    kept = actions(plan_of(tmp_path, aws, header))
    assert set(kept.values()) == {Action.RETAINED}, kept


def test_export_round_trips_with_the_dead_letter_queue_as_a_reference(
    tmp_path: Path, aws: AwsContext
) -> None:
    applied(tmp_path, aws, SPEC)
    result = export(aws, aws.stack, Selection(kinds=("sqs_queues",), prefix="pacs-"))
    configs = {entry.name: entry.config for entry in result.entries["sqs_queues"]}
    assert set(configs) == {"pacs_dicom_events", "pacs_dicom_events_dlq", "pacs_study_updates_fifo"}
    redrive = configs["pacs_dicom_events"]["redrive_policy"]
    assert redrive["dead_letter_queue_arn"] == "${sqs_queues.pacs_dicom_events_dlq.arn}"
    assert configs["pacs_dicom_events"]["kms_data_key_reuse_period"] == 600
    assert configs["pacs_study_updates_fifo"]["fifo_throughput_limit"] == "perMessageGroupId"

    exported = tmp_path / "exported"
    exported.mkdir()
    text = render(result, "pacs-reconcile export")
    assert check(text, result, None) == []
    assert actions(plan_of(exported, aws, text)) == {}, "the exported spec plans no change"


def test_set_queue_attributes_keeps_the_policy_and_returns_the_redrive_allow_policy(aws: AwsContext) -> None:
    """The emulator's SQS patch: SetQueueAttributes changes only what it is given, and a
    RedriveAllowPolicy set is returned."""
    sqs = aws.client("sqs")
    url = sqs.create_queue(QueueName=NAME, Attributes={"Policy": json.dumps(EVENTS_POLICY)})["QueueUrl"]
    sqs.set_queue_attributes(
        QueueUrl=url,
        Attributes={"VisibilityTimeout": "40", "RedriveAllowPolicy": '{"redrivePermission":"denyAll"}'},
    )
    found = attributes_of(aws)
    assert json.loads(found["Policy"]) == EVENTS_POLICY
    assert json.loads(found["RedriveAllowPolicy"]) == {"redrivePermission": "denyAll"}


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"name": "pacs events"}, "1-80 letters, digits, '-' or '_'"),
        ({"name": "q" * 81}, "1-80 letters"),
        ({"name": "pacs.fifo"}, "set fifo: true"),
        ({"fifo": True}, "must end with '.fifo'"),
        ({"content_based_deduplication": True}, "only for a FIFO queue"),
        ({"visibility_timeout": 43201}, "less than or equal to 43200"),
        ({"message_retention_period": 59}, "greater than or equal to 60"),
        ({"delay_seconds": 901}, "less than or equal to 900"),
        ({"max_message_size": 1023}, "greater than or equal to 1024"),
        ({"receive_wait_time": 21}, "less than or equal to 20"),
        ({"sqs_managed_sse": True, "kms_master_key_id": "alias/aws/sqs"}, "one encryption per queue"),
        ({"kms_data_key_reuse_period": 300}, "only with a kms_master_key_id"),
        ({"redrive_policy": {"dead_letter_queue_arn": f"{ARN}dlq.fifo"}}, "standard queue is a standard"),
        ({"redrive_policy": {"dead_letter_queue_arn": "dlq"}}, "must be an SQS queue ARN"),
        ({"redrive_policy": {"dead_letter_queue_arn": f"{ARN}dlq", "max_receive_count": 0}}, "greater than"),
        ({"redrive_allow_policy": {"permission": "byQueue"}}, "byQueue needs at least one"),
        ({"policy": {"Version": "2012-10-17"}}, "needs a 'Statement'"),
        (
            {
                "name": "a.fifo",
                "fifo": True,
                "deduplication_scope": "queue",
                "fifo_throughput_limit": "perMessageGroupId",
            },
            "needs deduplication_scope messageGroup",
        ),
    ],
)
def test_validation(spec: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        QueueSpec.model_validate({"name": NAME, **spec})


def _queues_spec(tmp_path: Path, source_fifo: bool, dlq_fifo: bool) -> Path:
    def queue(name: str, fifo: bool) -> dict[str, Any]:
        return {"name": f"{name}.fifo", "fifo": True} if fifo else {"name": name}

    spec = {
        "version": 1,
        "stack": "pacs-test",
        "sqs_queues": {
            "dlq": queue("pacs-dlq", dlq_fifo),
            "source": {
                **queue("pacs-source", source_fifo),
                "redrive_policy": {"dead_letter_queue_arn": "${sqs_queues.dlq.arn}"},
            },
        },
    }
    path = tmp_path / "monitoring.yaml"
    path.write_text(json.dumps(spec))
    return path


@pytest.mark.parametrize("fifo", [True, False])
def test_a_dead_letter_queue_named_by_reference_of_the_same_type_loads(tmp_path: Path, fifo: bool) -> None:
    spec = load_spec(_queues_spec(tmp_path, fifo, fifo))
    assert "sqs_queues.dlq" in spec.resources["sqs_queues.source"].depends_on


@pytest.mark.parametrize(
    ("source_fifo", "kind", "other"), [(True, "FIFO", "standard"), (False, "standard", "FIFO")]
)
def test_a_dead_letter_queue_named_by_reference_of_the_other_type_is_refused_offline(
    tmp_path: Path, source_fifo: bool, kind: str, other: str
) -> None:
    """The type match AWS requires ("a FIFO queue can only use a FIFO DLQ, and a standard queue can
    only use a standard DLQ", SQS developer guide) is checked for a declared queue named by
    reference as for a literal ARN: at the reference, before any AWS call."""
    with pytest.raises(SpecError) as raised:
        load_spec(_queues_spec(tmp_path, source_fifo, not source_fifo))
    (problem,) = raised.value.diagnostics
    assert problem.field == "sqs_queues.source.redrive_policy.dead_letter_queue_arn"
    assert problem.line == 1 and problem.file.endswith("monitoring.yaml")
    assert f"the dead-letter queue of a {kind} queue is a {kind} queue" in problem.message
    assert f"is a {other} queue" in problem.message
