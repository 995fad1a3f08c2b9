"""IAM: roles (with their managed-policy attachments and inline policies) and customer managed policies.

IAM is global and the Resource Groups Tagging API lists neither roles nor policies. One paginated
GetAccountAuthorizationDetails sweep per run (Filter Role + LocalManagedPolicy) gives every role's
trust policy, tags, inline policies and attachments, and every local policy with all its versions;
the four kinds share it (ctx.memo). What a RoleDetail lacks (description, maximum session duration)
comes from the run's one ListRoles (shared with the role lookups), and from GetRole for a role only
one of the two lists holds (IAM's lists lag behind its writes). Policy tags are not in the
sweep either: ListPolicyTags runs for the policies that could be this stack's, i.e. declared ones,
ones attached to an owned role, and unattached ones (a policy attached only to others' roles could
not be deleted by this stack anyway).

Documents compare in canonical form (policy.canonical_policy): boto3 returns them URL-decoded as
dicts, with one-element lists as scalars and statements in any order (AWS-NOTES item 2).

A policy attachment names its policy by name (a customer managed policy of this account) or by
ARN (an AWS managed policy): the name is what a spec can know before plan (a child's identity may
not be a reference), and the ARN of a new policy is looked up when it is attached. Deleting a
managed policy detaches it from this stack's roles first; when the deletion is half of a
replacement (a new description or path: IAM cannot change them), the new policy is attached to
those roles again, since their attachments, keyed by the unchanged name, are left alone.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Annotated, Any
from urllib.parse import unquote

from botocore.exceptions import ClientError
from pydantic import AfterValidator, Field, field_validator

from .. import OWNER_TAG
from ..aws import AwsContext
from ..diff import Delta, tags_from_list, tags_to_list
from ..errors import AwsError
from ..policy import canonical_policy, with_canonical_policy
from ._look_before_retry import look_before_retrying
from ._retry import RetryWindow
from .base import Desired, Key, Live, ReadScope, Reconciler, SpecModel, is_unresolved
from .common import (
    claim_after_lost_create,
    concurrently,
    error_code,
    gone_is_fine,
    names_with_prefix,
    read_pages,
)
from .kind import KindActions, KindMeta, TagApi
from .lookups import account_roles
from .registry import register

ACCOUNT_SWEEP = "iam:authorization-details"
CREATED_POLICIES = "iam:created-policies"
SWEEP_PAGE_SIZE = 1000
"""The API's maximum MaxItems for GetAccountAuthorizationDetails."""
MAX_POLICY_VERSIONS = 5
"""IAM keeps at most five versions of a managed policy."""
MANAGED_POLICY_LIMIT = 6144
"""Characters of a managed policy document, whitespace excluded."""
INLINE_POLICY_LIMIT = 10240
"""Characters of a role's inline policies together, whitespace excluded."""
DEFAULT_PATH = "/"
DEFAULT_MAX_SESSION = 3600

_NAME = re.compile(r"[\w+=,.@-]+", re.ASCII)
_PATH = re.compile(r"/(?:[\x21-\x7e]*/)?")
_AWS_MANAGED_POLICY = re.compile(r"arn:aws[a-z-]*:iam::aws:policy/[\x21-\x7e]+")
_ACCOUNT_ARN = re.compile(r"arn:aws[a-z-]*:iam::\d{12}:")


# Validators (plain ValueErrors: the loader adds file, line and field) ---------------------------


def check_name(value: str, limit: int, what: str) -> str:
    if is_unresolved(value):
        return value
    if len(value) > limit or not _NAME.fullmatch(value):
        raise ValueError(f"{what} names are 1-{limit} letters, digits and + = , . @ _ -")
    return value


def check_path(value: str) -> str:
    if is_unresolved(value):
        return value
    if len(value) > 512 or not _PATH.fullmatch(value):
        raise ValueError("a path starts and ends with '/', e.g. / or /service-role/ (at most 512 characters)")
    return value


POLICY_VERSIONS = ("2012-10-17", "2008-10-17")
"""The policy language versions IAM accepts (IAM JSON policy reference, "Version":
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_version.html)."""
_ACTION = re.compile(r"[A-Za-z0-9-]+:[A-Za-z0-9*?]+")
"""`service:action`, wildcards allowed in the action part ("Action" element:
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html);
a bare "*" is every action."""


def check_document(
    document: dict[str, Any], limit: int | None = None, *, trust: bool = False
) -> dict[str, Any]:
    """A policy document as IAM will accept it, so `validate` refuses what AWS would refuse at apply:
    a known Version, statements that each allow or deny, actions written `service:action`, and
    (identity policies) a Resource or NotResource and no Principal, or (a role's trust policy, a
    resource-based policy) a Principal. Source: the IAM JSON policy element reference,
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements.html ("Resource":
    identity-based policy statements must include Resource or NotResource; "Principal": it is
    required in a role trust policy and cannot be used in an identity-based policy)."""
    version = document.get("Version")
    if version is not None and version not in POLICY_VERSIONS and not is_unresolved(version):
        raise ValueError(f"Version must be {' or '.join(POLICY_VERSIONS)} (the policy language version)")
    statements = document.get("Statement")
    if statements is None:
        raise ValueError("a policy document needs a 'Statement'")
    items = statements if isinstance(statements, list) else [statements]
    if not items:
        raise ValueError("'Statement' has no statements")
    for index, statement in enumerate(items):
        if not isinstance(statement, Mapping):
            raise ValueError(f"Statement[{index}] must be a mapping")
        _check_statement(f"Statement[{index}]", statement, trust)
    text = json.dumps(document, separators=(",", ":"))
    # A ${...} reference is not its value yet: its size is checked by AWS.
    if limit is not None and "${" not in text and len(text) > limit:
        raise ValueError(f"is {len(text)} characters without whitespace; IAM allows at most {limit}")
    return document


def _check_statement(where: str, statement: Mapping[str, Any], trust: bool) -> None:
    effect = statement.get("Effect")
    if effect not in ("Allow", "Deny") and not is_unresolved(effect):
        raise ValueError(f"{where}.Effect must be Allow or Deny")
    action = _one_of(where, statement, "Action", "NotAction")
    for index, item in enumerate(action if isinstance(action, list) else [action]):
        if not isinstance(item, str) or not (item == "*" or _ACTION.fullmatch(item) or is_unresolved(item)):
            raise ValueError(
                f"{where}.{_present(statement, 'Action', 'NotAction')}[{index}]: {item!r} is not an action "
                "written service:action (e.g. logs:PutLogEvents, s3:Get*) or *"
            )
    principal = _present(statement, "Principal", "NotPrincipal")
    if trust:
        if principal is None:
            raise ValueError(f"{where} needs a Principal: who may assume the role")
        return
    if principal is not None:
        raise ValueError(f"{where}.{principal}: an identity policy names no principal (the role is it)")
    _one_of(where, statement, "Resource", "NotResource")


def _present(statement: Mapping[str, Any], *names: str) -> str | None:
    return next((name for name in names if name in statement), None)


def _one_of(where: str, statement: Mapping[str, Any], name: str, negated: str) -> Any:
    """The value of `name` or `negated`: exactly one of the two, not empty."""
    if name in statement and negated in statement:
        raise ValueError(f"{where} has both {name} and {negated}: use one")
    key = _present(statement, name, negated)
    if key is None:
        raise ValueError(f"{where} needs {name} (or {negated})")
    value = statement[key]
    if value in ([], "", None):
        raise ValueError(f"{where}.{key} is empty")
    return value


def document_of(value: Any) -> dict[str, Any]:
    """A policy document as AWS returned it (a dict from boto3, or URL-encoded JSON text)."""
    if isinstance(value, str):
        return dict(json.loads(unquote(value)))
    return dict(value)


# The account-wide sweep --------------------------------------------------------------------------


@dataclass(frozen=True)
class AccountIam:
    """One GetAccountAuthorizationDetails sweep: roles by name, local managed policies by name."""

    roles: dict[str, dict[str, Any]]
    policies: dict[str, dict[str, Any]]

    def owned_roles(self, stack: str) -> set[str]:
        return {name for name, role in self.roles.items() if _tags(role).get(OWNER_TAG) == stack}


def account_iam(ctx: AwsContext) -> AccountIam:
    """The run's sweep of roles and local managed policies (made once, shared by the IAM kinds)."""

    def sweep() -> AccountIam:
        paginator = ctx.client("iam").get_paginator("get_account_authorization_details")
        pages = paginator.paginate(
            Filter=["Role", "LocalManagedPolicy"], PaginationConfig={"PageSize": SWEEP_PAGE_SIZE}
        )
        roles: dict[str, dict[str, Any]] = {}
        policies: dict[str, dict[str, Any]] = {}
        for page in pages:
            roles.update((role["RoleName"], role) for role in page.get("RoleDetailList", []))
            policies.update((_policy_name(policy), policy) for policy in page.get("Policies", []))
        return AccountIam(roles, policies)

    return ctx.memo(ACCOUNT_SWEEP, sweep)


def forget_account_iam(ctx: AwsContext) -> None:
    """Drop the run's sweep (after a change made outside this run, or to look again)."""
    ctx.forget(ACCOUNT_SWEEP)


def _policy_name(policy: Mapping[str, Any]) -> str:
    # moto leaves PolicyName out of the sweep; the ARN ends with it.
    return str(policy.get("PolicyName") or str(policy["Arn"]).rsplit("/", 1)[-1])


def _tags(resource: Mapping[str, Any]) -> dict[str, str]:
    return tags_from_list(resource.get("Tags"))


def _default_document(policy: Mapping[str, Any]) -> dict[str, Any]:
    versions = policy.get("PolicyVersionList") or []
    default = next((v for v in versions if v.get("IsDefaultVersion")), None)
    if default is None:
        default = next(v for v in versions if v.get("VersionId") == policy.get("DefaultVersionId"))
    return document_of(default["Document"])


def _default_version_if(ctx: AwsContext, arn: str, document: Mapping[str, Any]) -> dict[str, Any] | None:
    """The policy's default version when it holds `document` (a new version is made only when
    the default differs, so one that now holds it was made by this very call); else None."""
    iam = ctx.client("iam")
    default = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
    version = iam.get_policy_version(PolicyArn=arn, VersionId=default)
    if canonical_policy(document_of(version["PolicyVersion"]["Document"])) != canonical_policy(document):
        return None
    return dict(version)


def _created_policies(ctx: AwsContext) -> dict[str, str]:
    """Name -> ARN of the policies this run created (the sweep predates them)."""
    return ctx.memo(CREATED_POLICIES, lambda: dict[str, str]())


def _role_tags(ctx: AwsContext, role: str) -> dict[str, str]:
    try:
        return tags_from_list(read_pages(ctx.client("iam"), "list_role_tags", "Tags", RoleName=role))
    except ClientError as error:
        if _missing(error):
            return {}
        raise


def policy_arn_of(ctx: AwsContext, policy: str, role: str) -> str:
    """The ARN an attachment's `policy` (a local policy's name, or an AWS managed ARN) stands for."""
    if policy.startswith("arn:"):
        return policy
    created = _created_policies(ctx).get(policy)
    if created is not None:
        return created
    for look_again in (False, True):
        if look_again:  # made since the sweep, by someone else or an earlier run
            forget_account_iam(ctx)
        found = account_iam(ctx).policies.get(policy)
        if found is not None:
            return str(found["Arn"])
    raise AwsError(
        "AttachRolePolicy",
        f"role {role}",
        f"no customer managed policy named {policy!r} in this account (if this stack creates it, "
        "add `depends_on: [iam_policies.NAME]` to the attachment)",
    )


def attachment_name(arn: str, name: str) -> str:
    """How an attachment names its policy: the name for this account's policies, else the ARN."""
    return name if _ACCOUNT_ARN.match(arn) else arn


def _roles_to_read(keys: Sequence[Key], scope: ReadScope) -> list[str]:
    return sorted({str(parent) for parent in scope.parents} | {str(_child_key(k)[0]) for k in keys})


def _child_key(key: Key) -> tuple[str, str]:
    if not (isinstance(key, tuple) and len(key) == 2):
        raise TypeError(f"expected a (role, name) key, got {key!r}")
    return str(key[0]), str(key[1])


NO_SUCH_ENTITY = "NoSuchEntity"
"""IAM's error code for a role, policy or attachment that does not exist."""


def _missing(error: ClientError) -> bool:
    return error_code(error) == NO_SUCH_ENTITY


# Roles ----------------------------------------------------------------------------------------


class RoleSpec(SpecModel):
    """An IAM role: who may assume it (the trust policy) and, nested, what it may do."""

    name: Annotated[str, AfterValidator(lambda value: check_name(value, 64, "role"))] = Field(
        min_length=1, max_length=64
    )
    """Role name (1-64 letters, digits and + = , . @ _ -), unique in the account. Changing it
    replaces the role."""
    path: Annotated[str, AfterValidator(check_path)] = DEFAULT_PATH
    """IAM path, e.g. / or /service-role/. Changing it replaces the role."""
    description: str = Field(default="", max_length=1000)
    """What the role is for."""
    assume_role_policy: Annotated[
        dict[str, Any], AfterValidator(lambda value: check_document(value, trust=True))
    ]
    """The trust policy as a mapping (an IAM policy document), e.g. allowing
    `sts:AssumeRole` to the principal `{Service: lambda.amazonaws.com}`."""
    max_session_duration: int = Field(default=DEFAULT_MAX_SESSION, ge=3600, le=43200)
    """Longest session, in seconds, that assuming the role gives (3600-43200)."""


def _list_roles(ctx: AwsContext, prefix: str) -> list[str]:
    roles = read_pages(ctx.client("iam"), "list_roles", "Roles")
    # Service-linked roles belong to AWS services: no spec can manage them.
    return names_with_prefix(
        [r["RoleName"] for r in roles if not r["Path"].startswith("/aws-service-role/")], prefix
    )


@register
class Roles(Reconciler):
    meta = KindMeta(
        kind="iam_roles",
        model=RoleSpec,
        title="IAM role",
        attributes=("name", "arn"),
        force_new=frozenset({"name", "path"}),
        lister=_list_roles,
        tag_api=TagApi("iam", "tag_role", "untag_role", "RoleName"),
        actions=KindActions(
            read=frozenset({"iam:GetAccountAuthorizationDetails", "iam:ListRoles", "iam:GetRole"}),
            write=frozenset(
                {
                    "iam:CreateRole",
                    "iam:UpdateRole",
                    "iam:UpdateAssumeRolePolicy",
                    "iam:TagRole",
                    "iam:UntagRole",
                }
            ),
            delete=frozenset(
                {
                    "iam:ListRolePolicies",
                    "iam:DeleteRolePolicy",
                    "iam:ListAttachedRolePolicies",
                    "iam:DetachRolePolicy",
                    "iam:ListInstanceProfilesForRole",
                    "iam:RemoveRoleFromInstanceProfile",
                    "iam:DeleteRole",
                }
            ),
        ),
    )

    def canonical(self, state: dict[str, Any]) -> dict[str, Any]:
        return with_canonical_policy(state, "assume_role_policy")

    def read(self, ctx: AwsContext, keys: Sequence[Key], scope: ReadScope) -> dict[Key, Live]:
        account = account_iam(ctx)
        # Declared roles are asked for even when the sweep lacks them (IAM's lists lag behind).
        names = sorted({str(k) for k in keys} | account.owned_roles(scope.stack))
        # ListRoles (made once per run, shared with the role lookups) has every field a role's state
        # needs but its tags, which the sweep's RoleDetail has ("This operation does not return
        # ... PermissionsBoundary, RoleLastUsed, Tags": IAM API reference, ListRoles). GetRole
        # only for a role that either list lacks (or when ListRoles is not granted).
        listed = account_roles(ctx) if names else {}

        def role_of(name: str) -> dict[str, Any] | None:
            listing, detail = listed.get(name), account.roles.get(name)
            if listing is None or detail is None:
                return self._get(ctx, name)
            return {**listing, "Tags": detail.get("Tags") or []}

        roles = concurrently(role_of, names)
        return {name: self._live(role) for name, role in zip(names, roles, strict=True) if role is not None}

    def create(self, ctx: AwsContext, desired: Desired) -> Live:
        state = desired.state
        request: dict[str, Any] = {
            "RoleName": state["name"],
            "Path": state["path"],
            "AssumeRolePolicyDocument": json.dumps(state["assume_role_policy"]),
            "MaxSessionDuration": state["max_session_duration"],
            "Tags": tags_to_list(desired.tags),
        }
        if state["description"]:
            request["Description"] = state["description"]
        iam = ctx.client("iam")
        try:
            role = iam.create_role(**request)["Role"]
        except iam.exceptions.EntityAlreadyExistsException:  # our own first attempt, response lost?
            role = iam.get_role(RoleName=state["name"])["Role"]
            claim_after_lost_create(f"IAM role {state['name']}", _role_tags(ctx, state["name"]), desired.tags)
        return Live(desired.key, dict(state), _role_attrs(role), dict(desired.tags), state["name"])

    def update(self, ctx: AwsContext, desired: Desired, live: Live, delta: Delta) -> Live:
        iam = ctx.client("iam")
        name = str(live.handle)
        state = dict(live.state)
        if delta.different_at("assume_role_policy"):
            document = desired.state["assume_role_policy"]
            iam.update_assume_role_policy(RoleName=name, PolicyDocument=json.dumps(document))
            state["assume_role_policy"] = document
        changed = [field for field in _ROLE_SETTINGS if delta.different_at(field)]
        if changed:
            # Send both settings (moto resets one it is not given), each that does not differ (or
            # is ignored) with its live value, so only what differs changes.
            state.update({f: desired.state[f] for f in changed})
            iam.update_role(RoleName=name, **{api: state[f] for f, api in _ROLE_SETTINGS.items()})
        return replace(live, state=state)

    def delete(self, ctx: AwsContext, live: Live) -> None:
        """Empty the role (inline policies, attachments, instance profiles), then delete it."""
        iam = ctx.client("iam")
        name = str(live.handle)
        with gone_is_fine(NO_SUCH_ENTITY):
            for policy in read_pages(iam, "list_role_policies", "PolicyNames", RoleName=name):
                iam.delete_role_policy(RoleName=name, PolicyName=policy)
            for attached in read_pages(iam, "list_attached_role_policies", "AttachedPolicies", RoleName=name):
                iam.detach_role_policy(RoleName=name, PolicyArn=attached["PolicyArn"])
            profiles = read_pages(iam, "list_instance_profiles_for_role", "InstanceProfiles", RoleName=name)
            for profile in profiles:
                iam.remove_role_from_instance_profile(
                    InstanceProfileName=profile["InstanceProfileName"], RoleName=name
                )
            iam.delete_role(RoleName=name)

    @staticmethod
    def _get(ctx: AwsContext, name: str) -> dict[str, Any] | None:
        try:
            return dict(ctx.client("iam").get_role(RoleName=name)["Role"])
        except ClientError as error:
            if _missing(error):  # deleted since the sweep
                return None
            raise

    def _live(self, role: Mapping[str, Any]) -> Live:
        state = {
            "name": role["RoleName"],
            "path": role.get("Path", DEFAULT_PATH),
            "description": role.get("Description", ""),
            "assume_role_policy": document_of(role["AssumeRolePolicyDocument"]),
            "max_session_duration": role.get("MaxSessionDuration", DEFAULT_MAX_SESSION),
        }
        name = role["RoleName"]
        return Live(name, self.canonical(state), _role_attrs(role), _tags(role), name)


_ROLE_SETTINGS = {"description": "Description", "max_session_duration": "MaxSessionDuration"}
"""Spec fields UpdateRole sets -> its parameters."""


def _role_attrs(role: Mapping[str, Any]) -> dict[str, Any]:
    return {"name": role["RoleName"], "arn": role["Arn"]}


# Inline policies (children of a role) --------------------------------------------------------------


class InlinePolicySpec(SpecModel):
    """A policy embedded in its role (deleted with it, never shared)."""

    name: Annotated[str, AfterValidator(lambda value: check_name(value, 128, "policy"))] = Field(
        min_length=1, max_length=128
    )
    """Policy name, unique within the role."""
    document: Annotated[
        dict[str, Any], AfterValidator(lambda value: check_document(value, INLINE_POLICY_LIMIT))
    ]
    """The policy document as a mapping."""


@register
class InlinePolicies(Reconciler):
    meta = KindMeta(
        kind="inline_policies",
        model=InlinePolicySpec,
        title="IAM inline role policy",
        attributes=("name",),
        force_new=frozenset({"name"}),
        taggable=False,
        parent="iam_roles",
        actions=KindActions(
            read=frozenset({"iam:GetAccountAuthorizationDetails"}),
            write=frozenset({"iam:PutRolePolicy"}),
            delete=frozenset({"iam:DeleteRolePolicy"}),
        ),
    )

    def canonical(self, state: dict[str, Any]) -> dict[str, Any]:
        return with_canonical_policy(state, "document")

    def read(self, ctx: AwsContext, keys: Sequence[Key], scope: ReadScope) -> dict[Key, Live]:
        account = account_iam(ctx)
        wanted = set(keys)
        out: dict[Key, Live] = {}
        for role in _roles_to_read(keys, scope):
            for item in account.roles.get(role, {}).get("RolePolicyList", []):
                key = (role, item["PolicyName"])
                if role in scope.parents or key in wanted:
                    out[key] = self._live(key, document_of(item["PolicyDocument"]))
        return out

    def create(self, ctx: AwsContext, desired: Desired) -> Live:
        return self._put(ctx, desired)

    def update(self, ctx: AwsContext, desired: Desired, live: Live, delta: Delta) -> Live:
        return self._put(ctx, desired)  # PutRolePolicy replaces the document

    def delete(self, ctx: AwsContext, live: Live) -> None:
        role, name = _child_key(live.key)
        with gone_is_fine(NO_SUCH_ENTITY):  # already gone, or its role
            ctx.client("iam").delete_role_policy(RoleName=role, PolicyName=name)

    def _put(self, ctx: AwsContext, desired: Desired) -> Live:
        role, name = _child_key(desired.key)
        document = desired.state["document"]
        ctx.client("iam").put_role_policy(RoleName=role, PolicyName=name, PolicyDocument=json.dumps(document))
        return self._live((role, name), document)

    def _live(self, key: tuple[str, str], document: dict[str, Any]) -> Live:
        state = self.canonical({"name": key[1], "document": document})
        return Live(key, state, {"name": key[1]})


# Managed-policy attachments (children of a role) ---------------------------------------------------


class PolicyAttachmentSpec(SpecModel):
    """A managed policy attached to its role."""

    policy: str = Field(min_length=1, max_length=2048)
    """The policy: the name of a customer managed policy of this account (e.g.
    pacs-lambda-custom-metrics; add `depends_on: [iam_policies.NAME]` when this stack creates it),
    or the ARN of an AWS managed policy (arn:aws:iam::aws:policy/...)."""

    @field_validator("policy")
    @classmethod
    def _name_or_aws_arn(cls, value: str) -> str:
        if is_unresolved(value):
            return value
        if value.startswith("arn:"):
            if _ACCOUNT_ARN.match(value):
                name = value.rsplit("/", 1)[-1]
                raise ValueError(f"name this account's policies by name ({name!r}), not by ARN")
            if not _AWS_MANAGED_POLICY.fullmatch(value):
                raise ValueError("an ARN here must be an AWS managed policy's: arn:aws:iam::aws:policy/NAME")
            return value
        return check_name(value, 128, "policy")


@register
class PolicyAttachments(Reconciler):
    meta = KindMeta(
        kind="policy_attachments",
        model=PolicyAttachmentSpec,
        title="IAM role policy attachment",
        identity="policy",
        attributes=("policy",),
        force_new=frozenset({"policy"}),
        taggable=False,
        parent="iam_roles",
        actions=KindActions(
            read=frozenset({"iam:GetAccountAuthorizationDetails"}),
            write=frozenset({"iam:AttachRolePolicy"}),
            delete=frozenset({"iam:DetachRolePolicy"}),
        ),
    )

    def read(self, ctx: AwsContext, keys: Sequence[Key], scope: ReadScope) -> dict[Key, Live]:
        account = account_iam(ctx)
        wanted = set(keys)
        out: dict[Key, Live] = {}
        for role in _roles_to_read(keys, scope):
            for item in account.roles.get(role, {}).get("AttachedManagedPolicies", []):
                key = (role, attachment_name(item["PolicyArn"], item["PolicyName"]))
                if role in scope.parents or key in wanted:
                    out[key] = Live(key, {"policy": key[1]}, {"policy": key[1]}, handle=item["PolicyArn"])
        return out

    def create(self, ctx: AwsContext, desired: Desired) -> Live:
        role, policy = _child_key(desired.key)
        arn = policy_arn_of(ctx, policy, role)
        ctx.client("iam").attach_role_policy(RoleName=role, PolicyArn=arn)
        return Live(desired.key, {"policy": policy}, {"policy": policy}, handle=arn)

    def update(self, ctx: AwsContext, desired: Desired, live: Live, delta: Delta) -> Live:
        return live  # the policy is the identity: any change is a replacement

    def delete(self, ctx: AwsContext, live: Live) -> None:
        role, _ = _child_key(live.key)
        with gone_is_fine(NO_SUCH_ENTITY):  # already detached, or the role or policy is gone
            ctx.client("iam").detach_role_policy(RoleName=role, PolicyArn=str(live.handle))


# Customer managed policies ----------------------------------------------------------------------------


class ManagedPolicySpec(SpecModel):
    """A customer managed policy, attached to roles with their `policy_attachments`."""

    name: Annotated[str, AfterValidator(lambda value: check_name(value, 128, "policy"))] = Field(
        min_length=1, max_length=128
    )
    """Policy name, unique in the account. Changing it replaces the policy."""
    path: Annotated[str, AfterValidator(check_path)] = DEFAULT_PATH
    """IAM path. Changing it replaces the policy."""
    description: str = Field(default="", max_length=1000)
    """What the policy is for. IAM cannot change a description: changing it replaces the policy."""
    document: Annotated[
        dict[str, Any], AfterValidator(lambda value: check_document(value, MANAGED_POLICY_LIMIT))
    ]
    """The policy document as a mapping. A change becomes the policy's new default version (the
    oldest other version is deleted first when five exist)."""


def _list_policies(ctx: AwsContext, prefix: str) -> list[str]:
    policies = read_pages(ctx.client("iam"), "list_policies", "Policies", Scope="Local")
    return names_with_prefix([p["PolicyName"] for p in policies], prefix)


@register
class ManagedPolicies(Reconciler):
    meta = KindMeta(
        kind="iam_policies",
        model=ManagedPolicySpec,
        title="IAM managed policy",
        attributes=("name", "arn"),
        force_new=frozenset({"name", "path", "description"}),
        lister=_list_policies,
        tag_api=TagApi("iam", "tag_policy", "untag_policy", "PolicyArn"),
        actions=KindActions(
            listing=frozenset({"iam:ListPolicies"}),
            read=frozenset({"iam:GetAccountAuthorizationDetails", "iam:ListPolicyTags"}),
            write=frozenset(
                {
                    "iam:CreatePolicy",
                    "iam:AttachRolePolicy",
                    "iam:ListPolicyVersions",
                    "iam:CreatePolicyVersion",
                    "iam:GetPolicy",  # a lost CreatePolicyVersion response: is the new default there?
                    "iam:GetPolicyVersion",
                    "iam:DeletePolicyVersion",
                    "iam:TagPolicy",
                    "iam:UntagPolicy",
                }
            ),
            delete=frozenset(
                {
                    "iam:ListEntitiesForPolicy",
                    "iam:ListRoleTags",  # which roles the policy is attached to are this stack's
                    "iam:DetachRolePolicy",
                    "iam:ListPolicyVersions",
                    "iam:DeletePolicyVersion",
                    "iam:DeletePolicy",
                }
            ),
        ),
    )

    conflict_window = RetryWindow(seconds=30.0)
    """How long DeletePolicy waits for attachments being removed at the same time (by this apply)."""

    def canonical(self, state: dict[str, Any]) -> dict[str, Any]:
        return with_canonical_policy(state, "document")

    def read(self, ctx: AwsContext, keys: Sequence[Key], scope: ReadScope) -> dict[Key, Live]:
        account = account_iam(ctx)
        wanted = {str(k) for k in keys}
        in_owned_roles = {
            item["PolicyArn"]
            for role in account.owned_roles(scope.stack)
            for item in account.roles[role].get("AttachedManagedPolicies", [])
        }
        candidates = sorted(
            name
            for name, policy in account.policies.items()
            if name in wanted or policy["Arn"] in in_owned_roles or not policy.get("AttachmentCount")
        )
        tag_sets = concurrently(lambda name: self._tags(ctx, account.policies[name]["Arn"]), candidates)
        return {
            name: self._live(account.policies[name], tags)
            for name, tags in zip(candidates, tag_sets, strict=True)
            if tags is not None and (name in wanted or tags.get(OWNER_TAG) == scope.stack)
        }

    def create(self, ctx: AwsContext, desired: Desired) -> Live:
        state = desired.state
        request: dict[str, Any] = {
            "PolicyName": state["name"],
            "Path": state["path"],
            "PolicyDocument": json.dumps(state["document"]),
            "Tags": tags_to_list(desired.tags),
        }
        if state["description"]:
            request["Description"] = state["description"]
        iam = ctx.client("iam")
        try:
            arn = str(iam.create_policy(**request)["Policy"]["Arn"])
        except iam.exceptions.EntityAlreadyExistsException:  # our own first attempt, response lost?
            arn = f"arn:{ctx.partition}:iam::{ctx.account_id}:policy{state['path']}{state['name']}"
            found = tags_from_list(read_pages(iam, "list_policy_tags", "Tags", PolicyArn=arn))
            claim_after_lost_create(f"IAM policy {state['name']}", found, desired.tags)
        _created_policies(ctx)[state["name"]] = arn
        return Live(desired.key, dict(state), {"name": state["name"], "arn": arn}, dict(desired.tags), arn)

    def update(self, ctx: AwsContext, desired: Desired, live: Live, delta: Delta) -> Live:
        state = dict(live.state)
        if delta.different_at("document"):
            self._new_default_version(ctx, str(live.handle), desired.state["document"])
            state["document"] = desired.state["document"]
        return replace(live, state=state)

    def delete(self, ctx: AwsContext, live: Live) -> None:
        self._delete(ctx, live)

    def replace(self, ctx: AwsContext, desired: Desired, live: Live) -> Live:
        """A new description or path keeps the name: the attachments, keyed by it, do not change
        (the engine leaves them), so the roles the old policy was detached from get the new one."""
        detached = self._delete(ctx, live)
        new = self.create(ctx, desired)
        for role in detached:
            ctx.client("iam").attach_role_policy(RoleName=role, PolicyArn=str(new.handle))
        return new

    def _delete(self, ctx: AwsContext, live: Live) -> list[str]:
        """Detach the policy from this stack's roles, delete its other versions, then the policy;
        the roles it was detached from. Attachments elsewhere are not this stack's to remove: a
        conflict is retried for a while (IAM is eventually consistent), then reported with what
        still holds the policy."""
        iam = ctx.client("iam")
        arn = str(live.handle)
        detached: list[str] = []
        try:
            detached = self._detach_from_owned_roles(ctx, arn, (live.tags or {}).get(OWNER_TAG))
            for version in read_pages(iam, "list_policy_versions", "Versions", PolicyArn=arn):
                if not version["IsDefaultVersion"]:
                    iam.delete_policy_version(PolicyArn=arn, VersionId=version["VersionId"])
            self.conflict_window.run(
                lambda: iam.delete_policy(PolicyArn=arn), lambda e: error_code(e) == "DeleteConflict"
            )
        except ClientError as error:
            if _missing(error):
                return detached
            if error_code(error) == "DeleteConflict":
                problem = self._still_attached(ctx, arn)
                raise AwsError("DeletePolicy", f"policy {live.key}", problem) from error
            raise
        return detached

    @staticmethod
    def _detach_from_owned_roles(ctx: AwsContext, arn: str, stack: str | None) -> list[str]:
        """Detach the policy from the roles this stack owns; those roles."""
        iam = ctx.client("iam")
        pages = iam.get_paginator("list_entities_for_policy").paginate(PolicyArn=arn, EntityFilter="Role")
        roles = [role["RoleName"] for page in pages for role in page.get("PolicyRoles", [])]
        owned = [role for role in roles if stack and _role_tags(ctx, role).get(OWNER_TAG) == stack]
        for role in owned:
            with gone_is_fine(NO_SUCH_ENTITY):  # detached meanwhile (its attachment's own deletion)
                iam.detach_role_policy(RoleName=role, PolicyArn=arn)
        return owned

    @staticmethod
    def _new_default_version(ctx: AwsContext, arn: str, document: Mapping[str, Any]) -> None:
        """Make `document` the default version, never hitting the five-version limit."""
        iam = ctx.client("iam")
        versions = read_pages(iam, "list_policy_versions", "Versions", PolicyArn=arn)
        if len(versions) >= MAX_POLICY_VERSIONS:
            others = [v for v in versions if not v["IsDefaultVersion"]]
            oldest = min(others, key=lambda v: (v["CreateDate"], v["VersionId"]))
            iam.delete_policy_version(PolicyArn=arn, VersionId=oldest["VersionId"])
        # Every CreatePolicyVersion makes a version, a repeated one too: a retry after a lost
        # response first looks whether the lost attempt made `document` the default.
        look_before_retrying(
            iam,
            "CreatePolicyVersion",
            lambda: iam.create_policy_version(
                PolicyArn=arn, PolicyDocument=json.dumps(document), SetAsDefault=True
            ),
            lambda: _default_version_if(ctx, arn, document),
        )

    @staticmethod
    def _tags(ctx: AwsContext, arn: str) -> dict[str, str] | None:
        try:
            return tags_from_list(read_pages(ctx.client("iam"), "list_policy_tags", "Tags", PolicyArn=arn))
        except ClientError as error:
            if _missing(error):  # deleted since the sweep
                return None
            raise

    @staticmethod
    def _still_attached(ctx: AwsContext, arn: str) -> str:
        iam = ctx.client("iam")
        pages = iam.get_paginator("list_entities_for_policy").paginate(PolicyArn=arn)
        entities: list[str] = []
        for page in pages:
            entities += [f"role {r['RoleName']}" for r in page.get("PolicyRoles", [])]
            entities += [f"user {u['UserName']}" for u in page.get("PolicyUsers", [])]
            entities += [f"group {g['GroupName']}" for g in page.get("PolicyGroups", [])]
        where = ", ".join(entities) or "other entities"
        return f"still attached to {where}; detach it there (or remove those attachments from the spec) first"

    def _live(self, policy: Mapping[str, Any], tags: dict[str, str]) -> Live:
        name = _policy_name(policy)
        state = {
            "name": name,
            "path": policy.get("Path", DEFAULT_PATH),
            "description": policy.get("Description", ""),
            "document": _default_document(policy),
        }
        arn = policy["Arn"]
        return Live(name, self.canonical(state), {"name": name, "arn": arn}, tags, arn)
