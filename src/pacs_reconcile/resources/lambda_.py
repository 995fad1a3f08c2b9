"""Lambda: functions (code from a folder next to the spec) and their resource-policy permissions.

Code. `code.source_dir` names a folder inside the spec's folder. While the spec loads, `prepare`
zips it deterministically (sorted entries, fixed timestamps and modes, no directory entries, no
__pycache__ or .pyc) and puts the zip's sha256, base64-encoded as Lambda reports `CodeSha256`,
into the desired state as `code.sha256` (AWS-NOTES item 6). Only the hash is compared:
`canonical` keeps `code` as `{sha256}`, and create/update rebuild the zip from the folder the hash
was prepared from (checking it still has that hash, so what is applied is what was planned).

Reads: owned functions come from the shared tagging-API sweep; GetFunction (configuration and
tags) runs for each owned or declared one. Permissions: GetPolicy per function (no policy means no
permissions). A permission cannot be changed in place (AWS-NOTES item 7): every field is
force_new, so the engine replaces it.

Writes wait for the function to be Active / its last update Successful (bounded waiters) between a
code and a configuration update, and retry, for a bounded time, the error Lambda gives while a new
role is not yet assumable (AWS-NOTES item 12).
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import re
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

from botocore.exceptions import ClientError
from pydantic import ConfigDict, Field, field_validator

from ..aws import AwsContext
from ..diff import Delta
from ..errors import ReconcileError
from ._fields import ROLE_ARN, matching, matching_or_empty
from ._retry import RetryWindow
from ._spec_files import followed, inside_spec_folder
from .base import Desired, Key, Live, ReadScope, Reconciler, SpecModel, is_unresolved
from .common import (
    arn_resource,
    claim_after_lost_create,
    claim_identical_after_lost_create,
    concurrently,
    declared_then_owned,
    error_code,
    gone_is_fine,
    memo_until_write,
    names_with_prefix,
    one_by_one,
    owned_of,
    read_pages,
    unless_gone,
)
from .kind import KindActions, KindMeta, TagApi
from .registry import register

# Runtimes: Lambda's deprecation table (python3.9 was deprecated on 2025-12-15, python3.10 and
# python3.11 on 2026-06-30). A deprecated runtime gets no security patches, then is blocked.
SUPPORTED_RUNTIMES = ("python3.12", "python3.13", "python3.14")
DEPRECATED_RUNTIMES = frozenset(
    {"python2.7", "python3.6", "python3.7", "python3.8", "python3.9", "python3.10", "python3.11"}
)
MAX_ZIP_BYTES = 50 * 1024 * 1024
"""The largest zip CreateFunction/UpdateFunctionCode take inline (ZipFile)."""
MAX_ENVIRONMENT_BYTES = 4096
"""Lambda's limit on all environment variables together (names and values)."""
RESERVED_VARIABLES = frozenset(
    {
        "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_EXECUTION_ENV", "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_INITIALIZATION_TYPE",
        "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME", "AWS_LAMBDA_RUNTIME_API",
        "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR",
    }
)  # fmt: skip
SOURCE = "code.source_dir"
"""How problems with the code folder are located in messages (the loader adds the entry)."""
ZIP_TIMESTAMP = (1980, 1, 1, 0, 0, 0)
"""The earliest time a zip entry can carry: every entry gets it, so the hash depends on content only."""
ZIP_FILE_MODE = 0o100644 << 16
"""A regular file, rw-r--r--, in the entry's Unix attributes."""
SKIPPED_DIRECTORIES = frozenset({"__pycache__"})
SKIPPED_SUFFIXES = (".pyc",)

_FUNCTION_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
_VARIABLE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]+")
_STATEMENT_ID = re.compile(r"[A-Za-z0-9_-]{1,100}")
_ACTION = re.compile(r"lambda:[A-Za-z*]+|\*")
_ACCOUNT = re.compile(r"\d{12}")
_ACCOUNT_ROOT = re.compile(r"arn:aws[a-z-]*:iam::(\d{12}):root")
_SERVICE_PRINCIPAL = re.compile(r"[a-z0-9.-]+\.amazonaws\.com(?:\.cn)?")
_DEAD_LETTER_TARGET = re.compile(r"arn:aws[a-z-]*:(sns|sqs):[a-z0-9-]+:\d{12}:[A-Za-z0-9_.-]{1,256}")
"""DeadLetterConfig.TargetArn: "The Amazon Resource Name (ARN) of an Amazon SQS queue or Amazon SNS
topic" (Lambda API reference, DeadLetterConfig)."""
DeadLetterTargetArn = Annotated[
    str,
    matching_or_empty(
        _DEAD_LETTER_TARGET, "must be an SNS topic or SQS queue ARN, e.g. ${sns_topics.NAME.arn}"
    ),
]


# Code bundles ----------------------------------------------------------------------------------


def source_folder(base_dir: Path, source_dir: str) -> Path:
    """The code folder `source_dir` names: it must exist inside `base_dir`, even through links."""
    folder = inside_spec_folder(base_dir, source_dir, SOURCE, "a folder")
    if not folder.is_dir():
        raise ValueError(f"{SOURCE}: no folder {source_dir} in {base_dir.resolve()}")
    return folder


def bundle_files(folder: Path) -> Iterator[Path]:
    """The files a bundle holds: every file under `folder` but caches, each checked to stay inside."""
    for root, directories, files in os.walk(folder):
        here = Path(root)
        for name in directories:
            if (here / name).is_symlink():
                raise ValueError(f"{SOURCE}: {(here / name).relative_to(folder)} is a link to a folder")
        directories[:] = [d for d in directories if d not in SKIPPED_DIRECTORIES]
        for name in files:
            path = here / name
            if name.endswith(SKIPPED_SUFFIXES):
                continue
            resolved = followed(path)
            if resolved is None:
                raise ValueError(f"{SOURCE}: {path.relative_to(folder)} is a link that leads round in a loop")
            if not resolved.is_relative_to(folder):
                raise ValueError(f"{SOURCE}: {path.relative_to(folder)} links outside the folder")
            if resolved.exists() and not resolved.is_file():  # reading a named pipe would never end
                raise ValueError(
                    f"{SOURCE}: {path.relative_to(folder)} is not a regular file (a pipe, socket or "
                    "device); only files are deployed"
                )
            yield path


def build_bundle(folder: Path) -> bytes:
    """The folder as a zip that depends only on file names and contents."""
    files = sorted(bundle_files(folder), key=lambda p: p.relative_to(folder).as_posix())
    if not files:
        raise ValueError(f"{SOURCE}: {folder.name} has no files to deploy")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in files:
            entry = zipfile.ZipInfo(path.relative_to(folder).as_posix(), date_time=ZIP_TIMESTAMP)
            entry.external_attr = ZIP_FILE_MODE
            entry.create_system = 3  # Unix, whatever the machine that builds it
            entry.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(entry, path.read_bytes(), compresslevel=9)
    data = buffer.getvalue()
    if len(data) > MAX_ZIP_BYTES:
        raise ValueError(f"{SOURCE}: the zip is {len(data)} bytes; Lambda takes at most {MAX_ZIP_BYTES}")
    return data


def code_sha256(data: bytes) -> str:
    """What Lambda reports as CodeSha256: the base64 of the zip's SHA-256 digest."""
    return base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")


def bundle_for(desired: Desired) -> bytes:
    """The zip a desired function deploys, rebuilt from its code folder (the spec entry's
    source_dir under the spec's folder) and checked against the hash the plan compared."""
    sha256 = (desired.state.get("code") or {}).get("sha256")
    source_dir = (desired.config.get("code") or {}).get("source_dir")
    if desired.base_dir is None or not isinstance(source_dir, str) or not isinstance(sha256, str):
        raise ReconcileError(f"{desired.address}: its code bundle was not prepared (spec not loaded here)")
    try:
        folder = source_folder(desired.base_dir, source_dir)
    except ValueError as error:  # the folder went away since the plan
        raise ReconcileError(f"{desired.address}: {error}; plan again") from None
    data = build_bundle(folder)
    if code_sha256(data) != sha256:
        raise ReconcileError(f"{desired.address}: the code in {folder} changed since the plan; plan again")
    return data


# Functions ------------------------------------------------------------------------------------


class CodeSpec(SpecModel):
    """Where a function's code comes from."""

    source_dir: str = Field(min_length=1)
    """A folder relative to the spec's folder (where monitoring.yaml is), e.g.
    functions/metrics_collector. It is zipped deterministically (caches left out), so the same
    files always give the same CodeSha256; a change to any file updates the function's code."""


class FunctionSpec(SpecModel):
    """A Lambda function deployed from a folder of code (zip package)."""

    # Environment values may come from sensitive variables: never echo input in errors.
    model_config = ConfigDict(hide_input_in_errors=True)

    name: Annotated[str, matching(_FUNCTION_NAME, "function names are 1-64 letters, digits, '-' or '_'")]
    """Function name (1-64 letters, digits, '-' or '_'). Changing it replaces the function."""
    runtime: str
    """A supported runtime: python3.12, python3.13 or python3.14."""
    handler: str = Field(min_length=1, max_length=128, pattern=r"^\S+$")
    """The entry point, MODULE.FUNCTION, e.g. index.handler."""
    memory: int = Field(default=128, ge=128, le=10240)
    """Memory in MB (128-10240); CPU grows with it."""
    timeout: int = Field(default=3, ge=1, le=900)
    """Seconds an invocation may run (1-900)."""
    environment: dict[str, str] = Field(default_factory=dict)
    """Environment variables, NAME -> value. A value from a sensitive variable stays masked in
    every output. `{}` (the default) means none."""
    role: Annotated[str, ROLE_ARN]
    """ARN of the execution role, usually `${iam_roles.NAME.arn}`."""
    description: str = Field(default="", max_length=256)
    """What the function does."""
    code: CodeSpec
    """The function's code."""
    dead_letter_target_arn: DeadLetterTargetArn | None = None
    """Where Lambda sends an asynchronous event (from SNS, EventBridge...) that failed every
    attempt (by default the first and two retries): an SNS topic or SQS queue ARN, e.g.
    `${sns_topics.NAME.arn}`. The function's role needs sns:Publish or sqs:SendMessage on it.
    `""` removes it; unset: not managed."""

    @field_validator("runtime")
    @classmethod
    def _supported_runtime(cls, value: str) -> str:
        if is_unresolved(value) or value in SUPPORTED_RUNTIMES:
            return value
        supported = ", ".join(SUPPORTED_RUNTIMES)
        if value in DEPRECATED_RUNTIMES:
            why = "no more security patches, then no updates"
            raise ValueError(f"{value} is deprecated on Lambda ({why}); use {supported}")
        raise ValueError(f"unsupported runtime {value!r}; use {supported}")

    @field_validator("environment", mode="before")
    @classmethod
    def _values_as_text(cls, value: Any) -> Any:
        # A variable of type int or bool gives a number or a boolean: Lambda takes text.
        if not isinstance(value, Mapping):
            return value
        return {name: _as_text(v) for name, v in value.items()}

    @field_validator("environment")
    @classmethod
    def _valid_environment(cls, value: dict[str, str]) -> dict[str, str]:
        for name in value:
            if not _VARIABLE_NAME.fullmatch(name):
                raise ValueError(f"{name!r}: variable names are a letter then letters, digits or '_'")
            if name in RESERVED_VARIABLES:
                raise ValueError(f"{name!r} is set by Lambda itself and cannot be overridden")
        size = sum(len(k.encode()) + len(v.encode()) for k, v in value.items())
        if size > MAX_ENVIRONMENT_BYTES:  # the message never quotes a value: it may be a secret
            raise ValueError(f"the variables take {size} bytes; Lambda allows {MAX_ENVIRONMENT_BYTES} in all")
        return value


def _as_text(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value) if isinstance(value, int | float) else value


# Spec field -> UpdateFunctionConfiguration parameter.
CONFIGURATION_FIELDS = {
    "runtime": "Runtime",
    "handler": "Handler",
    "memory": "MemorySize",
    "timeout": "Timeout",
    "environment": "Environment",
    "role": "Role",
    "description": "Description",
    "dead_letter_target_arn": "DeadLetterConfig",
}


def _configuration_value(field: str, value: Any) -> Any:
    if field == "environment":
        return {"Variables": dict(value)}
    return {"TargetArn": value} if field == "dead_letter_target_arn" else value


def _configuration(state: Mapping[str, Any]) -> dict[str, Any]:
    """The CreateFunction parameters of the configuration fields the spec manages (set)."""
    return {
        api: _configuration_value(f, state[f])
        for f, api in CONFIGURATION_FIELDS.items()
        if state.get(f) is not None
    }


def role_not_assumable_yet(error: BaseException) -> bool:
    """Lambda's answer while a new role has not reached it yet (IAM is eventually consistent)."""
    if error_code(error) != "InvalidParameterValueException":
        return False
    message = str(getattr(error, "response", {}).get("Error", {}).get("Message", ""))
    return "cannot be assumed" in message


def _list_functions(ctx: AwsContext, prefix: str) -> list[str]:
    functions = read_pages(ctx.client("lambda"), "list_functions", "Functions")
    return names_with_prefix([f["FunctionName"] for f in functions], prefix)


@register
class Functions(Reconciler):
    meta = KindMeta(
        kind="lambda_functions",
        model=FunctionSpec,
        title="Lambda function",
        attributes=("name", "arn"),
        force_new=frozenset({"name"}),
        derived_attributes=frozenset({"arn"}),
        lister=_list_functions,
        tag_api=TagApi(
            "lambda", "tag_resource", "untag_resource", "Resource", resource_attribute="arn", tags_shape="map"
        ),
        actions=KindActions(
            listing=frozenset({"lambda:ListFunctions"}),
            read=frozenset({"lambda:GetFunction"}),
            write=frozenset(
                {
                    "lambda:CreateFunction",
                    "lambda:GetFunction",
                    "lambda:UpdateFunctionCode",
                    "lambda:UpdateFunctionConfiguration",
                    "lambda:TagResource",
                    "lambda:UntagResource",
                }
            ),
            delete=frozenset({"lambda:DeleteFunction"}),
            passes_role_to="lambda.amazonaws.com",
        ),
    )

    role_window = RetryWindow(seconds=60.0)
    """How long a create/update waits for a new role to become assumable by Lambda."""
    waiter_config: Mapping[str, int] = {"Delay": 2, "MaxAttempts": 90}
    """Bound of the waits for State Active / LastUpdateStatus Successful (3 minutes)."""

    def derived_attributes(self, config: Mapping[str, Any], ctx: AwsContext) -> dict[str, Any]:
        """A function's (unqualified) ARN is arn:PARTITION:lambda:REGION:ACCOUNT:function:NAME
        (FunctionArn, Lambda API reference; "Resource types defined by AWS Lambda", IAM service
        authorization reference)."""
        name = config.get("name")
        if not isinstance(name, str) or "${" in name:
            return {}
        return {"arn": f"arn:{ctx.partition}:lambda:{ctx.region}:{ctx.account_id}:function:{name}"}

    def shape_export(self, config: dict[str, Any], name: str) -> tuple[dict[str, Any], str]:
        # AWS reports only the code's hash: the spec names a folder the code is zipped from.
        folder = f"functions/{name}"
        return (
            {**config, "code": {"source_dir": folder}},
            f"put the function's code in {folder}/ next to the spec (export does not download code)",
        )

    def prepare(self, config: dict[str, Any], base_dir: Path) -> dict[str, Any]:
        code = config.get("code")
        if not isinstance(code, Mapping) or not isinstance(code.get("source_dir"), str):
            return config
        folder = source_folder(base_dir, code["source_dir"])
        try:
            sha256 = code_sha256(build_bundle(folder))
        except OSError as error:  # unreadable file: a problem of the spec's files, not a crash
            raise ValueError(f"{SOURCE}: cannot read {error.filename}: {error.strerror}") from None
        return {**config, "code": {**code, "sha256": sha256}}

    def canonical(self, state: dict[str, Any]) -> dict[str, Any]:
        # The folder is where the code comes from, not a property of the function: only the hash
        # is compared (and a spec that was not prepared has no hash: then code is not managed).
        code = state.get("code")
        if isinstance(code, Mapping):
            sha256 = code.get("sha256")
            return {**state, "code": {"sha256": sha256} if sha256 is not None else None}
        return state

    def read(self, ctx: AwsContext, keys: Sequence[Key], scope: ReadScope) -> dict[Key, Live]:
        found = declared_then_owned(
            map(str, keys),
            lambda: (_function_name(arn) for arn in owned_of(ctx, scope.stack, "lambda", "function:")),
            one_by_one(lambda name: self._get(ctx, name)),
        )
        return {name: self._live(fn) for name, fn in sorted(found.items()) if fn is not None}

    def create(self, ctx: AwsContext, desired: Desired) -> Live:
        state = desired.state
        lam = ctx.client("lambda")
        request: dict[str, Any] = {
            "FunctionName": state["name"],
            "Code": {"ZipFile": bundle_for(desired)},
            "Publish": False,
            "Tags": dict(desired.tags),
            **_configuration(state),
        }

        def create_function() -> dict[str, Any]:
            try:
                return dict(lam.create_function(**request))
            except lam.exceptions.ResourceConflictException:  # our own first attempt, response lost?
                found = lam.get_function(FunctionName=state["name"])
                claim_after_lost_create(f"Lambda function {state['name']}", found.get("Tags"), desired.tags)
                return dict(found["Configuration"])

        configuration = self.role_window.run(create_function, role_not_assumable_yet)
        self._wait(ctx, state["name"], "function_active_v2")
        return self._live({"Configuration": configuration, "Tags": dict(desired.tags)})

    def update(self, ctx: AwsContext, desired: Desired, live: Live, delta: Delta) -> Live:
        lam = ctx.client("lambda")
        name = str(live.attrs["name"])
        state = dict(live.state)
        self._wait(ctx, name, "function_updated_v2")  # an update of someone else's may be running
        if delta.different_at("code"):
            configuration = lam.update_function_code(FunctionName=name, ZipFile=bundle_for(desired))
            state["code"] = {"sha256": configuration["CodeSha256"]}
            self._wait(ctx, name, "function_updated_v2")
        changed = [f for f in CONFIGURATION_FIELDS if delta.different_at(f)]
        if changed:
            request = {CONFIGURATION_FIELDS[f]: _configuration_value(f, desired.state[f]) for f in changed}
            configure = lambda: lam.update_function_configuration(FunctionName=name, **request)  # noqa: E731
            self.role_window.run(configure, role_not_assumable_yet)
            state.update({f: desired.state[f] for f in changed})
            self._wait(ctx, name, "function_updated_v2")
        return replace(live, state=state)

    def delete(self, ctx: AwsContext, live: Live) -> None:
        lam = ctx.client("lambda")
        with gone_is_fine("ResourceNotFoundException"):
            lam.delete_function(FunctionName=str(live.attrs["name"]))

    def _wait(self, ctx: AwsContext, name: str, waiter: str) -> None:
        ctx.client("lambda").get_waiter(waiter).wait(FunctionName=name, WaiterConfig=dict(self.waiter_config))

    @staticmethod
    def _get(ctx: AwsContext, name: str) -> dict[str, Any] | None:
        return unless_gone(
            lambda: dict(ctx.client("lambda").get_function(FunctionName=name)), "ResourceNotFoundException"
        )

    def _live(self, function: Mapping[str, Any]) -> Live:
        configuration = function["Configuration"]
        name = configuration["FunctionName"]
        state = {
            "name": name,
            "runtime": configuration.get("Runtime", ""),  # image functions have none
            "handler": configuration.get("Handler", ""),
            "memory": configuration["MemorySize"],
            "timeout": configuration["Timeout"],
            "environment": dict((configuration.get("Environment") or {}).get("Variables") or {}),
            "role": configuration["Role"],
            "description": configuration.get("Description") or "",
            "code": {"sha256": configuration["CodeSha256"]},
            "dead_letter_target_arn": (configuration.get("DeadLetterConfig") or {}).get("TargetArn") or "",
        }
        condition = configuration.get("State", "Active")
        reason = configuration.get("StateReason", "")
        notes = () if condition == "Active" else (f"state {condition}: {reason}",)
        attrs = {"name": name, "arn": configuration["FunctionArn"]}
        return Live(name, state, attrs, dict(function.get("Tags") or {}), notes=notes)


def _function_name(arn: str) -> str:
    """NAME in a function ARN's resource part `function:NAME[:QUALIFIER]`."""
    return arn_resource(arn).split(":")[1]


# Permissions (children of a function) ------------------------------------------------------------


class PermissionSpec(SpecModel):
    """A statement of the function's resource policy letting a principal invoke it. Lambda cannot
    change a statement: any change replaces it (removed, then added again)."""

    statement_id: Annotated[
        str, matching(_STATEMENT_ID, "statement ids are 1-100 letters, digits, '-' or '_'")
    ]
    """Statement id, unique within the function (1-100 letters, digits, '-' or '_')."""
    action: Annotated[str, matching(_ACTION, "must be a Lambda action such as lambda:InvokeFunction")] = (
        "lambda:InvokeFunction"
    )
    """The action allowed, e.g. lambda:InvokeFunction."""
    principal: str
    """Who may: a service principal (events.amazonaws.com), an account id, or `*`."""
    source_arn: str | None = None
    """Only on behalf of this resource, e.g. the EventBridge rule's ARN (strongly advised for
    service principals). Unset: any."""
    source_account: str | None = None
    """Only on behalf of resources of this account id. Unset: any."""

    @field_validator("principal")
    @classmethod
    def _valid_principal(cls, value: str) -> str:
        if is_unresolved(value) or value == "*" or _ACCOUNT.fullmatch(value):
            return value
        if _SERVICE_PRINCIPAL.fullmatch(value) or value.startswith("arn:"):
            return value
        raise ValueError("must be a service principal (events.amazonaws.com), an account id, an ARN or '*'")

    @field_validator("source_account")
    @classmethod
    def _valid_account(cls, value: str | None) -> str | None:
        if value is not None and not is_unresolved(value) and not _ACCOUNT.fullmatch(value):
            raise ValueError("must be a 12-digit account id")
        return value


@register
class Permissions(Reconciler):
    meta = KindMeta(
        kind="permissions",
        model=PermissionSpec,
        title="Lambda permission",
        identity="statement_id",
        attributes=("statement_id",),
        force_new=frozenset({"statement_id", "action", "principal", "source_arn", "source_account"}),
        taggable=False,
        parent="lambda_functions",
        actions=KindActions(
            read=frozenset({"lambda:GetPolicy"}),
            write=frozenset({"lambda:AddPermission"}),
            delete=frozenset({"lambda:RemovePermission"}),
        ),
    )

    def canonical(self, state: dict[str, Any]) -> dict[str, Any]:
        out = dict(state)
        principal = out.get("principal")
        if isinstance(principal, str) and (root := _ACCOUNT_ROOT.fullmatch(principal)):
            out["principal"] = root.group(1)  # Lambda shows an account id as its root ARN
        for field in ("source_arn", "source_account"):  # unset means "any": compared as ""
            if field in out and out[field] is None:
                out[field] = ""
        return out

    def read_ahead(self, ctx: AwsContext, keys: Sequence[Key], stack: str) -> None:
        functions = sorted({_permission_key(k)[0] for k in keys})
        concurrently(lambda name: _policy_statements(ctx, name), functions)

    def read(self, ctx: AwsContext, keys: Sequence[Key], scope: ReadScope) -> dict[Key, Live]:
        wanted = set(keys)
        functions = sorted({str(p) for p in scope.parents} | {_permission_key(k)[0] for k in keys})
        policies = concurrently(lambda name: _policy_statements(ctx, name), functions)
        out: dict[Key, Live] = {}
        for function, statements in zip(functions, policies, strict=True):
            for statement in statements:
                key = (function, str(statement.get("Sid", "")))
                if function in scope.parents or key in wanted:
                    out[key] = self._live(key, statement)
        return out

    def create(self, ctx: AwsContext, desired: Desired) -> Live:
        function, statement_id = _permission_key(desired.key)
        state = desired.state
        request: dict[str, Any] = {
            "FunctionName": function,
            "StatementId": statement_id,
            "Action": state["action"],
            "Principal": state["principal"],
        }
        if state.get("source_arn"):
            request["SourceArn"] = state["source_arn"]
        if state.get("source_account"):
            request["SourceAccount"] = state["source_account"]
        lam = ctx.client("lambda")
        asked = self.canonical(dict(state))
        try:
            lam.add_permission(**request)
        except lam.exceptions.ResourceConflictException:  # our own first attempt, response lost?
            found = [s for s in _statements(ctx, function) if s.get("Sid") == statement_id]
            what = f"permission {statement_id} of Lambda function {function}"
            there = [self._live((function, statement_id), s).state for s in found]
            claim_identical_after_lost_create(what, there, [asked])
        return Live(desired.key, asked, {"statement_id": statement_id})

    def update(self, ctx: AwsContext, desired: Desired, live: Live, delta: Delta) -> Live:
        return live  # every field is force_new: a change is a replacement, never an update

    def delete(self, ctx: AwsContext, live: Live) -> None:
        function, statement_id = _permission_key(live.key)
        with gone_is_fine("ResourceNotFoundException"):  # already gone, or its function
            ctx.client("lambda").remove_permission(FunctionName=function, StatementId=statement_id)

    def _live(self, key: tuple[str, str], statement: Mapping[str, Any]) -> Live:
        condition = statement.get("Condition") or {}
        state = {
            "statement_id": key[1],
            "action": _single(statement.get("Action")),
            "principal": _principal(statement.get("Principal")),
            "source_arn": _single((condition.get("ArnLike") or {}).get("AWS:SourceArn")),
            "source_account": _single((condition.get("StringEquals") or {}).get("AWS:SourceAccount")),
        }
        return Live(key, self.canonical(state), {"statement_id": key[1]})


def _policy_statements(ctx: AwsContext, function: str) -> list[dict[str, Any]]:
    """The function's statements as a plan reads them: once, shared by the permissions' read ahead
    and their read, and read again once the run writes."""
    return memo_until_write(ctx, f"lambda:policy:{function}", lambda: _statements(ctx, function))


def _statements(ctx: AwsContext, function: str) -> list[dict[str, Any]]:
    """The function's resource-policy statements; none when it has no policy (or is gone)."""
    try:
        policy = ctx.client("lambda").get_policy(FunctionName=function)["Policy"]
    except ClientError as error:
        if error_code(error) == "ResourceNotFoundException":
            return []
        raise
    document = json.loads(policy) if isinstance(policy, str) else policy
    statements = document.get("Statement") or []
    return [dict(s) for s in (statements if isinstance(statements, list) else [statements])]


def _principal(value: Any) -> str:
    """A statement's principal as the spec writes it: the service, account or ARN, or '*'."""
    if isinstance(value, Mapping):
        value = value.get("Service") or value.get("AWS") or next(iter(value.values()), "")
    return _single(value)


def _single(value: Any) -> str:
    if isinstance(value, list):
        return str(value[0]) if len(value) == 1 else ",".join(sorted(map(str, value)))
    return "" if value is None else str(value)


def _permission_key(key: Key) -> tuple[str, str]:
    if not (isinstance(key, tuple) and len(key) == 2):
        raise TypeError(f"expected a (function, statement id) key, got {key!r}")
    return str(key[0]), str(key[1])
