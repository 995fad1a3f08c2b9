"""The `removed:` section: resources taken out of the spec on purpose, named by AWS identity."""

from __future__ import annotations

from pathlib import Path

from .test_loader import load, make_spec, problems

RESOURCES = """
log_groups:
  app: {name: /aws/ecs/app, retention_days: 7}
"""


def test_removed_entries_are_loaded_with_their_identity(tmp_path: Path) -> None:
    spec = make_spec(
        tmp_path,
        RESOURCES
        + """
removed:
  - {from: 'log_groups["/aws/ecs/legacy"]', destroy: false}
  - {from: "alarms['old-alarm']", destroy: true}
""",
    )
    removed = load(spec).removed
    assert [(r.address, r.kind, r.identity, r.destroy) for r in removed] == [
        ('log_groups["/aws/ecs/legacy"]', "log_groups", "/aws/ecs/legacy", False),
        ('alarms["old-alarm"]', "alarms", "old-alarm", True),
    ]
    assert str(removed[0].location) == "monitoring.yaml:9:5"


def test_removed_problems_are_reported_together_with_their_lines(tmp_path: Path) -> None:
    spec = make_spec(
        tmp_path,
        RESOURCES
        + """
removed:
  - {from: log_groups.legacy, destroy: false}
  - {from: 'log_group["x"]', destroy: false}
  - {from: 'log_groups["/aws/ecs/app"]', destroy: false}
  - {from: 'log_groups["/x"]'}
  - {from: 'log_groups["/y"]', destroy: false, keep: true}
  - {from: 'log_groups["/y"]', destroy: true}
  - {from: 'metric_filters["f"]', destroy: false}
""",
    )
    found = problems(spec)
    assert found == [
        'monitoring.yaml:9:12: removed[0].from: not a KIND["identity"] address; log_groups.legacy is no '
        "longer declared, and no state file remembers what it named: write its AWS identity instead, "
        'log_groups["NAME"], as plan shows it',
        "monitoring.yaml:10:12: removed[1].from: no kind 'log_group'; did you mean 'log_groups'?",
        'monitoring.yaml:11:12: removed[2].from: log_groups["/aws/ecs/app"] is still declared, as '
        "log_groups.app at monitoring.yaml:6:3: remove that entry, or this one",
        "monitoring.yaml:12:5: removed[3].destroy: required, true or false: false releases it (stays in "
        "AWS, no longer managed), true deletes it",
        "monitoring.yaml:13:48: removed[4].keep: unknown key",
        'monitoring.yaml:14:12: removed[5].from: log_groups["/y"] is listed twice (first at removed[4])',
        "monitoring.yaml:15:12: removed[6].from: CloudWatch Logs metric filters are owned through their "
        "parent: remove or release the parent",
    ]


def test_address_patterns_name_declared_and_undeclared_resources() -> None:
    from pacs_reconcile.engine.addresses import AddressPattern

    def matches(pattern: str, *names: str) -> bool:
        return AddressPattern.parse(pattern, "--allow-destroy").matches(names)

    assert matches("log_groups.*", "log_groups.app")
    assert matches("log_groups.*", 'log_groups["/aws/ecs/app"]')
    assert not matches("log_groups.*", 'alarms["x"]')
    assert matches('log_groups["/aws/ecs/*"]', 'log_groups["/aws/ecs/app"]')
    assert not matches('log_groups["/aws/ecs/*"]', 'log_groups["/aws/rds/db"]')
    assert matches("efs_file_systems.data[a]", 'efs_file_systems.data["a"]'), "for_each keys in any quoting"
    assert matches("efs_file_systems.data['a']", 'efs_file_systems.data["a"]')
    assert not matches("alarms.a", "alarms.ab"), "exact unless a * says otherwise"
    assert matches("*", "alarms.a")
