"""KMS keys (customer managed), each known by its alias.

A KMS key has no name: its id is random. Its alias is the one stable, unique name people write
(`alias/pacs-logs`), and what SQS, SNS and SSM accept as a key id, so the alias's name (`name:
pacs-logs`) is the key's identity here and the alias a part of the key, not a kind of its own:
one alias per key covers what the stack needs, and a key without an alias could not be found
again except by its tags. `${kms_keys.NAME.alias}` is `alias/pacs-logs`. The key's
ARN (`${kms_keys.NAME.arn}`) is what log groups and EFS file systems take.

Keys protect data: the kind is stateful (never deleted unless the command names it). Deleting one
deletes its alias and SCHEDULES the key's deletion: AWS deletes it after `deletion_window_in_days`
(7-30, AWS's default 30; ScheduleKeyDeletion), and until then CancelKeyDeletion restores it. The
window is not an attribute AWS keeps, so the tool records it in the bookkeeping tag
`pacs-reconcile:deletion-window` (never shown among the key's tags).

The key, not its alias, is the resource (as Terraform and CloudFormation see it): the bookkeeping
tag `pacs-reconcile:alias` records which declared key an owned key is (written on create, added by
the next apply to a key made before). An owned key whose alias was deleted by hand is found by that
tag: the plan shows its `name` missing and apply re-creates the alias on the same key, never a new
key and a deletion of the old one (whose data would be lost with it). The alias wins over the tag:
a tag naming an alias that points at another key does not make this key that one (it is listed as
undeclared, with a note saying why); of two owned keys without the alias claiming one name, the
older is the key, the other listed with a note. A key pending deletion is not matched by its tag
(being deleted already, as a delete leaves it). A key whose deletion was
scheduled by hand is shown disabled, with the date, and not rotating (as AWS reports it), and apply
cancels the deletion and sets the spec's rotation (the key's own returns on cancelling); an owned key
pending deletion that the spec no longer declares is being deleted already and is not listed.

KeyUsage, KeySpec and MultiRegion cannot change after CreateKey ("You can't change the KeyUsage /
KeySpec value after the KMS key is created"; "You cannot change this value [MultiRegion] after you
create the KMS key"): each forces a replacement. Automatic rotation applies only to symmetric
encryption keys (EnableKeyRotation); RotationPeriodInDays is 90-2560, AWS's default 365.

Reads: when a key is declared or owned, ListAliases once (100 a page, every alias of the region),
then per key DescribeKey,
GetKeyPolicy and GetKeyRotationStatus, a few at a time; tags come from the run's owner-tag sweep
(ListResourceTags only for a key outside it). DescribeKey leaves out KeyUsage and MultiRegion in
some answers: their absence is CreateKey's documented default (ENCRYPT_DECRYPT, false).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal, get_args

from botocore.exceptions import ClientError
from pydantic import AfterValidator, Field, ValidationInfo, field_validator, model_validator

from .. import OWNER_TAG
from ..aws import AwsContext
from ..diff import Delta, tags_from_list, tags_to_list
from ..errors import ReconcileError
from ..policy import with_canonical_policy
from ._fields import holding_statements
from ._look_before_retry import look_before_retrying
from .base import Desired, Key, Live, ReadScope, Reconciler, SpecModel, is_unresolved
from .common import (
    arn_resource,
    concurrently,
    error_code,
    gone_is_fine,
    made_by_this_apply,
    memo_until_write,
    names_with_prefix,
    owned_of,
    read_pages,
)
from .kind import KindActions, KindMeta, TagApi
from .registry import register

WINDOW_TAG = "pacs-reconcile:deletion-window"
NAME_TAG = "pacs-reconcile:alias"
"""Bookkeeping tag: the declared name (alias) of the key, so a key whose alias was deleted by hand is
still found as that key (and its alias re-created) rather than taken for an undeclared one."""
RECORDED = "recorded_alias"
"""Live-state path of NAME_TAG's value; not a spec field: the desired value is the key's name."""
DEFAULT_DELETION_WINDOW = 30
"""ScheduleKeyDeletion PendingWindowInDays: "If you do not include a value, it defaults to 30"."""
DEFAULT_ROTATION_PERIOD = 365
ALIAS_PAGE = 100
"""ListAliases' maximum Limit."""
POLICY_NAME = "default"
"""The only key policy name KMS has (GetKeyPolicy, PutKeyPolicy)."""
TAG_KEYS = {"key": "TagKey", "value": "TagValue"}

KeyUsage = Literal[
    "ENCRYPT_DECRYPT", "SIGN_VERIFY", "GENERATE_VERIFY_MAC", "KEY_AGREEMENT", "ENCAPSULATE_DECAPSULATE"
]
KeySpecName = Literal[
    "SYMMETRIC_DEFAULT",
    "RSA_2048",
    "RSA_3072",
    "RSA_4096",
    "ECC_NIST_P256",
    "ECC_NIST_P384",
    "ECC_NIST_P521",
    "ECC_NIST_EDWARDS25519",
    "ECC_SECG_P256K1",
    "HMAC_224",
    "HMAC_256",
    "HMAC_384",
    "HMAC_512",
    "SM2",
    "ML_DSA_44",
    "ML_DSA_65",
    "ML_DSA_87",
    "ML_KEM_512",
    "ML_KEM_768",
    "ML_KEM_1024",
]
_USAGES_BY_SPEC_PREFIX: tuple[tuple[str, frozenset[str]], ...] = (
    # CreateKey, KeyUsage: which usage each kind of key spec allows.
    ("SYMMETRIC_DEFAULT", frozenset({"ENCRYPT_DECRYPT"})),
    ("HMAC_", frozenset({"GENERATE_VERIFY_MAC"})),
    ("RSA_", frozenset({"ENCRYPT_DECRYPT", "SIGN_VERIFY"})),
    ("ECC_NIST_", frozenset({"SIGN_VERIFY", "KEY_AGREEMENT"})),
    ("ECC_SECG_P256K1", frozenset({"SIGN_VERIFY"})),
    ("ML_DSA_", frozenset({"SIGN_VERIFY"})),
    ("ML_KEM_", frozenset({"ENCAPSULATE_DECAPSULATE"})),
    ("SM2", frozenset({"ENCRYPT_DECRYPT", "SIGN_VERIFY", "KEY_AGREEMENT"})),
)
ALIAS_PREFIX = "alias/"
ALIAS_ATTEMPTS = 3
"""CreateAlias tries for a further alias that exists when asked and is gone when looked at."""
_ALIAS_NAME = re.compile(r"[A-Za-z0-9/_-]{1,250}")
"""CreateAlias AliasName: alias/ and a name, "1-256 characters ... alphanumeric characters,
forward slashes (/), underscores (_), and dashes (-)"; "cannot begin with alias/aws/"."""
_MISSING = ("NotFoundException",)


@dataclass(frozen=True)
class KeyHandle:
    key_id: str
    pending_deletion: bool = False
    """Its deletion is scheduled (by hand, or by a delete): cancel it before using the key."""


def allowed_usages(key_spec: str) -> frozenset[str]:
    for prefix, usages in _USAGES_BY_SPEC_PREFIX:
        if key_spec.startswith(prefix):
            return usages
    return frozenset(get_args(KeyUsage))


def check_alias_name(name: str) -> str:
    """An alias's name as CreateAlias takes it, without alias/ (ValueError when it is not)."""
    if is_unresolved(name):
        return name
    if name.startswith(ALIAS_PREFIX):
        raise ValueError(f"the alias's name without alias/: {name.removeprefix(ALIAS_PREFIX)!r}")
    if not _ALIAS_NAME.fullmatch(name):
        raise ValueError("must be 1-250 letters, digits, '/', '_' or '-'")
    if name.startswith("aws/"):
        raise ValueError("alias/aws/ names AWS managed keys (reserved): choose another name")
    return name


class KmsKeySpec(SpecModel):
    """A customer managed KMS key and its alias. It protects data: removed from the spec it is kept
    unless the command names it, and deleting it schedules its deletion."""

    name: str
    """The name of the key's alias, e.g. `pacs-logs` for `alias/pacs-logs` (letters, digits, `/`,
    `_`, `-`; at most 250): the key's identity. Not `aws/...` (AWS managed keys). Changing it moves
    the alias to a new key (a replacement)."""
    description: str = Field(default="", max_length=8192)
    """What the key is for."""
    key_usage: KeyUsage = "ENCRYPT_DECRYPT"
    """What the key does: `ENCRYPT_DECRYPT` (AWS's default), `SIGN_VERIFY`, `GENERATE_VERIFY_MAC`
    (HMAC keys), `KEY_AGREEMENT` or `ENCAPSULATE_DECAPSULATE` (ML-KEM keys). A change replaces
    the key."""
    key_spec: KeySpecName = "SYMMETRIC_DEFAULT"
    """The key's type: `SYMMETRIC_DEFAULT` (AES-256, AWS's default; what services encrypting at
    rest take), RSA, elliptic-curve, HMAC, SM2, ML-DSA or ML-KEM. A change replaces the key."""
    multi_region: bool = False
    """A multi-Region primary key (AWS's default: single-Region). A change replaces the key."""
    policy: Annotated[dict[str, Any], holding_statements("a key policy needs a 'Statement'")] | None = None
    """The key policy as a mapping (an IAM policy document), compared by meaning. Unset: not
    managed (AWS's default key policy gives the account's IAM policies control of the key). It
    must let the applying principal change it again (PutKeyPolicy's lockout check)."""
    enabled: bool = True
    """Whether the key can be used. A deletion scheduled by hand shows as `false`; apply cancels it."""
    enable_key_rotation: bool = False
    """Automatic rotation of the key material (symmetric encryption keys only; AWS's default off)."""
    rotation_period_in_days: int | None = Field(default=None, ge=90, le=2560)
    """With rotation on: days between rotations (90-2560). Unset: not managed (AWS's default 365)."""
    deletion_window_in_days: int = Field(default=DEFAULT_DELETION_WINDOW, ge=7, le=30)
    """Days between a delete and the key's actual deletion (7-30; AWS's default 30): deleting the
    key SCHEDULES its deletion, which can be cancelled until then."""

    aliases: list[Annotated[str, AfterValidator(check_alias_name)]] | None = None
    """Further aliases of the key besides `name`, each by its name without alias/ (e.g.
    `[pacs-logs-legacy]`). Unset: not managed (aliases others gave the key are left alone). Set
    (`[]` too): exactly these point at the key besides `name`: a missing one is created, one that
    points at another key of this stack is moved to this one (UpdateAlias, which needs keys of the
    same type and usage), one that points at this key and is not listed is deleted. An alias has no
    tags: one that points at a key not of this stack is not the stack's, and plan refuses the key."""

    @field_validator("name")
    @classmethod
    def _valid_name(cls, name: str) -> str:
        return check_alias_name(name)

    @field_validator("aliases")
    @classmethod
    def _valid_aliases(cls, aliases: list[str] | None, info: ValidationInfo) -> list[str] | None:
        repeated = sorted({a for a in aliases or [] if (aliases or []).count(a) > 1})
        if repeated:
            raise ValueError(f"{repeated[0]!r} is listed twice")
        if info.data.get("name") in (aliases or []):
            name = info.data["name"]
            raise ValueError(f"{name!r} is the key's name (its first alias): list only further ones")
        return aliases

    @model_validator(mode="after")
    def _fits_the_key_spec(self) -> KmsKeySpec:
        usages = allowed_usages(self.key_spec)
        if self.key_usage not in usages:
            raise ValueError(
                f"key_usage {self.key_usage} does not go with key_spec {self.key_spec} "
                f"(it takes {' or '.join(sorted(usages))})"
            )
        if self.enable_key_rotation and self.key_spec != "SYMMETRIC_DEFAULT":
            raise ValueError("enable_key_rotation: only symmetric encryption keys (SYMMETRIC_DEFAULT) rotate")
        if self.rotation_period_in_days is not None and not self.enable_key_rotation:
            raise ValueError("rotation_period_in_days applies only with enable_key_rotation: true")
        return self


def _list_keys(ctx: AwsContext, prefix: str) -> list[str]:
    """The keys whose alias's name starts with `prefix`."""
    return names_with_prefix(list(_aliases(ctx)), prefix)


@register
class KmsKeys(Reconciler):
    meta = KindMeta(
        kind="kms_keys",
        model=KmsKeySpec,
        title="KMS key",
        attributes=("name", "alias", "arn", "id", "alias_arn"),
        force_new=frozenset({"key_usage", "key_spec", "multi_region"}),
        stateful=True,
        lister=_list_keys,
        tag_api=TagApi(
            "kms",
            "tag_resource",
            "untag_resource",
            "KeyId",
            resource_attribute="id",
            tag_fields=("TagKey", "TagValue"),
        ),
        actions=KindActions(
            read=frozenset(
                {
                    "kms:ListAliases",
                    "kms:DescribeKey",
                    "kms:GetKeyPolicy",
                    "kms:GetKeyRotationStatus",
                    "kms:ListResourceTags",
                }
            ),
            write=frozenset(
                {
                    "kms:CreateKey",
                    "kms:CreateAlias",
                    "kms:UpdateAlias",  # a further alias moved from another key of the stack
                    "kms:DeleteAlias",  # a further alias the spec no longer lists
                    "kms:ListAliases",
                    "kms:ListResourceTags",  # whose key an alias of a further name points at
                    "kms:EnableKey",
                    "kms:DisableKey",
                    "kms:CancelKeyDeletion",
                    "kms:UpdateKeyDescription",
                    "kms:PutKeyPolicy",
                    "kms:EnableKeyRotation",
                    "kms:DisableKeyRotation",
                    "kms:TagResource",
                    "kms:UntagResource",
                    "kms:ScheduleKeyDeletion",  # a key whose alias was taken meanwhile is not left behind
                    "kms:ListKeys",  # a lost CreateKey response: the key it made, found by its tags
                }
            ),
            delete=frozenset({"kms:DeleteAlias", "kms:ScheduleKeyDeletion"}),
        ),
    )

    def deletion_note(self, live: Live | None) -> str | None:
        days = (live.state.get("deletion_window_in_days") if live else None) or DEFAULT_DELETION_WINDOW
        scheduled = (
            f"deleting a KMS key schedules its deletion: AWS deletes it in {days} days "
            "(deletion_window_in_days), until then it can be restored (CancelKeyDeletion)"
        )
        # Why a key whose tag names a declared key is not taken for it (see _matched_by_tag).
        why = [note for note in (live.notes if live else ()) if NAME_TAG in note]
        return "; ".join([*why, scheduled])

    def canonical(self, state: dict[str, Any]) -> dict[str, Any]:
        out = with_canonical_policy(state)
        out.setdefault(RECORDED, out.get("name"))  # desired: the tag records the key's name
        if isinstance(out.get("aliases"), list):
            out["aliases"] = sorted(out["aliases"], key=str)  # a set: AWS lists aliases by name
        return out

    def further_names(self, config: Mapping[str, Any]) -> tuple[str, ...]:
        return tuple(config.get("aliases") or ())

    def refusal(self, ctx: AwsContext, desired: Mapping[str, Any], live: Live | None, stack: str) -> str:
        """A further alias the key asks for that points at a key not of this stack: an alias carries
        no tags, so it is the stack's only while it points at one of the stack's keys (to this one,
        or to another, from which UpdateAlias moves it)."""
        wanted = [a for a in desired.get("aliases") or () if isinstance(a, str)]
        if not wanted:
            return ""
        mine = live.handle.key_id if live is not None else None
        aliases = _aliases(ctx)
        ours = _owned_key_ids(ctx, stack)
        for name in wanted:
            target = aliases.get(name)
            if target is not None and target != mine and target not in ours:
                return _foreign_alias(name, target)
        return ""

    def read(self, ctx: AwsContext, keys: Sequence[Key], scope: ReadScope) -> dict[Key, Live]:
        owned = _owned_keys(ctx, scope.stack)
        if not keys and not owned:
            return {}  # no key to look for: not even the alias listing
        aliases = _aliases(ctx)
        by_key: dict[str, list[str]] = {}
        for name, key_id in aliases.items():
            by_key.setdefault(key_id, []).append(name)
        declared = {str(k) for k in keys}
        key_ids = sorted({aliases[a] for a in declared if a in aliases} | set(owned))
        described = concurrently(lambda key_id: _key(ctx, key_id), key_ids)
        found = {k: d for k, d in zip(key_ids, described, strict=True) if d is not None}
        untagged = [k for k in found if k not in owned]
        read_tags = concurrently(lambda key_id: _tags(ctx, key_id), untagged)
        tags = {**dict(zip(untagged, read_tags, strict=True)), **owned}
        matched, notes = _matched_by_tag(found, owned, aliases, declared)
        out: dict[Key, Live] = {}
        for key_id, (metadata, policy, rotation) in found.items():
            names = sorted(by_key.get(key_id, []))
            name = next((n for n in names if n in declared), names[0] if names else "")
            if key_id in matched:  # its alias deleted by hand: the key is still the declared one
                name = ""
            identity = name or matched.get(key_id, "")
            pending = metadata.get("KeyState") == "PendingDeletion"
            if pending and identity not in declared:
                continue  # being deleted already
            further = [n for n in names if n != name]
            live = self._live(
                name, metadata, policy, rotation, tags[key_id], further, identity, notes.get(key_id)
            )
            out[live.key] = live
        return out

    def create(self, ctx: AwsContext, desired: Desired) -> Live:
        state = desired.state
        kms = ctx.client("kms")
        request: dict[str, Any] = {
            "Description": state["description"],
            "KeyUsage": state["key_usage"],
            "KeySpec": state["key_spec"],
            "MultiRegion": state["multi_region"],
            "Tags": _kms_tags(
                {**desired.tags, WINDOW_TAG: str(state["deletion_window_in_days"]), NAME_TAG: state["name"]}
            ),
        }
        if state.get("policy"):
            request["Policy"] = json.dumps(state["policy"])
        # Every CreateKey makes a key, a repeated one too: a retry after a lost response first looks
        # for the key the lost attempt made (this apply's tags, no alias yet).
        metadata = look_before_retrying(
            kms,
            "CreateKey",
            lambda: kms.create_key(**request),
            lambda: _key_made_by_this_apply(ctx, desired.tags),
        )["KeyMetadata"]
        key_id = metadata["KeyId"]
        alias = ALIAS_PREFIX + state["name"]
        try:
            kms.create_alias(AliasName=alias, TargetKeyId=key_id)
        except ClientError as error:
            if error_code(error) != "AlreadyExistsException":
                raise
            if _listed_aliases(ctx).get(state["name"]) != key_id:  # not our own first attempt (response lost)
                # The alias was made meanwhile by someone else: the new key must not stay behind.
                kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=state["deletion_window_in_days"])
                raise ReconcileError(
                    f"KMS alias {alias} was created meanwhile by someone else; the key "
                    f"made for it ({key_id}) is scheduled for deletion. Plan again"
                ) from error
        _point_aliases(ctx, key_id, state.get("aliases") or (), desired.tags.get(OWNER_TAG, ""))
        if state["enable_key_rotation"]:
            kms.enable_key_rotation(KeyId=key_id, **_rotation_period(state))
        if not state["enabled"]:
            kms.disable_key(KeyId=key_id)
        live_state = {**state, "rotation_period_in_days": _created_period(state)}
        attrs = _attrs(state["name"], metadata)
        return Live(desired.key, self.canonical(live_state), attrs, dict(desired.tags), KeyHandle(key_id))

    def update(self, ctx: AwsContext, desired: Desired, live: Live, delta: Delta) -> Live:
        kms = ctx.client("kms")
        key_id = live.handle.key_id
        want = desired.state
        state = dict(live.state)
        cancelled = delta.different_at("enabled") and live.handle.pending_deletion
        if delta.different_at("enabled"):
            if cancelled:
                kms.cancel_key_deletion(KeyId=key_id)  # leaves the key disabled
            (kms.enable_key if want["enabled"] else kms.disable_key)(KeyId=key_id)
        if delta.different_at("description"):
            kms.update_key_description(KeyId=key_id, Description=want["description"])
        if delta.different_at("policy"):
            kms.put_key_policy(KeyId=key_id, PolicyName=POLICY_NAME, Policy=json.dumps(want["policy"]))
        # A key pending deletion reads as not rotating, and cancelling the deletion gives it back
        # "the original key rotation status" (GetKeyRotationStatus, KMS API reference): whatever it
        # was, set the rotation the spec wants.
        rotation_changed = delta.different_at("enable_key_rotation") or delta.different_at(
            "rotation_period_in_days"
        )
        if rotation_changed or cancelled:
            if want["enable_key_rotation"]:
                kms.enable_key_rotation(KeyId=key_id, **_rotation_period(want))
            else:
                kms.disable_key_rotation(KeyId=key_id)
        if delta.different_at("deletion_window_in_days"):
            kms.tag_resource(KeyId=key_id, Tags=_kms_tags({WINDOW_TAG: str(want["deletion_window_in_days"])}))
        if delta.different_at(RECORDED):  # a key made before the tag, or one adopted
            kms.tag_resource(KeyId=key_id, Tags=_kms_tags({NAME_TAG: want["name"]}))
        attrs = dict(live.attrs)
        if delta.different_at("name"):  # its alias deleted by hand: the same key gets it back
            _point_alias(ctx, key_id, want["name"], desired.tags.get(OWNER_TAG, ""))
            attrs = _attrs(want["name"], {"Arn": live.attrs["arn"], "KeyId": key_id})
        if delta.different_at("aliases"):
            have, wanted = set(live.state.get("aliases") or ()), set(want["aliases"])
            _point_aliases(ctx, key_id, sorted(wanted - have), desired.tags.get(OWNER_TAG, ""))
            _remove_aliases(ctx, key_id, have - wanted)
        for field in (
            "name",
            RECORDED,
            "enabled",
            "description",
            "policy",
            "enable_key_rotation",
            "deletion_window_in_days",
            "aliases",
        ):
            if delta.different_at(field):
                state[field] = want[field]
        if rotation_changed or cancelled:
            state["enable_key_rotation"] = want["enable_key_rotation"]
            state["rotation_period_in_days"] = _created_period(want)
        return Live(live.key, self.canonical(state), attrs, live.tags, KeyHandle(key_id))

    def delete(self, ctx: AwsContext, live: Live) -> None:
        kms = ctx.client("kms")
        with gone_is_fine(*_MISSING):
            if live.state.get("name"):
                kms.delete_alias(AliasName=ALIAS_PREFIX + live.state["name"])
        _remove_aliases(ctx, live.handle.key_id, live.state.get("aliases") or ())
        if live.handle.pending_deletion:
            return  # scheduled already
        window = live.state.get("deletion_window_in_days") or DEFAULT_DELETION_WINDOW
        with gone_is_fine(*_MISSING):
            kms.schedule_key_deletion(KeyId=live.handle.key_id, PendingWindowInDays=window)

    def _live(
        self,
        name: str,
        metadata: Mapping[str, Any],
        policy: str | None,
        rotation: Mapping[str, Any] | None,
        all_tags: dict[str, str],
        further_aliases: Sequence[str] = (),
        identity: str = "",
        note: str | None = None,
    ) -> Live:
        rotating = bool(rotation and rotation.get("KeyRotationEnabled"))
        pending = metadata.get("KeyState") == "PendingDeletion"
        state = {
            "name": name,
            "description": metadata.get("Description") or "",
            "key_usage": metadata.get("KeyUsage") or "ENCRYPT_DECRYPT",
            "key_spec": metadata.get("KeySpec")
            or metadata.get("CustomerMasterKeySpec")
            or "SYMMETRIC_DEFAULT",
            "multi_region": bool(metadata.get("MultiRegion", False)),
            "policy": json.loads(policy) if policy else None,
            # Pending deletion is neither: any declared `enabled` differs, and apply cancels it.
            "enabled": None if pending else bool(metadata.get("Enabled")),
            "enable_key_rotation": rotating,
            "rotation_period_in_days": (
                int(rotation.get("RotationPeriodInDays") or DEFAULT_ROTATION_PERIOD)
                if rotation and rotating
                else None
            ),
            "deletion_window_in_days": _int(all_tags.get(WINDOW_TAG), DEFAULT_DELETION_WINDOW),
            "aliases": sorted(further_aliases),
            # The tag finds the stack's keys in the owner-tag sweep: one not (yet) the stack's needs none.
            RECORDED: all_tags.get(NAME_TAG) if OWNER_TAG in all_tags else (name or None),
        }
        notes: tuple[str, ...] = (note,) if note else ()
        if pending:
            notes += (f"its deletion is scheduled for {metadata.get('DeletionDate')}; apply cancels it",)
        tags = {k: v for k, v in all_tags.items() if k not in (WINDOW_TAG, NAME_TAG)}
        key = identity or name or f"key/{metadata['KeyId']}"
        handle = KeyHandle(metadata["KeyId"], pending)
        # A key found by its tag has its alias back after its update: what references to it resolve to.
        return Live(key, self.canonical(state), _attrs(identity or name, metadata), tags, handle, notes)


def _matched_by_tag(
    found: Mapping[str, tuple[dict[str, Any], str | None, dict[str, Any] | None]],
    owned: Mapping[str, Mapping[str, str]],
    aliases: Mapping[str, str],
    declared: set[str],
) -> tuple[dict[str, str], dict[str, str]]:
    """The owned keys without a declared alias that are a declared key by their NAME_TAG (key id -> name),
    and a note for each owned key whose tag names a declared key it is not taken for (why it is
    listed as undeclared: the alias points elsewhere, or an older key claims the name too)."""
    claims: dict[str, list[str]] = {}
    notes: dict[str, str] = {}
    by_declared_alias = {aliases[name] for name in declared if name in aliases}
    for key_id, (metadata, _, _) in found.items():
        name = owned.get(key_id, {}).get(NAME_TAG, "")
        if (
            key_id in by_declared_alias
            or name not in declared
            or metadata.get("KeyState") == "PendingDeletion"
        ):
            continue
        if name in aliases:
            notes[key_id] = (
                f"its tag {NAME_TAG} names {ALIAS_PREFIX}{name}, which points at key {aliases[name]}: "
                "the alias decides which key is declared"
            )
            continue
        claims.setdefault(name, []).append(key_id)
    matched: dict[str, str] = {}
    for name, key_ids in claims.items():
        oldest, *others = sorted(key_ids, key=lambda k: (str(found[k][0].get("CreationDate", "")), k))
        matched[oldest] = name
        for other in others:
            notes[other] = (
                f"its tag {NAME_TAG} names {ALIAS_PREFIX}{name}, as does the older key {oldest}, "
                "which is taken for it"
            )
    return matched, notes


def _aliases(ctx: AwsContext) -> dict[str, str]:
    """The name of each alias (without alias/) -> the key it points to, for every alias of the region
    that points to a key, but AWS managed keys' (alias/aws/...: no resource of a stack). Read once
    per run (the read and plan's look at further aliases share it) until this context writes."""
    return memo_until_write(ctx, "kms-aliases", lambda: _listed_aliases(ctx))


def alias_target(ctx: AwsContext, alias: str) -> str | None:
    """The id of the key `alias` (alias/NAME) points at; None when there is no such alias. From the
    run's one ListAliases (shared with the kind's read)."""
    return _aliases(ctx).get(alias.removeprefix(ALIAS_PREFIX))


def _listed_aliases(ctx: AwsContext, **params: Any) -> dict[str, str]:
    """`_aliases` read now (e.g. `KeyId=...`: only the aliases of one key)."""
    listed = read_pages(
        ctx.client("kms"), "list_aliases", "Aliases", PaginationConfig={"PageSize": ALIAS_PAGE}, **params
    )
    return {
        a["AliasName"].removeprefix(ALIAS_PREFIX): a["TargetKeyId"]
        for a in listed
        if a.get("TargetKeyId") and not a["AliasName"].startswith(ALIAS_PREFIX + "aws/")
    }


def _owned_keys(ctx: AwsContext, stack: str) -> dict[str, dict[str, str]]:
    """The id -> tags of each key of this stack (the run's owner-tag sweep)."""
    return {
        arn_resource(arn).removeprefix("key/"): tags
        for arn, tags in owned_of(ctx, stack, "kms", "key/").items()
    }


def _owned_key_ids(ctx: AwsContext, stack: str) -> set[str]:
    return set(_owned_keys(ctx, stack))


def _foreign_alias(name: str, target: str) -> str:
    return (
        f"KMS alias {ALIAS_PREFIX}{name} points at key {target}, which is not this stack's: an alias "
        "carries no tags, so it is managed only while it points at a key of this stack. Delete or "
        "re-point it by hand, or leave it out of aliases"
    )


def _point_aliases(ctx: AwsContext, key_id: str, names: Iterable[str], stack: str) -> None:
    """Each further alias of `names` pointing at the key: created, or moved from another key of this
    stack (UpdateAlias, "Associates an existing KMS alias with a different KMS key", KMS API
    reference). One pointing at a key not of this stack is not touched: ReconcileError."""
    for name in names:
        _point_alias(ctx, key_id, name, stack)


def _point_alias(ctx: AwsContext, key_id: str, name: str, stack: str) -> None:
    kms = ctx.client("kms")
    alias = ALIAS_PREFIX + name
    for _ in range(ALIAS_ATTEMPTS):
        try:
            kms.create_alias(AliasName=alias, TargetKeyId=key_id)
            return
        except ClientError as error:
            if error_code(error) != "AlreadyExistsException":
                raise
            target = _listed_aliases(ctx).get(name)
            if target is None:
                continue  # deleted meanwhile (by the key that gave it up, in this apply): create it
            if target == key_id:
                return  # our own first attempt (its response lost)
            if _tags(ctx, target).get(OWNER_TAG) != stack:
                raise ReconcileError(_foreign_alias(name, target)) from error
            try:
                kms.update_alias(AliasName=alias, TargetKeyId=key_id)
            except ClientError as moved_error:
                if error_code(moved_error) not in _MISSING:
                    raise
                continue  # deleted meanwhile by the key giving it up (this apply): create it
            return
    raise ReconcileError(f"KMS alias {alias} keeps appearing and disappearing meanwhile; plan again")


def _remove_aliases(ctx: AwsContext, key_id: str, names: Iterable[str]) -> None:
    """Delete the further aliases of `names` that still point at the key (ListAliases of the key
    just before: one moved to another key meanwhile, by this apply or by hand, is not ours to
    delete any more)."""
    names = set(names)
    if not names:
        return
    still_ours = set(_listed_aliases(ctx, KeyId=key_id)) & names
    for name in sorted(still_ours):
        with gone_is_fine(*_MISSING):
            ctx.client("kms").delete_alias(AliasName=ALIAS_PREFIX + name)


def _key(ctx: AwsContext, key_id: str) -> tuple[dict[str, Any], str | None, dict[str, Any] | None] | None:
    """DescribeKey, the key policy and the rotation status of one key; None when it is gone or is
    an AWS managed key (no spec manages those)."""
    kms = ctx.client("kms")
    try:
        metadata = dict(kms.describe_key(KeyId=key_id)["KeyMetadata"])
        if metadata.get("KeyManager") == "AWS":
            return None
        policy = kms.get_key_policy(KeyId=key_id, PolicyName=POLICY_NAME).get("Policy")
        rotation = _rotation(ctx, metadata)
    except ClientError as error:
        if error_code(error) in _MISSING:
            return None
        raise
    return metadata, policy, rotation


def _rotation(ctx: AwsContext, metadata: Mapping[str, Any]) -> dict[str, Any] | None:
    """GetKeyRotationStatus of a symmetric encryption key made by KMS (the only ones that rotate);
    None for the others. A key pending deletion answers, with rotation false ("While a KMS key is
    pending deletion, its key rotation status is false", GetKeyRotationStatus, KMS API reference);
    KMSInvalidStateException is still read as "no rotation" for a state the key-state table ("Key
    states of AWS KMS keys", KMS developer guide) may refuse it in."""
    if metadata.get("KeySpec", "SYMMETRIC_DEFAULT") != "SYMMETRIC_DEFAULT" or metadata.get("Origin") not in (
        None,
        "AWS_KMS",
    ):
        return None
    try:
        return dict(ctx.client("kms").get_key_rotation_status(KeyId=metadata["KeyId"]))
    except ClientError as error:
        if error_code(error) in ("KMSInvalidStateException", "UnsupportedOperationException"):
            return None
        raise


def _key_made_by_this_apply(ctx: AwsContext, tags: Mapping[str, str]) -> dict[str, Any] | None:
    """A key with this apply's owner and fingerprint tags that no alias points to yet and is not
    pending deletion: what a CreateKey of this apply made before its response was lost (a key
    gets its alias right after it is made). None when there is none."""
    aliased = set(_listed_aliases(ctx).values())
    for listed in read_pages(ctx.client("kms"), "list_keys", "Keys"):
        key_id = listed["KeyId"]
        if key_id in aliased or not made_by_this_apply(_tags(ctx, key_id), tags):
            continue
        metadata = ctx.client("kms").describe_key(KeyId=key_id)["KeyMetadata"]
        if metadata.get("KeyState") != "PendingDeletion":
            return {"KeyMetadata": metadata}
    return None


def _tags(ctx: AwsContext, key_id: str) -> dict[str, str]:
    found = read_pages(ctx.client("kms"), "list_resource_tags", "Tags", KeyId=key_id)
    return tags_from_list(found, TAG_KEYS["key"], TAG_KEYS["value"])


def _kms_tags(tags: Mapping[str, str]) -> list[dict[str, str]]:
    return tags_to_list(tags, TAG_KEYS["key"], TAG_KEYS["value"])


def _rotation_period(state: Mapping[str, Any]) -> dict[str, Any]:
    period = state.get("rotation_period_in_days")
    return {} if period is None else {"RotationPeriodInDays": period}


def _created_period(state: Mapping[str, Any]) -> int | None:
    if not state["enable_key_rotation"]:
        return None
    return int(state.get("rotation_period_in_days") or DEFAULT_ROTATION_PERIOD)


def _int(text: str | None, default: int) -> int:
    try:
        return int(text) if text else default
    except ValueError:
        return default


def _attrs(name: str, metadata: Mapping[str, Any]) -> dict[str, Any]:
    arn = str(metadata["Arn"])
    alias = ALIAS_PREFIX + name if name else ""
    alias_arn = f"{arn.split(':key/', 1)[0]}:{alias}" if alias else ""
    return {"name": name, "alias": alias, "arn": arn, "id": metadata["KeyId"], "alias_arn": alias_arn}
