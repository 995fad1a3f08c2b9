"""People's text written as rich writes it to a stream that takes no styles, without importing rich.

rich's console and text modules cost about 20 ms to import: most of what `validate` says once it has
checked a spec. Where rich would write no styles (no color system: --no-color, NO_COLOR, a file or
a pipe), its output is the text itself, and that is written here; elsewhere rich writes it.
"""

from __future__ import annotations

import builtins
import os
from typing import IO, TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

_STRIPPED_CONTROL_CODES = dict.fromkeys((7, 8, 11, 12, 13))
"""Bell, backspace, vertical tab, form feed and carriage return: what rich's Text removes from
every text it holds (rich.control.STRIP_CONTROL_CODES)."""

TAB_SIZE = 8
"""rich's Console.tab_size, by default."""


def takes_no_styles(stream: TextIO | None, color: bool) -> bool:
    """Whether the rich Console a Session makes for `stream` would have no color system and write to
    it; False whenever that is not certain (then rich decides). No stream at all, or one a live
    display of rich's stands in for (rich writes past it), is left to rich. `color`: False when the
    Session's console is made without one (--no-color, NO_COLOR). Otherwise rich looks for a
    terminal: FORCE_COLOR and TTY_COMPATIBLE, and a Jupyter kernel, are left to it; a stream that
    is not a terminal has none."""
    if stream is None or hasattr(stream, "rich_proxied_file"):
        return False
    if not color:
        return True
    if "FORCE_COLOR" in os.environ or "TTY_COMPATIBLE" in os.environ or hasattr(builtins, "get_ipython"):
        return False
    isatty = getattr(stream, "isatty", None)
    if isatty is None:
        return True
    try:
        return not isatty()
    except ValueError:  # a closed stream: rich takes it for no terminal as well
        return True


def plain_file(console: Console) -> IO[str] | None:
    """The file a rich Console writes to when it writes no styles there (no color system, nothing
    recorded, not quiet, rich's tab size): its text can be written there as it is. None otherwise."""
    if (
        console.color_system is None
        and not console.record
        and not console.quiet
        and console.tab_size == TAB_SIZE
    ):
        return console.file
    return None


def strip_control_codes(text: str) -> str:
    """`text` without the control codes rich's Text removes from every text it holds."""
    return text.translate(_STRIPPED_CONTROL_CODES)


def expand_tabs(text: str) -> str | None:
    """`text` (its control codes stripped) with its tabs expanded as rich expands them; None when
    only rich can tell: rich places tab stops by terminal cells, and a wide or non-printable
    character before a tab takes other than one cell."""
    if "\t" not in text:
        return text
    if not (text.isascii() and text.replace("\t", "").replace("\n", "").isprintable()):
        return None
    return text.expandtabs(TAB_SIZE)


class StyledLine:
    """A line of people's text in parts, each with a rich style ("" for none), made without importing
    rich: written as its plain text where no styles are taken, turned into a rich Text only where
    rich prints it. Its parts and styles are those rich's Text.assemble takes; `style` is the whole
    line's, as rich's Text(text, style=...)."""

    __slots__ = ("parts", "style")

    def __init__(self, text: str = "", style: str = "") -> None:
        self.parts: list[tuple[str, str]] = [(text, "")] if text else []
        self.style = style

    @classmethod
    def assemble(cls, *parts: str | tuple[str, str]) -> StyledLine:
        line = cls()
        line.parts = [(part, "") if isinstance(part, str) else part for part in parts]
        return line

    def append(self, text: str, style: str = "") -> None:
        self.parts.append((text, style))

    @property
    def plain(self) -> str:
        """The text as rich's Text holds it (its control codes stripped)."""
        return strip_control_codes("".join(text for text, _ in self.parts))

    def rich(self) -> Text:
        from rich.text import Text

        return Text.assemble(*self.parts, style=self.style)
