"""The JSON Schema of the spec, built from the registry: every kind's model (children nested under
their parent), the lookups, the loader's root keys and the meta keys every entry may carry.

Editors read it through yaml-language-server (the VS Code YAML extension and others) for
completion, hover docs and checks as you type. It is written in JSON Schema draft-07, the draft
that server fully supports. `pacs-reconcile validate` stays the authority: a schema cannot check
references, cycles or rules that span several fields.

A value may be a `${...}` expression where the model wants a number, a boolean, one of a set of
words or a patterned string (it is substituted at load or plan time), so every such value also
accepts a string holding a `${...}`.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from . import OWNER_TAG, TAG_PREFIX
from .resources.kind import KindMeta
from .resources.registry import KINDS, LOOKUPS, child_kinds, load_all, top_level_kinds
from .spec.field_docs import document
from .spec.loader import ENTRY_NAME, REGION, ROOT_KEYS, STACK_NAME
from .spec.model import AssumeRole, EnvironmentSettings, Lifecycle
from .spec.variables import NAME as VARIABLE_NAME
from .spec.variables import TYPES as VARIABLE_TYPES

if TYPE_CHECKING:
    from .commands import Session

Schema = dict[str, Any]

DRAFT = "http://json-schema.org/draft-07/schema#"
ROOT_FILE = "monitoring.schema.json"
INCLUDED_FILE = "include.schema.json"
REFERENCE_DEF = "reference"
LOOKUP_DEF = "lookup"

document(Lifecycle, EnvironmentSettings)  # their field descriptions are quoted below and by the docs

# Descriptions of what the loader (not a model) defines; the docs quote them too.
ROOT_DESCRIPTIONS: dict[str, str] = {
    "version": "Spec format version; 1 is the only one so far.",
    "stack": "Stack name: written as the tag `pacs-reconcile:stack` on everything this spec manages "
    "(1-63 letters, digits, '.', '_' or '-', starting with a letter or digit).",
    "region": "AWS region of the stack; `--region` overrides it, AWS config is used when neither is set.",
    "include": "Files holding more sections (resources and lookups): glob patterns relative to this "
    "file, e.g. `[specs/*.yaml]`; never outside this file's folder.",
    "variables": "Typed inputs, used as `${var.NAME}`. A declaration is a mapping (type, default, "
    "sensitive, from_env, description, allowed) or a bare default value.",
    "environments": "Named overlays chosen with `--env NAME` (`--env all`: every one, for plan and "
    "drift); each sets variable values, and may set its own `stack`, `region`, an `account_id` guard "
    "and an `assume_role`.",
    "defaults": "Settings every entry inherits: `tags` (an entry's own tags win).",
    "lookups": "Existing infrastructure the spec reads but never changes: `NAME: {kind: KIND, ...}`, "
    "used as `${lookups.NAME.ATTR}`.",
    "removed": "Resources taken out of the spec on purpose, by the address plan shows for them "
    '(`KIND["identity"]`): `destroy: false` releases one (the tool\'s tags come off, it stays in AWS '
    "and is no longer managed), `destroy: true` deletes it even if it holds data or was protected.",
}
META_DESCRIPTIONS: dict[str, str] = {
    "tags": f"Tags of this resource, merged over `defaults.tags`. Keys starting with `{TAG_PREFIX}` "
    f"are the tool's own (the owner tag `{OWNER_TAG}`), those starting with `aws:` are AWS's.",
    "lifecycle": str(Lifecycle.__doc__).rstrip(".")
    + ": "
    + "; ".join(
        f"`{name}`: {' '.join(str(info.description).split()).rstrip('.')}"
        for name, info in Lifecycle.model_fields.items()
    )
    + ".",
    "when": 'Keep this entry only when the value is true (false, 0, "", "false" and "no" are '
    'false), e.g. `${var.slack_webhook_url}` or `${var.environment == "prod"}`. Variables, '
    "each.* and literals only.",
    "for_each": 'A list or a mapping: one instance per item, addressed `KIND.NAME["KEY"]`, with '
    "`${each.key}` and `${each.value}`. Variables and literals only.",
    "depends_on": "Addresses this entry waits for besides the ones it references, e.g. "
    "`[sns_topics.alerts]`.",
}
VARIABLE_DESCRIPTIONS: dict[str, str] = {
    "type": "The value's type; inferred from `default` when omitted (str otherwise).",
    "default": "The value used when neither --var, from_env nor the --env overlay sets one.",
    "sensitive": "Never print the value (plans, errors and saved plans show `(sensitive value)`).",
    "from_env": "Environment variable that sets the value (it wins over overlays and the default).",
    "description": "What the variable is for.",
    "allowed": "The only values accepted.",
    "required_in": "Environments where the default is only a placeholder: apply refuses to run there "
    "until --var, from_env or the overlay sets a value (e.g. `[prod, staging]`).",
}
REFERENCE_DESCRIPTION = (
    "A `${...}` expression, substituted before the value is used: `${var.NAME}`, `${each.key}`, "
    "`${each.value}`, `${KIND.NAME.ATTR}` or `${lookups.NAME.ATTR}`."
)

# Schema keywords whose value is one subschema, a list of them, or a mapping of name -> subschema.
_ONE = (
    "items",
    "additionalProperties",
    "additionalItems",
    "not",
    "if",
    "then",
    "else",
    "propertyNames",
    "contains",
)
_MANY = ("anyOf", "allOf", "oneOf")
_NAMED = ("properties", "patternProperties", "definitions")
_DOC_KEYWORDS = {"description", "default", "examples", "title"}


def spec_schema() -> Schema:
    """The schema of the root spec file (monitoring.yaml)."""
    definitions = Definitions()
    sections = definitions.sections()
    properties: Schema = {
        "version": {"const": 1, "description": ROOT_DESCRIPTIONS["version"]},
        "stack": {"type": "string", "pattern": STACK_NAME.pattern, "description": ROOT_DESCRIPTIONS["stack"]},
        "region": {"type": "string", "pattern": REGION.pattern, "description": ROOT_DESCRIPTIONS["region"]},
        "include": {
            "description": ROOT_DESCRIPTIONS["include"],
            "anyOf": [
                {"type": "string", "minLength": 1},
                {"type": "array", "items": {"type": "string", "minLength": 1}},
            ],
        },
        "variables": {
            "type": "object",
            "description": ROOT_DESCRIPTIONS["variables"],
            "propertyNames": {"pattern": VARIABLE_NAME.pattern},
            "additionalProperties": _variable_declaration(),
        },
        "environments": {
            "type": "object",
            "description": ROOT_DESCRIPTIONS["environments"],
            "additionalProperties": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "variables": {
                        "type": "object",
                        "description": "Variable values in this environment: NAME: VALUE.",
                    },
                    **_environment_settings(),
                },
            },
        },
        "defaults": {
            "type": "object",
            "description": ROOT_DESCRIPTIONS["defaults"],
            "additionalProperties": False,
            "properties": {"tags": _tags_schema("Tags on every taggable resource of the stack.")},
        },
        "removed": {
            "type": "array",
            "description": ROOT_DESCRIPTIONS["removed"],
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["from", "destroy"],
                "properties": {
                    "from": {
                        "type": "string",
                        "pattern": r"^[A-Za-z_][A-Za-z0-9_]*\[.+\]$",
                        "description": 'KIND["identity"], e.g. log_groups["/aws/ecs/legacy"].',
                    },
                    "destroy": {
                        "type": "boolean",
                        "description": "false: release (keep in AWS, stop managing); true: delete.",
                    },
                },
            },
        },
        **sections,
    }
    missing = set(ROOT_KEYS) - set(properties)
    if missing:
        raise RuntimeError(f"root keys of the loader without a schema: {sorted(missing)}")
    return _document(
        "pacs-reconcile spec",
        "The root spec file (monitoring.yaml): header, variables, environments, defaults, lookups and "
        "resource sections.",
        properties,
        definitions.finish(properties),
        required=["version", "stack"],
    )


def included_schema() -> Schema:
    """The schema of a file the root includes (specs/*.yaml): resource sections and lookups only."""
    definitions = Definitions()
    properties = definitions.sections()
    return _document(
        "pacs-reconcile included spec file",
        "A file included by the root spec: resource sections and lookups.",
        properties,
        definitions.finish(properties),
    )


def render(schema: Schema) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def _document(
    title: str, description: str, properties: Schema, definitions: Schema, required: list[str] | None = None
) -> Schema:
    document: Schema = {
        "$schema": DRAFT,
        "title": title,
        "description": description,
        "type": "object",
        "additionalProperties": False,
        "properties": properties,
    }
    if required:
        document["required"] = required
    document["definitions"] = definitions
    return document


class Definitions:
    """The `definitions` section: model schemas from pydantic, relaxed for ${...}, plus entries."""

    def __init__(self) -> None:
        load_all()
        self.kinds = sorted(KINDS)
        self.lookups = sorted(LOOKUPS)
        models: list[type[BaseModel]] = [KINDS[k].meta.model for k in self.kinds]
        models += [LOOKUPS[k].meta.model for k in self.lookups]
        models.append(Lifecycle)
        document(*models)  # the descriptions every field's JSON schema and docs row carries
        refs, top = models_json_schema(
            [(m, "validation") for m in dict.fromkeys(models)], ref_template="#/definitions/{model}"
        )
        self.defs: Schema = _to_draft7(top.get("$defs", {}))
        self.name_of = {model: _ref_name(ref["$ref"]) for (model, _), ref in refs.items()}
        lookup_defs = {self.name_of[LOOKUPS[k].meta.model] for k in self.lookups}
        for name, schema in self.defs.items():
            if name != self.name_of[Lifecycle]:
                _relax_properties(schema, keep=("kind",) if name in lookup_defs else ())
        self.defs[REFERENCE_DEF] = {
            "type": "string",
            "pattern": r"\$\{[^{}]*\}",
            "description": REFERENCE_DESCRIPTION,
        }

    def sections(self) -> Schema:
        """Root properties for every top-level kind and `lookups` (adds their entry definitions)."""
        out: Schema = {}
        for kind in self.kinds:
            self.defs[f"kind.{kind}"] = self._entry(KINDS[kind].meta)
        for kind in top_level_kinds_sorted():
            out[kind] = _section(KINDS[kind].meta, self._entry_ref(kind))
        for kind in self.lookups:
            self.defs[f"lookup.{kind}"] = self.defs[self.name_of[LOOKUPS[kind].meta.model]]
        self.defs[LOOKUP_DEF] = self._lookup_dispatch()
        out["lookups"] = {
            "type": "object",
            "description": ROOT_DESCRIPTIONS["lookups"],
            "additionalProperties": {"$ref": f"#/definitions/{LOOKUP_DEF}"},
        }
        return out

    def finish(self, properties: Schema) -> Schema:
        """The definitions still referenced from `properties` (directly or through each other)."""
        used: set[str] = set()
        pending = list(_refs_in({"properties": properties}))
        while pending:
            name = pending.pop()
            if name not in used:
                used.add(name)
                pending.extend(_refs_in(self.defs[name]))
        return {name: self.defs[name] for name in sorted(used)}

    def _entry_ref(self, kind: str) -> Schema:
        return {"$ref": f"#/definitions/kind.{kind}"}

    def _entry(self, meta: KindMeta) -> Schema:
        model_schema = copy.deepcopy(self.defs[self.name_of[meta.model]])
        properties: Schema = dict(model_schema.get("properties", {}))
        if meta.taggable:
            properties["tags"] = _tags_schema(META_DESCRIPTIONS["tags"])
        properties["lifecycle"] = {
            "allOf": [{"$ref": f"#/definitions/{self.name_of[Lifecycle]}"}],
            "description": META_DESCRIPTIONS["lifecycle"],
        }
        properties["when"] = {
            "type": ["boolean", "string", "number", "null"],
            "description": META_DESCRIPTIONS["when"],
        }
        properties["for_each"] = {
            "anyOf": [{"type": "array"}, {"type": "object"}, {"$ref": f"#/definitions/{REFERENCE_DEF}"}],
            "description": META_DESCRIPTIONS["for_each"],
        }
        properties["depends_on"] = {
            "type": "array",
            "items": {"type": "string"},
            "description": META_DESCRIPTIONS["depends_on"],
        }
        for child in sorted(child_kinds(meta.kind)):
            properties[child] = _section(KINDS[child].meta, self._entry_ref(child))
        entry: Schema = {
            "type": "object",
            "title": meta.title,
            "description": describe_kind(meta),
            "additionalProperties": False,
            "properties": properties,
        }
        if model_schema.get("required"):
            entry["required"] = model_schema["required"]
        for keyword in ("if", "then"):  # a requirement that depends on another field (alarms)
            if keyword in model_schema:
                entry[keyword] = model_schema[keyword]
        return entry

    def _lookup_dispatch(self) -> Schema:
        """`kind` picks the lookup's schema (if/then, so editors report the right alternative)."""
        return {
            "type": "object",
            "required": ["kind"],
            "properties": {"kind": {"enum": self.lookups, "description": "The kind of resource looked up."}},
            "allOf": [
                {
                    "if": {"properties": {"kind": {"const": kind}}, "required": ["kind"]},
                    "then": {"$ref": f"#/definitions/lookup.{kind}"},
                }
                for kind in self.lookups
            ],
        }


def top_level_kinds_sorted() -> list[str]:
    return sorted(top_level_kinds())


def describe_kind(meta: KindMeta) -> str:
    """The model's docstring plus the facts an author needs (one paragraph, for hover text)."""
    facts = [" ".join(str(meta.model.__doc__ or meta.title).split())]
    if meta.parent:
        facts.append(f"Declared under a `{meta.parent}` entry.")
    if not meta.taggable:
        owner = "its parent" if meta.parent else "the stack's ownership index (what this stack created)"
        facts.append(f"Not taggable: owned through {owner}.")
    if meta.stateful:
        facts.append("Holds data: never deleted unless the command names it (--allow-destroy).")
    elif meta.stateful_when:
        facts.append(
            f"When {meta.stateful_when}, it holds data: never deleted unless the command names it "
            "(--allow-destroy)."
        )
    if meta.attributes:
        refs = ", ".join(f"`{a}`" for a in meta.attributes)
        facts.append(f"Referenceable attributes: {refs}.")
    return " ".join(facts)


def _section(meta: KindMeta, entry: Schema) -> Schema:
    return {
        "type": "object",
        "description": f"{meta.title}s, by entry name (letters, digits, '_' and '-').",
        "propertyNames": {"pattern": ENTRY_NAME.pattern},
        "additionalProperties": entry,
    }


def _tags_schema(description: str) -> Schema:
    return {
        "type": "object",
        "description": description,
        "propertyNames": {
            "minLength": 1,
            "maxLength": 128,
            "not": {"pattern": f"^({TAG_PREFIX}|[aA][wW][sS]:)"},
        },
        "additionalProperties": {"type": ["string", "number", "boolean"], "maxLength": 256},
        "maxProperties": 49,
    }


def _environment_settings() -> Schema:
    fields = EnvironmentSettings.model_fields
    role_fields = AssumeRole.model_fields

    def doc(info: Any) -> str:
        return " ".join(str(info.description).split())

    return {
        "stack": {"type": "string", "pattern": STACK_NAME.pattern, "description": doc(fields["stack"])},
        "region": {"type": "string", "pattern": REGION.pattern, "description": doc(fields["region"])},
        "account_id": {"type": "string", "pattern": r"^\d{12}$", "description": doc(fields["account_id"])},
        "assume_role": {
            "type": "object",
            "description": doc(fields["assume_role"]),
            "additionalProperties": False,
            "required": ["role_arn"],
            "properties": {
                name: {"type": "string", "description": doc(info)} for name, info in role_fields.items()
            },
        },
    }


def _variable_declaration() -> Schema:
    declaration: Schema = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "type": {"enum": list(VARIABLE_TYPES), "description": VARIABLE_DESCRIPTIONS["type"]},
            "default": {"description": VARIABLE_DESCRIPTIONS["default"]},
            "sensitive": {
                "type": "boolean",
                "default": False,
                "description": VARIABLE_DESCRIPTIONS["sensitive"],
            },
            "from_env": {
                "type": "string",
                "pattern": VARIABLE_NAME.pattern,
                "description": VARIABLE_DESCRIPTIONS["from_env"],
            },
            "description": {"type": "string", "description": VARIABLE_DESCRIPTIONS["description"]},
            "allowed": {"type": "array", "description": VARIABLE_DESCRIPTIONS["allowed"]},
            "required_in": {
                "type": "array",
                "items": {"type": "string"},
                "description": VARIABLE_DESCRIPTIONS["required_in"],
            },
        },
    }
    bare = {
        "type": ["string", "number", "boolean", "array", "null"],
        "description": "A bare default value (the type is inferred from it).",
    }
    return {"anyOf": [declaration, bare]}


# Transformations of pydantic's output ----------------------------------------------------------


def _walk(schema: Any, visit: Callable[[Schema], None]) -> None:
    """Call `visit` on `schema` and every subschema in it (keywords only, never data like enum)."""
    if not isinstance(schema, dict):
        return
    visit(schema)
    for key in _ONE:
        _walk(schema.get(key), visit)
    for key in _MANY:
        for sub in schema.get(key, []):
            _walk(sub, visit)
    for key in _NAMED:
        for sub in schema.get(key, {}).values():
            _walk(sub, visit)
    items = schema.get("items")
    if isinstance(items, list):
        for sub in items:
            _walk(sub, visit)


def _to_draft7(defs: Schema) -> Schema:
    """pydantic writes 2020-12: drop titles, unwrap descriptions, turn prefixItems into items
    arrays, and move a `$ref` with siblings into allOf (draft-07 ignores a `$ref`'s siblings)."""

    def fix(schema: Schema) -> None:
        schema.pop("title", None)
        if isinstance(schema.get("description"), str):  # docstrings wrap lines: one paragraph
            schema["description"] = " ".join(schema["description"].split())
        if "prefixItems" in schema:
            schema["items"] = schema.pop("prefixItems")
            schema.setdefault("additionalItems", False)
        if "$ref" in schema and len(schema) > 1:
            schema["allOf"] = [{"$ref": schema.pop("$ref")}, *schema.get("allOf", [])]

    for schema in defs.values():
        _walk(schema, fix)
    return defs


def _relax_properties(schema: Schema, keep: tuple[str, ...] = ()) -> None:
    """Let every property, item and map value of `schema` (recursively) be a ${...} expression."""
    for name, sub in list(schema.get("properties", {}).items()):
        if name not in keep:
            schema["properties"][name] = _relax(sub)
    for key in ("items", "additionalProperties"):
        sub = schema.get(key)
        if isinstance(sub, dict):
            schema[key] = _relax(sub)
        elif isinstance(sub, list):
            schema[key] = [_relax(s) for s in sub]


def _relax(schema: Schema) -> Schema:
    for member in schema.get("anyOf", []):
        _relax_properties(member)
    _relax_properties(schema)
    if _accepts_any_string(schema):
        return schema
    reference = {"$ref": f"#/definitions/{REFERENCE_DEF}"}
    if "anyOf" in schema:
        return {**schema, "anyOf": [*schema["anyOf"], reference]}
    docs = {k: v for k, v in schema.items() if k in _DOC_KEYWORDS}
    inner = {k: v for k, v in schema.items() if k not in _DOC_KEYWORDS}
    return {**docs, "anyOf": [inner, reference]}


_STRING_LIMITS = {"type", "minLength", "maxLength"} | _DOC_KEYWORDS


def _accepts_any_string(schema: Schema) -> bool:
    """True when a ${...} string already passes: no constraint, or a plain (length-bounded) string."""
    if "anyOf" in schema:
        return any(_accepts_any_string(m) for m in schema["anyOf"])
    constraints = set(schema) - _DOC_KEYWORDS
    if not constraints:
        return True
    return schema.get("type") == "string" and set(schema) <= _STRING_LIMITS


def _refs_in(schema: Any) -> Iterator[str]:
    found: list[str] = []
    _walk(schema, lambda s: found.append(_ref_name(s["$ref"])) if "$ref" in s else None)
    return iter(found)


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def run(session: Session, *, included: bool, out: Path | None) -> int:
    """`pacs-reconcile schema`: print or write one of the two schemas."""
    from .errors import ExitStatus
    from .outfile import write_document

    text = render(included_schema() if included else spec_schema())
    write_document(session, text, out, "the schema of included files" if included else "the spec's schema")
    return ExitStatus.OK
