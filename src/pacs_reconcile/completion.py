"""Shell completion of values: the spec's addresses for --target/--exclude/--allow-destroy and its
environments for --env, read from the spec named with -f (monitoring.yaml by default).

Completion runs on every Tab press: a spec that does not load completes nothing, silently.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

SHELLS = ("bash", "zsh", "fish", "powershell")
PROG_NAME = "pacs-reconcile"
COMPLETE_VAR = "_PACS_RECONCILE_COMPLETE"


def _spec_path(ctx: Any) -> Path:
    given = getattr(ctx, "params", {}).get("spec_file")
    return Path(given) if given else Path("monitoring.yaml")


def addresses(ctx: typer.Context, incomplete: str) -> list[str]:
    """Resource addresses of the spec starting with what was typed."""
    try:
        from .spec.loader import load_spec

        spec = load_spec(_spec_path(ctx))
    except Exception:  # an invalid or missing spec completes nothing; Tab must never fail
        return []
    return sorted(a for a in spec.resources if a.startswith(incomplete))


def environments(ctx: typer.Context, incomplete: str) -> list[str]:
    """Environment names the spec declares (read from the root file alone: quick)."""
    try:
        import yaml

        data = yaml.safe_load(_spec_path(ctx).read_text(encoding="utf-8"))
        names = [str(n) for n in (data.get("environments") or {})]
    except Exception:  # an unreadable root file completes nothing
        return []
    return [n for n in names if n.startswith(incomplete)]


def script(shell: str) -> str:
    """The completion script of `shell`: each shell gets its own (bash, zsh, fish, powershell)."""
    from typer._completion_shared import get_completion_script

    return get_completion_script(prog_name=PROG_NAME, complete_var=COMPLETE_VAR, shell=shell)
