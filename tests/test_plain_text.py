"""What a command says without rich (no color system: --no-color, NO_COLOR, a pipe) is byte for
byte what rich writes there; with colors asked for, rich still says it."""

from __future__ import annotations

import sys

import pytest

from pacs_reconcile.commands import GlobalOptions, Session
from pacs_reconcile.redact import MASK, Redactor

SECRET = "hunter2-secret"

MESSAGES = [
    "Valid: 3 resources in 1 files (stack s).",
    "",
    "trailing spaces   ",
    "two\nlines\n",
    "name\tvalue\n\tindented\tx",
    "ab\tc\tdef\t\tg",
    "bell\a back\b vt\v ff\f cr\r end",
    "cr\r\tthen a tab",
    "escape \x1b[31m kept",
    "escape \x1b before\ta tab",
    "wide 日本語 text",
    "wide 日本語\ttab",
    "e\u0301 combining\ttab",
    f"token {SECRET} masked",
    f"split hunter2-\rsecret\t{SECRET}",
]


def _said(capsys: pytest.CaptureFixture[str], session: Session, *parts: str | tuple[str, str]) -> str:
    capsys.readouterr()
    if len(parts) == 1 and isinstance(parts[0], str):
        session.say(parts[0])
    else:
        session.say_styled(*parts)
    return capsys.readouterr().err


def _sessions(color: bool) -> tuple[Session, Session]:
    """A session yet to make its console (rich is used only if it must) and one with its console made."""
    plain, through_rich = (Session(GlobalOptions(color=color), redactor=Redactor([SECRET])) for _ in "ab")
    through_rich.stderr  # noqa: B018 - the console made: everything is said through rich
    return plain, through_rich


@pytest.mark.parametrize("color", [False, True], ids=["no-color", "not-a-terminal"])
@pytest.mark.parametrize("message", MESSAGES)
def test_a_message_is_written_as_rich_writes_it(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, message: str, color: bool
) -> None:
    for name in ("NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE"):
        monkeypatch.delenv(name, raising=False)
    plain, through_rich = _sessions(color)
    expected = _said(capsys, through_rich, message)
    assert _said(capsys, plain, message) == expected
    assert SECRET not in expected


def test_plain_text_is_written_without_rich_unless_only_rich_can_place_a_tab(
    capsys: pytest.CaptureFixture[str],
) -> None:
    session = Session(GlobalOptions(color=False), redactor=Redactor([SECRET]))
    assert _said(capsys, session, f"a\tb {SECRET}") == f"a       b {MASK}\n"
    assert "stderr" not in session.__dict__  # no console made
    assert _said(capsys, session, "日本\tb") == "日本    b\n"  # two cells each: rich's tab stop
    assert "stderr" in session.__dict__


def test_styled_parts_are_written_as_rich_assembles_them(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    plain, through_rich = _sessions(color=True)
    parts = (("Valid: ", "bold green"), "12 resources\r in\t3 files ", (f"({SECRET})", "dim"))
    expected = _said(capsys, through_rich, *parts)
    assert _said(capsys, plain, *parts) == expected == f"Valid: 12 resources in  3 files ({MASK})\n"
    assert "stderr" not in plain.__dict__


def test_colors_are_kept_where_rich_finds_a_color_terminal(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.setenv("TERM", "xterm-256color")
    session = Session(GlobalOptions(color=True))
    said = _said(capsys, session, ("Valid: ", "bold green"), "3 resources")
    assert "\x1b[" in said and said.endswith("3 resources\n")


def test_no_stream_or_one_a_live_display_stands_in_for_is_left_to_rich(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """rich writes nothing without a stream, and past the proxy a live display puts on stderr."""
    session = Session(GlobalOptions(color=False))
    monkeypatch.setattr("sys.stderr", None)
    session.say("nowhere to go")
    assert "stderr" in session.__dict__
    monkeypatch.undo()

    class Proxy:
        """What rich.live puts on sys.stderr while it redirects it."""

        def __init__(self, real: object) -> None:
            self.rich_proxied_file = real

        def write(self, text: str) -> int:
            raise AssertionError("written to the proxy")

    session = Session(GlobalOptions(color=False))
    real = sys.stderr
    monkeypatch.setattr("sys.stderr", Proxy(real))
    session.say("past the proxy")
    monkeypatch.undo()
    assert "stderr" in session.__dict__
    assert capsys.readouterr().err == "past the proxy\n"
