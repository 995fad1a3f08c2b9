"""The repository's stack in two environments of one account: dev keeps the guide's names, prod
(its overlay sets `stack: pacs-monitoring-prod` and `name_suffix: -prod`) gets names of its own.
Each converges, and neither environment's apply or plan touches the other's resources."""

from __future__ import annotations

import pytest

from outside_resources import create_postgres
from pacs_reconcile import OWNER_TAG

from .conftest import Cli, Server

ACCOUNT = "123456789012"  # the emulator's
ENV = {"PACS_ACCOUNT_ID": ACCOUNT, "GRAFANA_ADMIN_PASSWORD": "prod-admin-password-from-the-vault"}


@pytest.mark.slow
def test_dev_and_prod_of_the_repository_stack_converge_side_by_side(cli: Cli, server: Server) -> None:
    # prod watches a database of its own (the RDS lookup and its log group carry the suffix)
    create_postgres(server.client("rds"), "pacs-postgresql-prod")
    for environment in ("dev", "prod"):
        applied = cli("apply", "--env", environment, "--auto-approve", env=ENV)
        assert applied.exit_code == 0, applied.stdout + applied.stderr
    for environment in ("dev", "prod"):
        clean = cli("plan", "--env", environment, "--detailed-exitcode", env=ENV)
        assert clean.exit_code == 0, f"{environment}: {clean.stdout}"

    logs = server.client("logs")
    groups = logs.describe_log_groups(logGroupNamePrefix="/aws/ecs/pacs-backend")["logGroups"]
    owners = {
        g["logGroupName"]: logs.list_tags_for_resource(resourceArn=g["arn"].removesuffix(":*"))["tags"][
            OWNER_TAG
        ]
        for g in groups
    }
    assert owners == {
        "/aws/ecs/pacs-backend": "pacs-monitoring",
        "/aws/ecs/pacs-backend-prod": "pacs-monitoring-prod",
    }
    functions = {f["FunctionName"] for f in server.client("lambda").list_functions()["Functions"]}
    assert {"pacs-alert-notifier", "pacs-alert-notifier-prod"} <= functions
    tokens = {fs["CreationToken"] for fs in server.client("efs").describe_file_systems()["FileSystems"]}
    assert tokens == {
        "prometheus-config",
        "grafana-storage",
        "prometheus-config-prod",
        "grafana-storage-prod",
    }
