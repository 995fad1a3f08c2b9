"""The embedded local AWS emulator (moto) with the gaps this tool needs filled.

Only imported by the demo, the `emulator` command and the tests; needs the `emulator` extra.
"""

from __future__ import annotations

DEFAULT_PORT = 4610
"""`pacs-reconcile emulator`'s port: not LocalStack's 4566, nor its 4510-4559 range of external
service ports (https://docs.localstack.cloud/references/external-ports), so both can run at once.
Here, not in server.py, so the CLI names its default without importing the server's modules."""

_installed = False


def install_moto_patches() -> None:
    """Teach moto the APIs it lacks (idempotent). Each patch lives beside its service."""
    global _installed
    if _installed:
        return
    from . import (
        patch_cloudwatch,
        patch_ec2,
        patch_ecs,
        patch_efs,
        patch_events,
        patch_kms,
        patch_lambda,
        patch_logs,
        patch_responses,
        patch_servicediscovery,
        patch_sns,
        patch_sqs,
        patch_ssm,
    )

    patch_responses.install()
    patch_logs.install()
    patch_cloudwatch.install()
    patch_lambda.install()
    patch_efs.install()
    patch_ec2.install()
    patch_ecs.install()
    patch_sns.install()
    patch_sqs.install()
    patch_ssm.install()
    patch_kms.install()
    patch_events.install()
    patch_servicediscovery.install()
    _installed = True
