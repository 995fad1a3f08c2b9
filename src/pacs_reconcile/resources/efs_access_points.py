"""EFS access points (`efs_access_points`): an application's view of a file system, with the POSIX
user it acts as and the directory it sees as root.

EFS has no UpdateAccessPoint: CreateAccessPoint, DescribeAccessPoints, DeleteAccessPoint and the
tagging calls are all the API has (EFS API reference). So every attribute forces a replacement;
only tags change in place. An access point has no name of its own (AWS reports the `Name` tag as
its name): the spec's `name` is the identity, kept in the tag `pacs-reconcile:name`, as for flow
logs. CreateAccessPoint's ClientToken is an idempotency token botocore fills in once per call and
keeps for every retry of it, so a retried create whose first attempt EFS carried out gets that
attempt's access point.

Reads: when an access point is declared or owned, DescribeFileSystems once (100 a page) and
DescribeAccessPoints per file system (100 a page; the API lists a file system's access points or
one access point by id, with their tags). DescribeAccessPoints reports the root directory `/`
when none was given (CreateAccessPoint: without a RootDirectory, the file system's root is
exposed): it is the spec's default.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from botocore.exceptions import ClientError
from pydantic import Field, field_validator

from .. import OWNER_TAG
from ..aws import AwsContext
from ..diff import Delta, tags_from_list, tags_to_list
from .base import Desired, Key, Live, ReadScope, Reconciler, SpecModel, is_unresolved
from .common import (
    concurrently,
    error_code,
    gone_is_fine,
    names_with_prefix,
    owned_of,
    read_pages,
)
from .efs import DESCRIBE_PAGE_SIZE, EFS_TAGS, describe_file_systems
from .kind import KindActions, KindMeta
from .registry import register

NAME_TAG = "pacs-reconcile:name"
"""The spec's name of an access point (AWS names one only by its Name tag)."""
MAX_ID = 4_294_967_295
"""PosixUser and CreationInfo: user and group ids are 0 to 4294967295."""
MAX_SECONDARY_GIDS = 16
_FILE_SYSTEM_ID = re.compile(r"fs-[0-9a-f]{8,40}")
_PATH = re.compile(r"/|(/(?!\.)+[^$#<>;`|&?{}^*/\n]+){1,4}")
"""RootDirectory Path: `/`, or up to four levels (the service model's pattern; 100 characters)."""
_PERMISSIONS = re.compile(r"[0-7]{3,4}")
_GONE = ("AccessPointNotFound", "FileSystemNotFound")


class PosixUserSpec(SpecModel):
    """The operating-system user and groups every request through the access point acts as."""

    uid: int = Field(ge=0, le=MAX_ID)
    """User id (0-4294967295)."""
    gid: int = Field(ge=0, le=MAX_ID)
    """Group id (0-4294967295)."""
    secondary_gids: list[int] = Field(default_factory=list, max_length=MAX_SECONDARY_GIDS)
    """Further group ids (at most 16; compared as a set)."""

    @field_validator("secondary_gids")
    @classmethod
    def _ids(cls, value: list[int]) -> list[int]:
        if any(not 0 <= gid <= MAX_ID for gid in value):
            raise ValueError(f"group ids are 0-{MAX_ID}")
        return value


class CreationInfoSpec(SpecModel):
    """Owner and mode EFS gives the root directory when it creates it on the first connection."""

    owner_uid: int = Field(ge=0, le=MAX_ID)
    """Owning user id (0-4294967295)."""
    owner_gid: int = Field(ge=0, le=MAX_ID)
    """Owning group id (0-4294967295)."""
    permissions: str
    """Mode bits as an octal string of 3 or 4 digits, quoted: `"0755"` (unquoted, YAML would read
    a number and lose a leading 0)."""

    @field_validator("permissions", mode="before")
    @classmethod
    def _octal_text(cls, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            raise ValueError(f'quote the mode, e.g. "0{value}" (unquoted, YAML reads a number)')
        if isinstance(value, str) and not is_unresolved(value) and not _PERMISSIONS.fullmatch(value):
            raise ValueError('must be 3 or 4 octal digits, e.g. "0755"')
        return value


class RootDirectorySpec(SpecModel):
    """The directory clients of the access point see as the file system's root."""

    path: str = "/"
    """`/` or a path of up to four levels (100 characters), e.g. `/grafana`. EFS creates it on the
    first connection when creation_info is given; a path that does not exist needs it."""
    creation_info: CreationInfoSpec | None = None
    """Owner and mode for the directory EFS creates. Unset: none (the path must exist)."""

    @field_validator("path")
    @classmethod
    def _valid_path(cls, value: str) -> str:
        if not is_unresolved(value) and (len(value) > 100 or not _PATH.fullmatch(value)):
            raise ValueError("must be / or /a/path of at most four levels (100 characters, no $#<>;`|&?{}^*)")
        return value


class AccessPointSpec(SpecModel):
    """An EFS access point. Every change replaces it (EFS cannot change one); tags change in place."""

    name: str = Field(min_length=1, max_length=255)
    """The access point's name in this stack (kept in the tag pacs-reconcile:name; AWS gives
    access points none). Changing it replaces the access point."""
    file_system_id: str
    """The file system, e.g. `${efs_file_systems.grafana_storage.id}`."""
    posix_user: PosixUserSpec | None = None
    """The user and groups requests act as. Unset: none (each client's own)."""
    root_directory: RootDirectorySpec | None = None
    """The directory exposed as root. Unset: the file system's root, `/`."""

    @field_validator("file_system_id")
    @classmethod
    def _valid_file_system(cls, value: str) -> str:
        if not is_unresolved(value) and not _FILE_SYSTEM_ID.fullmatch(value):
            raise ValueError("must be a file system id (fs-...), e.g. ${efs_file_systems.NAME.id}")
        return value


def _list_access_points(ctx: AwsContext, prefix: str) -> list[str]:
    """Access points this tool named (tag pacs-reconcile:name) whose name starts with `prefix`."""
    names = [tags_from_list(ap.get("Tags")).get(NAME_TAG) for ap in _all_access_points(ctx)]
    return names_with_prefix([n for n in names if n], prefix)


@register
class AccessPoints(Reconciler):
    meta = KindMeta(
        kind="efs_access_points",
        model=AccessPointSpec,
        title="EFS access point",
        attributes=("id", "arn", "name"),
        force_new=frozenset({"name", "file_system_id", "posix_user", "root_directory"}),
        lister=_list_access_points,
        tag_api=EFS_TAGS,
        actions=KindActions(
            read=frozenset(
                {"elasticfilesystem:DescribeFileSystems", "elasticfilesystem:DescribeAccessPoints"}
            ),
            write=frozenset(
                {
                    "elasticfilesystem:CreateAccessPoint",
                    "elasticfilesystem:TagResource",  # also authorizes the tags given to CreateAccessPoint
                    "elasticfilesystem:UntagResource",
                }
            ),
            delete=frozenset({"elasticfilesystem:DeleteAccessPoint"}),
        ),
    )

    def canonical(self, state: dict[str, Any]) -> dict[str, Any]:
        # No POSIX user is "none", no root directory is "/": compared as such.
        out = dict(state)
        if "posix_user" in out:
            user = out["posix_user"]
            out["posix_user"] = (
                {**user, "secondary_gids": sorted(user.get("secondary_gids") or [])} if user else {}
            )
        if "root_directory" in out:
            root = out["root_directory"] or {}
            out["root_directory"] = {
                "path": root.get("path") or "/",
                "creation_info": root.get("creation_info") or {},
            }
        return out

    def read(self, ctx: AwsContext, keys: Sequence[Key], scope: ReadScope) -> dict[Key, Live]:
        declared = {str(k) for k in keys}
        if not declared and not owned_of(ctx, scope.stack, "elasticfilesystem", "access-point/"):
            return {}  # nothing to look for: no listing
        out: dict[Key, Live] = {}
        for access_point in sorted(_all_access_points(ctx), key=lambda ap: str(ap["AccessPointId"])):
            live = self._live(access_point)
            if live.key not in declared and (live.tags or {}).get(OWNER_TAG) != scope.stack:
                continue
            if live.key in out:  # a second one of one name (made by hand): shown as undeclared
                live = replace(live, key=f"{live.key}#{live.handle}")
            out[live.key] = live
        return out

    def create(self, ctx: AwsContext, desired: Desired) -> Live:
        state = desired.state
        request: dict[str, Any] = {
            "FileSystemId": state["file_system_id"],
            "Tags": tags_to_list({**desired.tags, NAME_TAG: state["name"]}),
        }
        user = state.get("posix_user")
        if user:
            request["PosixUser"] = {"Uid": user["uid"], "Gid": user["gid"]}
            if user.get("secondary_gids"):
                request["PosixUser"]["SecondaryGids"] = list(user["secondary_gids"])
        root = state.get("root_directory") or {}
        if root:
            request["RootDirectory"] = {"Path": root.get("path") or "/"}
            info = root.get("creation_info")
            if info:
                request["RootDirectory"]["CreationInfo"] = {
                    "OwnerUid": info["owner_uid"],
                    "OwnerGid": info["owner_gid"],
                    "Permissions": info["permissions"],
                }
        created = ctx.client("efs").create_access_point(**request)  # ClientToken: botocore's, per call
        return self._live({**created, "Tags": request["Tags"]})

    def update(self, ctx: AwsContext, desired: Desired, live: Live, delta: Delta) -> Live:
        # Every attribute forces a replacement (there is no UpdateAccessPoint); tags: update_tags.
        return live

    def delete(self, ctx: AwsContext, live: Live) -> None:
        with gone_is_fine(*_GONE):
            ctx.client("efs").delete_access_point(AccessPointId=live.handle)

    def _live(self, access_point: Mapping[str, Any]) -> Live:
        all_tags = tags_from_list(access_point.get("Tags"))
        access_point_id = str(access_point["AccessPointId"])
        name = all_tags.get(NAME_TAG) or access_point_id
        user = access_point.get("PosixUser") or {}
        root = access_point.get("RootDirectory") or {}
        info = root.get("CreationInfo") or {}
        state = {
            "name": name,
            "file_system_id": access_point.get("FileSystemId", ""),
            "posix_user": {
                "uid": user["Uid"],
                "gid": user["Gid"],
                "secondary_gids": list(user.get("SecondaryGids") or []),
            }
            if user
            else None,
            "root_directory": {
                "path": root.get("Path") or "/",
                "creation_info": {
                    "owner_uid": info["OwnerUid"],
                    "owner_gid": info["OwnerGid"],
                    "permissions": info["Permissions"],
                }
                if info
                else None,
            },
        }
        attrs = {"id": access_point_id, "arn": access_point.get("AccessPointArn", ""), "name": name}
        tags = {k: v for k, v in all_tags.items() if k != NAME_TAG}
        return Live(name, self.canonical(state), attrs, tags, access_point_id)


def _all_access_points(ctx: AwsContext) -> list[dict[str, Any]]:
    """Every access point of the region's file systems, a few file systems at a time."""
    systems = [str(fs["FileSystemId"]) for fs in describe_file_systems(ctx)]
    found = concurrently(lambda file_system_id: _access_points_of(ctx, file_system_id), systems)
    return [access_point for listed in found for access_point in listed]


def _access_points_of(ctx: AwsContext, file_system_id: str) -> list[dict[str, Any]]:
    try:
        listed = read_pages(
            ctx.client("efs"),
            "describe_access_points",
            "AccessPoints",
            FileSystemId=file_system_id,
            PaginationConfig={"PageSize": DESCRIBE_PAGE_SIZE},
        )
    except ClientError as error:
        if error_code(error) == "FileSystemNotFound":  # deleted since it was listed
            return []
        raise
    return [ap for ap in listed if ap.get("LifeCycleState") not in ("deleting", "deleted")]
