"""The operations the tool's clients are made with (aws_operations.OPERATIONS): exactly what its code
can call, and each API model kept to them (aws_models.kept_to_operations) makes and parses those
calls as the whole model does."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore import xform_name

from pacs_reconcile import aws_models, permissions
from pacs_reconcile.aws import AwsContext, AwsSettings
from pacs_reconcile.aws_models import ModelFiles, SharedLoader, kept_to_operations
from pacs_reconcile.aws_operations import BOTOCORE_CALLS, OPERATIONS
from pacs_reconcile.resources.registry import KINDS, LOOKUPS, load_all
from source_scan import services_and_names

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "pacs_reconcile"
NOT_THE_TOOLS = {"emulator"}
"""The embedded emulator's seeding makes its own boto3 clients (whole models), not the tool's."""

_SESSION = botocore.session.get_session()


def _whole_model(service: str) -> dict[str, Any]:
    """The API model as botocore loads it (its extras merged), whole."""
    loader = botocore.loaders.create_loader()
    model: dict[str, Any] = json.loads(json.dumps(loader.load_service_model(service, "service-2")))
    return model


def _scanned() -> tuple[set[str], set[str]]:
    """The services the package makes clients of, and every name its source mentions."""
    tools = [
        p for p in sorted(PACKAGE.rglob("*.py")) if not set(p.relative_to(PACKAGE).parts) & NOT_THE_TOOLS
    ]
    return services_and_names(tools)


def _iam_tables() -> set[str]:
    """Every IAM action of permissions.py's tables: each kind's and lookup's (their dynamic calls
    included), the engine's, the lock's and drift's."""
    load_all()
    actions = set(permissions.ENGINE_READ | permissions.LOCK_ACTIONS)
    actions |= permissions.DRIFT_METRIC | permissions.DRIFT_NOTIFY
    for reconciler in KINDS.values():
        actions |= reconciler.meta.actions.all()
    for lookup in LOOKUPS.values():
        actions |= lookup.meta.actions
    return actions


def test_the_table_is_what_the_code_can_call() -> None:
    services, names = _scanned()
    load_all()
    services |= {r.meta.tag_api.service for r in KINDS.values() if r.meta.tag_api is not None}
    services |= {"resourcegroupstaggingapi", "sts"}  # the owner-tag sweep, the account id (aws.py)
    actions = _iam_tables()
    code: dict[str, set[str]] = {}
    matched: set[str] = set()
    for service in sorted(services):
        model = _SESSION.get_service_model(service)
        for operation in model.operation_names:
            action = permissions.iam_action(service, model.signing_name, operation)
            if xform_name(operation) in names or action in actions:
                code.setdefault(service, set()).add(operation)
                matched.add(action)
    assert actions - matched == set(), f"actions of no service the tool makes clients of: {actions - matched}"
    for service, operations in BOTOCORE_CALLS.items():
        code.setdefault(service, set()).update(operations)
    table = {service: set(operations) for service, operations in OPERATIONS.items()}
    missing = {s: sorted(ops - table.get(s, set())) for s, ops in code.items() if ops - table.get(s, set())}
    extra = {s: sorted(ops - code.get(s, set())) for s, ops in table.items() if ops - code.get(s, set())}
    assert missing == {}, f"called, missing from aws_operations.OPERATIONS: {missing}"
    assert extra == {}, f"in aws_operations.OPERATIONS, called by no code: {extra}"


def _resolved(shapes: dict[str, Any], name: str, path: tuple[str, ...] = ()) -> Any:
    """A shape with every shape it refers to written out (a recursive one cut where it recurs)."""
    if name in path:
        return {"recurs": name}
    shape = {k: v for k, v in shapes[name].items() if k != "documentation"}
    inner = (*path, name)
    if "members" in shape:
        shape["members"] = {
            member: {
                **{k: v for k, v in spec.items() if k not in ("documentation", "shape")},
                "shape": _resolved(shapes, spec["shape"], inner),
            }
            for member, spec in shape["members"].items()
        }
    for part in ("member", "key", "value"):
        if part in shape:
            rest = {k: v for k, v in shape[part].items() if k not in ("documentation", "shape")}
            shape[part] = {**rest, "shape": _resolved(shapes, shape[part]["shape"], inner)}
    return shape


def _operation(model: dict[str, Any], name: str) -> dict[str, Any]:
    """An operation with its input, output and errors written out, without documentation."""
    operation = {k: v for k, v in model["operations"][name].items() if k != "documentation"}
    for part in ("input", "output"):
        if part in operation:
            shape = _resolved(model["shapes"], operation[part]["shape"])
            operation[part] = {**operation[part], "shape": shape}
    operation["errors"] = [_resolved(model["shapes"], e["shape"]) for e in operation.get("errors", ())]
    return operation


def _documented(node: Any) -> bool:
    if isinstance(node, dict):
        return "documentation" in node or any(_documented(v) for v in node.values())
    if isinstance(node, list):
        return any(_documented(v) for v in node)
    return False


@pytest.mark.parametrize("service", sorted(OPERATIONS))
def test_a_kept_model_makes_and_parses_its_calls_as_the_whole_one(service: str) -> None:
    whole = _whole_model(service)
    kept = SharedLoader(file_loader=ModelFiles()).load_service_model(service, "service-2")
    assert set(kept["operations"]) == OPERATIONS[service] | BOTOCORE_CALLS.get(service, frozenset())
    for name in kept["operations"]:
        assert _operation(kept, name) == _operation(whole, name), name
    errors = {name for name, shape in whole["shapes"].items() if shape.get("exception")}
    assert {name for name, shape in kept["shapes"].items() if shape.get("exception")} == errors
    for name in errors:  # client.exceptions.X, and an error parsed by its shape
        assert _resolved(kept["shapes"], name) == _resolved(whole["shapes"], name)
    assert {k: v for k, v in kept.items() if k not in ("operations", "shapes")} == {
        k: v for k, v in whole.items() if k not in ("operations", "shapes")
    }
    assert not _documented(kept["operations"]) and not _documented(kept["shapes"])
    assert len(kept["shapes"]) < len(whole["shapes"])


def test_the_shared_loader_makes_clients_with_the_tools_operations_only() -> None:
    ctx = AwsContext(AwsSettings(region="eu-central-1", endpoint_url="http://127.0.0.1:9"))
    for service in ("ec2", "logs", "sts"):
        methods = set(ctx.client(service).meta.method_to_api_mapping.values())
        assert methods == OPERATIONS[service] | BOTOCORE_CALLS.get(service, frozenset()), service


def test_a_model_cached_for_other_operations_is_kept_to_the_tables_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = str(Path(botocore.__file__).parent / "data" / "logs" / "2014-03-28" / "service-2")
    monkeypatch.setitem(aws_models.OPERATIONS, "logs", frozenset({"DescribeLogGroups"}))
    assert set(ModelFiles(str(tmp_path)).load_file(path)["operations"]) == {"DescribeLogGroups"}
    more = OPERATIONS["logs"] | {"PutLogEvents"}
    monkeypatch.setitem(aws_models.OPERATIONS, "logs", more)
    assert set(ModelFiles(str(tmp_path)).load_file(path)["operations"]) == more


def test_an_operation_left_out_is_called_through_the_whole_model(aws: AwsContext) -> None:
    """A call the table does not include (here a test's own setup) still works: the kept client
    hands it to a client of the whole model, which shares the context's credentials, its call
    accounting and every handler registered on its events."""
    ec2 = aws.client("ec2")
    assert "CreateVpc" not in OPERATIONS["ec2"]
    seen: list[str] = []
    aws.events.register("before-send.ec2.CreateVpc", lambda **_: seen.append("CreateVpc"))
    vpc = ec2.create_vpc(CidrBlock="10.7.0.0/16")["Vpc"]["VpcId"]
    assert [v["VpcId"] for v in ec2.describe_vpcs(VpcIds=[vpc])["Vpcs"]] == [vpc]
    assert seen == ["CreateVpc"]
    assert aws.stats.calls["ec2.CreateVpc"] == 1 and aws.stats.calls["ec2.DescribeVpcs"] == 1
    assert aws.client("ec2") is ec2 and "create_vpc" not in ec2.meta.method_to_api_mapping
    with pytest.raises(AttributeError, match="no_such_operation"):
        ec2.no_such_operation()


def test_a_member_named_documentation_is_kept() -> None:
    """Documentation is left out as a field of operations, shapes and members, never a member
    that happens to be called so."""
    model = {
        "metadata": {},
        "operations": {"Get": {"name": "Get", "input": {"shape": "In"}, "documentation": "<p>Gets.</p>"}},
        "shapes": {
            "In": {
                "type": "structure",
                "members": {
                    "documentation": {"shape": "Text", "documentation": "<p>A member.</p>"},
                    "name": {"shape": "Text"},
                },
                "documentation": "<p>In.</p>",
            },
            "Text": {"type": "string"},
        },
    }
    kept = kept_to_operations(model, frozenset({"Get"}))
    assert kept["shapes"]["In"] == {
        "type": "structure",
        "members": {"documentation": {"shape": "Text"}, "name": {"shape": "Text"}},
    }
    assert kept["operations"] == {"Get": {"name": "Get", "input": {"shape": "In"}}}
