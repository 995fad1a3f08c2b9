"""The contract every resource kind implements, and helpers the kinds share.

A kind is a spec model (pydantic, the AWS attributes of one entry) plus a Reconciler that reads
live state in batches, normalizes it onto the model's shape, and creates/updates/deletes. The
engine (not the kind) decides what to do: a reconciler never imports the engine.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Annotated, Any, ClassVar, get_args, get_origin

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator

from ..aws import AwsContext
from ..diff import Delta, TagChanges
from .kind import KindActions as KindActions
from .kind import KindMeta as KindMeta
from .kind import Lister as Lister
from .kind import TagApi as TagApi

Key = Hashable
"""AWS identity of a resource: a str for top-level kinds, (parent_key, child_name) for children."""


def is_unresolved(value: Any) -> bool:
    """True for a string still holding a ${...} reference: validators skip such values."""
    return isinstance(value, str) and "${" in value


class SpecModel(BaseModel):
    """Base of every kind's spec model: unknown keys are errors; the docstring under each field is
    its description in the JSON schema and the docs (read only for them: spec/field_docs.py).

    Numbers are strict: NaN and infinities are refused (no AWS API takes them, and a plan holding
    one never converges and cannot be written as JSON), and true/false is not a number (pydantic
    would read `evaluation_periods: true` as 1).

    A model's validator is built when it first validates (`defer_build`): a command builds those
    of the kinds its spec declares, not of every kind there is."""

    model_config = ConfigDict(extra="forbid", validate_default=True, allow_inf_nan=False, defer_build=True)

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        """`_no_boolean_numbers` narrowed to the fields that can hold a number (it passes any other
        value through): pydantic calls a field's before-validator for every value of every entry,
        and inspects its signature for every field it builds a validator for; a third of validating
        a large spec, and a fifth of building the validators, went to fields it has nothing to
        check in. Before any validator is built (`defer_build`); a model whose fields are not all
        known yet keeps it on every field."""
        super().__pydantic_init_subclass__(**kwargs)
        validators = cls.__pydantic_decorators__.field_validators
        check = validators.get(_BOOLEAN_NUMBERS)
        if check is None or cls.__pydantic_complete__:
            return
        fields: tuple[str, ...] = ("*",)
        if cls.__pydantic_fields_complete__:
            fields = tuple(
                name for name, info in cls.model_fields.items() if _may_hold_numbers(info.annotation)
            )
        if fields:
            validators[_BOOLEAN_NUMBERS] = replace(check, info=replace(check.info, fields=fields))
        else:
            del validators[_BOOLEAN_NUMBERS]

    @field_validator("*", mode="before")
    @classmethod
    def _no_boolean_numbers(cls, value: Any, info: ValidationInfo) -> Any:
        if not isinstance(value, bool | list):  # the only values it refuses (every field's every value)
            return value
        annotation = _number_annotation(cls, info.field_name or "")
        if annotation is not None and _holds_boolean_number(annotation, value):
            raise ValueError("must be a number, not true/false")
        return value


_BOOLEAN_NUMBERS = SpecModel._no_boolean_numbers.__name__

_NUMBER_ANNOTATIONS: dict[tuple[type[BaseModel], str], Any] = {}
"""(model, field) -> the field's annotation when a value of it can hold a number (itself, or items
of a list at any depth), else None: asked for every boolean and list a spec's entries hold."""


def _number_annotation(model: type[BaseModel], field_name: str) -> Any:
    key = (model, field_name)
    if key not in _NUMBER_ANNOTATIONS:
        field_info = model.model_fields.get(field_name)
        annotation = None if field_info is None else field_info.annotation
        _NUMBER_ANNOTATIONS[key] = annotation if _may_hold_numbers(annotation) else None
    return _NUMBER_ANNOTATIONS[key]


def _may_hold_numbers(annotation: Any) -> bool:
    """Whether `_holds_boolean_number(annotation, value)` can be true for some value."""
    if _numeric_only(annotation):
        return True
    if get_origin(annotation) is list:
        (item,) = get_args(annotation) or (Any,)
        return _may_hold_numbers(item)
    return False


def _numeric_only(annotation: Any) -> bool:
    """Whether a field's type accepts numbers but not booleans (int, float, their optionals)."""
    args = [a for a in get_args(annotation) if a is not type(None)] or [annotation]
    # An optional constrained number (`Annotated[int, Field(ge=1)] | None`) is a number too.
    args = [get_args(a)[0] if get_origin(a) is Annotated else a for a in args]
    return bool(args) and all(a in (int, float) for a in args)


def _holds_boolean_number(annotation: Any, value: Any) -> bool:
    if isinstance(value, bool):
        return _numeric_only(annotation)
    if isinstance(value, list) and get_origin(annotation) is list:
        (item,) = get_args(annotation) or (Any,)
        return any(_holds_boolean_number(item, v) for v in value)
    return False


@dataclass
class Live:
    """One resource as read from AWS, normalized onto its kind's spec shape."""

    key: Key
    state: dict[str, Any] = field(repr=False)
    """Spec-shaped attributes (same keys as the model dump), tags excluded."""
    attrs: dict[str, Any]
    """Referenceable attributes (arn, name, ...)."""
    tags: dict[str, str] | None = None
    """None for untaggable kinds."""
    handle: Any = None
    """Reconciler-private data needed to update or delete (ids, ARNs)."""
    notes: tuple[str, ...] = ()
    """Informational remarks shown in plans."""
    pending: str | None = None
    """Why this resource can be neither read in full nor changed yet (e.g. an SNS subscription
    awaiting confirmation): the engine reports it as pending, never as a difference."""


@dataclass(frozen=True)
class Desired:
    """A fully resolved desired resource, as handed to create/update."""

    address: str
    key: Key
    state: dict[str, Any]
    tags: dict[str, str]
    parent: Live | None = None
    base_dir: Path | None = None
    """The spec's folder: where relative paths of the entry (e.g. a code folder) are resolved."""
    config: Mapping[str, Any] = field(default_factory=dict)
    """The resolved spec entry before `canonical`: what the kind acts on but never compares (e.g. a
    Lambda function's code folder, relative to `base_dir`; `state` keeps only its hash)."""


@dataclass(frozen=True)
class ReadScope:
    """What a read must cover besides the declared keys."""

    stack: str
    parents: Mapping[Key, Live] = field(default_factory=dict)
    """For child kinds: the existing, owned parents whose children are listed in full."""
    full_scan: bool = False
    """Find owned resources by their tags alone, ignoring any record a kind keeps of what it
    created (`plan --full-scan`): e.g. the dashboards' ownership index."""
    completes: bool = False
    """The caller passes each declared resource's live state through `Reconciler.complete`, with
    its desired state, before it uses that state (the plan does): a kind may then leave out of the
    read what only a comparison with the desired state needs, e.g. a dashboard's body unchanged
    since this stack saw it."""
    namesakes: Sequence[Key] = ()
    """The keys the other kinds sharing this kind's identity namespace declare (KindMeta.
    identity_namespace): e.g. the composite alarms' names for the metric alarms' read. Kinds that
    share one read of their namespace (the alarms) read every declared name in it at once."""


class Reconciler(ABC):
    """Per-kind CRUD against AWS. Reads are batched; a failed read raises, never means absent."""

    meta: ClassVar[KindMeta]

    def key(self, state: Mapping[str, Any], parent_key: Key | None) -> Key:
        """AWS identity from the (variable-resolved) desired state."""
        ident = state[self.meta.identity]
        return (parent_key, ident) if self.meta.parent else ident

    def further_names(self, config: Mapping[str, Any]) -> tuple[str, ...]:
        """Names besides its identity that the resource holds in its kind's namespace (a KMS key's
        further aliases): two entries must not declare one, as they must not share an identity."""
        return ()

    def label(self, key: Key) -> str:
        """How an undeclared resource is named in output (override to hide a sensitive identity)."""
        ident = key[-1] if isinstance(key, tuple) else key
        return str(ident)

    def prepare(self, config: dict[str, Any], base_dir: Path) -> dict[str, Any]:
        """Called by the loader after validation, offline: derive what the desired state needs from
        files next to the spec (e.g. a code bundle's hash). Paths are relative to `base_dir` and must
        stay inside it. Raise ValueError for a problem; it is reported at the entry's location."""
        return config

    def parent_problems(self, config: Mapping[str, Any], parent: Mapping[str, Any]) -> dict[str, str]:
        """Called by the loader, offline, for a child declared under its parent: what AWS refuses of
        this child because of the parent's (validated) config, as field -> message (e.g. a replay
        policy on a subscription of a standard topic). Values still holding ${...} are not judged."""
        return {}

    def reference_problem(
        self,
        config: Mapping[str, Any],
        field: str,
        target_kind: str,
        attribute: str,
        target: Mapping[str, Any],
    ) -> str:
        """Called by the loader, offline, for each reference of this entry to a declared resource:
        what AWS refuses of this entry because of the referenced resource's (validated) config, ""
        when nothing. `field` is where the reference is written, within the entry (e.g.
        `redrive_policy.dead_letter_queue_arn`); `attribute` the one it names (e.g. `arn`). E.g. a
        FIFO queue's dead-letter queue named by reference must be a FIFO queue too."""
        return ""

    def spec_attributes(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """The referenceable attributes that the (resolved) desired config sets itself: what a
        reference to them means once this resource is applied, known at plan time."""
        out: dict[str, Any] = {}
        for attribute in self.meta.attributes:
            value: Any = config
            for part in self.meta.attribute_paths.get(attribute, attribute).split("."):
                value = value.get(part) if isinstance(value, Mapping) else None
            if value is not None:
                out[attribute] = value
        return out

    def derived_attributes(self, config: Mapping[str, Any], ctx: AwsContext) -> dict[str, Any]:
        """The attributes `meta.derived_attributes` names, from the (resolved) desired config and
        the account, Region and partition: what they will be once the resource exists."""
        return {}

    def refusal(self, ctx: AwsContext, desired: Mapping[str, Any], live: Live | None, stack: str) -> str:
        """Why plan must refuse a declared resource this stack may otherwise manage ("" when it need
        not): something its desired state (canonical) needs is held by what is not `stack`'s, e.g. a
        KMS alias pointing at another's key. Called after the read; reads only what the read shares."""
        return ""

    def holds_data(self, live: Live | None) -> bool:
        """Whether deleting or replacing this resource would lose data only it holds (then it is
        kept unless the command names it). Per resource, for kinds where only some do."""
        return self.meta.stateful

    def deletion_note(self, live: Live | None) -> str | None:
        """What deleting this resource does, said beside a planned delete or replacement, when it is
        not simply gone (e.g. a KMS key's deletion is scheduled days ahead and can be cancelled)."""
        return None

    def canonical(self, state: dict[str, Any]) -> dict[str, Any]:
        """Put a spec-shaped state into canonical form; applied to desired and live alike."""
        return state

    def renewed_by_update(self, delta: Delta) -> frozenset[str]:
        """Referenceable attributes an in-place update of `delta` gives a new value (a task
        definition's ARN: every change registers a new revision). Plan shows them to dependents as
        known after apply, so a dependent follows in the same apply."""
        return frozenset()

    def replacing_paths(self, delta: Delta) -> list[str]:
        """The paths of `delta` AWS cannot change in place: the declared force_new ones, and (for
        kinds where it depends on the direction of the change) those the kind adds."""
        return [path for path in self.meta.force_new if delta.different_at(path)]

    @abstractmethod
    def read(self, ctx: AwsContext, keys: Sequence[Key], scope: ReadScope) -> dict[Key, Live]:
        """Live state of every key in `keys` that exists, plus (top-level kinds) every resource
        carrying this stack's owner tag, or (child kinds) every child under `scope.parents`."""

    def read_ahead(self, ctx: AwsContext, keys: Sequence[Key], stack: str) -> None:
        """Called for a child kind with the keys its read will get, as the plan starts reading (its
        parents not read yet): start what that read needs and does not need its parents for (an
        account-wide listing), shared through `ctx` for `read` to take up. Costs no call the read
        would not make. Kinds with nothing to start keep this."""
        return None

    def complete(self, ctx: AwsContext, live: Live, desired: Mapping[str, Any] | None) -> Live | None:
        """A declared resource's live state in full, from what a read with `ReadScope.completes`
        returned and its desired state (canonical; None when there is none to compare with, e.g. in
        a destroy): what the read left out is read now unless the desired state shows what it is.
        None when the resource is gone meanwhile. Kinds whose reads leave nothing out keep this."""
        return live

    @abstractmethod
    def create(self, ctx: AwsContext, desired: Desired) -> Live:
        """Create with tags in the same call where the API allows; return the new live state."""

    @abstractmethod
    def update(self, ctx: AwsContext, desired: Desired, live: Live, delta: Delta) -> Live:
        """Converge the attributes named in `delta` (tags are handled by update_tags)."""

    @abstractmethod
    def delete(self, ctx: AwsContext, live: Live) -> None: ...

    def replace(self, ctx: AwsContext, desired: Desired, live: Live) -> Live:
        """Replace a resource AWS cannot change in place (not create_before_destroy): delete, then
        create. A kind overrides it to carry over to the new resource what the old one had."""
        self.delete(ctx, live)
        return self.create(ctx, desired)

    def update_tags(self, ctx: AwsContext, live: Live, changes: TagChanges) -> None:
        """Set and remove tags as the kind's `tag_api` describes."""
        api = self.meta.tag_api
        if api is None:
            raise NotImplementedError(f"{self.meta.kind} is not taggable")
        client = ctx.client(api.service)
        if changes.to_set:
            getattr(client, api.tag_operation)(**api.target(live), **api.tags(changes.to_set))
        if changes.to_unset:
            getattr(client, api.untag_operation)(**api.target(live), **api.keys(changes.to_unset))

    def before_creates(self, ctx: AwsContext, keys: Sequence[Key]) -> None:
        """Before an apply's first change: the `keys` of this kind it is about to create, in the
        order it will likely create them (a kind that looks before each create reads ahead)."""
        return None

    def shape_export(self, config: dict[str, Any], name: str) -> tuple[dict[str, Any], str]:
        """What `export` writes for a resource whose live state cannot say everything the spec
        needs (e.g. a function's code folder): (config, a note for the person reviewing the
        export, or "")."""
        return config, ""

    # Records of its own: for a kind whose owned resources no bulk API lists (dashboards), a record
    # of what the stack owns, kept by the kind. The engine calls these; other kinds need none.
    def records_to_repair(self, ctx: AwsContext, stack: str) -> str:
        """After a read: why the kind's own records must be rewritten by apply ("" when they are
        right). Not a change of any resource; shown in plans."""
        return ""

    def before_writes(self, ctx: AwsContext, stack: str, keys: Sequence[Key]) -> None:
        """Before an apply creates, updates or adopts the declared `keys` of this kind: record them
        ahead, so a crash between a create and its record cannot leave an unrecorded resource."""
        return None

    def after_writes(self, ctx: AwsContext, stack: str) -> None:
        """After an apply's creates and deletions: bring the kind's records up to date."""
        return None


# Lookups: existing infrastructure the spec reads but never changes ---------------------------


@dataclass(frozen=True)
class LookupMeta:
    kind: str
    model: type[SpecModel]
    title: str
    attributes: tuple[str, ...]
    actions: frozenset[str]
    """The IAM actions resolve() calls (read-only)."""
    list_attributes: frozenset[str] = frozenset()
    """The attributes whose value is a list (a subnets lookup's `ids`): text cannot embed them."""


class Lookup(ABC):
    meta: ClassVar[LookupMeta]

    @abstractmethod
    def resolve(self, ctx: AwsContext, spec: Mapping[str, Any]) -> dict[str, Any]:
        """The looked-up resource's attributes; raises LookupFailed when missing or ambiguous."""
