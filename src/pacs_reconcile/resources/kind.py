"""What a kind declares about itself besides its model and reconciler: its IAM actions, its tag
API, its export lister, and the KindMeta that holds them. The engine, `permissions`, `export`,
the docs and the schema read these through the registry (docs/adding-a-kind.md)."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from ..aws import AwsContext
from ..diff import tags_to_list

if TYPE_CHECKING:
    from .base import Live, SpecModel


@dataclass(frozen=True)
class KindActions:
    """The IAM actions a kind's reconciler calls, per phase (`permissions` builds policies from
    these; a test checks them against the module's code and against a whole recorded cycle)."""

    read: frozenset[str]
    """Called by read(): needed by plan, drift and apply alike."""
    write: frozenset[str] = frozenset()
    """Called by create/update/update_tags (reads they make included)."""
    delete: frozenset[str] = frozenset()
    """Called by delete() (reads it makes included)."""
    passes_role_to: str | None = None
    """The service a role named in the spec is passed to (iam:PassRole, never an API call)."""
    listing: frozenset[str] = frozenset()
    """Called by the kind's `lister` (the `export` command), beyond what read() calls."""
    required_by_aws: frozenset[str] = frozenset()
    """Not called by this code: actions AWS checks on the caller while it carries out the kind's
    write calls (e.g. Cloud Map making a Route 53 hosted zone for a namespace), granted with
    `write`. Each with the AWS page that lists it."""

    def all(self) -> frozenset[str]:
        return self.read | self.write | self.delete | self.listing


Lister = Callable[[AwsContext, str], Sequence[Hashable]]
"""Keys of one kind's resources whose name starts with a prefix ("" lists them all), read-only:
how `export --prefix` finds them."""


@dataclass(frozen=True)
class TagApi:
    """How a kind's tags are set and removed: the one generic `Reconciler.update_tags` makes these
    calls (tag `to_set`, then untag `to_unset`), e.g. CloudWatch's
    `TagResource(ResourceARN=arn, Tags=[{Key, Value}])` / `UntagResource(ResourceARN=arn, TagKeys=[...])`."""

    service: str
    """The boto3 client (`ctx.client(service)`)."""
    tag_operation: str
    """The client method that sets tags, e.g. "tag_resource"."""
    untag_operation: str
    """The client method that removes tags by key, e.g. "untag_resource"."""
    resource_param: str
    """The request parameter naming the resource, e.g. "ResourceARN"."""
    resource_attribute: str | None = None
    """Where the resource's id comes from: `Live.attrs[resource_attribute]`, or `Live.handle` (None)."""
    resource_in_list: bool = False
    """The parameter takes a list of resources (EC2's `Resources=[id]`)."""
    tags_param: str = "Tags"
    tags_shape: Literal["list", "map"] = "list"
    """"list": `[{Key: k, Value: v}]` (field names in `tag_fields`); "map": `{k: v}`."""
    tag_fields: tuple[str, str] = ("Key", "Value")
    keys_param: str = "TagKeys"
    keys_shape: Literal["keys", "tags"] = "keys"
    """"keys": `[k, ...]`; "tags": `[{Key: k}]` (EC2's DeleteTags, which removes a tag of any value)."""
    fixed_params: Mapping[str, str] = field(default_factory=dict)
    """Parameters every call carries, e.g. SSM's `ResourceType="Parameter"`."""

    def target(self, live: Live) -> dict[str, Any]:
        resource = str(
            live.handle if self.resource_attribute is None else live.attrs[self.resource_attribute]
        )
        return {self.resource_param: [resource] if self.resource_in_list else resource, **self.fixed_params}

    def tags(self, tags: Mapping[str, str]) -> dict[str, Any]:
        shaped = tags_to_list(tags, *self.tag_fields) if self.tags_shape == "list" else dict(tags)
        return {self.tags_param: shaped}

    def keys(self, keys: Sequence[str]) -> dict[str, Any]:
        shaped = [{self.tag_fields[0]: k} for k in keys] if self.keys_shape == "tags" else list(keys)
        return {self.keys_param: shaped}


@dataclass(frozen=True)
class KindMeta:
    """Declarative facts about a kind; the engine, docs and schema are driven by these."""

    kind: str
    """Spec section (top-level) or nested field (children) name, and the address prefix."""
    model: type[SpecModel]
    title: str
    actions: KindActions
    """The IAM actions the reconciler calls (read / write / delete)."""
    identity: str = "name"
    """Model field holding the AWS identity; it may use ${var...} but no resource references."""
    key_fields: tuple[str, ...] = ()
    """Other model fields the key holds (an EventBridge rule's bus): each may reference an
    attribute another resource's spec sets itself (`${event_buses.audit.name}`), resolved when the
    spec is loaded (a key must be known before plan); the reference still orders the two."""
    attributes: tuple[str, ...] = ("name",)
    """Attributes other resources can reference as ${KIND.NAME.ATTR}."""
    attribute_paths: Mapping[str, str] = field(default_factory=dict)
    """Where in the spec an attribute is set, when not a top-level field of the same name (e.g.
    a metric filter's `metric_name` is `metric.name`). An attribute the spec sets resolves, at
    plan time, to the spec's value; the others (ids, ARNs) come from AWS."""
    force_new: frozenset[str] = frozenset()
    """Attribute paths whose change needs a replacement (delete + create)."""
    derived_attributes: frozenset[str] = frozenset()
    """Attributes that follow from the resource's own spec and the account, Region and partition
    (an SQS queue's ARN), given by the reconciler's `derived_attributes`: plan knows them before
    the resource exists, so another resource's identity may reference them."""
    taggable: bool = True
    tag_api: TagApi | None = None
    """How tags are set and removed (every taggable kind has one; see TagApi)."""
    stateful: bool = False
    """Holds data: never deleted unless the command names it."""
    stateful_when: str | None = None
    """For a kind where only some resources hold data: which ones, in words (docs and schema);
    the reconciler's `holds_data` tells them apart."""
    parent: str | None = None
    """The parent kind for a child kind (declared nested under the parent)."""
    sensitive_fields: frozenset[str] = frozenset()
    """Attribute paths always masked in output."""
    lister: Lister | None = None
    """How `export --prefix` lists this kind's resources by name (top-level kinds); None: only
    `export --tag pacs-reconcile:stack=STACK` finds them."""
    create_before_destroy: bool = False
    """Replace by creating the new resource first, moving dependents to it, then deleting the old one
    (for kinds whose dependents cannot lose them, e.g. security groups in use). `create` must then
    cope with the old resource still existing (e.g. a generated name suffix)."""
    empty_is_a_setting: frozenset[str] = frozenset()
    """Fields unset by default whose empty value is more than "none": `export` writes them empty
    rather than leaving them unmanaged (a security group without egress rules: AWS gives every new
    group an allow-all one, so a spec without `egress` would not make that group again)."""
    identity_namespace: str | None = None
    """Kinds whose identities AWS holds in one namespace name it alike (metric and composite alarms:
    "alarms"): two entries must not share an identity across those kinds either, as within one
    (spec.references). None: the kind's identities are its own."""
    swept_type: str | None = None
    """The Resource Groups Tagging API's resource type (`service:type`, as in the resource's ARN)
    of a kind whose ownership comes from the owner-tag sweep and which a stack may declare by the
    hundred (alarms): a spec declaring more of them than a sweep page holds has them swept apart,
    side by side with the rest of the sweep (common.sweep_apart). None: swept with the rest."""
