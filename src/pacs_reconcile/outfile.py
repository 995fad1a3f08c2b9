"""Where a generated document goes: a file named with --out, or stdout (never mixed with messages)."""

from __future__ import annotations

import sys
from pathlib import Path

from .commands import Session


def write_document(session: Session, text: str, out: Path | None, what: str) -> None:
    """Write `text` to `out` (creating its folder) and say so on stderr, or print it on stdout."""
    if out is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    session.say(f"Wrote {what} to {out}.")
