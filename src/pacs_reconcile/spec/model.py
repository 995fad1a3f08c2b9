"""What loading a spec produces: resolved variables, lookups and resource nodes, ready to plan."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator


class Lifecycle(BaseModel):
    """Per-resource safety and ownership options."""

    model_config = ConfigDict(extra="forbid")

    prevent_destroy: bool = False
    """Refuse to delete or replace this resource unless the command names it explicitly."""
    ignore_changes: list[str] = Field(default_factory=list)
    """Attribute paths (e.g. `retention_days`, `tags.Owner`) whose live value is left as it is."""
    adopt: bool = False
    """Take over a same-name resource that exists without this stack's owner tag (it gets tagged)."""


class AssumeRole(BaseModel):
    """The IAM role every AWS call of an environment is made as (STS AssumeRole)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # Limits and patterns: the STS API model (botocore sts/2011-06-15, roleSessionNameType,
    # externalIdType); the ARN shape is IAM's arn:PARTITION:iam::ACCOUNT:role/PATH/NAME.
    role_arn: str = Field(pattern=r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$")
    """ARN of the role to assume, e.g. arn:aws:iam::111122223333:role/pacs-reconcile."""
    session_name: str = Field(default="pacs-reconcile", min_length=2, max_length=64, pattern=r"^[\w+=,.@-]+$")
    """Shown in CloudTrail and in the assumed-role ARN: who made the calls."""
    external_id: str | None = Field(default=None, min_length=2, max_length=1224, pattern=r"^[\w+=,.@:/-]+$")
    """Required by the role's trust policy when a third party assumes it."""


class EnvironmentSettings(BaseModel):
    """What an environment overlay sets besides variables."""

    model_config = ConfigDict(extra="forbid")

    variables: dict[str, Any] = Field(default_factory=dict)
    """Variable values in this environment: NAME: VALUE (checked against their declarations)."""
    stack: str | None = None
    """The stack (owner tag value) of this environment: two environments in one account need two."""
    region: str | None = None
    """The region of this environment (`--region` still wins)."""
    account_id: str | None = Field(default=None, pattern=r"^\d{12}$")
    """Refuse to run (before any change) unless the credentials are for this account (quote it)."""
    assume_role: AssumeRole | None = None
    """Make every AWS call of this environment as this role."""

    @field_validator("account_id", mode="before")
    @classmethod
    def _quoted(cls, value: Any) -> Any:
        if isinstance(value, int):
            raise ValueError(
                "write the account id quoted, e.g. '012345678901': YAML reads bare digits as a number "
                "(and some with a leading 0 as octal)"
            )
        return value


@dataclass(frozen=True)
class Location:
    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass
class ResourceNode:
    """One declared resource (or child), variables substituted, references still as `${...}`."""

    address: str
    kind: str
    name: str
    config: dict[str, Any]
    tags: dict[str, str] | None
    lifecycle: Lifecycle
    location: Location
    parent: str | None = None
    depends_on: set[str] = field(default_factory=set)
    """Addresses this resource waits for: its parent, what it references, explicit depends_on."""
    sensitive_paths: set[str] = field(default_factory=set)
    references: list[LocatedReference] = field(default_factory=list)
    """Every ${...} left for plan time, and where it was written (checked once all are loaded)."""
    examples: list[LocatedExample] = field(default_factory=list)
    """The entry's offline `tests:` (never part of config, plans or fingerprints)."""


@dataclass(frozen=True)
class LocatedExample:
    """One item of an entry's `tests:`, with where it was written."""

    field: str
    location: Location
    example: BaseModel


@dataclass(frozen=True)
class LocatedReference:
    text: str
    """The reference without ${ }, e.g. `sns_topics.alerts.arn`, or `@address` for depends_on."""
    field: str
    location: Location
    embedded: bool = False
    """Whether the reference sits inside text (`x-${...}`) rather than being the whole value."""


@dataclass
class LookupNode:
    name: str
    kind: str
    config: dict[str, Any]
    location: Location


@dataclass
class Variable:
    name: str
    value: Any
    sensitive: bool
    from_default: bool = False
    """The value is the declaration's default (nothing set it: no --var, environment, overlay)."""
    required_in: tuple[str, ...] = ()
    """Environments where the default is a placeholder: apply refuses until something sets it."""
    from_env: str | None = None

    def secret_texts(self) -> list[str]:
        """The forms a sensitive value takes in the tool's data: as given, and as the loader keeps
        it inside unresolved config (every `${` escaped as `$${`, see expressions.as_data)."""
        if not self.sensitive or self.value in (None, ""):
            return []
        text = str(self.value)
        return [text] if "${" not in text else [text, text.replace("${", "$${")]


@dataclass(frozen=True)
class RemovedEntry:
    """A resource no longer declared, named by its AWS identity in the spec's `removed:` section."""

    address: str
    """`KIND["identity"]`, the address plan shows for an undeclared resource."""
    kind: str
    identity: str
    destroy: bool
    """False: release it (the tool's tags come off, the resource stays). True: delete it even if it
    holds data or was protected (as if named with --allow-destroy)."""
    location: Location


@dataclass
class Spec:
    stack: str
    region: str | None
    root: Path
    files: list[str]
    environment: str | None
    variables: dict[str, Variable]
    lookups: dict[str, LookupNode]
    resources: dict[str, ResourceNode]
    removed: list[RemovedEntry] = field(default_factory=list)
    environments: list[str] = field(default_factory=list)
    """Every environment the spec declares (for `--env all`)."""
    account_id: str | None = None
    """The selected environment's account guard."""
    assume_role: AssumeRole | None = None

    def placeholders(self) -> list[Variable]:
        """Variables still at their default in an environment that requires them set."""
        return [
            v
            for v in self.variables.values()
            if v.from_default and self.environment is not None and self.environment in v.required_in
        ]

    @property
    def secrets(self) -> list[str]:
        """Every sensitive value, for masking anything the tool prints or writes."""
        return [text for var in self.variables.values() for text in var.secret_texts()]

    def fingerprint(self) -> str:
        """A digest of everything the spec asks for. Secret values are left out: the digest is
        printed and saved, and must not let a weak secret be guessed offline."""
        payload = {
            "stack": self.stack,
            "resources": {a: [n.config, n.tags, sorted(n.depends_on)] for a, n in self.resources.items()},
            "lookups": {n: lk.config for n, lk in self.lookups.items()},
        }
        text = json.dumps(payload, sort_keys=True, default=str)
        for secret in sorted(self.secrets, key=len, reverse=True):
            text = text.replace(secret, "(sensitive)")
        return hashlib.sha256(text.encode()).hexdigest()
