"""SSM Parameter Store parameters, SecureString secrets included.

A value is compared with the live one decrypted (GetParameters WithDecryption), so a secret
changed by hand shows up; `value` is a sensitive field: the plan shows "(sensitive value)" and
no message of this module ever quotes a value.

Reads: GetParameters takes 10 names or ARNs a call (value, type, ARN), DescribeParameters 50 names
a filter (description, tier, key); owned parameters nobody asked for come from the run's one
tagging-API sweep, which also gives their tags. PutParameter cannot combine Tags with Overwrite:
create sends the tags, update overwrites without them (tags go through AddTagsToResource).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, ConfigDict, Field, model_validator

from ..aws import AwsContext
from ..diff import Delta, tags_from_list, tags_to_list
from ._spec_files import inside_spec_folder
from .base import Desired, Key, Live, ReadScope, Reconciler, SpecModel, is_unresolved
from .common import (
    both,
    chunks,
    claim_after_lost_create,
    concurrently,
    gone_is_fine,
    names_with_prefix,
    owned_of,
    read_pages,
)
from .kind import KindActions, KindMeta, TagApi
from .registry import register

ByName = dict[str, dict[str, Any]]
"""Parameters by name, as GetParameters or DescribeParameters give each."""
GET_PARAMETERS_BATCH = 10
"""GetParameters accepts at most 10 names."""
DESCRIBE_FILTER_VALUES = 50
"""A DescribeParameters filter accepts at most 50 values."""
MAX_VALUE = {"Standard": 4096, "Advanced": 8192, "Intelligent-Tiering": 8192}
MAX_HIERARCHY_LEVELS = 15
VALUE_FILE = "value_file"
"""How problems with a value file are located in messages (the loader adds the entry)."""

ParameterType = Literal["String", "StringList", "SecureString"]
Tier = Literal["Standard", "Advanced", "Intelligent-Tiering"]
INTELLIGENT_TIERING = "Intelligent-Tiering"
"""Not a tier but a request to choose one: Parameter Store "creates a parameter in the standard
tier unless the request includes options that require the advanced tier" (a value over 4 KB) and
reports the tier it chose, Standard or Advanced (AWS Systems Manager user guide, "Specifying a
default parameter tier"; go-to-k/cdk-real-drift#408 observed the same). So it is sent, never
compared: the tier AWS reports is whatever it chose."""
DataType = Literal["text", "aws:ec2:image"]
DEFAULT_DATA_TYPE = "text"
"""PutParameter DataType: "The default data type is text."."""
_AMI_ID = re.compile(r"ami-[0-9a-f]{8}(?:[0-9a-f]{9})?")

_NAME = re.compile(r"[A-Za-z0-9_.\-/]+")
_RESERVED_PREFIX = re.compile(r"^/?(aws|ssm)", re.IGNORECASE)


def check_parameter_name(name: str) -> str:
    if is_unresolved(name):
        return name
    if not _NAME.fullmatch(name):
        raise ValueError("parameter names allow only letters, digits and _ . - /")
    if "/" in name and not name.startswith("/"):
        raise ValueError("a hierarchical name starts with '/', e.g. /pacs/grafana/admin-password")
    if "//" in name or name.endswith("/"):
        raise ValueError("a name has no empty level ('//') and does not end with '/'")
    if _RESERVED_PREFIX.match(name):
        raise ValueError('names starting with "aws" or "ssm" are reserved by AWS')
    if name.count("/") > MAX_HIERARCHY_LEVELS:
        raise ValueError(f"at most {MAX_HIERARCHY_LEVELS} levels of hierarchy")
    return name


class ParameterSpec(SpecModel):
    """An SSM parameter. Its value is always masked in output."""

    # The value may be a secret: never echo the input in validation errors.
    model_config = ConfigDict(hide_input_in_errors=True)

    name: Annotated[str, AfterValidator(check_parameter_name)] = Field(min_length=1, max_length=1011)
    """Parameter name, e.g. /pacs/grafana/admin-password. Changing it replaces the parameter."""
    type: ParameterType = "String"
    """`String`, `StringList` (comma-separated) or `SecureString` (encrypted with KMS; use it for
    secrets, with the value from a sensitive variable)."""
    value: str | None = Field(default=None, min_length=1, repr=False)
    """The value. Never shown: plans print "(sensitive value)". Give it or `value_file`."""
    value_file: str | None = Field(default=None, min_length=1)
    """A file inside the spec's folder whose content (UTF-8 text) is the value, e.g.
    configs/prometheus.yml: editing the file is a plan diff on the parameter. Its size counts
    against the tier's limit (4 KB Standard, 8 KB Advanced). The referenceable attribute
    `value_sha256` (hex SHA-256 of the content; not for a SecureString) lets a task definition
    change with it, so its service rolls out the new value."""
    description: str = Field(default="", max_length=1024)
    """What the parameter is for."""
    tier: Tier | None = None
    """`Standard` (values up to 4 KB), `Advanced` (8 KB, charged) or `Intelligent-Tiering` (AWS
    picks Standard, or Advanced when the value needs it, and reports the tier it picked: not
    compared). Unset: not managed (AWS's default is Standard). AWS cannot move an Advanced
    parameter back to Standard: that change replaces the parameter (Standard -> Advanced is in
    place)."""
    key_id: str | None = None
    """KMS key (id, ARN or alias) for a SecureString. Unset: the AWS managed key alias/aws/ssm."""
    data_type: DataType | None = None
    """`text`, or `aws:ec2:image` for a String holding an AMI id (EC2 validates it and it can be
    referenced as an AMI). Unset: not managed (AWS's default is text)."""

    @model_validator(mode="after")
    def _value_and_key(self) -> ParameterSpec:
        if (self.value is None) == (self.value_file is None):
            raise ValueError("give exactly one of value and value_file")
        if self.value is not None and not is_unresolved(self.value):
            check_value_size("value", self.value, self.tier)
        if self.key_id is not None and self.type != "SecureString":
            raise ValueError("key_id applies only to type SecureString")
        if self.data_type == "aws:ec2:image":
            if self.type != "String":
                raise ValueError("data_type aws:ec2:image applies only to type String")
            if self.value is not None and not is_unresolved(self.value) and not _AMI_ID.fullmatch(self.value):
                raise ValueError(
                    "with data_type aws:ec2:image the value is an AMI id (ami- and 8 or 17 hex digits)"
                )
        return self


def check_value_size(field: str, value: str, tier: str | None) -> None:
    """PutParameter's limit on a value: 4 KB in the Standard tier, 8 KB in Advanced (Parameter
    Store quotas: "Maximum size of a parameter value", 4 KB standard / 8 KB advanced)."""
    limit = MAX_VALUE[tier or "Standard"]
    if len(value.encode()) > limit:
        shown = tier or "Standard (the default)"
        raise ValueError(
            f"{field}: {len(value.encode())} bytes is over the {limit}-byte limit of tier {shown}"
        )


def value_from_file(base_dir: Path, config: Mapping[str, Any]) -> str:
    """The content of the parameter's `value_file`, checked like a value."""
    path = inside_spec_folder(base_dir, config["value_file"], VALUE_FILE, "a file")
    if not path.is_file():
        raise ValueError(f"{VALUE_FILE}: no file {config['value_file']} in {base_dir.resolve()}")
    try:
        value = path.read_bytes().decode("utf-8")
    except OSError as error:
        raise ValueError(f"{VALUE_FILE}: cannot read {config['value_file']}: {error.strerror}") from None
    except UnicodeDecodeError:
        raise ValueError(f"{VALUE_FILE}: {config['value_file']} is not UTF-8 text") from None
    if not value:
        raise ValueError(f"{VALUE_FILE}: {config['value_file']} is empty (a parameter needs a value)")
    check_value_size(VALUE_FILE, value, config.get("tier"))
    return value


def value_sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def parameter_arn(ctx: AwsContext, name: str) -> str:
    return f"arn:{ctx.partition}:ssm:{ctx.region}:{ctx.account_id}:parameter/{name.lstrip('/')}"


def _list_parameters(ctx: AwsContext, prefix: str) -> list[str]:
    begins_with = [{"Key": "Name", "Option": "BeginsWith", "Values": [prefix]}]
    params = {"ParameterFilters": begins_with} if prefix else {}
    parameters = read_pages(ctx.client("ssm"), "describe_parameters", "Parameters", **params)
    return names_with_prefix([p["Name"] for p in parameters], prefix)


@register
class Parameters(Reconciler):
    meta = KindMeta(
        kind="ssm_parameters",
        model=ParameterSpec,
        title="SSM parameter",
        attributes=("name", "arn", "value_sha256"),
        force_new=frozenset({"name"}),
        taggable=True,
        sensitive_fields=frozenset({"value"}),
        stateful_when="its type is SecureString",
        lister=_list_parameters,
        tag_api=TagApi(
            "ssm",
            "add_tags_to_resource",
            "remove_tags_from_resource",
            "ResourceId",
            fixed_params={"ResourceType": "Parameter"},
        ),
        actions=KindActions(
            read=frozenset({"ssm:GetParameters", "ssm:DescribeParameters", "ssm:ListTagsForResource"}),
            write=frozenset({"ssm:PutParameter", "ssm:AddTagsToResource", "ssm:RemoveTagsFromResource"}),
            delete=frozenset({"ssm:DeleteParameter"}),
        ),
    )

    def prepare(self, config: dict[str, Any], base_dir: Path) -> dict[str, Any]:
        # The file's content becomes the value now, offline, so plan compares it like any value;
        # its hash is known before plan for the resources that follow it (not for a secret).
        if config.get("value_file") is None:
            return config
        value = value_from_file(base_dir, config)
        if config.get("type") == "SecureString":
            return {**config, "value": value}
        return {**config, "value": value, "value_sha256": value_sha256(value)}

    def replacing_paths(self, delta: Delta) -> list[str]:
        # PutParameter cannot move a parameter from Advanced back to Standard ("You can't downgrade
        # a parameter from the advanced-parameter tier to the standard-parameter tier";
        # go-to-k/cdk-real-drift#408): only delete and create can. Standard -> Advanced is in place.
        downgrade = any(
            d.path == "tier" and d.old == "Advanced" and d.new == "Standard" for d in delta.differences
        )
        return super().replacing_paths(delta) + (["tier"] if downgrade else [])

    def canonical(self, state: dict[str, Any]) -> dict[str, Any]:
        # Where the value came from is not a property of the parameter: only the value compares.
        state = {k: v for k, v in state.items() if k not in ("value_file", "value_sha256")}
        if state.get("tier") == INTELLIGENT_TIERING:
            return {**state, "tier": None}  # AWS reports the tier it chose: not compared
        return state

    def holds_data(self, live: Live | None) -> bool:
        """A SecureString holds a secret that often exists nowhere else (a generated password):
        like a log group, it is kept when removed from the spec unless the command names it."""
        return live is not None and live.state.get("type") == "SecureString"

    def read(self, ctx: AwsContext, keys: Sequence[Key], scope: ReadScope) -> dict[Key, Live]:
        def get(names: Sequence[str]) -> ByName:
            found: dict[str, dict[str, Any]] = {}
            for batch in chunks(names, GET_PARAMETERS_BATCH):
                response = ctx.client("ssm").get_parameters(Names=list(batch), WithDecryption=True)
                found.update({p["Name"]: p for p in response.get("Parameters", [])})
            return found

        def get_described(names: Sequence[str]) -> tuple[ByName, ByName]:
            found = get(names)
            return found, _describe(ctx, sorted(found))

        # The declared parameters are read while the sweep runs; then the owned ones no declared
        # name found (usually none). GetParameters takes ARNs too: owned parameters are asked for by
        # ARN (their names are ambiguous in it: "parameter/x" is both "x" and "/x").
        owned, (found, details) = both(
            lambda: owned_of(ctx, scope.stack, "ssm", "parameter/"),
            lambda: get_described(sorted({str(k) for k in keys})),
        )
        seen = {p["ARN"] for p in found.values()}
        more, more_details = get_described(sorted(arn for arn in owned if arn not in seen))
        found, details = {**found, **more}, {**details, **more_details}
        missing_tags = [p for p in found.values() if p["ARN"] not in owned]
        read_tags = concurrently(lambda p: _tags(ctx, p["Name"]), missing_tags)
        tags = {p["ARN"]: t for p, t in zip(missing_tags, read_tags, strict=True)} | owned
        return {name: self._live(p, details.get(name, {}), tags[p["ARN"]]) for name, p in found.items()}

    def create(self, ctx: AwsContext, desired: Desired) -> Live:
        state = desired.state
        ssm = ctx.client("ssm")
        try:
            ssm.put_parameter(**_put_request(state, desired.config), Tags=tags_to_list(desired.tags))
        except ssm.exceptions.ParameterAlreadyExists:  # our own first attempt, response lost?
            claim_after_lost_create(f"SSM parameter {state['name']}", _tags(ctx, state["name"]), desired.tags)
        arn = parameter_arn(ctx, state["name"])
        return Live(
            state["name"],
            self._created_state(state, _requested_tier(state, desired.config)),
            {"name": state["name"], "arn": arn, **_hash_of(state)},
            dict(desired.tags),
            state["name"],
        )

    def update(self, ctx: AwsContext, desired: Desired, live: Live, delta: Delta) -> Live:
        # PutParameter rewrites the whole parameter (a new version); the value is always known.
        request = _put_request(desired.state, desired.config)
        if desired.state.get("key_id") is None and live.state.get("key_id"):
            request["KeyId"] = live.state["key_id"]  # not managed: keep the key it has
        ctx.client("ssm").put_parameter(**request, Overwrite=True)
        state = {**live.state, **{k: v for k, v in desired.state.items() if v is not None}}
        if request.get("Tier") == INTELLIGENT_TIERING:
            state["tier"] = _chosen_tier(state["value"], live.state.get("tier"))
        attrs = {k: v for k, v in live.attrs.items() if k != "value_sha256"} | _hash_of(state)
        return replace(live, state=state, attrs=attrs)

    def delete(self, ctx: AwsContext, live: Live) -> None:
        with gone_is_fine("ParameterNotFound"):
            ctx.client("ssm").delete_parameter(Name=live.handle)

    @staticmethod
    def _created_state(state: Mapping[str, Any], tier: str | None) -> dict[str, Any]:
        out = dict(state)
        out["tier"] = (
            _chosen_tier(state["value"], None) if tier == INTELLIGENT_TIERING else tier or "Standard"
        )
        out["data_type"] = state.get("data_type") or DEFAULT_DATA_TYPE
        if state["type"] == "SecureString" and state.get("key_id") is None:
            out["key_id"] = "alias/aws/ssm"
        return out

    @staticmethod
    def _live(parameter: Mapping[str, Any], details: Mapping[str, Any], tags: dict[str, str]) -> Live:
        name = parameter["Name"]
        state = {
            "name": name,
            "type": parameter["Type"],
            "value": parameter["Value"],
            "description": details.get("Description", ""),
            "tier": details.get("Tier", "Standard"),
            "key_id": details.get("KeyId") if parameter["Type"] == "SecureString" else None,
            "data_type": parameter.get("DataType") or DEFAULT_DATA_TYPE,
        }
        return Live(name, state, {"name": name, "arn": parameter["ARN"], **_hash_of(state)}, tags, name)


def _hash_of(state: Mapping[str, Any]) -> dict[str, str]:
    """The value_sha256 attribute of a parameter in this state: none for a secret."""
    if state["type"] == "SecureString":
        return {}
    return {"value_sha256": value_sha256(state["value"])}


def _requested_tier(state: Mapping[str, Any], config: Mapping[str, Any]) -> str | None:
    """The tier to ask for: the compared one, or Intelligent-Tiering, which only the spec entry
    (`config`) still holds (canonical leaves it out of comparisons)."""
    return state.get("tier") or config.get("tier")


def _chosen_tier(value: str, current: str | None) -> str:
    """The tier Intelligent-Tiering leaves a parameter in: Advanced once Advanced (never
    downgraded) or for a value over the standard tier's 4 KB; Standard otherwise."""
    return "Advanced" if current == "Advanced" or len(value.encode()) > MAX_VALUE["Standard"] else "Standard"


def _put_request(state: Mapping[str, Any], config: Mapping[str, Any]) -> dict[str, Any]:
    request: dict[str, Any] = {
        "Name": state["name"],
        "Value": state["value"],
        "Type": state["type"],
        "Description": state.get("description") or "",
    }
    tier = _requested_tier(state, config)
    if tier is not None:
        request["Tier"] = tier
    if state.get("key_id") is not None:
        request["KeyId"] = state["key_id"]
    if state.get("data_type") is not None:
        request["DataType"] = state["data_type"]
    return request


def _describe(ctx: AwsContext, names: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Description, tier and key of the named parameters, 50 names a filter."""
    out: dict[str, dict[str, Any]] = {}
    for batch in chunks(names, DESCRIBE_FILTER_VALUES):
        found = read_pages(
            ctx.client("ssm"),
            "describe_parameters",
            "Parameters",
            ParameterFilters=[{"Key": "Name", "Option": "Equals", "Values": list(batch)}],
            PaginationConfig={"PageSize": DESCRIBE_FILTER_VALUES},
        )  # AWS's default page: 10
        out.update({p["Name"]: p for p in found})
    return out


def _tags(ctx: AwsContext, name: str) -> dict[str, str]:
    response = ctx.client("ssm").list_tags_for_resource(ResourceType="Parameter", ResourceId=name)
    return tags_from_list(response.get("TagList"))
