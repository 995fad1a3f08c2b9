"""The emulator resolves Intelligent-Tiering as Parameter Store does (emulator/patch_ssm.py)."""

from __future__ import annotations

from pacs_reconcile.aws import AwsContext


def tiers(aws: AwsContext) -> dict[str, str]:
    return {p["Name"]: p["Tier"] for p in aws.client("ssm").describe_parameters()["Parameters"]}


def test_intelligent_tiering_is_reported_as_the_tier_chosen(aws: AwsContext) -> None:
    ssm = aws.client("ssm")
    small = ssm.put_parameter(Name="/small", Value="x", Type="String", Tier="Intelligent-Tiering")
    large = ssm.put_parameter(Name="/large", Value="x" * 4097, Type="String", Tier="Intelligent-Tiering")
    assert (small["Tier"], large["Tier"]) == ("Standard", "Advanced")
    assert tiers(aws) == {"/small": "Standard", "/large": "Advanced"}
    # A value growing past 4 KB upgrades; an Advanced parameter is never downgraded.
    ssm.put_parameter(Name="/small", Value="y" * 5000, Tier="Intelligent-Tiering", Overwrite=True)
    ssm.put_parameter(Name="/large", Value="y", Tier="Intelligent-Tiering", Overwrite=True)
    assert tiers(aws) == {"/small": "Advanced", "/large": "Advanced"}
