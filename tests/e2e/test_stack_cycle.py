"""The core invariant on the whole CloudWatch + SNS stack, through the CLI against a moto server:
plan shows every resource as a create -> apply -> plan is empty -> a second apply sends no
mutating call."""

from __future__ import annotations

import json

from .conftest import Cli

EXPECTED_CREATES = {
    # 6 log groups (none for ALB access logs: an ALB writes them to S3 only)
    "log_groups.pacs_backend",
    "log_groups.keycloak",
    "log_groups.vpc_flow",
    "log_groups.rds_postgresql",
    "log_groups.prometheus",
    "log_groups.grafana",
    # 7 metric filters (3 turn the VPC flow log into traffic metrics)
    "log_groups.pacs_backend.metric_filters.errors",
    "log_groups.pacs_backend.metric_filters.response_time",
    "log_groups.pacs_backend.metric_filters.dicom_processing",
    "log_groups.keycloak.metric_filters.auth_failures",
    "log_groups.vpc_flow.metric_filters.bytes",
    "log_groups.vpc_flow.metric_filters.packets",
    "log_groups.vpc_flow.metric_filters.rejected_packets",
    # 3 Logs Insights queries
    "log_groups.pacs_backend.query_definitions.error_analysis",
    "log_groups.pacs_backend.query_definitions.performance_analysis",
    "log_groups.pacs_backend.query_definitions.dicom_processing_analysis",
    # 9 alarms
    "alarms.pacs_backend_error_rate",
    "alarms.pacs_backend_response_time",
    "alarms.rds_cpu_utilization",
    "alarms.rds_connections",
    "alarms.s3_bucket_size",
    "alarms.auto_scaling_cpu",
    "alarms.auto_scaling_memory",
    "alarms.pacs_database_unavailable",  # on the metrics collector's DatabaseAvailable
    "alarms.pacs_reconcile_drift",  # pages on drift, and when the drift check stops reporting
    # 2 dashboards, the topic and its email subscription
    "dashboards.pacs_main",
    "dashboards.pacs_infrastructure",
    "sns_topics.alerts",
    "sns_topics.alerts.subscriptions.email",
    # the alert notifier (Slack and Teams): its subscription to the alert topic, role + attachment,
    # policy, log group, function + permission, and the topic (with e-mail) for what it cannot deliver
    "sns_topics.alerts.subscriptions.notifier",
    "iam_roles.notifier",
    "iam_roles.notifier.policy_attachments.notifier",
    "iam_policies.notifier",
    "log_groups.notifier",
    "lambda_functions.notifier",
    "lambda_functions.notifier.permissions.alerts",
    "sns_topics.undelivered",
    "sns_topics.undelivered.subscriptions.email",
    # the VPC's flow log (into log_groups.vpc_flow) and its delivery role + policy
    "ec2_flow_logs.vpc",
    "iam_roles.flow_logs",
    "iam_roles.flow_logs.policy_attachments.flow_logs",
    "iam_policies.flow_logs",
    # the metrics collector: role + attachment, policy, its log group, function + permission, rule + target
    "iam_roles.collector",
    "iam_roles.collector.policy_attachments.collector",
    "iam_policies.collector",
    "log_groups.collector",
    "lambda_functions.collector",
    "lambda_functions.collector.permissions.events",
    "event_rules.collector",
    "event_rules.collector.targets.collector",
    # Prometheus and Grafana: the EFS security group, 2 file systems with 2 mount targets each,
    # 2 task definitions, the Grafana admin password parameter
    "security_groups.efs",
    "efs_file_systems.prometheus_config",
    "efs_file_systems.prometheus_config.mount_targets.zone_a",
    "efs_file_systems.prometheus_config.mount_targets.zone_b",
    "efs_file_systems.grafana_storage",
    "efs_file_systems.grafana_storage.mount_targets.zone_a",
    "efs_file_systems.grafana_storage.mount_targets.zone_b",
    "task_definitions.prometheus",
    "task_definitions.grafana",
    "ssm_parameters.grafana_admin_password",
    # the Prometheus configuration (configs/prometheus.yml), which the task writes at start
    "ssm_parameters.prometheus_config",
    # their execution role (the stack's own, not a looked-up one): role + attachment, policy
    "iam_roles.task_execution",
    "iam_roles.task_execution.policy_attachments.task_execution",
    "iam_policies.task_execution",
    # the groups of the Prometheus and Grafana tasks (the EFS group admits only them)
    "security_groups.prometheus",
    "security_groups.grafana",
    # the Cloud Map namespace and its names: the two services and the five scrape targets
    "service_discovery_namespaces.monitoring",
    "service_discovery_namespaces.monitoring.services.prometheus",
    "service_discovery_namespaces.monitoring.services.grafana",
    "service_discovery_namespaces.monitoring.services.pacs_backend",
    "service_discovery_namespaces.monitoring.services.postgres_exporter",
    "service_discovery_namespaces.monitoring.services.redis_exporter",
    "service_discovery_namespaces.monitoring.services.node_exporter",
    "service_discovery_namespaces.monitoring.services.cadvisor",
    # Prometheus and Grafana running: their ECS services, registered under those names
    "ecs_services.prometheus",
    "ecs_services.grafana",
}


def test_plan_apply_converges_and_second_apply_sends_no_mutating_call(cli: Cli) -> None:
    first = cli("plan", "--detailed-exitcode", "--format", "json")
    assert first.exit_code == 2, first.stderr
    plan = json.loads(first.stdout)
    actions = {c["address"]: c["action"] for c in plan["changes"]}
    assert actions == dict.fromkeys(EXPECTED_CREATES, "create")
    assert first.mutating_calls == {}, "plan must only read"

    applied = cli("apply", "--auto-approve")
    assert applied.exit_code == 0, applied.stdout + applied.stderr
    assert "Apply complete! Resources: 76 added, 0 changed, 0 replaced, 0 destroyed." in applied.stdout

    clean = cli("plan", "--detailed-exitcode")
    assert clean.exit_code == 0, clean.stdout
    assert "No changes." in clean.stdout

    again = cli("apply", "--auto-approve")
    assert again.exit_code == 0
    assert again.mutating_calls == {}
    assert again.calls, "the second apply must still read AWS to know it is in sync"


def test_slack_and_teams_webhooks_are_secure_parameters_only_when_their_url_is_set(cli: Cli) -> None:
    """Incoming webhooks cannot confirm an SNS https subscription: the notifier posts to them, from
    SecureString parameters that exist only when their URL is set."""
    secret = "https://hooks.slack.example/services/T000/B000/SUPERSECRET123"
    env = {"SLACK_WEBHOOK_URL": secret}
    result = cli("plan", "--format", "json", env=env)
    assert result.exit_code == 0, result.stderr
    addresses = {c["address"] for c in json.loads(result.stdout)["changes"]}
    assert "ssm_parameters.slack_webhook" in addresses
    assert "ssm_parameters.teams_webhook" not in addresses
    assert not {a for a in addresses if a.startswith("sns_topics.alerts.subscriptions.")} - {
        "sns_topics.alerts.subscriptions.email",
        "sns_topics.alerts.subscriptions.notifier",
    }, "no https subscription: it could never be confirmed"
    text = cli("plan", env=env)
    for output in (result.stdout, result.stderr, text.stdout, text.stderr):
        assert "SUPERSECRET123" not in output
    assert "(sensitive value)" in text.stdout
