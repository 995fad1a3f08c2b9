"""The dashboards' version record: a plan leaves out the GetDashboard of a dashboard whose listed
LastModified and Size are those recorded and whose desired body has the recorded digest.

Each saving must leave every change visible: a hand edit of the body (of the same size too), of
the tags, a deletion, an edit of the spec, a record edited by hand or written by another version.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from typing import Any

import pytest

from pacs_reconcile import OWNER_TAG, api
from pacs_reconcile.engine.changes import Action
from pacs_reconcile.engine.plan import PlanOptions
from pacs_reconcile.resources import dashboard_versions
from pacs_reconcile.resources.dashboard_index import encode as encode_index
from pacs_reconcile.resources.dashboard_index import parameter_name as index_name
from pacs_reconcile.resources.dashboard_versions import Listed, Version

from .test_dashboard_index import BODY, STACK, actions, apply, plan, run_context
from .test_dashboard_index import spec_file as spec_file  # the fixture: the index test's spec

pytestmark = pytest.mark.usefixtures("aws")


def edited_body(markdown: str) -> str:
    widget = {**BODY["widgets"][0], "properties": {"markdown": markdown}}
    return json.dumps({"widgets": [widget]})


def stored_versions() -> dict[str, Version] | None:
    """The stored record (None when there is none)."""
    found = run_context().client("ssm").get_parameters(Names=[dashboard_versions.parameter_name(STACK)])
    if not found["Parameters"]:
        return None
    decoded = dashboard_versions.decode(found["Parameters"][0]["Value"])
    assert decoded is not None
    return decoded


def shift_answers(ctx: Any, operation: str, seconds: int) -> None:
    """Make AWS's `Date` on `operation`'s answers `seconds` later (a read made that long after)."""

    def later(parsed: dict[str, Any], **_: Any) -> None:
        headers = parsed["ResponseMetadata"]["HTTPHeaders"]
        headers["date"] = format_datetime(parsedate_to_datetime(headers["date"]) + timedelta(seconds=seconds))

    ctx.client("cloudwatch").meta.events.register(f"after-call.cloudwatch.{operation}", later)


def plan_with(spec_file: Path, prepare: Callable[[Any], None], full_scan: bool = False) -> Any:
    ctx = run_context()
    prepare(ctx)
    return api.plan(api.load(spec_file), PlanOptions(full_scan=full_scan), aws=ctx), ctx.stats.calls


def test_the_apply_records_each_written_dashboards_version_and_plans_then_read_no_body(
    spec_file: Path,
) -> None:
    apply(spec_file)
    assert sorted(stored_versions() or {}) == ["main", "ops"]

    the_plan, calls = plan(spec_file)

    assert not the_plan.has_changes and the_plan.housekeeping == {}
    assert calls["ssm.GetParameters"] == 1  # the index and the record in one call
    assert calls["cloudwatch.ListDashboards"] == 1
    assert calls["cloudwatch.ListTagsForResource"] == 2  # tags are still read: a hand edit shows
    assert calls["cloudwatch.GetDashboard"] == 0


@pytest.mark.parametrize("markdown", ["changed by hand, longer", "ho"], ids=["other size", "same size"])
def test_a_hand_edit_of_a_body_is_seen_and_only_its_body_read(spec_file: Path, markdown: str) -> None:
    apply(spec_file)
    assert len(edited_body("ho")) == len(json.dumps(BODY))  # the same Size: LastModified tells
    run_context().client("cloudwatch").put_dashboard(
        DashboardName="main", DashboardBody=edited_body(markdown)
    )

    the_plan, calls = plan(spec_file)

    assert actions(the_plan)["dashboards.main"] is Action.UPDATE
    assert actions(the_plan)["dashboards.ops"] is Action.NOOP
    assert calls["cloudwatch.GetDashboard"] == 1  # main's; ops is unchanged
    apply(spec_file)  # put back, and recorded again
    reverted, calls = plan(spec_file)
    assert not reverted.has_changes and calls["cloudwatch.GetDashboard"] == 0


def test_a_hand_edit_of_the_tags_is_seen_with_no_body_read(spec_file: Path) -> None:
    apply(spec_file)
    cloudwatch = run_context().client("cloudwatch")
    arn = cloudwatch.list_dashboards(DashboardNamePrefix="ops")["DashboardEntries"][0]["DashboardArn"]
    cloudwatch.tag_resource(ResourceARN=arn, Tags=[{"Key": "Team", "Value": "someone"}])

    the_plan, calls = plan(spec_file)

    ops = the_plan.by_address()["dashboards.ops"]
    assert ops.action is Action.UPDATE and [d.path for d in ops.differences] == ["tags.Team"]
    assert calls["cloudwatch.GetDashboard"] == 0


def test_an_edit_of_the_spec_reads_that_body_and_shows_where_it_differs(spec_file: Path) -> None:
    apply(spec_file)
    spec_file.write_text(spec_file.read_text().replace('"hi"', '"hello"', 1), encoding="utf-8")

    the_plan, calls = plan(spec_file)

    main = the_plan.by_address()["dashboards.main"]
    assert main.action is Action.UPDATE
    assert "body.widgets" in [d.path for d in main.differences]  # and the spec fingerprint tag
    assert calls["cloudwatch.GetDashboard"] == 1  # main's body, to show the difference; not ops'


def test_a_dashboard_deleted_by_hand_is_planned_again(spec_file: Path) -> None:
    apply(spec_file)
    run_context().client("cloudwatch").delete_dashboards(DashboardNames=["ops"])
    the_plan, _ = plan(spec_file)
    assert actions(the_plan)["dashboards.ops"] is Action.CREATE


def test_full_scan_reads_every_body(spec_file: Path) -> None:
    apply(spec_file)
    the_plan, calls = plan(spec_file, full_scan=True)
    assert not the_plan.has_changes and calls["cloudwatch.GetDashboard"] == 2


def test_a_record_edited_by_hand_or_of_another_format_is_a_hint_only(spec_file: Path) -> None:
    apply(spec_file)
    ssm = run_context().client("ssm")
    name = dashboard_versions.parameter_name(STACK)
    recorded = (stored_versions() or {})["main"]
    hand_made = {"main": Version(recorded.modified_ms - 1000, recorded.size, recorded.digest)}
    ssm.put_parameter(Name=name, Value=dashboard_versions.encode(hand_made), Type="String", Overwrite=True)
    assert plan(spec_file)[1]["cloudwatch.GetDashboard"] == 2  # no version listed is recorded

    # Right in every field, but of a format this version does not write: not read at all.
    entry = [recorded.modified_ms, recorded.size, recorded.digest]
    other_format = json.dumps({"format": 99, "dashboards": {"main": entry}})
    ssm.put_parameter(Name=name, Value=other_format, Type="String", Overwrite=True)
    assert plan(spec_file)[1]["cloudwatch.GetDashboard"] == 2


def test_ownership_still_comes_from_the_tags_not_the_record(spec_file: Path) -> None:
    apply(spec_file)
    run_context().client("ssm").put_parameter(
        Name=index_name(STACK), Value=encode_index(["main"]), Type="String", Overwrite=True
    )
    the_plan, calls = plan(spec_file)
    assert "out of date" in the_plan.housekeeping["dashboards"]
    assert calls["cloudwatch.ListTagsForResource"] == 4  # the index's and the declared, then all
    assert calls["cloudwatch.GetDashboard"] == 2  # a scan reads every body
    assert calls["cloudwatch.ListDashboards"] == 1  # the scan takes the whole listing the read made


def test_a_plan_read_made_after_the_second_of_the_version_is_recorded_by_the_next_apply(
    spec_file: Path,
) -> None:
    apply(spec_file)
    run_context().client("ssm").delete_parameter(Name=dashboard_versions.parameter_name(STACK))

    settled, calls = plan_with(spec_file, lambda ctx: shift_answers(ctx, "GetDashboard", 3))
    assert calls["cloudwatch.GetDashboard"] == 2
    assert "version record is missing" in settled.housekeeping["dashboards"]
    unsettled, _ = plan_with(spec_file, lambda ctx: shift_answers(ctx, "GetDashboard", 0))
    assert unsettled.housekeeping == {}  # read within the second: another write may follow in it

    ctx = run_context()
    shift_answers(ctx, "GetDashboard", 3)
    assert api.apply(api.load(spec_file), aws=ctx).ok
    assert ctx.stats.calls["cloudwatch.PutDashboard"] == 0
    assert sorted(stored_versions() or {}) == ["main", "ops"]
    assert plan(spec_file)[1]["cloudwatch.GetDashboard"] == 0


def test_an_apply_does_not_record_a_version_listed_as_made_after_its_write(spec_file: Path) -> None:
    # PutDashboard answered 3 s before the listing's LastModified: the version listed is someone
    # else's, written after the apply's. Left unrecorded, the next plan reads it.
    ctx = run_context()
    shift_answers(ctx, "PutDashboard", -3)
    assert api.apply(api.load(spec_file), aws=ctx).ok
    assert stored_versions() is None  # nothing certain to record: no record
    assert plan(spec_file)[1]["cloudwatch.GetDashboard"] == 2


def test_the_rules_of_a_certain_version() -> None:
    listing = Listed(modified_ms=10_000, size=100, arn="")
    assert dashboard_versions.read_after_listing(listing, "d", 12_000) == Version(10_000, 100, "d")
    assert dashboard_versions.read_after_listing(listing, "d", 11_999) is None  # same second, or clocks
    assert dashboard_versions.read_after_listing(listing, None, 20_000) is None  # body not known
    assert dashboard_versions.listed_after_write(listing, "d", 9_000) == Version(10_000, 100, "d")
    assert dashboard_versions.listed_after_write(listing, "d", 8_000) is None  # made after the write
    assert dashboard_versions.listed_after_write(listing, "d", None) is None  # no Date: not known


def test_digests_ignore_key_order_and_refuse_unknown_values() -> None:
    from pacs_reconcile.diff import UNKNOWN

    digest = dashboard_versions.body_digest
    assert digest({"a": 1, "b": [2]}) == digest({"b": [2], "a": 1})
    assert digest({"a": 1}) != digest({"a": 2})
    assert digest({"a": UNKNOWN}) is None


def test_the_record_keeps_as_many_versions_as_fit_a_standard_parameter() -> None:
    version = Version(1_733_000_000_000, 1234, "x" * 16)
    many = {f"dashboard-with-a-long-name-{i:04d}": version for i in range(200)}
    value = dashboard_versions.encode(many)
    kept = dashboard_versions.decode(value)
    assert kept is not None and 0 < len(kept) < 200
    assert len(value.encode()) <= dashboard_versions.ownership_index.STANDARD_VALUE_LIMIT
    assert list(kept) == sorted(many)[: len(kept)]


def test_a_record_naming_a_dashboard_the_stack_does_not_own_spares_no_read(spec_file: Path) -> None:
    # Someone else's dashboard of a declared name, with a record claiming its very version and the
    # desired body's digest: the tags say it is not the stack's, so its body is read all the same.
    apply(spec_file)
    cloudwatch = run_context().client("cloudwatch")
    arn = cloudwatch.list_dashboards(DashboardNamePrefix="ops")["DashboardEntries"][0]["DashboardArn"]
    cloudwatch.untag_resource(ResourceARN=arn, TagKeys=[OWNER_TAG])
    cloudwatch.put_dashboard(DashboardName="ops", DashboardBody=edited_body("someone else's"))
    listed = cloudwatch.list_dashboards(DashboardNamePrefix="ops")["DashboardEntries"][0]
    version = dashboard_versions.listed(listed)
    assert version is not None
    claimed = {**(stored_versions() or {})}
    claimed["ops"] = Version(version.modified_ms, version.size, claimed["main"].digest)  # the same body
    ssm = run_context().client("ssm")
    record = dashboard_versions.encode(claimed)
    versions_name = dashboard_versions.parameter_name(STACK)
    ssm.put_parameter(Name=versions_name, Value=record, Type="String", Overwrite=True)
    ssm.put_parameter(Name=index_name(STACK), Value=encode_index(["main"]), Type="String", Overwrite=True)
    the_plan, calls = plan(spec_file)
    assert calls["cloudwatch.ListDashboards"] == 1  # the index agrees with the tags: no scan
    assert calls["cloudwatch.GetDashboard"] == 1  # ops' body, whatever the record claims
    assert actions(the_plan)["dashboards.ops"] is Action.REFUSED  # not owned: refused, not adopted
