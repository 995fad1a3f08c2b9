"""AWS's API rate limits are per account and region: every context of one account in a process
(`--env all` runs each environment in its own) draws on the same per-operation limiters."""

from __future__ import annotations

from pacs_reconcile.aws import AwsContext, AwsSettings

REGION = "ap-northeast-2"


def _limits(**settings: str) -> object:
    return AwsContext(AwsSettings(region=settings.pop("region", REGION), **settings))._rate_limits


def test_contexts_of_one_account_share_their_rate_limiters() -> None:
    assert _limits() is _limits()
    same_account = _limits(role_arn="arn:aws:iam::111122223333:role/deployer")
    assert same_account is _limits(role_arn="arn:aws:iam::111122223333:role/reader")


def test_other_accounts_regions_and_endpoints_have_their_own() -> None:
    ambient = _limits()
    assert _limits(role_arn="arn:aws:iam::111122223333:role/deployer") is not ambient
    assert _limits(role_arn="arn:aws:iam::111122223333:role/deployer") is not _limits(
        role_arn="arn:aws:iam::444455556666:role/deployer"
    )
    assert _limits(region="eu-west-1") is not ambient
    assert _limits(endpoint_url="http://127.0.0.1:9") is not ambient
    assert _limits(profile="prod") is not ambient
