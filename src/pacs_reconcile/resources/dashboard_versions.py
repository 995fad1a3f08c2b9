"""The dashboards' version record: which version of each owned dashboard this stack last saw, so a
plan can leave out the GetDashboard of a dashboard unchanged since.

ListDashboards returns, for up to 1,000 dashboards a page, each one's LastModified ("when the
dashboard was last modified, either by an API call or through the console") and Size in bytes
(CloudWatch API reference, ListDashboards and DashboardEntry). The record, the SSM parameter
/pacs-reconcile/<stack>/dashboard-versions beside the ownership index (`dashboard_index`), keeps
per dashboard a `Version`: the LastModified and Size ListDashboards listed, and a digest of the body
GetDashboard returned for that very version. A plan lists the dashboards once; a declared dashboard
whose listed LastModified and Size equal its recorded ones, and whose desired body has the recorded
digest, holds exactly the desired body: its GetDashboard is left out. Anything else is read.

What the record proves and what it does not:
- It is a hint. LastModified is AWS's own record of every change, made by whatever means: a hand
  edit in the console, another tool, another version of this one, all change it, and a dashboard
  whose listed version differs from the recorded one is read in full. Ownership is never taken from
  it (the tags are read on every plan), and `plan --full-scan` reads every body regardless.
- LastModified is shown to the second in practice (aws/aws-cli awscli/examples/cloudwatch/
  list-dashboards.rst: "LastModified": "2024-10-11T18:40:11+00:00", where alarm timestamps of the
  same CLI carry milliseconds), though the reference speaks of milliseconds. Two versions written
  within one second with the same Size cannot be told apart. So a version is recorded only when
  the body read for it is known to be the last one of its second:
  - read by a plan (ListDashboards, then GetDashboard): when the GetDashboard answered (its HTTP
    `Date`, AWS's clock) at least SETTLED_MS after the listed LastModified; a later edit then shows
    another LastModified. Whatever was written between the listing and the read is what was read.
  - written by an apply (PutDashboard, then one ListDashboards after the writes: PutDashboard
    answers no LastModified, and the body digest is the one of the body sent, which GetDashboard
    returns as the same JSON in its own key order and spacing): when the listed LastModified is
    earlier than SETTLED_MS after the second PutDashboard answered in (its `Date`), so the version
    listed is the apply's or one written right after it. What remains is a write by someone else
    landing within those two seconds after the apply's own PutDashboard of the same dashboard: it
    is not seen until the dashboard changes again or `plan --full-scan` reads it. Reading the
    dashboard back would not close it (no read made within the same second can), and waiting out
    the second at the end of every apply was judged the worse cost.
  The margin of one second past the second itself allows for the clocks of AWS's hosts.
- ListDashboards is taken to list each dashboard's current LastModified (AWS documents no delay
  for it); a plan made while it lagged behind an edit would see that edit at the next plan.
- A record written by a version of this tool whose body digests differ (another FORMAT) is not
  read. Digests cover the body as parsed JSON with sorted keys, so a spec's key order never matters.
- A Standard parameter holds 4 KB: the record keeps the versions of as many dashboards as fit (by
  name); the others are read in full, as before.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

from ..aws import AwsContext
from . import ownership_index

FORMAT = 1
RECORD = "dashboard-versions"
SETTLED_MS = 2000
"""LastModified's second, plus one second for the clocks of the hosts that stamp it and `Date`."""
DIGEST_CHARS = 16
"""96 bits of SHA-256 (base64): an accidental match of two different bodies is out of reach, and
the record of some 60 dashboards fits a Standard parameter's 4 KB."""


@dataclass(frozen=True)
class Version:
    """One dashboard as ListDashboards lists it, and the digest of its body."""

    modified_ms: int
    size: int
    digest: str


@dataclass(frozen=True)
class Listed:
    """A ListDashboards entry: LastModified (in ms since the epoch) and Size."""

    modified_ms: int
    size: int
    arn: str

    def matches(self, version: Version) -> bool:
        return (self.modified_ms, self.size) == (version.modified_ms, version.size)


def parameter_name(stack: str) -> str:
    return ownership_index.parameter_name(stack, RECORD)


def read(ctx: AwsContext, stack: str) -> dict[str, Version] | None:
    """The stored record (None when there is none, or it cannot be read as one)."""
    value = ownership_index.read_value(ctx, stack, RECORD)
    return decode(value) if value is not None else None


def body_digest(body: Any) -> str | None:
    """The digest of a dashboard body (parsed JSON); None when it holds a value not known yet."""
    try:
        text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)
    except (TypeError, ValueError):
        return None
    raw = hashlib.sha256(text.encode()).digest()
    return base64.urlsafe_b64encode(raw).decode()[:DIGEST_CHARS]


def millis(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def listed(entry: Mapping[str, Any]) -> Listed | None:
    """A ListDashboards entry's version (None when AWS left LastModified or Size out)."""
    modified, size = entry.get("LastModified"), entry.get("Size")
    if not isinstance(modified, datetime) or not isinstance(size, int):
        return None
    return Listed(millis(modified), size, str(entry.get("DashboardArn") or ""))


def answered_at(response: Mapping[str, Any]) -> int | None:
    """When AWS answered a call (its HTTP `Date` header, to the second), in ms; None without one."""
    headers = (response.get("ResponseMetadata") or {}).get("HTTPHeaders") or {}
    try:
        return millis(parsedate_to_datetime(str(headers["date"])))
    except (KeyError, TypeError, ValueError):
        return None


def read_after_listing(listing: Listed, digest: str | None, read_at: int | None) -> Version | None:
    """A plan's certain version: listed, then read at least SETTLED_MS after it was last modified."""
    if digest is None or read_at is None or read_at < listing.modified_ms + SETTLED_MS:
        return None
    return Version(listing.modified_ms, listing.size, digest)


def listed_after_write(listing: Listed, digest: str | None, answered_at: int | None) -> Version | None:
    """An apply's version: written by its PutDashboard, then listed as modified no later than the
    second PutDashboard answered in (plus the clocks' margin)."""
    if digest is None or answered_at is None or listing.modified_ms >= answered_at + SETTLED_MS:
        return None
    return Version(listing.modified_ms, listing.size, digest)


def encode(versions: Mapping[str, Version]) -> str:
    """The record of `versions`: as many as fit a Standard parameter, by name."""
    kept: dict[str, list[Any]] = {}
    for name in sorted(versions):
        version = versions[name]
        kept[name] = [version.modified_ms, version.size, version.digest]
        if not ownership_index.fits(ownership_index.encode({"dashboards": kept}, FORMAT)):
            del kept[name]
            break
    return ownership_index.encode({"dashboards": kept}, FORMAT)


def decode(value: str) -> dict[str, Version] | None:
    document = ownership_index.decode(value, FORMAT)
    entries = document.get("dashboards") if document is not None else None
    if not isinstance(entries, dict):
        return None
    out: dict[str, Version] = {}
    for name, entry in entries.items():
        if (
            isinstance(entry, list)
            and len(entry) == 3
            and all(isinstance(n, int) and not isinstance(n, bool) for n in entry[:2])
            and isinstance(entry[2], str)
        ):
            out[name] = Version(entry[0], entry[1], entry[2])
    return out


def write(ctx: AwsContext, stack: str, versions: Mapping[str, Version]) -> None:
    description = "Dashboard versions this pacs-reconcile stack saw (a hint, checked against ListDashboards)"
    ownership_index.write_value(ctx, stack, RECORD, encode(versions), description)


@dataclass
class VersionBook:
    """What one run knows of a stack's dashboard versions: the stored record, the versions this run
    made certain (reads and writes), the stored ones it found stale, and the apply's read-backs
    awaiting their listing."""

    stored: dict[str, Version] | None
    seen: dict[str, Version] = field(default_factory=dict)
    stale: set[str] = field(default_factory=set)
    written: dict[str, tuple[str | None, int | None]] = field(default_factory=dict)
    """name -> (digest of the body this run's PutDashboard wrote, when AWS answered it)."""
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def note(self, name: str, version: Version | None) -> None:
        """A version made certain (None: the stored one, if any, is no longer the dashboard's)."""
        with self.lock:
            if version is None:
                self.seen.pop(name, None)
                self.stale.add(name)
            else:
                self.seen[name] = version

    def wrote(self, name: str, digest: str | None, answered_at: int | None) -> None:
        with self.lock:
            self.written[name] = (digest, answered_at)
            self.seen.pop(name, None)
            self.stale.add(name)  # written: whatever was recorded is gone

    def wanted(self, owned: Iterable[str]) -> dict[str, Version]:
        """The record the owned dashboards call for: this run's versions, else the stored ones not
        found stale (whatever this run did not list is still checked by the next plan)."""
        stored = self.stored or {}
        out: dict[str, Version] = {}
        for name in owned:
            if name in self.seen:
                out[name] = self.seen[name]
            elif name in stored and name not in self.stale:
                out[name] = stored[name]
        return out

    def missing(self) -> str:
        """Why apply should write the record although no dashboard changes ("" when it need not)."""
        if self.stored is None and self.seen:
            return "the dashboards' version record is missing; apply writes it (plans then read fewer bodies)"
        return ""

    def store(self, ctx: AwsContext, stack: str, owned: Iterable[str]) -> None:
        wanted = self.wanted(owned)
        if self.stored is None and not wanted:
            return  # nothing to record: no record is written for a stack without dashboards
        if wanted != self.stored:
            write(ctx, stack, wanted)
            self.stored = wanted


def new_book(ctx: AwsContext, stack: str, stored: dict[str, Version] | None) -> VersionBook:
    """A read's book of `stack`'s versions, from the stored record (kept by the apply's writes;
    planning again under the lock forgets it with every other read)."""
    made = VersionBook(stored)
    _books(ctx)[stack] = made
    return made


def current_book(ctx: AwsContext, stack: str) -> VersionBook | None:
    return _books(ctx).get(stack)


def _books(ctx: AwsContext) -> dict[str, VersionBook]:
    books: dict[str, VersionBook] = ctx.memo("dashboard-versions", dict)
    return books
