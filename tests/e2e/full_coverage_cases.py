"""The drift matrix of the coverage stack (tests/fixtures/full_coverage): for each attribute, a change
an operator could make by hand (in the console; here with boto3), the address plan shows it at and
the difference path. tests/e2e/test_full_coverage.py makes them all, checks `drift` and `plan`
report each at its path, and that `apply` puts everything back.

Each case changes one attribute of one resource by reading what AWS describes and writing it back
with that one value changed, so cases on the same resource add up."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .conftest import Server

ACCOUNT = "123456789012"
REGION = "ap-northeast-2"
KEY_ALIAS = "alias/pacs-fc-data"

Mutation = Callable[[Server], None]


@dataclass(frozen=True)
class Case:
    mutate: Mutation
    address: str
    path: str
    """The difference path plan shows (a prefix: every path shown at the address for this case
    starts with it); "" when the whole resource is created or deleted."""
    action: str = "update"
    """What plan does about it: update, replace (AWS cannot change it in place) or create."""


def request_of(
    server: Server, service: str, operation: str, described: dict[str, Any], **changes: Any
) -> Any:
    """The `operation` request that writes back what AWS described, with `changes`: every described
    field the operation takes, as botocore's service model names them."""
    members = server.client(service).meta.service_model.operation_model(operation).input_shape.members
    return {**{k: copy.deepcopy(v) for k, v in described.items() if k in members}, **changes}


# CloudWatch ---------------------------------------------------------------------------------------


def _alarm(server: Server, name: str, edit: Callable[[dict[str, Any]], None]) -> None:
    cloudwatch = server.client("cloudwatch")
    (alarm,) = cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"]
    request = request_of(server, "cloudwatch", "PutMetricAlarm", alarm)
    edit(request)
    cloudwatch.put_metric_alarm(**request)


def _composite(server: Server, name: str, **changes: Any) -> None:
    cloudwatch = server.client("cloudwatch")
    (alarm,) = cloudwatch.describe_alarms(AlarmNames=[name], AlarmTypes=["CompositeAlarm"])["CompositeAlarms"]
    cloudwatch.put_composite_alarm(**request_of(server, "cloudwatch", "PutCompositeAlarm", alarm, **changes))


def _without(key: str) -> Callable[[dict[str, Any]], None]:
    return lambda request: request.pop(key)


def _set(**changes: Any) -> Callable[[dict[str, Any]], None]:
    return lambda request: request.update(changes)


def _metric_items(edit: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
    def apply(request: dict[str, Any]) -> None:
        for item in request["Metrics"]:
            edit(item)

    return apply


# ECS task definitions -------------------------------------------------------------------------------


def _registered(server: Server, family: str, edit: Callable[[dict[str, Any]], None]) -> None:
    """A new revision registered by hand: a copy of the latest, tags included, edited."""
    ecs = server.client("ecs")
    latest = ecs.describe_task_definition(taskDefinition=family, include=["TAGS"])
    request = request_of(server, "ecs", "RegisterTaskDefinition", latest["taskDefinition"])
    edit(request)
    ecs.register_task_definition(**request, tags=latest["tags"])


def _container(name: str, **changes: Any) -> Callable[[dict[str, Any]], None]:
    def edit(request: dict[str, Any]) -> None:
        next(c for c in request["containerDefinitions"] if c["name"] == name).update(changes)

    return edit


def _in_container(name: str, key: str, edit: Callable[[Any], None]) -> Callable[[dict[str, Any]], None]:
    def apply(request: dict[str, Any]) -> None:
        edit(next(c for c in request["containerDefinitions"] if c["name"] == name)[key])

    return apply


def _efs_volume(**changes: Any) -> Callable[[dict[str, Any]], None]:
    return lambda request: request["volumes"][0]["efsVolumeConfiguration"].update(changes)


def _proxy_property(name: str, value: str) -> Callable[[dict[str, Any]], None]:
    def edit(request: dict[str, Any]) -> None:
        properties = request["proxyConfiguration"]["properties"]
        next(p for p in properties if p["name"] == name)["value"] = value

    return edit


def _exporter(edit: Callable[[dict[str, Any]], None]) -> Mutation:
    return lambda s: _registered(s, "pacs-fc-exporter", edit)


def _agent(edit: Callable[[dict[str, Any]], None]) -> Mutation:
    return lambda s: _registered(s, "pacs-fc-agent", edit)


# Other services --------------------------------------------------------------------------------------


def _key_id(server: Server) -> str:
    aliases = server.client("kms").list_aliases()["Aliases"]
    return str(next(a["TargetKeyId"] for a in aliases if a["AliasName"] == KEY_ALIAS))


def _key_arn(server: Server) -> str:
    return f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{_key_id(server)}"


def _queue_url(server: Server, name: str) -> str:
    return str(server.client("sqs").get_queue_url(QueueName=name)["QueueUrl"])


def _queue(name: str, **attributes: str) -> Mutation:
    return lambda s: s.client("sqs").set_queue_attributes(QueueUrl=_queue_url(s, name), Attributes=attributes)


def _topic_arn(name: str) -> str:
    return f"arn:aws:sns:{REGION}:{ACCOUNT}:{name}"


def _topic(name: str, attribute: str, value: str) -> Mutation:
    return lambda s: s.client("sns").set_topic_attributes(
        TopicArn=_topic_arn(name), AttributeName=attribute, AttributeValue=value
    )


def _subscription(topic: str, protocol: str, attribute: str, value: str) -> Mutation:
    def mutate(server: Server) -> None:
        sns = server.client("sns")
        found = sns.list_subscriptions_by_topic(TopicArn=_topic_arn(topic))["Subscriptions"]
        arn = next(s["SubscriptionArn"] for s in found if s["Protocol"] == protocol)
        sns.set_subscription_attributes(SubscriptionArn=arn, AttributeName=attribute, AttributeValue=value)

    return mutate


def _parameter(name: str, **changes: Any) -> Mutation:
    def mutate(server: Server) -> None:
        ssm = server.client("ssm")
        (described,) = ssm.describe_parameters(ParameterFilters=[{"Key": "Name", "Values": [name]}])[
            "Parameters"
        ]
        value = ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"]
        request = request_of(
            server, "ssm", "PutParameter", described, **{"Value": value, "Overwrite": True, **changes}
        )
        ssm.put_parameter(**request)

    return mutate


def _file_system_id(server: Server, token: str) -> str:
    found = server.client("efs").describe_file_systems(CreationToken=token)["FileSystems"]
    return str(found[0]["FileSystemId"])


def _efs_update(token: str, **changes: Any) -> Mutation:
    return lambda s: s.client("efs").update_file_system(FileSystemId=_file_system_id(s, token), **changes)


def _targets(rule: str, bus: str, target_id: str, **changes: Any) -> Mutation:
    def mutate(server: Server) -> None:
        events = server.client("events")
        found = events.list_targets_by_rule(Rule=rule, EventBusName=bus)["Targets"]
        target = {**next(t for t in found if t["Id"] == target_id), **changes}
        events.put_targets(
            Rule=rule, EventBusName=bus, Targets=[{k: v for k, v in target.items() if v is not None}]
        )

    return mutate


def _policy_document(statement_sid: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": statement_sid,
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                    "Action": "kms:*",
                    "Resource": "*",
                }
            ],
        }
    )


CASES: dict[str, Case] = {
    # ECS task definitions: container settings, the task's platform and storage, its proxy, its EFS volume
    "container memory": Case(
        _exporter(_container("exporter", memory=1536)),
        "task_definitions.exporter",
        "containers.exporter.memory",
    ),
    "container memory reservation": Case(
        _exporter(_container("exporter", memoryReservation=256)),
        "task_definitions.exporter",
        "containers.exporter.memory_reservation",
    ),
    "container health check": Case(
        _exporter(_in_container("exporter", "healthCheck", lambda h: h.update(interval=10))),
        "task_definitions.exporter",
        "containers.exporter.health_check.interval",
    ),
    "container entry point": Case(
        _exporter(_container("exporter", entryPoint=["/bin/sh"])),
        "task_definitions.exporter",
        "containers.exporter.entry_point",
    ),
    "container command": Case(
        _exporter(_container("exporter", command=["--web.listen-address=:9101"])),
        "task_definitions.exporter",
        "containers.exporter.command",
    ),
    "container working directory": Case(
        _exporter(_container("exporter", workingDirectory="/")),
        "task_definitions.exporter",
        "containers.exporter.working_directory",
    ),
    "container ulimits": Case(
        _exporter(
            _container("exporter", ulimits=[{"name": "nofile", "softLimit": 1024, "hardLimit": 65536}])
        ),
        "task_definitions.exporter",
        "containers.exporter.ulimits.nofile.soft_limit",
    ),
    "container linux parameters": Case(
        _exporter(_in_container("exporter", "linuxParameters", lambda p: p.update(initProcessEnabled=False))),
        "task_definitions.exporter",
        "containers.exporter.linux_parameters.init_process_enabled",
    ),
    "container depends on": Case(
        _exporter(
            _in_container(
                "exporter",
                "dependsOn",
                lambda d: next(x for x in d if x["containerName"] == "init").update(condition="COMPLETE"),
            )
        ),
        "task_definitions.exporter",
        "containers.exporter.depends_on.init",
    ),
    "container read-only root filesystem": Case(
        _exporter(_container("exporter", readonlyRootFilesystem=False)),
        "task_definitions.exporter",
        "containers.exporter.readonly_root_filesystem",
    ),
    "container user": Case(
        _exporter(_container("envoy", user="0")), "task_definitions.exporter", "containers.envoy.user"
    ),
    "container stop timeout": Case(
        _exporter(_container("exporter", stopTimeout=120)),
        "task_definitions.exporter",
        "containers.exporter.stop_timeout",
    ),
    "container docker labels": Case(
        _exporter(_in_container("exporter", "dockerLabels", lambda d: d.update(team="ops"))),
        "task_definitions.exporter",
        "containers.exporter.docker_labels.team",
    ),
    "container unpinned image allowed": Case(
        _exporter(_container("init", image="busybox:1.36")),
        "task_definitions.exporter",
        "containers.init.image",
    ),
    "task runtime platform": Case(
        _exporter(_set(runtimePlatform={"cpuArchitecture": "X86_64", "operatingSystemFamily": "LINUX"})),
        "task_definitions.exporter",
        "runtime_platform.cpu_architecture",
    ),
    "task ephemeral storage": Case(
        _exporter(_set(ephemeralStorage={"sizeInGiB": 21})), "task_definitions.exporter", "ephemeral_storage"
    ),
    "task proxy configuration": Case(
        _exporter(_proxy_property("AppPorts", "9101")),
        "task_definitions.exporter",
        "proxy_configuration.properties.AppPorts",
    ),
    "efs volume authorization config": Case(
        _exporter(
            lambda r: r["volumes"][0]["efsVolumeConfiguration"]["authorizationConfig"].update(iam="DISABLED")
        ),
        "task_definitions.exporter",
        "volumes.data.efs.authorization_config.iam",
    ),
    "efs volume transit encryption port": Case(
        _exporter(_efs_volume(transitEncryptionPort=3049)),
        "task_definitions.exporter",
        "volumes.data.efs.transit_encryption_port",
    ),
    # (every revision registered by hand outlives the one revision kept: keep_revisions shows too)
    "revision registered by hand unchanged": Case(
        _exporter(lambda request: None), "task_definitions.exporter", "keep_revisions"
    ),
    "ec2 task revision registered by hand unchanged": Case(
        _agent(lambda request: None), "task_definitions.agent", "keep_revisions"
    ),
    "ec2 task linux parameters": Case(
        _agent(_in_container("agent", "linuxParameters", lambda p: p.update(swappiness=60))),
        "task_definitions.agent",
        "containers.agent.linux_parameters.swappiness",
    ),
    "ec2 task memory reservation": Case(
        _agent(_container("agent", memoryReservation=128)),
        "task_definitions.agent",
        "containers.agent.memory_reservation",
    ),
    # (on the Fargate task: moto's RegisterTaskDefinition makes every task that is not EC2-only an
    # awsvpc one, so a bridge task made EXTERNAL by hand would read back as awsvpc)
    "ec2 task compatibility": Case(
        _exporter(_set(requiresCompatibilities=["FARGATE", "EC2"])),
        "task_definitions.exporter",
        "requires_compatibilities",
    ),
    # KMS keys
    "kms key description": Case(
        lambda s: s.client("kms").update_key_description(KeyId=_key_id(s), Description="hand edit"),
        "kms_keys.data",
        "description",
    ),
    "kms key rotation period": Case(
        lambda s: s.client("kms").enable_key_rotation(KeyId=_key_id(s), RotationPeriodInDays=90),
        "kms_keys.data",
        "rotation_period_in_days",
    ),
    "kms key rotation disabled": Case(
        lambda s: s.client("kms").disable_key_rotation(KeyId=_key_id(s)),
        "kms_keys.data",
        "enable_key_rotation",
    ),
    "kms key policy": Case(
        lambda s: s.client("kms").put_key_policy(
            KeyId=_key_id(s), PolicyName="default", Policy=_policy_document("HandMade")
        ),
        "kms_keys.data",
        "policy",
    ),
    "kms key scheduled for deletion": Case(
        lambda s: s.client("kms").schedule_key_deletion(KeyId=_key_id(s), PendingWindowInDays=7),
        "kms_keys.data",
        "enabled",
    ),
    "kms key further alias deleted": Case(
        lambda s: s.client("kms").delete_alias(AliasName="alias/pacs-fc-data-archive"),
        "kms_keys.data",
        "aliases",
    ),
    "kms key tag removed": Case(
        lambda s: s.client("kms").untag_resource(KeyId=_key_id(s), TagKeys=["Name"]),
        "kms_keys.data",
        "tags.Name",
    ),
    # SQS queues
    "queue visibility timeout": Case(
        _queue("pacs-fc-work", VisibilityTimeout="30"), "sqs_queues.work", "visibility_timeout"
    ),
    "queue delay": Case(_queue("pacs-fc-work", DelaySeconds="0"), "sqs_queues.work", "delay_seconds"),
    "queue receive wait time": Case(
        _queue("pacs-fc-work", ReceiveMessageWaitTimeSeconds="0"), "sqs_queues.work", "receive_wait_time"
    ),
    "queue maximum message size": Case(
        _queue("pacs-fc-work", MaximumMessageSize="1024"), "sqs_queues.work", "max_message_size"
    ),
    "queue data key reuse period": Case(
        _queue("pacs-fc-work", KmsDataKeyReusePeriodSeconds="300"),
        "sqs_queues.work",
        "kms_data_key_reuse_period",
    ),
    "queue key": Case(
        _queue("pacs-fc-work", KmsMasterKeyId="alias/aws/sqs"),
        "sqs_queues.work",
        "kms_master_key_id",
    ),
    "queue redrive policy": Case(
        lambda s: _queue(
            "pacs-fc-work",
            RedrivePolicy=json.dumps(
                {
                    "deadLetterTargetArn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:pacs-fc-dead-letters",
                    "maxReceiveCount": 10,
                }
            ),
        )(s),
        "sqs_queues.work",
        "redrive_policy.max_receive_count",
    ),
    "queue access policy": Case(
        _queue(
            "pacs-fc-work",
            Policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "HandMade",
                            "Effect": "Allow",
                            "Principal": "*",
                            "Action": "sqs:SendMessage",
                            "Resource": "*",
                        }
                    ],
                }
            ),
        ),
        "sqs_queues.work",
        "policy",
    ),
    "queue message retention": Case(
        _queue("pacs-fc-dead-letters", MessageRetentionPeriod="345600"),
        "sqs_queues.dead_letters",
        "message_retention_period",
    ),
    "queue redrive allow policy": Case(
        _queue("pacs-fc-dead-letters", RedriveAllowPolicy=json.dumps({"redrivePermission": "denyAll"})),
        "sqs_queues.dead_letters",
        "redrive_allow_policy",
    ),
    "queue managed encryption": Case(
        _queue("pacs-fc-dead-letters", SqsManagedSseEnabled="false"),
        "sqs_queues.dead_letters",
        "sqs_managed_sse",
    ),
    "fifo queue content-based deduplication": Case(
        _queue("pacs-fc-study-updates.fifo", ContentBasedDeduplication="false"),
        "sqs_queues.study_updates",
        "content_based_deduplication",
    ),
    "fifo queue throughput limit": Case(
        _queue("pacs-fc-study-updates.fifo", FifoThroughputLimit="perQueue"),
        "sqs_queues.study_updates",
        "fifo_throughput_limit",
    ),
    "fifo queue deduplication scope": Case(  # after the limit: per-queue limit, per-queue scope
        _queue("pacs-fc-study-updates.fifo", DeduplicationScope="queue"),
        "sqs_queues.study_updates",
        "deduplication_scope",
    ),
    "queue tag removed": Case(
        lambda s: s.client("sqs").untag_queue(
            QueueUrl=_queue_url(s, "pacs-fc-study-updates.fifo"), TagKeys=["Name"]
        ),
        "sqs_queues.study_updates",
        "tags.Name",
    ),
    # Alarms: the settings CloudWatch added, extended statistics, metric math, PromQL; composite alarms
    "alarm evaluation window": Case(
        lambda s: _alarm(s, "pacs-fc-latency", _without("EvaluationWindow")),
        "alarms.latency",
        "evaluation_window",
    ),
    "alarm warm-up": Case(
        lambda s: _alarm(
            s,
            "pacs-fc-latency",
            _set(
                WarmUpConfiguration={
                    "WarmUpPeriodDurationInMinutes": 30,
                    "OnlyStartEvaluatingAfterWarmUpPeriodEnds": True,
                }
            ),
        ),
        "alarms.latency",
        "warm_up.minutes",
    ),
    "alarm tag propagation": Case(
        lambda s: _alarm(s, "pacs-fc-latency", _without("ActionConfiguration")),
        "alarms.latency",
        "tag_propagation",
    ),
    "alarm extended statistic": Case(
        lambda s: _alarm(s, "pacs-fc-latency", _set(ExtendedStatistic="IQM")),
        "alarms.latency",
        "metric.extended_statistic",
    ),
    "alarm metric account id": Case(
        lambda s: _alarm(s, "pacs-fc-error-ratio", _metric_items(lambda q: q.pop("AccountId", None))),
        "alarms.error_ratio",
        "metrics",
    ),
    "alarm metric return data": Case(
        lambda s: _alarm(
            s, "pacs-fc-latency-band", _metric_items(lambda q: q.update(ReturnData=q["Id"] == "band"))
        ),
        "alarms.latency_band",
        "metrics",
    ),
    "alarm promql query": Case(
        lambda s: _alarm(
            s,
            "pacs-fc-5xx-promql",
            lambda r: r["EvaluationCriteria"]["PromQLCriteria"].update(
                Query="sum(rate(http_requests_total[5m])) > 10"
            ),
        ),
        "alarms.promql",
        "promql.query",
    ),
    "alarm evaluation interval": Case(
        lambda s: _alarm(s, "pacs-fc-5xx-promql", _set(EvaluationInterval=30)),
        "alarms.promql",
        "evaluation_interval",
    ),
    "alarm low sample count percentile": Case(
        lambda s: _alarm(s, "pacs-fc-slow-tail", _set(EvaluateLowSampleCountPercentile="evaluate")),
        "alarms.slow_tail",
        "evaluate_low_sample_count_percentile",
    ),
    "alarm actions enabled by hand": Case(
        lambda s: s.client("cloudwatch").enable_alarm_actions(AlarmNames=["pacs-fc-slow-tail"]),
        "alarms.slow_tail",
        "actions_enabled",
    ),
    "composite alarm rule": Case(
        lambda s: _composite(s, "pacs-fc-degraded", AlarmRule='ALARM("pacs-fc-latency")'),
        "composite_alarms.degraded",
        "alarm_rule",
    ),
    "composite alarm suppressor wait": Case(
        lambda s: _composite(s, "pacs-fc-degraded", ActionsSuppressorWaitPeriod=300),
        "composite_alarms.degraded",
        "actions_suppressor.wait_period",
    ),
    "composite alarm tag propagation": Case(
        lambda s: _composite(s, "pacs-fc-degraded", ActionConfiguration={}),
        "composite_alarms.degraded",
        "tag_propagation",
    ),
    "composite alarm insufficient-data actions": Case(
        lambda s: _composite(s, "pacs-fc-degraded", InsufficientDataActions=[]),
        "composite_alarms.degraded",
        "insufficient_data_actions",
    ),
    "composite alarm description": Case(
        lambda s: _composite(s, "pacs-fc-degraded", AlarmDescription="hand edit"),
        "composite_alarms.degraded",
        "description",
    ),
    # Log groups and saved queries
    "log group key": Case(
        lambda s: s.client("logs").disassociate_kms_key(logGroupName="/pacs-fc/encrypted"),
        "log_groups.encrypted",
        "kms_key_id",
    ),
    "log group class": Case(
        lambda s: _recreated_log_group(s, "/pacs-fc/archive", logGroupClass="STANDARD"),
        "log_groups.archive",
        "log_group_class",
        "replace",
    ),
    "saved query log groups by name": Case(
        lambda s: _query_by_names(s), "log_groups.app.query_definitions.by_arn_only", "log_group_by_arn"
    ),
    "saved query text": Case(
        lambda s: _saved_query(s, queryString="fields @message"), "saved_queries.anywhere", "query"
    ),
    "saved query given log groups": Case(
        lambda s: _saved_query(s, logGroupNames=["/pacs-fc/not-the-stacks"]),
        "saved_queries.anywhere",
        "log_groups",
    ),
    # EventBridge: buses, rules, targets
    "event bus description": Case(
        lambda s: s.client("events").update_event_bus(Name="pacs-fc-audit", Description="hand edit"),
        "event_buses.audit",
        "description",
    ),
    "event bus log config": Case(
        lambda s: s.client("events").update_event_bus(
            Name="pacs-fc-audit", LogConfig={"Level": "OFF", "IncludeDetail": "NONE"}
        ),
        "event_buses.audit",
        "log_config.level",
    ),
    "event bus dead letter queue": Case(
        lambda s: s.client("events").update_event_bus(Name="pacs-fc-audit", DeadLetterConfig={}),
        "event_buses.audit",
        "dead_letter_arn",
    ),
    "event bus key": Case(
        lambda s: s.client("events").update_event_bus(Name="pacs-fc-audit", KmsKeyIdentifier=""),
        "event_buses.audit",
        "kms_key_identifier",
    ),
    "event bus policy": Case(
        lambda s: s.client("events").remove_permission(
            EventBusName="pacs-fc-audit", RemoveAllPermissions=True
        ),
        "event_buses.audit",
        "policy",
    ),
    "rule role": Case(
        lambda s: s.client("events").put_rule(
            Name="pacs-fc-nightly",
            ScheduleExpression="cron(0 3 * * ? *)",
            RoleArn=f"arn:aws:iam::{ACCOUNT}:role/pacs-fc-function",
            Description="Runs the coverage function every night",
        ),
        "event_rules.nightly",
        "role_arn",
    ),
    "rule disabled on a custom bus": Case(
        lambda s: s.client("events").disable_rule(Name="pacs-fc-task-stopped", EventBusName="pacs-fc-audit"),
        "event_rules.task_stopped",
        "state",
    ),
    "target role": Case(
        _targets(
            "pacs-fc-task-stopped",
            "pacs-fc-audit",
            "ToDefaultBus",
            RoleArn=f"arn:aws:iam::{ACCOUNT}:role/pacs-fc-flow-logs",
        ),
        "event_rules.task_stopped.targets.forward",
        "role_arn",
    ),
    "target retry policy": Case(
        _targets(
            "pacs-fc-nightly",
            "default",
            "Noop",
            RetryPolicy={"MaximumRetryAttempts": 185, "MaximumEventAgeInSeconds": 86400},
        ),
        "event_rules.nightly.targets.noop",
        "retry_policy",
    ),
    "target dead letter queue": Case(
        _targets("pacs-fc-task-stopped", "pacs-fc-audit", "ToWorkQueue", DeadLetterConfig=None),
        "event_rules.task_stopped.targets.queue",
        "dead_letter_arn",
    ),
    "target input transformer": Case(
        _targets(
            "pacs-fc-task-stopped",
            "pacs-fc-audit",
            "ToWorkQueue",
            InputTransformer={
                "InputPathsMap": {"task": "$.detail.taskArn"},
                "InputTemplate": '{"task": <task>}',
            },
        ),
        "event_rules.task_stopped.targets.queue",
        "input_transformer",
    ),
    # SNS topics and subscriptions
    "topic signature version": Case(
        _topic("pacs-fc-alerts", "SignatureVersion", "1"), "sns_topics.alerts", "signature_version"
    ),
    "topic tracing": Case(
        _topic("pacs-fc-alerts", "TracingConfig", "PassThrough"), "sns_topics.alerts", "tracing_config"
    ),
    "topic delivery-status sample rate": Case(
        _topic("pacs-fc-alerts", "SQSSuccessFeedbackSampleRate", "100"),
        "sns_topics.alerts",
        "delivery_status_logging.sqs.success_sample_rate",
    ),
    "topic delivery-status role": Case(
        _topic("pacs-fc-alerts", "LambdaFailureFeedbackRoleArn", ""),
        "sns_topics.alerts",
        "delivery_status_logging.lambda",
    ),
    "topic key": Case(
        _topic("pacs-fc-alerts", "KmsMasterKeyId", "alias/aws/sns"), "sns_topics.alerts", "kms_master_key_id"
    ),
    "topic delivery policy": Case(
        _topic(
            "pacs-fc-alerts",
            "DeliveryPolicy",
            json.dumps({"http": {"defaultHealthyRetryPolicy": {"numRetries": 10}}}),
        ),
        "sns_topics.alerts",
        "delivery_policy",
    ),
    "topic access policy": Case(
        _topic(
            "pacs-fc-alerts",
            "Policy",
            json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "Anyone",
                            "Effect": "Allow",
                            "Principal": "*",
                            "Action": "sns:Publish",
                            "Resource": _topic_arn("pacs-fc-alerts"),
                        }
                    ],
                }
            ),
        ),
        "sns_topics.alerts",
        "policy",
    ),
    "fifo topic content-based deduplication": Case(
        _topic("pacs-fc-audit.fifo", "ContentBasedDeduplication", "false"),
        "sns_topics.audit",
        "content_based_deduplication",
    ),
    "fifo topic throughput scope": Case(
        _topic("pacs-fc-audit.fifo", "FifoThroughputScope", "Topic"),
        "sns_topics.audit",
        "fifo_throughput_scope",
    ),
    "fifo topic archive policy": Case(
        _topic("pacs-fc-audit.fifo", "ArchivePolicy", json.dumps({"MessageRetentionPeriod": "60"})),
        "sns_topics.audit",
        "archive_policy.MessageRetentionPeriod",
    ),
    "subscription delivery policy": Case(
        _subscription(
            "pacs-fc-alerts", "https", "DeliveryPolicy", json.dumps({"healthyRetryPolicy": {"numRetries": 8}})
        ),
        "sns_topics.alerts.subscriptions.webhook",
        "delivery_policy",
    ),
    "subscription filter policy scope": Case(
        _subscription("pacs-fc-alerts", "sqs", "FilterPolicyScope", "MessageAttributes"),
        "sns_topics.alerts.subscriptions.work_queue",
        "filter_policy_scope",
    ),
    "subscription replay policy": Case(
        _subscription("pacs-fc-audit.fifo", "sqs", "ReplayPolicy", ""),
        "sns_topics.audit.subscriptions.replica",
        "replay_policy",
    ),
    # SSM parameters
    "parameter data type": Case(
        _parameter("/pacs-fc/ami/orthanc", DataType="text"), "ssm_parameters.ami", "data_type"
    ),
    "parameter from a file changed": Case(
        _parameter("/pacs-fc/settings", Value="retention: 1d\n"),
        "ssm_parameters.settings",
        "value",
    ),
    "parameter tier raised by hand": Case(
        _parameter("/pacs-fc/standard", Tier="Advanced"), "ssm_parameters.standard", "tier", "replace"
    ),
    "intelligent-tiering parameter grown by hand": Case(
        _parameter("/pacs-fc/tiered", Value="x" * 5000, Tier="Advanced"), "ssm_parameters.tiered", "value"
    ),
    "parameter key": Case(
        _parameter("/pacs-fc/secret", KeyId="alias/aws/ssm"), "ssm_parameters.secret", "key_id"
    ),
    # EFS
    "efs provisioned throughput": Case(
        _efs_update("pacs-fc-shared", ThroughputMode="provisioned", ProvisionedThroughputInMibps=128.0),
        "efs_file_systems.shared",
        "provisioned_throughput_mibps",
    ),
    "efs throughput mode": Case(
        _efs_update("pacs-fc-one-zone", ThroughputMode="bursting"),
        "efs_file_systems.one_zone",
        "throughput_mode",
    ),
    "efs key": Case(
        lambda s: _recreated_file_system(s, "pacs-fc-keyed", Encrypted=True),
        "efs_file_systems.keyed",
        "kms_key_id",
        "replace",
    ),
    "efs one zone": Case(
        lambda s: _recreated_file_system(s, "pacs-fc-zonal", AvailabilityZoneName="ap-northeast-2c"),
        "efs_file_systems.zonal",
        "availability_zone_name",
        "replace",
    ),
    "efs access point tag removed": Case(
        lambda s: _untag_access_point(s), "efs_access_points.data", "tags.Name"
    ),
    "efs access point user": Case(
        lambda s: _recreated_access_point(s, PosixUser={"Uid": 1000, "Gid": 1000}),
        "efs_access_points.data",
        "posix_user",
        "replace",
    ),
    # Lambda
    "function dead-letter queue": Case(
        lambda s: s.client("lambda").update_function_configuration(
            FunctionName="pacs-fc-noop", DeadLetterConfig={"TargetArn": ""}
        ),
        "lambda_functions.noop",
        "dead_letter_target_arn",
    ),
    # The kinds the repository's stack declares too: one case each (tests/e2e/test_out_of_band.py has more)
    "dashboard body": Case(
        lambda s: s.client("cloudwatch").put_dashboard(
            DashboardName="PACS-FC-Overview", DashboardBody=json.dumps({"widgets": []})
        ),
        "dashboards.overview",
        "body.widgets",
    ),
    "flow log tag removed": Case(
        lambda s: s.client("ec2").delete_tags(Resources=[_flow_log_id(s)], Tags=[{"Key": "Name"}]),
        "ec2_flow_logs.vpc",
        "tags.Name",
    ),
    "ecs service desired count": Case(
        lambda s: s.client("ecs").update_service(
            cluster="pacs-cluster", service="pacs-fc-exporter", desiredCount=2
        ),
        "ecs_services.exporter",
        "desired_count",
    ),
    "role description": Case(
        lambda s: s.client("iam").update_role(
            RoleName="pacs-fc-events", Description="hand edit", MaxSessionDuration=3600
        ),
        "iam_roles.events",
        "description",
    ),
    "inline policy document": Case(
        lambda s: s.client("iam").put_role_policy(
            RoleName="pacs-fc-sns-feedback",
            PolicyName="write-delivery-status-logs",
            PolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": "logs:*", "Resource": "*"}],
                }
            ),
        ),
        "iam_roles.sns_feedback.inline_policies.write_logs",
        "document",
    ),
    "managed policy document": Case(
        lambda s: s.client("iam").create_policy_version(
            PolicyArn=f"arn:aws:iam::{ACCOUNT}:policy/pacs-fc-events",
            SetAsDefault=True,
            PolicyDocument=json.dumps(
                {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
            ),
        ),
        "iam_policies.events",
        "document",
    ),
    "role session duration": Case(
        lambda s: s.client("iam").update_role(
            RoleName="pacs-fc-function",
            Description="Runs the coverage stack's function",
            MaxSessionDuration=3600,
        ),
        "iam_roles.function",
        "max_session_duration",
    ),
    "role policy detached": Case(
        lambda s: s.client("iam").detach_role_policy(
            RoleName="pacs-fc-task-execution",
            PolicyArn=f"arn:aws:iam::{ACCOUNT}:policy/pacs-fc/pacs-fc-task-execution",
        ),
        "iam_roles.task_execution.policy_attachments.task_execution",
        "",
        "create",
    ),
    "metric filter pattern": Case(
        lambda s: s.client("logs").put_metric_filter(
            logGroupName="/pacs-fc/app",
            filterName="pacs-fc-errors",
            filterPattern="ERROR",
            metricTransformations=[
                {"metricName": "PacsFcErrors", "metricNamespace": "PACS/Coverage", "metricValue": "1"}
            ],
        ),
        "log_groups.app.metric_filters.errors",
        "pattern",
    ),
    "mount target security groups": Case(
        lambda s: _mount_target_security_groups(s),
        "efs_file_systems.shared.mount_targets.zone_b",
        "security_groups",
    ),
    "lambda permission removed": Case(
        lambda s: s.client("lambda").remove_permission(
            FunctionName="pacs-fc-noop", StatementId="AllowScheduleRule"
        ),
        "lambda_functions.noop.permissions.events",
        "",
        "create",
    ),
    "security group tag removed": Case(
        lambda s: s.client("ec2").delete_tags(
            Resources=[_group_id(s, "pacs-fc-tasks")], Tags=[{"Key": "Name"}]
        ),
        "security_groups.tasks",
        "tags.Name",
    ),
    "cloud map namespace description": Case(
        lambda s: s.client("servicediscovery").update_private_dns_namespace(
            Id=_namespace_id(s), Namespace={"Description": "hand edit"}
        ),
        "service_discovery_namespaces.coverage",
        "description",
    ),
    "cloud map service ttl": Case(
        lambda s: _discovery_ttl(s, 300),
        "service_discovery_namespaces.coverage.services.exporter",
        "dns_records.A",
    ),
}


def _flow_log_id(server: Server) -> str:
    found = server.client("ec2").describe_flow_logs(
        Filter=[{"Name": "tag:pacs-reconcile:name", "Values": ["pacs-fc-vpc"]}]
    )["FlowLogs"]
    return str(found[0]["FlowLogId"])


def _group_id(server: Server, name: str) -> str:
    found = server.client("ec2").describe_security_groups(Filters=[{"Name": "group-name", "Values": [name]}])
    return str(found["SecurityGroups"][0]["GroupId"])


def _mount_target_security_groups(server: Server) -> None:
    efs = server.client("efs")
    targets = efs.describe_mount_targets(FileSystemId=_file_system_id(server, "pacs-fc-shared"))[
        "MountTargets"
    ]
    target = next(t for t in targets if t["AvailabilityZoneName"] == "ap-northeast-2b")
    efs.modify_mount_target_security_groups(
        MountTargetId=target["MountTargetId"], SecurityGroups=[_group_id(server, "pacs-fc-tasks")]
    )


def _namespace_id(server: Server) -> str:
    found = server.client("servicediscovery").list_namespaces()["Namespaces"]
    return str(next(n["Id"] for n in found if n["Name"] == "pacs-fc.local"))


def _discovery_ttl(server: Server, ttl: int) -> None:
    discovery = server.client("servicediscovery")
    filters = [{"Name": "NAMESPACE_ID", "Values": [_namespace_id(server)], "Condition": "EQ"}]
    service = next(s for s in discovery.list_services(Filters=filters)["Services"] if s["Name"] == "exporter")
    discovery.update_service(
        Id=service["Id"],
        Service={
            "Description": "The exporter tasks",
            "DnsConfig": {"DnsRecords": [{"Type": "A", "TTL": ttl}]},
        },
    )


def _query_by_names(server: Server) -> None:
    logs = server.client("logs")
    (found,) = logs.describe_query_definitions(queryDefinitionNamePrefix="PACS-FC/Errors by ARN")[
        "queryDefinitions"
    ]
    logs.put_query_definition(
        queryDefinitionId=found["queryDefinitionId"],
        name=found["name"],
        queryString=found["queryString"],
        logGroupNames=["/pacs-fc/app", *found["logGroupNames"][1:]],
    )


def _saved_query(server: Server, **changes: Any) -> None:
    """The saved query naming no log group, written back by hand with `changes` (same id: still ours)."""
    logs = server.client("logs")
    prefix = "PACS-FC/Errors in any log group"
    (found,) = logs.describe_query_definitions(queryDefinitionNamePrefix=prefix)["queryDefinitions"]
    logs.put_query_definition(**request_of(server, "logs", "PutQueryDefinition", found, **changes))


def _recreated_log_group(server: Server, name: str, **changes: Any) -> None:
    """The group deleted and made again by hand with `changes` (its class cannot change in place),
    its retention and tags as they were."""
    logs = server.client("logs")
    (group,) = [
        g for g in logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"] if g["logGroupName"] == name
    ]
    tags = logs.list_tags_for_resource(resourceArn=group["logGroupArn"])["tags"]
    logs.delete_log_group(logGroupName=name)
    logs.create_log_group(logGroupName=name, tags=tags, **changes)
    logs.put_retention_policy(logGroupName=name, retentionInDays=group["retentionInDays"])


def _recreated_file_system(server: Server, token: str, **settings: Any) -> None:
    """The file system deleted and made again by hand under the same creation token and tags, with
    `settings` (a key and a zone are fixed when a file system is made)."""
    efs = server.client("efs")
    (described,) = efs.describe_file_systems(CreationToken=token)["FileSystems"]
    efs.delete_file_system(FileSystemId=described["FileSystemId"])
    settings = {"Encrypted": described["Encrypted"], **settings}
    efs.create_file_system(CreationToken=token, Tags=described["Tags"], **settings)


def _recreated_access_point(server: Server, **changes: Any) -> None:
    """The access point deleted and made again by hand with its tags and `changes` (an access
    point's settings are fixed when it is made)."""
    efs = server.client("efs")
    file_system = _file_system_id(server, "pacs-fc-shared")
    (point,) = efs.describe_access_points(FileSystemId=file_system)["AccessPoints"]
    efs.delete_access_point(AccessPointId=point["AccessPointId"])
    request = request_of(server, "efs", "CreateAccessPoint", point, ClientToken="by-hand", **changes)
    efs.create_access_point(**request)


def _untag_access_point(server: Server) -> None:
    efs = server.client("efs")
    found = efs.describe_access_points(FileSystemId=_file_system_id(server, "pacs-fc-shared"))["AccessPoints"]
    efs.untag_resource(ResourceId=found[0]["AccessPointId"], TagKeys=["Name"])


FOLLOWERS: dict[str, dict[str, str]] = {
    # A repaired task definition is a new revision: the ECS service running it rolls onto it.
    "task_definitions.exporter": {"ecs_services.exporter": "task_definition"},
    # A replaced access point has a new id: the task definition mounting through it follows.
    "efs_access_points.data": {
        "task_definitions.exporter": "volumes.data.efs.authorization_config.access_point_id"
    },
}
"""Address of a changed resource -> the resources its repair also updates, with the one path each."""
