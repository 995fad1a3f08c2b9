"""`pacs-reconcile export`: spec YAML for resources that already exist, so a stack built by hand or
by Terraform can be adopted: export, review, plan (only the owner tags to add), apply.

Resources are found by name prefix (per kind) or by tag, then read with the kinds' own
reconcilers, so the YAML holds exactly what a plan compares and a plan of the exported spec shows
no difference. Each entry keeps only what differs from the model's defaults; children are nested
under their parent; ARNs, ids and names of other exported resources become references
(`${sns_topics.alerts.arn}`); the tool's own tags and `aws:` tags are dropped, and tags every
resource shares move to `defaults.tags`. A resource without this stack's owner tag gets
`lifecycle: {adopt: true}`. Values of fields a kind declares sensitive are never written: they
become sensitive variables read from the environment.

Listing by name prefix is per kind (the read-only `lister` each kind module declares in its
`KindMeta`; any other tag is matched on what those list); listing by the owner tag works for every
kind, through each reconciler's own owner-tag read. What a live state cannot say (a function's code
folder) is shaped by the kind's `shape_export`, and the result is checked with the loader before the
command ends.
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError

from . import OWNER_TAG, TAG_PREFIX
from .aws import AwsContext
from .engine.plan import PROTECTED_TAG
from .errors import ReconcileError, SpecError, UsageError
from .hints import did_you_mean
from .resources.base import Key, Live, ReadScope, Reconciler
from .resources.kind import Lister
from .resources.registry import KINDS, child_kinds, load_all, top_level_kinds

if TYPE_CHECKING:
    from .commands import Session

_SLUG_JUNK = re.compile(r"[^a-z0-9]+")
_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_AWS_ID = re.compile(r"[a-z]{1,12}-[0-9a-f]{8,17}")
_VARIABLE_JUNK = re.compile(r"[^A-Za-z0-9_]+")
NAME_TAG = "Name"
MIN_LINKED_NAME = 8
"""Shorter names are too likely to be plain words that merely look like a resource's name."""
MAX_REPAIRS = 20
"""At most this many fields of one entry are left unmanaged to make it valid (see _valid_config)."""


class NothingFound(ReconcileError):
    """The selection matched no resource."""


@dataclass(frozen=True)
class Selection:
    kinds: tuple[str, ...] = ()
    """Top-level kinds to export; empty means every kind that can be listed this way."""
    prefix: str | None = None
    tag: tuple[str, str] | None = None

    def describe(self) -> str:
        kinds = f" among {', '.join(self.kinds)}" if self.kinds else ""
        if self.tag is not None:
            return f"the tag {self.tag[0]}={self.tag[1]}{kinds}"
        return f"the name prefix {self.prefix!r}{kinds}"


@dataclass
class Entry:
    """One exported resource, on its way to YAML."""

    kind: str
    name: str
    address: str
    live: Live
    config: dict[str, Any]
    tags: dict[str, str] | None
    adopt: bool
    children: dict[str, list[Entry]] = field(default_factory=dict)
    depends_on: list[str] = field(default_factory=list)


@dataclass
class Export:
    stack: str
    region: str
    entries: dict[str, list[Entry]]
    """Top-level kind -> its exported entries (children nested inside)."""
    variables: dict[str, dict[str, Any]] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict, repr=False)
    """Variable name -> the value it stands for: never written, only used to check the result."""
    default_tags: dict[str, str] = field(default_factory=dict)
    lookups: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Lookup name -> its body: existing resources the entries name but do not manage."""
    notes: list[str] = field(default_factory=list)

    def all_entries(self) -> Iterator[Entry]:
        def walk(entries: list[Entry]) -> Iterator[Entry]:
            for entry in entries:
                yield entry
                for children in entry.children.values():
                    yield from walk(children)

        for entries in self.entries.values():
            yield from walk(entries)


# Listing by name prefix (read-only) -----------------------------------------------------------


def listers() -> dict[str, Lister]:
    """The kinds that can be listed by name prefix, each with its module's lister."""
    load_all()
    return {kind: r.meta.lister for kind, r in KINDS.items() if r.meta.lister is not None}


# The export ----------------------------------------------------------------------------------


def export(ctx: AwsContext, stack: str, selection: Selection) -> Export:
    """Find, read and shape the selected resources. Only reads AWS."""
    load_all()
    return _Exporter(ctx, stack).run(selection)


def check_selection(selection: Selection) -> list[str]:
    """The top-level kinds to export; a UsageError for a selection that cannot work."""
    load_all()
    if (selection.prefix is None) == (selection.tag is None):
        raise UsageError("give exactly one of --prefix and --tag")
    known = top_level_kinds()
    for kind in selection.kinds:
        if kind not in known:
            raise UsageError(f"--kind {kind}: not a top-level kind" + did_you_mean(kind, known))
    if _by_owner_tag(selection):
        return sorted(selection.kinds or known)
    listed = listers()
    unlisted = sorted(k for k in selection.kinds if k not in listed)
    if unlisted:
        raise UsageError(
            f"export cannot list {', '.join(unlisted)} by name prefix or tag yet; export "
            f"what a stack owns with --tag {OWNER_TAG}=STACK"
        )
    return sorted(selection.kinds or [k for k in known if k in listed])


def _by_owner_tag(selection: Selection) -> bool:
    return selection.tag is not None and selection.tag[0] == OWNER_TAG


class _Exporter:
    def __init__(self, ctx: AwsContext, stack: str) -> None:
        self.ctx = ctx
        self.stack = stack
        self.result = Export(stack, ctx.region, {})

    def run(self, selection: Selection) -> Export:
        kinds = check_selection(selection)
        if not selection.kinds and not _by_owner_tag(selection):
            skipped = sorted(set(top_level_kinds()) - set(listers()))
            if skipped:
                self.result.notes.append(
                    f"not listed by name or tag (export them with --tag {OWNER_TAG}="
                    f"STACK): {', '.join(skipped)}"
                )
        for kind in kinds:
            entries = self._entries(kind, self._find(kind, selection), None)
            if entries:
                self.result.entries[kind] = entries
        if not self.result.entries:
            raise NothingFound(f"no resource matched {selection.describe()} in {self.ctx.region}")
        finish(self.result)
        return self.result

    def _find(self, kind: str, selection: Selection) -> dict[Key, Live]:
        reconciler = KINDS[kind]
        if selection.tag is not None and _by_owner_tag(selection):
            owner = selection.tag[1]
            found = reconciler.read(self.ctx, [], ReadScope(owner))
            if not reconciler.meta.taggable:
                return found  # a top-level kind without tags reads only what its record proves owned
            return {k: v for k, v in found.items() if (v.tags or {}).get(OWNER_TAG) == owner}
        keys = listers()[kind](self.ctx, selection.prefix or "")
        if not keys:
            return {}
        wanted = set(keys)
        read = reconciler.read(self.ctx, keys, ReadScope(self.stack))
        found = {k: v for k, v in read.items() if k in wanted}
        if selection.tag is not None:
            tag_key, tag_value = selection.tag
            found = {k: v for k, v in found.items() if (v.tags or {}).get(tag_key) == tag_value}
        return found

    def _entries(self, kind: str, found: Mapping[Key, Live], parent: Entry | None) -> list[Entry]:
        reconciler = KINDS[kind]
        entries: list[Entry] = []
        used: set[str] = set()
        for key, live in sorted(found.items(), key=lambda item: str(item[0])):
            if reconciler.key(live.state, parent.live.key if parent else None) != key:
                # e.g. a duplicate the kind lists under a key of its own so a plan prunes it
                why = "; ".join(live.notes) or "another resource has the same identity"
                self.result.notes.append(f"skipped {reconciler.meta.title} {reconciler.label(key)!r}: {why}")
                continue
            entries.append(self._entry(reconciler, live, parent, used))
        for child_kind in sorted(child_kinds(kind)):
            self._children(child_kind, entries)
        return entries

    def _entry(self, reconciler: Reconciler, live: Live, parent: Entry | None, used: set[str]) -> Entry:
        name = unique_name(_entry_name(reconciler, live), used)
        return shaped_entry(self.result, self.stack, reconciler, live, name, parent)

    def _children(self, kind: str, parents: list[Entry]) -> None:
        """Every child under the exported parents (a child read lists each parent in scope in full)."""
        if not parents:
            return
        scope = ReadScope(self.stack, {entry.live.key: entry.live for entry in parents})
        found = KINDS[kind].read(self.ctx, [], scope)
        for parent in parents:
            mine: dict[Key, Live] = {
                k: v for k, v in found.items() if isinstance(k, tuple) and k[0] == parent.live.key
            }
            entries = self._entries(kind, mine, parent)
            if entries:
                parent.children[kind] = entries


def finish(result: Export) -> None:
    """Shared tags to `defaults.tags`, values naming other entries to references, secrets to
    sensitive variables."""
    _hoist_common_tags(result)
    _link_references(result)
    _hide_sensitive(result)


def shaped_entry(
    result: Export, stack: str, reconciler: Reconciler, live: Live, name: str, parent: Entry | None
) -> Entry:
    """An entry for `live` (spec-shaped state): only what differs from the defaults, what the model
    refuses left unmanaged (noted), adopt unless this stack owns it already."""
    meta = reconciler.meta
    address = f"{parent.address}.{meta.kind}.{name}" if parent else f"{meta.kind}.{name}"
    config, unmanaged = _valid_config(meta.model, _pruned(meta.model, live.state, meta.empty_is_a_setting))
    if unmanaged:
        result.notes.append(f"{address}: left unmanaged (not written): {', '.join(unmanaged)}")
    config = _escaped(config)
    config, note = reconciler.shape_export(config, name)
    if note:
        result.notes.append(f"{address}: {note}")
    owner = (live.tags or {}).get(OWNER_TAG)
    adopt = meta.taggable and owner != stack
    if adopt and owner:
        result.notes.append(
            f"{address} belongs to stack {owner!r}, which adopt refuses: export it "
            f"with --stack {owner} for that stack's spec"
        )
    if live.pending:
        result.notes.append(f"{address}: {live.pending}")
    tags = _escaped(_own_tags(live.tags)) if meta.taggable else None
    return Entry(meta.kind, name, address, live, config, tags, adopt)


def _entry_name(reconciler: Reconciler, live: Live) -> str:
    """The identity, slugified; for a secret identity, the first other text field (a protocol)."""
    meta = reconciler.meta
    if meta.identity not in meta.sensitive_fields:
        return slug(str(live.state.get(meta.identity) or reconciler.label(live.key)))
    for name in meta.model.model_fields:
        value = live.state.get(name)
        if name not in meta.sensitive_fields and isinstance(value, str) and value:
            return slug(value)
    return slug(meta.kind)


def slug(text: str) -> str:
    """A valid entry name (letters, digits, '_'; not starting with a digit) from an AWS name:
    `/aws/ecs/pacs-backend` -> `aws_ecs_pacs_backend`, `AllowFromEvents` -> `allow_from_events`."""
    words = _CAMEL_BOUNDARY.sub("_", text)
    name = _SLUG_JUNK.sub("_", words.lower()).strip("_") or "resource"
    return f"r_{name}" if name[0].isdigit() else name


def unique_name(name: str, used: set[str]) -> str:
    candidate, number = name, 2
    while candidate in used:
        candidate, number = f"{name}_{number}", number + 1
    used.add(candidate)
    return candidate


def _own_tags(tags: Mapping[str, str] | None) -> dict[str, str]:
    """The tags a spec writes: not the tool's own (owner, fingerprint) nor `aws:` ones (AWS's)."""
    return {
        k: v
        for k, v in sorted((tags or {}).items())
        if not k.startswith(TAG_PREFIX) and not k.lower().startswith("aws:")
    }


def _pruned(
    model: type[BaseModel], state: Mapping[str, Any], empty_is_a_setting: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """`state` without what the spec need not say: unset values and values equal to the default.

    An empty value of a field whose default is "unset" is dropped too: it leaves the field
    unmanaged rather than managed as empty, which plans the same against this live state; but not
    one of `empty_is_a_setting`, whose empty value a resource made from the export would not get.
    """
    out: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        value = state.get(name)
        if value is None:
            continue
        value = _pruned_nested(info.annotation, value)
        if not info.is_required():
            default = info.get_default(call_default_factory=True)
            if isinstance(default, BaseModel):
                default = default.model_dump(mode="json")
            empty = default is None and value in ("", {}, []) and name not in empty_is_a_setting
            if value == default or empty:
                continue
        out[name] = value
    return out


def _valid_config(model: type[BaseModel], config: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """`config`, with the optional fields the model refuses left out (unmanaged), and their names.

    Live state may hold values a spec could not declare together (AWS reports a default filter
    policy scope without a filter policy, raw delivery false for an email subscription): leaving
    such a field unmanaged keeps the plan empty, as unset fields are never compared.
    """
    removed: list[str] = []
    for _ in range(MAX_REPAIRS):
        try:
            model.model_validate(config)
            return config, removed
        except ValidationError as exc:
            field_name = _optional_field_in(exc, model, config)
            if field_name is None:
                return config, removed  # the plan's validation will say what is wrong
            config = {k: v for k, v in config.items() if k != field_name}
            removed.append(field_name)
    return config, removed


def _optional_field_in(exc: ValidationError, model: type[BaseModel], config: Mapping[str, Any]) -> str | None:
    for error in exc.errors():
        loc = error["loc"]
        name = str(loc[0]) if loc else ""
        info = model.model_fields.get(name)
        if info is not None and not info.is_required() and name in config:
            return name
    return None


def _pruned_nested(annotation: Any, value: Any) -> Any:
    """`value` with the nested models it holds pruned: a model, or a list or mapping of them."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return _pruned(annotation, value) if isinstance(value, Mapping) else value
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is list and args and isinstance(value, list):
        return [_pruned_nested(args[0], item) for item in value]
    if origin is dict and len(args) == 2 and isinstance(value, Mapping):
        return {key: _pruned_nested(args[1], item) for key, item in value.items()}
    if origin is dict and isinstance(value, str) and value.startswith("{"):
        # A document a kind compares whole keeps its canonical JSON text in live state (an SNS
        # subscription's filter, redrive, delivery and replay policies): the spec writes a mapping.
        with suppress(ValueError):
            parsed = json.loads(value)
            if isinstance(parsed, dict):
                return parsed
    for arg in args:  # Optional[...], unions, Annotated[...]
        if arg is not type(None):
            pruned = _pruned_nested(arg, value)
            if pruned is not value:
                return pruned
    return value


def _hoist_common_tags(result: Export) -> None:
    """Tags that every exported taggable resource carries with one value become `defaults.tags`
    (not `Name`: it names one resource, even where several happen to share it)."""
    tagged = [entry for entry in result.all_entries() if entry.tags is not None]
    if len(tagged) < 2:
        return
    common = {k: v for k, v in (tagged[0].tags or {}).items() if k != NAME_TAG}
    for entry in tagged[1:]:
        common = {k: v for k, v in common.items() if (entry.tags or {}).get(k) == v}
    result.default_tags = common
    for entry in tagged:
        entry.tags = {k: v for k, v in (entry.tags or {}).items() if k not in common}


def _link_references(result: Export) -> None:
    """A value equal to an ARN, id or name of another exported resource becomes a reference to it:
    the spec then keeps working when that resource is replaced, and the plan orders the two. A
    value several resources share is left as it is (which one it means is not known)."""
    candidates: Candidates = {}
    for entry in result.all_entries():
        for attribute in KINDS[entry.kind].meta.attributes:
            value = entry.live.attrs.get(attribute)
            if isinstance(value, str) and _linkable(attribute, value):
                candidates.setdefault(value, set()).add((entry.address, attribute))
    links: Links = {}
    for entry in result.all_entries():
        identity = KINDS[entry.kind].meta.identity
        for name, value in entry.config.items():
            if name != identity:
                entry.config[name] = _linked(value, candidates, entry.address, links)
        # An identity cannot be a reference (it must be known before plan): order by depends_on,
        # unless it is the entry's own name (which other kinds' resources may merely share).
        ident = entry.config.get(identity)
        own = {address for address, _ in candidates.get(ident, ())} if isinstance(ident, str) else set()
        target = _target(ident, candidates, entry.address)
        if target is not None and entry.address not in own:
            entry.depends_on.append(target[0])


Candidates = dict[str, set[tuple[str, str]]]
"""Attribute value -> the (address, attribute) pairs of exported resources that have it."""


def _linkable(attribute: str, value: str) -> bool:
    """ARNs, AWS ids (fs-0123abcd) and names that cannot be a common word."""
    if attribute == "arn" or attribute.endswith("_arn"):
        return value.startswith("arn:")
    if attribute == "id" or attribute.endswith("_id"):
        return _AWS_ID.fullmatch(value) is not None
    return attribute == "name" and len(value) >= MIN_LINKED_NAME and not value.isalpha()


def _target(value: Any, candidates: Candidates, own_address: str) -> tuple[str, str] | None:
    """The one other resource `value` names; never the entry itself or its parents (a reference
    to them would be a cycle)."""
    if not isinstance(value, str):
        return None
    targets = [
        (address, attribute)
        for address, attribute in candidates.get(value, ())
        if address != own_address and not own_address.startswith(address + ".")
    ]
    return targets[0] if len(targets) == 1 else None


Links = dict[str, set[str]]
"""Address -> the addresses its references made so far name."""


def _linked(value: Any, candidates: Candidates, own_address: str, links: Links) -> Any:
    """`value` with what names one other exported resource as a reference to it, unless that
    reference would close a cycle (a queue naming its dead-letter queue, which names the queue
    as an allowed source): that one stays literal, as a spec with a cycle cannot be planned."""
    if isinstance(value, dict):
        return {k: _linked(v, candidates, own_address, links) for k, v in value.items()}
    if isinstance(value, list):
        return [_linked(v, candidates, own_address, links) for v in value]
    target = _target(value, candidates, own_address)
    if target is None or _reaches(links, target[0], own_address):
        return value
    links.setdefault(own_address, set()).add(target[0])
    return f"${{{target[0]}.{target[1]}}}"


def _reaches(links: Links, start: str, goal: str) -> bool:
    """Whether the references recorded lead from `start` to `goal` (or a child of it)."""
    seen: set[str] = set()
    todo = [start]
    while todo:
        current = todo.pop()
        if current == goal or current.startswith(goal + "."):
            return True
        if current not in seen:
            seen.add(current)
            todo.extend(links.get(current, ()))
    return False


def _hide_sensitive(result: Export) -> None:
    """Sensitive field values become `${var.X}` of sensitive variables set from the environment."""
    for entry in result.all_entries():
        for path in sorted(KINDS[entry.kind].meta.sensitive_fields):
            value = _get_path(entry.config, path)
            if value is None:
                continue
            entry_names = entry.address.split(".")[1::2]  # the address without its kinds
            wanted = _VARIABLE_JUNK.sub("_", "_".join([*entry_names, path])).strip("_")
            name = unique_name(wanted, set(result.variables))
            result.variables[name] = {"type": "str", "sensitive": True, "from_env": name.upper()}
            result.secrets[name] = str(value)
            _set_path(entry.config, path, f"${{var.{name}}}")


def _get_path(config: Mapping[str, Any], path: str) -> Any:
    current: Any = config
    for part in path.split("."):
        if not isinstance(current, Mapping):
            return None
        current = current.get(part)
    return current


def _set_path(config: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    current = config
    for part in parents:
        current = current[part]
    current[last] = value


def _escaped(value: Any) -> Any:
    """Live text holding `${` written as `$${`, so the loader reads it back literally."""
    if isinstance(value, dict):
        return {k: _escaped(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_escaped(v) for v in value]
    return value.replace("${", "$${") if isinstance(value, str) else value


# Writing -------------------------------------------------------------------------------------


def document(result: Export) -> dict[str, Any]:
    """The root spec the export stands for (sections in kind order, entries by name)."""
    out: dict[str, Any] = {"version": 1, "stack": result.stack, "region": result.region}
    if result.variables:
        out["variables"] = result.variables
    if result.default_tags:
        out["defaults"] = {"tags": result.default_tags}
    if result.lookups:
        out["lookups"] = result.lookups
    for kind, entries in result.entries.items():
        out[kind] = {entry.name: _body(entry) for entry in entries}
    return out


def _body(entry: Entry) -> dict[str, Any]:
    body = dict(entry.config)
    if entry.tags:
        body["tags"] = entry.tags
    lifecycle: dict[str, bool] = {}
    if entry.adopt:
        lifecycle["adopt"] = True
    if entry.live.tags and entry.live.tags.get(PROTECTED_TAG) == "true":
        lifecycle["prevent_destroy"] = True  # the protection outlives the spec: keep declaring it
    if lifecycle:
        body["lifecycle"] = lifecycle
    if entry.depends_on:
        body["depends_on"] = entry.depends_on
    for kind, children in entry.children.items():
        body[kind] = {child.name: _body(child) for child in children}
    return body


class _Dumper(yaml.SafeDumper):
    """Reads like a hand-written spec: multi-line text (queries) as blocks, lists of plain values
    (actions, dashboard metric rows) on one line."""


def _represent_text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)


def _represent_list(dumper: yaml.SafeDumper, value: list[Any]) -> yaml.SequenceNode:
    flat = all(isinstance(item, str | int | float | bool) and "\n" not in str(item) for item in value)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=flat and bool(value))


_Dumper.add_representer(str, _represent_text)
_Dumper.add_representer(list, _represent_list)


def render(result: Export, command: str) -> str:
    adopted = sum(1 for entry in result.all_entries() if entry.adopt)
    header = [
        f"# Exported with `{command}` (region {result.region}).",
        "# Review it, then `pacs-reconcile plan -f THIS_FILE`: it should show no difference"
        + (
            f" except the owner tag on the {adopted} resources marked adopt: true"
            " (the first apply tags them)."
            if adopted
            else "."
        ),
    ]
    if result.variables:
        names = ", ".join(str(v["from_env"]) for v in result.variables.values())
        header.append(f"# Sensitive values were not written: set {names} in the environment.")
    body = yaml.dump(document(result), Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=110)
    return "\n".join(header) + "\n" + body


def check(text: str, result: Export, written: Path | None) -> list[str]:
    """What the loader finds wrong in the exported spec (offline), as notes. A written file is
    loaded where it is, so the folders it names (function code) are looked for next to it."""
    from .spec.loader import load_spec

    def problems(path: Path) -> list[str]:
        try:
            load_spec(path, cli_vars=result.secrets, environ={})
        except SpecError as exc:
            return [f"the exported spec needs an edit: {d}" for d in exc.diagnostics]
        return []

    if written is not None:
        return problems(written)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "exported.yaml"
        path.write_text(text, encoding="utf-8")
        return problems(path)


# The command ---------------------------------------------------------------------------------


def parse_tag(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise UsageError(f"--tag {text!r}: expected KEY=VALUE")
    return key, value


def run(
    session: Session,
    *,
    kinds: list[str],
    prefix: str | None,
    tag: str | None,
    stack: str | None,
    out: Path | None,
) -> int:
    """`pacs-reconcile export`: check the options, read AWS, write the YAML, say what to review."""
    from .aws import AwsSettings
    from .errors import ExitStatus
    from .outfile import write_document
    from .spec.loader import STACK_NAME

    selection = Selection(tuple(kinds), prefix, parse_tag(tag) if tag is not None else None)
    check_selection(selection)
    if stack is None and selection.tag is not None and _by_owner_tag(selection):
        stack = selection.tag[1]
    if stack is None:
        raise UsageError("--stack NAME is needed: the stack the exported spec is for (its owner tag value)")
    if not STACK_NAME.match(stack):
        raise UsageError(f"--stack {stack!r}: 1-63 letters, digits, '.', '_' or '-'")
    options = session.options
    region = options.region or _configured_region(options.profile)
    if region is None:
        raise UsageError("no AWS region: pass --region (or set AWS_REGION, or a region in the AWS profile)")
    settings = AwsSettings(region=region, profile=options.profile, endpoint_url=options.endpoint_url)
    result = export(AwsContext(settings, stack=stack), stack, selection)
    session.redactor.add(list(result.secrets.values()))
    text = render(result, _command_line(selection, stack))
    write_document(session, text, out, "the exported spec")
    problems = check(text, result, out)
    for note in [*result.notes, *problems]:
        session.say(f"note: {note}", "yellow")
    entries = list(result.all_entries())
    adopted = sum(1 for entry in entries if entry.adopt)
    session.say(f"Exported {len(entries)} resources ({adopted} to adopt) for stack {stack}.", "bold green")
    if result.variables:
        names = " ".join(f"{v['from_env']}=..." for v in result.variables.values())
        session.say(f"Sensitive values were not written; before plan: export {names}")
    return ExitStatus.OK


def _configured_region(profile: str | None) -> str | None:
    """The region the AWS CLI would use (environment, then profile), if any: export has no spec
    to take one from, and guessing one would export the wrong region's resources."""
    import boto3

    region = boto3.Session(profile_name=profile).region_name
    return str(region) if region else None


def _command_line(selection: Selection, stack: str) -> str:
    parts = ["pacs-reconcile export", *(f"--kind {kind}" for kind in selection.kinds)]
    if selection.prefix is not None:
        parts.append(f"--prefix {selection.prefix}" if selection.prefix else "--prefix ''")
    if selection.tag is not None:
        parts.append(f"--tag {selection.tag[0]}={selection.tag[1]}")
    parts.append(f"--stack {stack}")
    return " ".join(parts)
