"""Loading a spec: root file, includes, variables and overlays, expansion, validation.

Every problem found is collected (with file, line, column and field) and raised together as one
SpecError; nothing here talks to AWS.
"""

from __future__ import annotations

import gc
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from .. import OWNER_TAG, TAG_PREFIX
from ..errors import Diagnostic, SpecError
from ..hints import plain_list, suggestion
from ..redact import Redactor
from ..resources._spec_files import followed
from ..resources.base import Reconciler
from ..resources.registry import KINDS, LOOKUPS, child_kinds, load_all, top_level_kinds
from .expressions import (
    TEMPLATE,
    ExpressionError,
    Reference,
    as_data,
    has_references,
    kept_as_written,
    references_in,
    render,
    text_references,
    truthy,
    unescaped,
)
from .fingerprint import add_fingerprints
from .model import (
    EnvironmentSettings,
    Lifecycle,
    LocatedExample,
    LocatedReference,
    Location,
    LookupNode,
    RemovedEntry,
    ResourceNode,
    Spec,
    Variable,
)
from .references import check_references, derivable, resolve_key_fields, split_reference
from .variables import Declaration, VariableProblem, check_value, parse_declaration, resolve_values
from .wording import describe
from .yamlsrc import PathKey, SourceFile, YamlProblem, display_path, read_yaml

ROOT_KEYS = (
    "version",
    "stack",
    "region",
    "include",
    "variables",
    "environments",
    "defaults",
    "lookups",
    "removed",
)
META_KEYS = ("tags", "lifecycle", "when", "for_each", "depends_on")
STACK_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d+$")
ENTRY_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
IDENTITY_ADDRESS = re.compile(
    r"""^(?P<kind>[A-Za-z_][A-Za-z0-9_]*)\[(?P<quote>["']?)(?P<identity>.+)(?P=quote)\]$"""
)
LOAD_TIME_ROOTS = frozenset(("var", "stack", "each"))
"""The roots of the references substituted while loading (the others are left for plan)."""
TAG_KEY = re.compile(r"^[\w .:/=+\-@]{1,128}$", re.UNICODE)
MAX_TAGS = 50


def load_spec(
    path: Path,
    *,
    environment: str | None = None,
    cli_vars: Mapping[str, str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Spec:
    """Load and validate a spec; raises SpecError with every problem found."""
    load_all()
    loader = _Loader(path, environment, dict(cli_vars or {}), dict(environ or {}))
    with collection_paused():
        return loader.load()


def load_every_environment(
    path: Path, *, cli_vars: Mapping[str, str] | None = None, environ: Mapping[str, str] | None = None
) -> tuple[Spec, list[str]]:
    """The base spec and every environment it declares, each validated: what `validate` does
    without --env. A problem only an environment has names it (and the overlay line behind it);
    one the base spec has too is reported once. Returns the base spec and the environments; the
    spec carries no fingerprint tags (only what compares a spec with AWS needs them)."""
    load_all()
    with collection_paused():
        return _load_every_environment(path, dict(cli_vars or {}), dict(environ or {}))


def _load_every_environment(
    path: Path, cli_vars: dict[str, str], environ: dict[str, str]
) -> tuple[Spec, list[str]]:
    # Each file is parsed once, and each entry that resolves alike in several environments is
    # validated once, for the base spec and every environment; an entry in which nothing is
    # substituted is taken from the base spec's load as it is (nothing outlives this call).
    parsed: ParsedFiles = {}
    validations = Validations()
    base = _Loader(path, None, cli_vars, environ, parsed, validations)
    base.static = {}
    problems: list[Diagnostic] = []
    spec: Spec | None = None
    try:
        spec = base.load(fingerprinted=False)
    except SpecError as exc:
        problems.extend(exc.diagnostics)
    in_base = {d.identity for d in problems}
    seen: set[tuple[object, ...]] = set()
    for environment in base.environment_names:
        loader = _Loader(path, environment, dict(cli_vars), dict(environ), parsed, validations)
        loader.reusable = base.static
        try:
            loader.check(unless_resolving_as=base.resolved)
        except _ResolvesAsBase:
            continue  # everything resolves as in the base spec: its problems are the base's
        except SpecError as exc:
            for diagnostic in exc.diagnostics:
                key = (diagnostic.identity, diagnostic.notes)
                if diagnostic.identity in in_base or key in seen:
                    continue
                seen.add(key)
                problems.append(replace(diagnostic, environment=environment))
    if problems or spec is None:
        raise SpecError(problems)
    return spec, list(base.environment_names)


@contextmanager
def collection_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused while a spec loads. Loading builds some 100,000
    containers (YAML nodes, values, validated entries) that nearly all live on: each 700 of them
    set off a collection that finds nothing to free, and the older generations are walked again
    as they grow (half the time of parsing a large spec). What a load leaves as cyclic garbage
    (the tracebacks of problems it reports) is collected once the collector runs again."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class _ResolvesAsBase(Exception):
    """An environment whose stack, region, variables and default tags are the base spec's: its
    resources resolve exactly as the base spec's, so loading them again finds nothing new."""


ParsedFiles = dict[tuple[Path, str], "SourceFile | YamlProblem"]
"""The files one command has parsed, by (path, display name): the loads of one `validate` (the base
spec and each environment) read the same files in the same instant; nothing outlives the command."""


@dataclass(frozen=True)
class _Validated:
    model: BaseModel | None
    """The validated model (None when invalid): each caller takes a dump of its own."""
    tests: tuple[Any, ...]
    errors: list[Any] | None
    list_references: tuple[tuple[tuple[Any, ...], str], ...] = ()
    """(where, reference) of each list field written as one whole reference (`${lookups.L.ids}`):
    validated as a list of that reference (unresolved until plan); the dump holds it as written."""

    def dump(self) -> dict[str, Any] | None:
        if self.model is None:
            return None
        dumped: dict[str, Any] = self.model.model_dump(mode="json")
        for where, reference in self.list_references:
            parent: Any = dumped
            for part in where[:-1]:
                parent = parent[part]
            parent[where[-1]] = reference
        return dumped


@dataclass(frozen=True)
class _EntryMade:
    """What a load made of an entry, its node but for what each environment sets (default tags,
    stack). The base spec's load keeps those of the entries in which nothing was substituted, as
    they were before the checks of the whole spec (an environment's check takes them:
    `_Loader._reused`)."""

    body: dict[str, Any]
    """The entry as parsed (the one object every load of the command reads)."""
    config: dict[str, Any]
    tags: dict[str, str]
    """Its own tags, checked (the default tags and the owner tag are each environment's)."""
    lifecycle: Lifecycle
    location: Location
    references: list[LocatedReference]
    """Those of its depends_on and config (its tags' are each environment's)."""
    examples: list[LocatedExample]


class Validations:
    """A model's validation of one configuration, shared by the loads of one command: the base spec
    and each environment mostly resolve an entry to the same values (a model validates the same
    input the same way), and validating 1,700 entries three times was most of `validate`."""

    def __init__(self) -> None:
        self._seen: dict[tuple[type[BaseModel], str], _Validated] = {}

    def of(self, model: type[BaseModel], config: Any) -> _Validated:
        # The repr of what YAML and substitution make (mappings, lists, text, numbers, booleans,
        # null, dates) tells any two of them apart (True from 1, 1 from 1.0, "1" from 1): equal
        # reprs are equal configurations, keys in the same order.
        key = (model, repr(config))
        found = self._seen.get(key)
        if found is None:
            found = self._seen[key] = self._validate(model, config)
        return found

    @staticmethod
    def _validate(model: type[BaseModel], config: Any) -> _Validated:
        try:
            validated = model.model_validate(config)
        except ValidationError as exc:
            errors = exc.errors()
            whole = tuple(
                (tuple(error["loc"]), error["input"])
                for error in errors
                if _whole_list_reference(config, error)
            )
            if not whole:
                return _Validated(None, (), errors)
            # A reference that is the whole value takes the value's type: a list field holds it
            # as a list of itself for now (its items are checked once plan resolves it).
            try:
                validated = model.model_validate(_with_lists(config, whole))
            except ValidationError as again:
                return _Validated(None, (), again.errors())
            tests = tuple(getattr(validated, "tests", None) or ())
            return _Validated(validated, tests, None, whole)
        tests = tuple(getattr(validated, "tests", None) or ())
        return _Validated(validated, tests, None)


class _Loader:
    def __init__(
        self,
        path: Path,
        environment: str | None,
        cli_vars: dict[str, str],
        environ: dict[str, str],
        parsed: ParsedFiles | None = None,
        validations: Validations | None = None,
    ):
        self.path = path
        self.parsed: ParsedFiles = {} if parsed is None else parsed
        self.validations = Validations() if validations is None else validations
        self.child_kinds = {kind: child_kinds(kind) for kind in KINDS}
        """Each kind's child kinds (asked for every entry)."""
        self.resolved: tuple[Any, ...] | None = None
        """What the resources resolve from (stack, region, variables, default tags), once known."""
        self.root_dir = _resolved(path).parent
        self.environment = environment
        self.cli_vars = cli_vars
        self.environ = environ
        self.problems: list[Diagnostic] = []
        self.variables: dict[str, Variable] = {}
        self.default_tags: dict[str, Any] = {}
        self.default_sensitive: set[str] = set()
        """Paths (`tags.KEY`) of default tags whose value comes from a sensitive variable."""
        self.lookups: dict[str, LookupNode] = {}
        self.resources: dict[str, ResourceNode] = {}
        self.disabled: set[str] = set()
        self.expanded: set[str] = set()
        self.files: list[SourceFile] = []
        self.stack = ""
        self.region: str | None = None
        """The spec's region (the environment's, when it sets one): what ${stack.region} gives."""
        self.declared_variables: set[str] = set()
        self.failed: set[tuple[str, PathKey]] = set()
        """(file, path) of values whose ${...} could not be substituted: already reported, so
        their validation errors would only repeat the problem."""
        self.entries: dict[str, Location] = {}
        self.environment_settings: dict[str, EnvironmentSettings] = {}
        self.environment_names: list[str] = []
        """The environments the spec declares (each is validated by `validate` without --env)."""
        self.invalid: set[str] = set()
        """Addresses declared with a reported problem: references to them would only repeat it."""
        self.invalid_lookups: set[str] = set()
        """Lookup names declared with a reported problem."""
        self.texts: dict[str, list[str]] = {}
        """Each file's lines by the name diagnostics give it, for the line shown under them."""
        self.variable_uses: dict[tuple[str, PathKey], set[str]] = {}
        """(file, path) of each value written with ${var.X} -> the variables it uses."""
        self.overlay_origin: dict[str, str] = {}
        """Variables whose value comes from the selected environment's overlay -> a note saying where."""
        self.environment_reads = 0
        """How many times so far a value was worked out from what an environment may set: a text
        rendered (a reference substituted while loading), a whole lookup reference weighed as a list."""
        self.static: dict[str, _EntryMade] | None = None
        """When recording (the base spec of `validate`): the entries loaded without environment reads."""
        self.reusable: Mapping[str, _EntryMade] = {}
        """An environment's: the base spec's `static` entries, taken as they are (`_reused`)."""
        self.reused: set[str] = set()
        """The addresses of the nodes taken so."""

    # ------------------------------------------------------------------------------- top level
    def load(self, fingerprinted: bool = True) -> Spec:
        """The spec (raises SpecError with every problem found); `fingerprinted`: each taggable
        resource's tags carry its spec fingerprint (what plan, apply and drift compare)."""
        files, removed = self._checked()
        if fingerprinted:
            add_fingerprints(self.resources, [t for v in self.variables.values() for t in v.secret_texts()])
        chosen = self.environment_settings.get(self.environment or "") or EnvironmentSettings()
        return Spec(
            stack=self.stack,
            region=self.region,
            root=self.root_dir,
            files=[f.display for f in files],
            environment=self.environment,
            variables=self.variables,
            lookups=self.lookups,
            resources=self.resources,
            removed=removed,
            environments=self.environment_names,
            account_id=chosen.account_id,
            assume_role=chosen.assume_role,
        )

    def check(self, unless_resolving_as: tuple[Any, ...] | None) -> None:
        """Every problem the spec has (SpecError), and no Spec built: what `validate` asks of an
        environment. _ResolvesAsBase when it resolves from the very same values as the base spec
        (`unless_resolving_as`, the base loader's `resolved` when it got that far)."""
        self._checked(unless_resolving_as)

    def _checked(
        self, unless_resolving_as: tuple[Any, ...] | None = None
    ) -> tuple[list[SourceFile], list[RemovedEntry]]:
        """Every file read and the `removed:` entries, once every check passed."""
        root = self._read(self.path, display_path(self.path))
        if root is None:
            raise self._error()
        data = root.data
        if not isinstance(data, dict):
            self.problems.append(root.diagnostic((), "", "the spec must be a mapping of keys"))
            raise self._error()
        sections = top_level_kinds()
        for key in data:
            if key not in ROOT_KEYS and key not in sections:
                self._problem(
                    root, (key,), key, "unknown key", suggestion(key, (*ROOT_KEYS, *sections)), at_key=True
                )
        self.stack = self._check_header(root, data)
        files = [root, *self._includes(root, data.get("include"), sections)]
        self._variables(root, data)
        self.region = self._chosen_region(data)
        self._defaults(root, data.get("defaults"))
        if self.problems:  # resource checks would only repeat variable problems
            raise self._error()
        values = {name: (v.value, v.sensitive) for name, v in self.variables.items()}
        self.resolved = (self.stack, self.region, values, self.default_tags, self.default_sensitive)
        if unless_resolving_as is not None and self.resolved == unless_resolving_as:
            raise _ResolvesAsBase()
        for source in files:
            self._lookups(source)
        for source in files:
            for section in sections:
                entries = source.data.get(section)
                if entries is not None:
                    self._section(source, (section,), section, entries, parent=None)
        self.problems.extend(resolve_key_fields(self.resources))
        self.problems.extend(
            check_references(
                self.resources, self.lookups, self.disabled, self.expanded, self.invalid, self.invalid_lookups
            )
        )
        removed = self._removed(root, data.get("removed"))
        if self.problems:
            raise self._error()
        return files, removed

    def _error(self) -> SpecError:
        """Every problem found, with the values of sensitive variables masked: a validator may quote
        the value it refused, and the command's own redactor learns the secrets only from a valid spec."""
        redactor = Redactor(
            text
            for v in self.variables.values()
            if isinstance(v.value, str | int | float)
            for text in v.secret_texts()
        )
        return SpecError(
            [
                replace(
                    d,
                    message=redactor.text(d.message),
                    field=redactor.text(d.field),
                    snippet=redactor.text(self._source_line(d)),
                )
                for d in self.problems
            ]
        )

    def _source_line(self, diagnostic: Diagnostic) -> str:
        lines = self.texts.get(diagnostic.file) or []
        return lines[diagnostic.line - 1] if 0 < diagnostic.line <= len(lines) else ""

    def _read(self, path: Path, display: str) -> SourceFile | None:
        key = (_resolved(path), display)
        if key not in self.parsed:
            try:
                self.parsed[key] = read_yaml(path, display)
            except YamlProblem as exc:
                self.parsed[key] = exc
        source = self.parsed[key]
        if isinstance(source, YamlProblem):
            self.problems.append(source.diagnostic)
            self.texts[display] = source.lines
            return None
        self.files.append(source)
        self.texts[display] = source.lines
        return source

    def _problem(
        self,
        source: SourceFile,
        path: PathKey,
        field: str,
        message: str,
        help: str = "",
        at_key: bool = False,
    ) -> None:
        diagnostic = source.diagnostic(path, field, message, help, at_key)
        notes = self._overlay_notes(source, path)
        self.problems.append(replace(diagnostic, notes=notes) if notes else diagnostic)

    def _overlay_notes(self, source: SourceFile, path: PathKey) -> tuple[str, ...]:
        """Where the environment's overlay set the variables the value at `path` is made of."""
        names: set[str] = set()
        for (file, written), used in self.variable_uses.items():
            if file == source.display and path[: len(written)] == written:
                names |= used
        notes = []
        for name in sorted(names & set(self.overlay_origin)):
            variable = self.variables.get(name)
            shown = "" if variable is None or variable.sensitive else f" = {_plain(variable.value)}"
            notes.append(f"${{var.{name}}}{shown} comes from {self.overlay_origin[name]}")
        return tuple(notes)

    def _location(self, source: SourceFile, path: PathKey, value: bool = False) -> Location:
        """Where `path` was declared (its key); with `value`, where its value is written."""
        line, column = source.where(path) if value else source.key_where(path)
        return Location(source.display, line, column)

    def _check_header(self, root: SourceFile, data: dict[str, Any]) -> str:
        if "version" not in data:
            self._problem(root, ("version",), "version", "required: write `version: 1` at the top")
        elif data["version"] != 1 or isinstance(data["version"], bool):
            self._problem(
                root,
                ("version",),
                "version",
                f"must be 1, the only spec version so far (got {data['version']!r})",
            )
        stack = data.get("stack")
        rule = (
            "1-63 letters, digits, '.', '_' or '-', starting with a letter or digit "
            "(it is the owner tag value)"
        )
        if stack is None:
            self._problem(root, ("stack",), "stack", f"required: {rule}")
            stack = ""
        elif not isinstance(stack, str) or not STACK_NAME.match(stack):
            self._problem(root, ("stack",), "stack", f"must be {rule}; got {stack!r}")
            stack = ""
        region = data.get("region")
        if region is not None and (not isinstance(region, str) or not REGION.match(region)):
            self._problem(root, ("region",), "region", f"not an AWS region name: {region!r}")
        return stack

    def _chosen_region(self, data: Mapping[str, Any]) -> str | None:
        region = data.get("region")
        chosen = self.environment_settings.get(self.environment or "")
        return (chosen.region if chosen else None) or (region if isinstance(region, str) else None)

    def _includes(self, root: SourceFile, include: Any, sections: list[str]) -> list[SourceFile]:
        if include is None:
            return []
        if isinstance(include, str):
            include = [include]
        if not isinstance(include, list):
            self._problem(root, ("include",), "include", "must be a list of file patterns")
            return []
        out: list[SourceFile] = []
        seen: set[Path] = {_resolved(self.path)}
        for index, pattern in enumerate(include):
            where: PathKey = ("include", index)
            field = f"include[{index}]"
            if not isinstance(pattern, str) or not pattern:
                self._problem(root, where, field, "must be a file pattern such as specs/*.yaml")
                continue
            if Path(pattern).is_absolute() or ".." in Path(pattern).parts:
                self._problem(
                    root, where, field, "must stay inside the spec's folder (no absolute path, no '..')"
                )
                continue
            try:
                matches = sorted(self.root_dir.glob(pattern))
            except OSError as exc:  # a name the file system refuses to look up (over 255 bytes)
                self._problem(root, where, field, f"cannot look for {pattern!r}: {exc.strerror}")
                continue
            if not matches:
                self._problem(root, where, field, f"no file matches {pattern!r}")
            for match in matches:
                resolved = _resolved(match)
                if not resolved.is_relative_to(self.root_dir):
                    self._problem(root, where, field, f"{match.name} resolves outside the spec's folder")
                    continue
                if resolved in seen:
                    continue
                unreadable = _not_a_spec_file(match, resolved)
                if unreadable:
                    # Skipping it would make `plan` delete everything that file declared.
                    self._problem(root, where, field, f"{match.relative_to(self.root_dir)} {unreadable}")
                    continue
                seen.add(resolved)
                source = self._read(resolved, display_path(match))
                if source is None:
                    continue
                if source.data is None:
                    source.data = {}
                if not isinstance(source.data, dict):
                    self._problem(source, (), "", "an included file must be a mapping of sections")
                    source.data = {}
                    continue
                for key in source.data:
                    if key in ROOT_KEYS and key != "lookups":
                        self._problem(
                            source,
                            (key,),
                            key,
                            f"only the root file ({root.display}) may set "
                            f"`{key}`; included files hold resources and lookups",
                            at_key=True,
                        )
                    elif key not in sections and key != "lookups":
                        self._problem(
                            source,
                            (key,),
                            key,
                            "unknown section (included files hold resources and lookups)",
                            suggestion(key, (*sections, "lookups")),
                            at_key=True,
                        )
                out.append(source)
        return out

    # ------------------------------------------------------------------------------- variables
    def _variables(self, root: SourceFile, data: dict[str, Any]) -> None:
        raw = data.get("variables") or {}
        if not isinstance(raw, dict):
            self._problem(root, ("variables",), "variables", "must be a mapping of variable declarations")
            return
        declarations: dict[str, Declaration] = {}
        self.declared_variables = set(raw)
        for name, body in raw.items():
            try:
                declarations[name] = parse_declaration(name, body)
            except VariableProblem as exc:
                path: PathKey = ("variables", name, exc.field) if exc.field else ("variables", name)
                field = f"variables.{name}" + (f".{exc.field}" if exc.field else "")
                unknown = str(exc).startswith("unknown key")
                self._problem(root, path, field, str(exc), exc.help, at_key=unknown)
        overlay = self._overlay(root, data.get("environments"), declarations)
        unknown_cli = sorted(set(self.cli_vars) - set(declarations))
        for name in unknown_cli:
            self.problems.append(
                Diagnostic("--var", 0, 0, name, "no such variable", help=suggestion(name, declarations))
            )
        values, problems = resolve_values(declarations, overlay, self.cli_vars, self.environ)
        for name, source, message in problems:
            if source == "--var":
                self.problems.append(Diagnostic("--var", 0, 0, name, message))
            elif source != "overlay":  # _overlay checked every environment's values already
                missing = source == "missing"  # the variable itself lacks a value: point at its name
                self._problem(root, ("variables", name), f"variables.{name}", message, at_key=missing)
        self.variables = values

    def _overlay(
        self, root: SourceFile, environments: Any, declarations: Mapping[str, Declaration]
    ) -> dict[str, Any]:
        if environments is None:
            environments = {}
        if not isinstance(environments, dict):
            self._problem(root, ("environments",), "environments", "must be a mapping of environment names")
            return {}
        overlays: dict[str, dict[str, Any]] = {}
        for env_name, body in environments.items():
            base: PathKey = ("environments", env_name)
            if not isinstance(body, dict):
                self._problem(root, base, f"environments.{env_name}", "must be a mapping with `variables`")
                continue
            if env_name == "all":
                self._problem(
                    root, base, "environments.all", "`all` is reserved: --env all runs every environment"
                )
            self._check_header_values(root, base, f"environments.{env_name}", body)
            settings = self._validate(
                root,
                base,
                f"environments.{env_name}",
                EnvironmentSettings,
                {k: v for k, v in body.items() if k != "variables"},
            )
            if settings is not None:
                self.environment_settings[env_name] = EnvironmentSettings.model_validate(settings)
            values = body.get("variables")
            if values is None:
                values = {}
            if not isinstance(values, dict):
                self._problem(
                    root,
                    (*base, "variables"),
                    f"environments.{env_name}.variables",
                    "must be a mapping of variable names to values",
                )
                continue
            overlays[env_name] = values
            # Every environment is checked, not only the one selected: `validate` without --env
            # must catch a prod overlay that only `--env prod` would use.
            for var, value in values.items():
                where: PathKey = (*base, "variables", var)
                field = f"environments.{env_name}.variables.{var}"
                declaration = declarations.get(var)
                if declaration is None:
                    if var not in self.declared_variables:  # a broken declaration is reported already
                        self._problem(
                            root, where, field, "no such variable", suggestion(var, declarations), at_key=True
                        )
                    continue
                try:
                    check_value(declaration, value, "")
                except VariableProblem as exc:
                    if declaration.sensitive:
                        self._problem(root, where, field, "invalid value")
                    else:
                        self._problem(root, where, field, str(exc), exc.help)
        self.environment_names = list(environments)
        for name, declaration in declarations.items():
            for index, env_name in enumerate(declaration.required_in):
                if env_name not in environments:
                    self._problem(
                        root,
                        ("variables", name, "required_in", index),
                        f"variables.{name}.required_in[{index}]",
                        "no such environment",
                        suggestion(env_name, list(environments)),
                    )
        if self.environment is None:
            return {}
        if self.environment not in environments:
            known = plain_list(sorted(environments), "and") or "none declared"
            self.problems.append(
                Diagnostic(
                    "--env",
                    0,
                    0,
                    self.environment,
                    f"no such environment (known: {known})",
                    help=suggestion(self.environment, environments),
                )
            )
            return {}
        chosen = self.environment_settings.get(self.environment)
        if chosen is not None and chosen.stack:
            self.stack = chosen.stack
        overlay = dict(overlays.get(self.environment, {}))
        for var in overlay:
            line, column = root.where(("environments", self.environment, "variables", var))
            self.overlay_origin[var] = (
                f"environments.{self.environment}.variables.{var} at {root.display}:{line}:{column}"
            )
        return overlay

    def _check_header_values(
        self, root: SourceFile, base: PathKey, field: str, settings: dict[str, Any]
    ) -> None:
        """An overlay's stack and region follow the root's rules."""
        stack, region = settings.get("stack"), settings.get("region")
        if isinstance(stack, str) and not STACK_NAME.match(stack):
            self._problem(
                root,
                (*base, "stack"),
                f"{field}.stack",
                f"must be a stack name like the root's; got {stack!r}",
            )
        if isinstance(region, str) and not REGION.match(region):
            self._problem(root, (*base, "region"), f"{field}.region", f"not an AWS region name: {region!r}")

    def _defaults(self, root: SourceFile, defaults: Any) -> None:
        if defaults is None:
            return
        if not isinstance(defaults, dict):
            self._problem(root, ("defaults",), "defaults", "must be a mapping (with `tags`)")
            return
        for key in defaults:
            if key != "tags":
                self._problem(
                    root,
                    ("defaults", key),
                    f"defaults.{key}",
                    "unknown key",
                    suggestion(key, ["tags"]),
                    at_key=True,
                )
        tags = self._substitute(
            root,
            ("defaults", "tags"),
            "defaults.tags",
            defaults.get("tags") or {},
            None,
            self.default_sensitive,
            "tags",
        )
        self.default_tags = self._check_tags(root, ("defaults", "tags"), "defaults.tags", tags) or {}

    # ------------------------------------------------------------------------------- removed
    def _removed(self, root: SourceFile, raw: Any) -> list[RemovedEntry]:
        """Resources taken out of the spec on purpose, by AWS identity: released or deleted."""
        if raw is None:
            return []
        if not isinstance(raw, list):
            self._problem(
                root, ("removed",), "removed", 'must be a list of {from: KIND["identity"], destroy: ...}'
            )
            return []
        declared = {
            (node.kind, KINDS[node.kind].label(KINDS[node.kind].key(node.config, None))): node
            for node in self.resources.values()
            if node.parent is None
        }
        out: list[RemovedEntry] = []
        seen: dict[str, int] = {}
        for index, item in enumerate(raw):
            where: PathKey = ("removed", index)
            field = f"removed[{index}]"
            if not isinstance(item, dict):
                self._problem(
                    root, where, field, 'must be a mapping: {from: KIND["identity"], destroy: false}'
                )
                continue
            for key in item:
                if key not in ("from", "destroy"):
                    self._problem(
                        root,
                        (*where, key),
                        f"{field}.{key}",
                        "unknown key",
                        suggestion(key, ["from", "destroy"]),
                        at_key=True,
                    )
            destroy = item.get("destroy")
            if not isinstance(destroy, bool):
                self._problem(
                    root,
                    (*where, "destroy"),
                    f"{field}.destroy",
                    "required, true or false: false releases it (stays in AWS, no longer managed), "
                    "true deletes it",
                )
            entry = self._removed_address(root, (*where, "from"), f"{field}.from", item.get("from"))
            if entry is None or not isinstance(destroy, bool):
                continue
            kind, identity, address = entry
            node = declared.get((kind, identity))
            if node is not None:
                self._problem(
                    root,
                    (*where, "from"),
                    f"{field}.from",
                    f"{address} is still declared, as {node.address} at {node.location}: "
                    "remove that entry, or this one",
                )
                continue
            if address in seen:
                self._problem(
                    root,
                    (*where, "from"),
                    f"{field}.from",
                    f"{address} is listed twice (first at removed[{seen[address]}])",
                )
                continue
            seen[address] = index
            out.append(RemovedEntry(address, kind, identity, destroy, self._location(root, where)))
        return out

    def _removed_address(
        self, root: SourceFile, where: PathKey, field: str, text: Any
    ) -> tuple[str, str, str] | None:
        example = 'e.g. log_groups["/aws/ecs/legacy"], as plan shows it'
        if not isinstance(text, str) or not text.strip():
            self._problem(root, where, field, f"required: the resource's kind and AWS identity, {example}")
            return None
        found = IDENTITY_ADDRESS.match(text.strip())
        if found is None:
            kind = text.split(".", 1)[0]
            hint = (
                f"; {text} is no longer declared, and no state file remembers what it named: write "
                f'its AWS identity instead, {kind}["NAME"], as plan shows it'
                if kind in KINDS
                else ""
            )
            self._problem(root, where, field, 'not a KIND["identity"] address' + (hint or f" ({example})"))
            return None
        kind, identity = found.group("kind"), found.group("identity")
        reconciler = KINDS.get(kind)
        if reconciler is None:
            self._problem(root, where, field, f"no kind {kind!r}", suggestion(kind, top_level_kinds()))
            return None
        if reconciler.meta.parent is not None:
            self._problem(
                root,
                where,
                field,
                f"{reconciler.meta.title}s are owned through their parent: remove or release the parent",
            )
            return None
        if not reconciler.meta.taggable:
            self._problem(root, where, field, f"{reconciler.meta.title}s carry no owner tag to release")
            return None
        return kind, identity, f'{kind}["{identity}"]'

    # ------------------------------------------------------------------------------- lookups
    def _lookups(self, source: SourceFile) -> None:
        raw = source.data.get("lookups")
        if raw is None:
            return
        if not isinstance(raw, dict):
            self._problem(source, ("lookups",), "lookups", "must be a mapping of lookup names")
            return
        for name, body in raw.items():
            reported = len(self.problems)
            self._lookup(source, name, body)
            if len(self.problems) > reported and name not in self.lookups:
                self.invalid_lookups.add(name)  # its uses would only repeat the problem

    def _lookup(self, source: SourceFile, name: str, body: Any) -> None:
        path: PathKey = ("lookups", name)
        field = f"lookups.{name}"
        if name in self.lookups:
            first = self.lookups[name].location
            self._problem(source, path, field, f"declared twice (first at {first})", at_key=True)
            return
        if not isinstance(body, dict) or not isinstance(body.get("kind"), str):
            self._problem(
                source,
                path,
                field,
                f"must be a mapping with `kind` (one of {', '.join(sorted(LOOKUPS))})",
            )
            return
        lookup = LOOKUPS.get(body["kind"])
        if lookup is None:
            self._problem(
                source,
                (*path, "kind"),
                f"{field}.kind",
                f"unknown lookup kind {body['kind']!r}",
                suggestion(body["kind"], LOOKUPS),
            )
            return
        config = self._substitute(source, path, field, body, None, set())
        if self._references(source, path, field, config):
            self._problem(source, path, field, "lookups take variables and literals, not references")
            return
        validated = self._validate(source, path, field, lookup.meta.model, config)
        if validated is not None:
            location = self._location(source, path)
            self.lookups[name] = LookupNode(name, body["kind"], unescaped(validated), location)

    # ------------------------------------------------------------------------------- resources
    def _section(
        self, source: SourceFile, path: PathKey, kind: str, entries: Any, parent: ResourceNode | None
    ) -> None:
        where = parent.address + "." + kind if parent else kind
        if not isinstance(entries, dict):
            self._problem(source, path, where, "must be a mapping of resource names to their settings")
            return
        for name, body in entries.items():
            if not ENTRY_NAME.match(name):
                self._problem(
                    source,
                    (*path, name),
                    f"{where}.{name}",
                    "names are letters, digits, '_' and '-', starting with a letter or '_'",
                )
                continue
            self._entry(source, (*path, name), kind, name, body, parent)

    def _entry(
        self, source: SourceFile, path: PathKey, kind: str, name: str, body: Any, parent: ResourceNode | None
    ) -> None:
        reconciler = KINDS[kind]
        base_address = f"{parent.address}.{kind}.{name}" if parent else f"{kind}.{name}"
        first = self.entries.get(base_address)
        if first is not None:
            self._problem(source, path, base_address, f"declared twice (first at {first})", at_key=True)
            return
        location = self._location(source, path)
        self.entries[base_address] = location
        if not isinstance(body, dict):
            self._problem(source, path, base_address, "must be a mapping of settings")
            self.invalid.add(base_address)
            return
        children = {c: body[c] for c in self.child_kinds[kind] if c in body}
        if "tags" in body and not reconciler.meta.taggable:
            self._problem(
                source,
                (*path, "tags"),
                f"{base_address}.tags",
                f"{reconciler.meta.title}s cannot be tagged",
                at_key=True,
            )
        reported = len(self.problems)
        instances = self._instances(source, path, base_address, body.get("for_each"))
        if len(self.problems) > reported and not instances:
            self.invalid.add(base_address)
        for instance_key, each in instances:
            address = base_address if instance_key is None else f'{base_address}["{instance_key}"]'
            if instance_key is not None:
                self.expanded.add(base_address)
            if not self._enabled(source, path, address, body.get("when"), each):
                self.disabled.add(address)
                continue
            node = self._node(source, path, kind, address, body, each, parent, location)
            if node is None:
                self.invalid.add(address)
                continue
            self.resources[address] = node
            for child_kind, child_entries in children.items():
                self._section(source, (*path, child_kind), child_kind, child_entries, node)

    def _instances(
        self, source: SourceFile, path: PathKey, address: str, for_each: Any
    ) -> list[tuple[str | None, Any]]:
        if for_each is None:
            return [(None, None)]
        sensitive: set[str] = set()
        value = self._substitute(
            source, (*path, "for_each"), f"{address}.for_each", for_each, None, sensitive
        )
        if sensitive:
            # A key names an instance: it is in the address every plan, graph and report prints.
            # each.key and each.value carry no sensitivity into the settings they are put in.
            self._problem(
                source,
                (*path, "for_each"),
                f"{address}.for_each",
                "must not take a sensitive value: its items become resource addresses and, through "
                "each.key and each.value, settings that are printed; declare such entries one by one",
            )
            return []
        if isinstance(value, list):
            keys = [str(item) for item in value]
            if any(isinstance(item, dict | list) for item in value):
                self._problem(
                    source, (*path, "for_each"), f"{address}.for_each", "list items must be plain values"
                )
                return []
            repeated = sorted({key for key in keys if keys.count(key) > 1})
            if repeated:
                shown = ", ".join(map(repr, repeated))
                self._problem(
                    source,
                    (*path, "for_each"),
                    f"{address}.for_each",
                    f"list items must be unique: {shown} appears more than once",
                )
                return []
            items = [(index, item, False) for index, item in enumerate(value)]
            if self._templates_left(source, path, address, items):
                return []
            return [(key, {"key": key, "value": item}) for key, item in zip(keys, value, strict=True)]
        if isinstance(value, dict):
            pairs = [(k, k, True) for k in value] + [(k, v, False) for k, v in value.items()]
            if self._templates_left(source, path, address, pairs):
                return []
            return [(str(k), {"key": str(k), "value": v}) for k, v in value.items()]
        if has_references(value):
            self._problem(
                source,
                (*path, "for_each"),
                f"{address}.for_each",
                "must be known before plan: use variables or literals, not resource references",
            )
        elif (source.display, (*path, "for_each")) not in self.failed:
            self._problem(
                source,
                (*path, "for_each"),
                f"{address}.for_each",
                f"must be a list or a mapping, not {_kind_of(value)}",
            )
        return []

    def _templates_left(
        self, source: SourceFile, path: PathKey, address: str, items: list[tuple[Any, Any, bool]]
    ) -> bool:
        """Whether a for_each item (a list item, a mapping's key or value), once substituted, still
        holds a ${...}: a resource reference, or one that does not parse. Each is reported at its
        item (`items`: where, the text, whether it is a key); where each.key or each.value is used,
        it would be read as a template of that entry."""
        found = False
        for where, item, at_key in items:
            if not isinstance(item, str) or "${" not in item:
                continue
            if self._has_failed(source, (*path, "for_each", where)):
                found = True  # its substitution failed, and said why
                continue
            try:
                if not references_in(item):
                    continue
                message = "must be known before plan: use variables or literals, not resource references"
            except ExpressionError as exc:
                message = str(exc)
            field = f"{address}.for_each" + (f"[{where}]" if isinstance(where, int) else f".{where}")
            self._problem(source, (*path, "for_each", where), field, message, at_key=at_key)
            found = True
        return found

    def _enabled(self, source: SourceFile, path: PathKey, address: str, when: Any, each: Any) -> bool:
        if when is None:
            return True
        value = self._substitute(source, (*path, "when"), f"{address}.when", when, each, set())
        if has_references(value):
            self._problem(
                source,
                (*path, "when"),
                f"{address}.when",
                "must be known before plan: use variables, each.* and literals",
            )
            return False
        return truthy(value)

    def _node(
        self,
        source: SourceFile,
        path: PathKey,
        kind: str,
        address: str,
        body: dict[str, Any],
        each: Any,
        parent: ResourceNode | None,
        location: Location,
    ) -> ResourceNode | None:
        reused = self._reused(source, path, kind, address, body, parent)
        if reused is not None:
            return reused
        reads = self.environment_reads
        reconciler = KINDS[kind]
        children = self.child_kinds[kind]
        settings = {k: v for k, v in body.items() if k not in META_KEYS and k not in children}
        sensitive: set[str] = set()
        config = self._substitute(source, path, address, settings, each, sensitive)
        examples: list[LocatedExample] = []
        validated = self._validate(source, path, address, reconciler.meta.model, config, examples)
        if validated is not None:
            try:
                validated = reconciler.prepare(validated, self.root_dir)
            except ValueError as exc:
                self._problem(source, path, address, str(exc))
                validated = None
        if validated is not None and parent is not None:
            problems = reconciler.parent_problems(validated, parent.config)
            for field, message in problems.items():
                self._problem(source, (*path, field), f"{address}.{field}", message)
            validated = None if problems else validated
        lifecycle = self._lifecycle(source, path, address, body.get("lifecycle"), reconciler)
        checked: dict[str, str] = {}
        if reconciler.meta.taggable:
            own = self._substitute(
                source, (*path, "tags"), f"{address}.tags", body.get("tags") or {}, each, sensitive, "tags"
            )
            checked = self._check_tags(source, (*path, "tags"), f"{address}.tags", own) or {}
        references = self._depends_on(source, path, address, body.get("depends_on"))
        if validated is None or lifecycle is None:
            return None
        identity = validated.get(reconciler.meta.identity)
        if self._has_failed(source, (*path, reconciler.meta.identity)):
            return None
        if any(ref.root != "lookups" and not derivable(ref) for ref in references_in(identity)):
            self._problem(
                source,
                (*path, reconciler.meta.identity),
                f"{address}.{reconciler.meta.identity}",
                "the identity of a resource must be known before plan: no resource references "
                "(a lookup's attribute is fine); only an attribute plan derives from a resource's "
                "own spec may be named, e.g. ${sqs_queues.NAME.arn}",
            )
            return None
        references += self._references(source, path, address, validated)
        made = _EntryMade(body, validated, checked, lifecycle, location, references, examples)
        if self.static is not None and self.environment_reads == reads:
            # Nothing in it depends on the environment but its default tags and stack (the node
            # gets copies of its config and examples: see _resource_node).
            self.static[address] = made
        return self._resource_node(source, path, kind, address, parent, made, sensitive)

    def _resource_node(
        self,
        source: SourceFile,
        path: PathKey,
        kind: str,
        address: str,
        parent: ResourceNode | None,
        made: _EntryMade,
        sensitive: set[str],
    ) -> ResourceNode:
        """An entry's node, from what its load made of it: a taggable kind's tags are the default
        tags, its own (checked) and the owner tag; the default tags' sensitive paths are its own
        unless it sets the tag itself. The node's config and examples are copies: the checks run
        once every entry is loaded change a config's key fields in place, and `made` may be the
        base spec's record, which an environment's check takes as it was (`_reused`)."""
        reconciler = KINDS[kind]
        tags = None
        if reconciler.meta.taggable:
            tags = {**self.default_tags, **made.tags, OWNER_TAG: self.stack}
            if self.default_sensitive:
                sensitive = sensitive | {
                    p for p in self.default_sensitive if p.removeprefix("tags.") not in made.tags
                }
        return ResourceNode(
            address=address,
            kind=kind,
            name=address.rsplit(".", 1)[-1],
            config=dict(made.config),
            tags=tags,
            lifecycle=made.lifecycle,
            location=made.location,
            parent=parent.address if parent else None,
            depends_on={parent.address} if parent else set(),
            sensitive_paths=sensitive | reconciler.meta.sensitive_fields,
            references=made.references + self._tag_references(source, path, address, tags),
            examples=list(made.examples),
        )

    def _tag_references(
        self, source: SourceFile, path: PathKey, address: str, tags: dict[str, str] | None
    ) -> list[LocatedReference]:
        """The references in an entry's tags (all text): a reference is rare there, and looking for
        "${" in all the values at once spares most entries the walk (a "$" ending one value and a
        "{" starting the next only cost the walk, which finds nothing)."""
        if not tags or "${" not in "".join(tags.values()):
            return []
        return self._references(source, (*path, "tags"), f"{address}.tags", tags)

    def _reused(
        self,
        source: SourceFile,
        path: PathKey,
        kind: str,
        address: str,
        body: dict[str, Any],
        parent: ResourceNode | None,
    ) -> ResourceNode | None:
        """An environment's node for an entry the base spec loaded without reading what an
        environment may set (no ${var...}, ${each...} or ${stack...} in its settings or tags, no
        whole lookup reference standing for a list, `environment_reads`): its validated config,
        lifecycle, location and references are the base spec's, and so are its problems (none: the
        base spec's node exists); only the default tags and the stack differ. None otherwise, or
        when its parent was not taken so (a child's checks look at the parent's config)."""
        entry = self.reusable.get(address)
        if (
            entry is None
            or entry.body is not body
            or (parent is not None and parent.address not in self.reused)
        ):
            return None
        self.reused.add(address)
        return self._resource_node(source, path, kind, address, parent, entry, set())

    def _lifecycle(
        self, source: SourceFile, path: PathKey, address: str, raw: Any, reconciler: Reconciler
    ) -> Lifecycle | None:
        if raw is None:
            return Lifecycle()
        validated = self._validate(source, (*path, "lifecycle"), f"{address}.lifecycle", Lifecycle, raw)
        if validated is None:
            return None
        lifecycle = Lifecycle.model_validate(validated)
        fields = set(reconciler.meta.model.model_fields) | {"tags"}
        for index, entry in enumerate(lifecycle.ignore_changes):
            head = entry.split(".", 1)[0].split("[", 1)[0]
            if head not in fields:
                self._problem(
                    source,
                    (*path, "lifecycle", "ignore_changes", index),
                    f"{address}.lifecycle.ignore_changes[{index}]",
                    f"no attribute {head!r}",
                    suggestion(head, fields),
                )
        if lifecycle.adopt and not reconciler.meta.taggable:
            why = (
                f"{reconciler.meta.title}s are owned through their parent; adopt the parent instead"
                if reconciler.meta.parent
                # e.g. saved_queries: only what the stack's ownership index records is its own
                else f"{reconciler.meta.title}s carry no tag to adopt them by: only what this stack "
                "created is its own"
            )
            self._problem(source, (*path, "lifecycle", "adopt"), f"{address}.lifecycle.adopt", why)
        return lifecycle

    def _references(
        self, source: SourceFile, path: PathKey, address: str, value: Any
    ) -> list[LocatedReference]:
        """Every ${...} still in `value` (resource or lookup references), with where it was written.
        Only the strings holding "${" are looked at, and only their addresses are spelled out (most
        of a spec holds none: spelling every nested path's address out cost a fifth of `validate`)."""
        out: list[LocatedReference] = []
        for rel, in_list, text in _templated_strings(value):
            where = (*path, *rel)
            if self._has_failed(source, where):  # or an enclosing value: `where` starts with it
                continue
            parts = zip(rel, in_list, strict=True)
            field = address + "".join(f"[{part}]" if item else f".{part}" for part, item in parts)
            try:
                found = text_references(text)
            except ExpressionError as exc:
                self._problem(source, where, field, str(exc))
                continue
            location = self._location(source, where, value=True)
            embedded = TEMPLATE.fullmatch(text) is None  # as render() reads a whole value
            out += [LocatedReference(ref.text, field, location, embedded) for ref in found]
        return out

    def _depends_on(
        self, source: SourceFile, path: PathKey, address: str, raw: Any
    ) -> list[LocatedReference]:
        if raw is None:
            return []
        where = (*path, "depends_on")
        if not isinstance(raw, list) or not all(isinstance(x, str) for x in raw):
            self._problem(
                source,
                where,
                f"{address}.depends_on",
                "must be a list of resource addresses such as sns_topics.alerts",
            )
            return []
        return [
            LocatedReference(
                "@" + x, f"{address}.depends_on[{i}]", self._location(source, (*where, i), value=True)
            )
            for i, x in enumerate(raw)
        ]

    def _check_tags(self, source: SourceFile, path: PathKey, field: str, tags: Any) -> dict[str, str] | None:
        if not isinstance(tags, dict):
            self._problem(source, path, field, "must be a mapping of tag keys to values")
            return None
        out: dict[str, str] = {}
        for key, value in tags.items():
            where = (*path, key)
            if key.startswith(TAG_PREFIX):
                self._problem(
                    source,
                    where,
                    f"{field}.{key}",
                    "is written by pacs-reconcile itself; remove it",
                    at_key=True,
                )
            elif key.lower().startswith("aws:"):
                self._problem(
                    source,
                    where,
                    f"{field}.{key}",
                    "tag keys starting with 'aws:' are reserved by AWS",
                    at_key=True,
                )
            elif not TAG_KEY.match(key):
                self._problem(
                    source,
                    where,
                    f"{field}.{key}",
                    "tag keys are 1-128 letters, digits, spaces and _.:/=+-@",
                    at_key=True,
                )
            elif isinstance(value, dict | list) or value is None:
                self._problem(source, where, f"{field}.{key}", "tag values must be text")
            elif len(str(value)) > 256:
                self._problem(source, where, f"{field}.{key}", "tag values are at most 256 characters")
            else:
                out[key] = (
                    value
                    if isinstance(value, str)
                    else str(value).lower()
                    if isinstance(value, bool)
                    else str(value)
                )
        if len(out) + 1 > MAX_TAGS:
            self._problem(source, path, field, f"at most {MAX_TAGS - 1} tags (one is the owner tag)")
        return out

    # ------------------------------------------------------------------------------- helpers
    def _substitute(
        self,
        source: SourceFile,
        path: PathKey,
        field: str,
        value: Any,
        each: Any,
        sensitive: set[str],
        rel: str = "",
    ) -> Any:
        """Put variable and each.* values in; resource/lookup references stay as text. A mapping or
        list in which nothing changes is returned as it is (each value is looked at once, and only
        the paths of the values holding a "${" are spelled out)."""
        if isinstance(value, dict):
            changed: dict[str, Any] | None = None
            for k, v in value.items():
                if _holds_no_template(v):
                    continue
                new = self._substitute(
                    source, (*path, k), f"{field}.{k}", v, each, sensitive, f"{rel}.{k}" if rel else str(k)
                )
                if new is not v:
                    changed = dict(value) if changed is None else changed
                    changed[k] = new
            return value if changed is None else changed
        if isinstance(value, list):
            # Lists are compared (and masked) whole: a secret in an item makes the list sensitive.
            inner: set[str] = set()
            items: list[Any] | None = None
            for i, v in enumerate(value):
                if _holds_no_template(v):
                    continue
                new = self._substitute(source, (*path, i), f"{field}[{i}]", v, each, inner, rel)
                if new is not v:
                    items = list(value) if items is None else items
                    items[i] = new
            if inner:
                sensitive.add(rel)
            return value if items is None else items
        if not isinstance(value, str) or "${" not in value or kept_as_written(value, LOAD_TIME_ROOTS):
            return value  # e.g. a resource's ${sns_topics.alerts.arn}, left for plan
        used_sensitive = False

        def resolve(ref: Reference) -> Any:
            nonlocal used_sensitive
            if ref.root == "var":
                if len(ref.parts) != 2:
                    raise ExpressionError(f"${{{ref.text}}}: variables are written ${{var.NAME}}")
                self.variable_uses.setdefault((source.display, path), set()).add(ref.parts[1])
                var = self.variables.get(ref.parts[1])
                if var is None and ref.parts[1] in self.declared_variables:
                    raise _AlreadyReported()  # its declaration or value is reported already
                if var is None:
                    raise _UnknownVariable(ref.parts[1], suggestion(ref.parts[1], self.variables))
                used_sensitive = used_sensitive or var.sensitive
                return as_data(var.value)  # a value is data: never a template
            if ref.root == "stack":
                return self._stack_value(ref)
            if ref.root == "each":
                if each is None:
                    raise ExpressionError("each.key and each.value exist only in resources with for_each")
                if len(ref.parts) != 2 or ref.parts[1] not in ("key", "value"):
                    raise ExpressionError(f"${{{ref.text}}}: use each.key or each.value")
                return each[ref.parts[1]]
            raise KeyError(ref.text)

        self.environment_reads += 1
        try:
            result = render(value, resolve)
        except ExpressionError as exc:
            self._problem(
                source, path, field, str(exc), exc.help if isinstance(exc, _UnknownVariable) else ""
            )
            self.failed.add((source.display, path))
            return value
        except _AlreadyReported:
            self.failed.add((source.display, path))
            return value
        if used_sensitive:
            sensitive.add(rel)
        return result

    def _stack_value(self, ref: Reference) -> str:
        """${stack.name} and ${stack.region}: e.g. a dashboard widget's region, which must name
        the region its metrics are in (the stack's own, not a hard-coded one)."""
        if len(ref.parts) != 2 or ref.parts[1] not in ("name", "region"):
            raise ExpressionError(f"${{{ref.text}}}: use stack.name or stack.region")
        if ref.parts[1] == "name":
            return self.stack
        if self.region is None:
            raise ExpressionError("${stack.region}: the spec sets no region (add region: to monitoring.yaml)")
        return self.region

    def _validate(
        self,
        source: SourceFile,
        path: PathKey,
        field: str,
        model: type[BaseModel],
        config: Any,
        examples: list[LocatedExample] | None = None,
    ) -> dict[str, Any] | None:
        outcome = self.validations.of(model, config)
        errors, tests = outcome.errors, outcome.tests
        if outcome.list_references:
            self.environment_reads += 1  # each environment's lookups say whether they are lists
        scalars = [(at, text) for at, text in outcome.list_references if not self._names_a_list(text)]
        for at, text in scalars:
            self._problem(
                source,
                (*path, *at),
                _join(field, at),
                f"must be a list; {text} is not one (a whole reference to a list, such as a subnets "
                "lookup's ids, may stand for one)",
            )
        if scalars:
            return None
        dump = outcome.dump()
        if errors is not None:
            for error in errors:
                loc = tuple(error["loc"])
                if self._has_failed(source, (*path, *loc)):
                    continue
                wording = describe(error, model)
                self._problem(
                    source, (*path, *loc), _join(field, loc), wording.message, wording.help, wording.at_key
                )
            return None
        if examples is not None:  # `tests:` are kept aside: the dump (config) leaves them out
            for index, example in enumerate(tests):
                where = self._location(source, (*path, "tests", index))
                examples.append(LocatedExample(f"{field}.tests[{index}]", where, example))
        return dump

    def _names_a_list(self, text: str) -> bool:
        """Whether a whole reference names a lookup attribute that is a list (an undeclared lookup
        or attribute counts as one: check_references reports it)."""
        address, attribute = split_reference(references_in(text)[0].text)
        lookup = (
            self.lookups.get(address.removeprefix("lookups.")) if address.startswith("lookups.") else None
        )
        if lookup is None:
            return address.startswith("lookups.")
        meta = LOOKUPS[lookup.kind].meta
        return attribute not in meta.attributes or attribute in meta.list_attributes

    def _has_failed(self, source: SourceFile, path: PathKey) -> bool:
        """Whether `path` is, or is inside, a value whose substitution failed (and was reported)."""
        if not self.failed:  # as in nearly every load: asked for every entry, no generator made
            return False
        return any(file == source.display and path[: len(failed)] == failed for file, failed in self.failed)


def _whole_list_reference(config: Any, error: Mapping[str, Any]) -> bool:
    """Whether a validation error is a list field of `config` given one whole resource or lookup
    reference. Only a list field itself: an error about a member of a union names the member in
    its `loc` (`('datapoints', 1, 'list[float]')` for an item of `float | list[float]`), which is
    no place in `config` to put a list, and the reference may stand for another member."""
    text = error["input"]
    if error["type"] != "list_type" or not isinstance(text, str) or TEMPLATE.fullmatch(text) is None:
        return False
    if not _written(config, error["loc"]):
        return False
    try:
        return bool(references_in(text))
    except ExpressionError:
        return False


def _written(config: Any, loc: tuple[Any, ...]) -> bool:
    """Whether each step of `loc` is a key or an index written in `config`."""
    value = config
    for step in loc:
        if isinstance(value, dict):
            if step not in value:
                return False
        elif not (isinstance(value, list) and isinstance(step, int) and 0 <= step < len(value)):
            return False
        value = value[step]
    return True


def _with_lists(config: Any, whole: tuple[tuple[tuple[Any, ...], str], ...]) -> Any:
    """`config` with the value at each `where` made a one-item list of itself (copied on the way)."""
    for where, reference in whole:
        config = _replaced(config, where, [reference])
    return config


def _replaced(value: Any, where: tuple[Any, ...], new: Any) -> Any:
    if not where:
        return new
    head, rest = where[0], where[1:]
    if isinstance(value, list):
        return [_replaced(item, rest, new) if i == head else item for i, item in enumerate(value)]
    return {k: _replaced(item, rest, new) if k == head else item for k, item in value.items()}


_NESTED = (dict, list)
"""What a loaded value nests, for the walks over every value of a load: `isinstance(x, dict | list)`
builds the union anew at each call, which took twice as long as the check itself."""


def _holds_no_template(value: Any) -> bool:
    """Whether a value is plainly free of "${": neither a mapping, a list nor text holding one."""
    return not isinstance(value, _NESTED) and not (isinstance(value, str) and "${" in value)


def _templated_strings(value: Any) -> list[tuple[PathKey, tuple[bool, ...], str]]:
    """(path under `value`, which of its parts are list indexes, text) of every string holding "${",
    in the order they are written."""
    if isinstance(value, str):
        return [((), (), value)] if "${" in value else []
    found: list[tuple[PathKey, tuple[bool, ...], str]] = []
    if isinstance(value, _NESTED):
        _walk_templated(value, (), (), found)
    return found


def _walk_templated(
    value: dict[str, Any] | list[Any],
    rel: PathKey,
    in_list: tuple[bool, ...],
    found: list[tuple[PathKey, tuple[bool, ...], str]],
) -> None:
    # A module function, not a closure calling itself: such a closure is a reference cycle (the
    # function holds the cell holding it), and a load made thousands of them, which kept what they
    # reached alive until the cyclic collector's next full pass.
    is_list = isinstance(value, list)
    for part, item in enumerate(value) if isinstance(value, list) else value.items():
        if isinstance(item, str):
            if "${" in item:
                found.append(((*rel, part), (*in_list, is_list), item))
        elif isinstance(item, _NESTED):
            _walk_templated(item, (*rel, part), (*in_list, is_list), found)


def _plain(value: Any) -> str:
    """A variable's value as written in YAML (true, 30, text), for notes."""
    if isinstance(value, bool):
        return str(value).lower()
    return str(value) if isinstance(value, int | float | str) else repr(value)


def _resolved(path: Path) -> Path:
    """`path` with its links followed, or as it is (made absolute) when they lead round in a loop:
    reading the file then says so (too many levels of symbolic links), and an include match is a
    broken link."""
    return followed(path) or path.absolute()


def _not_a_spec_file(match: Path, resolved: Path) -> str | None:
    """Why an include match cannot be read as a spec file (None when it is a regular file)."""
    if match.is_symlink() and not resolved.exists():
        return "is a broken symbolic link"
    if resolved.is_dir():
        return "is a directory, not a spec file"
    if not resolved.is_file():
        return "is not a regular file" if resolved.exists() else "cannot be read"
    return None


class _AlreadyReported(Exception):
    """A reference to a variable whose declaration or value is invalid: reported once, there."""


class _UnknownVariable(ExpressionError):
    def __init__(self, name: str, help: str) -> None:
        super().__init__(f"unknown variable {name!r}")
        self.help = help


def _kind_of(value: Any) -> str:
    if isinstance(value, str):
        return "text"
    if value is None:
        return "null"
    return f"a {type(value).__name__}" if isinstance(value, bool | int | float) else type(value).__name__


def _join(field: str, loc: tuple[Any, ...]) -> str:
    out = field
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out
