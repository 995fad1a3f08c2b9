"""SecureString parameters hold secrets that often exist nowhere else (a generated password): like
log groups they are stateful, kept when removed from the spec and by `destroy`, unless the command
names them with --allow-destroy; plain String parameters are not. The repository's spec also marks
the Grafana admin password prevent_destroy."""

from __future__ import annotations

from pathlib import Path

from pacs_reconcile.aws import AwsContext
from pacs_reconcile.engine.apply import apply_plan
from pacs_reconcile.engine.changes import Action
from pacs_reconcile.engine.plan import Plan, PlanOptions, make_plan
from pacs_reconcile.resources.registry import KINDS
from pacs_reconcile.spec.loader import load_spec

REPO = Path(__file__).resolve().parents[2]
BOTH = """\
version: 1
stack: pacs-test
ssm_parameters:
  password: {name: /pacs/password, type: SecureString, value: s3cret-value}
  setting: {name: /pacs/setting, type: String, value: plain}
"""


def _spec_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "monitoring.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _plan(tmp_path: Path, aws: AwsContext, text: str, **options: object) -> Plan:
    spec = load_spec(_spec_file(tmp_path, text))
    return make_plan(spec, aws, PlanOptions(**options))  # type: ignore[arg-type]


def _actions(plan: Plan) -> dict[str, Action]:
    return {c.address: c.action for c in plan.changes}


def _applied(tmp_path: Path, aws: AwsContext, text: str, **options: object) -> Plan:
    plan = _plan(tmp_path, aws, text, **options)
    assert plan.values is not None
    result = apply_plan(plan, plan.values, aws)
    assert all(str(o.status) == "done" for o in result.outcomes), result.outcomes
    return plan


def _names(aws: AwsContext) -> set[str]:
    return {p["Name"] for p in aws.client("ssm").describe_parameters()["Parameters"]}


def test_a_secure_string_removed_from_the_spec_is_kept_unless_named(tmp_path: Path, aws: AwsContext) -> None:
    _applied(tmp_path, aws, BOTH)
    header = BOTH.split("ssm_parameters:")[0]
    plan = _plan(tmp_path, aws, header)
    assert _actions(plan) == {
        'ssm_parameters["/pacs/password"]': Action.RETAINED,
        'ssm_parameters["/pacs/setting"]': Action.DELETE,
    }
    kept = plan.by_address()['ssm_parameters["/pacs/password"]']
    assert kept.reason is not None and "kept because it holds data" in kept.reason
    _applied(tmp_path, aws, header)
    assert _names(aws) == {"/pacs/password"}

    _applied(tmp_path, aws, header, allow_destroy=['ssm_parameters["/pacs/password"]'])
    assert _names(aws) == set()


def test_destroy_keeps_a_secure_string_unless_named(tmp_path: Path, aws: AwsContext) -> None:
    _applied(tmp_path, aws, BOTH)
    plan = _applied(tmp_path, aws, BOTH, destroy=True)
    assert _actions(plan) == {
        "ssm_parameters.password": Action.RETAINED,
        "ssm_parameters.setting": Action.DELETE,
    }
    assert _names(aws) == {"/pacs/password"}
    _applied(tmp_path, aws, BOTH, destroy=True, allow_destroy=["ssm_parameters.password"])
    assert _names(aws) == set()


def test_renaming_a_secure_string_keeps_the_old_one(tmp_path: Path, aws: AwsContext) -> None:
    _applied(tmp_path, aws, BOTH)
    renamed = BOTH.replace("/pacs/password", "/pacs/password-2").replace("/pacs/setting", "/pacs/setting-2")
    plan = _plan(tmp_path, aws, renamed)
    actions = _actions(plan)
    assert actions["ssm_parameters.password"] is Action.CREATE  # a new name is a new parameter
    assert actions['ssm_parameters["/pacs/password"]'] is Action.RETAINED
    assert actions['ssm_parameters["/pacs/setting"]'] is Action.DELETE


def test_the_kind_says_which_parameters_hold_data() -> None:
    kind = KINDS["ssm_parameters"]
    assert not kind.meta.stateful and kind.meta.stateful_when == "its type is SecureString"


def test_the_repository_spec_protects_the_grafana_password() -> None:
    spec = load_spec(REPO / "monitoring.yaml")
    node = spec.resources["ssm_parameters.grafana_admin_password"]
    assert node.config["type"] == "SecureString"
    assert node.lifecycle.prevent_destroy
