"""How a command is declared: shared option sets, global options in either place, usage errors as
exit 3, and the one place exceptions become exit codes and messages.

A command is a function `body(call, **its_own_options) -> exit code`, registered with `@command`.
The decorator adds the option sets it asks for (the spec's `-f/--env/--var`, `--format`) and the
global options, so every command lists them in its help and accepts them after its name too.

Nothing here imports boto3: `--help`, `validate` and the other offline commands start fast.
"""

from __future__ import annotations

import inspect
import itertools
import json
import sys
import traceback
import typing
from collections.abc import Callable, Iterator, MutableMapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

# typer runs on its own copy of click: its usage errors are typer._click's classes, not click's.
# pyproject.toml pins typer to the minor series this was written against.
from typer._click.core import Command as ClickCommand
from typer._click.core import Context as ClickContext
from typer._click.core import ParameterSource
from typer._click.exceptions import UsageError as ClickUsageError
from typer.core import TyperCommand, TyperGroup
from typer.main import get_command_from_info, get_command_name
from typer.models import CommandInfo

from .commands import GlobalOptions, Session, SpecInputs, parse_vars
from .completion import environments
from .diagnostics import render as render_diagnostic
from .errors import ErrorType, ExitStatus, ReconcileError, SpecError
from .verbosity import WIRE

ERROR_FORMAT_VERSION = 1
"""`format_version` of the JSON error document (schema/output/error.v1.schema.json)."""
ARGV_KEY = "pacs_reconcile.argv"
"""Where the group keeps the raw arguments, to answer a usage error in JSON when they ask for it."""


def _keyword(name: str, annotation: Any, default: Any) -> inspect.Parameter:
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation, default=default)


# Global options: accepted before the command name and after it (the value after it wins).
GLOBAL_OPTIONS: tuple[inspect.Parameter, ...] = (
    _keyword(
        "global_region",
        Annotated[
            str | None,
            typer.Option(
                "--region", metavar="REGION", help="AWS region (default: the spec's, then AWS config)."
            ),
        ],
        None,
    ),
    _keyword(
        "global_profile",
        Annotated[str | None, typer.Option("--profile", metavar="NAME", help="AWS named profile.")],
        None,
    ),
    _keyword(
        "global_endpoint_url",
        Annotated[
            str | None,
            typer.Option(
                "--endpoint-url",
                metavar="URL",
                help="AWS endpoint (a local emulator); AWS_ENDPOINT_URL works too.",
            ),
        ],
        None,
    ),
    _keyword(
        "global_no_color",
        Annotated[bool, typer.Option("--no-color", help="Plain output (NO_COLOR works too).")],
        False,
    ),
    _keyword(
        "global_verbose",
        Annotated[
            int,
            typer.Option(
                "--verbose",
                "-v",
                count=True,
                show_default=False,
                help="-v: each phase with its time, and the AWS calls; -vv: also botocore's wire log.",
            ),
        ],
        0,
    ),
    _keyword(
        "global_debug",
        Annotated[
            bool,
            typer.Option(
                "--debug", help="Same as -vv: also botocore's wire log, credentials and secrets masked."
            ),
        ],
        False,
    ),
    _keyword(
        "global_traceback",
        Annotated[bool, typer.Option("--traceback", help="Show tracebacks of internal errors.")],
        False,
    ),
    _keyword(
        "global_stats",
        Annotated[bool, typer.Option("--stats", help="Print AWS calls by operation on stderr.")],
        False,
    ),
)
GLOBAL_NAMES = tuple(p.name for p in GLOBAL_OPTIONS)

# The spec's option set, for every command that reads monitoring.yaml.
SPEC_OPTIONS: tuple[inspect.Parameter, ...] = (
    _keyword(
        "spec_file",
        Annotated[Path, typer.Option("--file", "-f", metavar="FILE", help="The root spec file.")],
        Path("monitoring.yaml"),
    ),
    _keyword(
        "spec_env",
        Annotated[
            str | None,
            typer.Option(
                "--env",
                metavar="ENV",
                autocompletion=environments,
                help="Environment overlay to apply (e.g. dev, prod).",
            ),
        ],
        None,
    ),
    _keyword(
        "spec_vars",
        Annotated[
            list[str] | None,
            typer.Option("--var", metavar="NAME=VALUE", help="Set a variable (repeatable)."),
        ],
        None,
    ),
)
SPEC_NAMES = tuple(p.name for p in SPEC_OPTIONS)


def _format_option(formats: Sequence[str]) -> inspect.Parameter:
    def check(value: str) -> str:
        if value not in formats:
            raise typer.BadParameter(f"must be {' or '.join(formats)}, not {value!r}")
        return value

    return _keyword(
        "output_format",
        Annotated[
            str,
            typer.Option(
                "--format",
                metavar=f"[{'|'.join(formats)}]",
                show_default=False,
                callback=check,
                autocompletion=lambda: list(formats),
                help=f"Output format ({formats[0]} by default).",
            ),
        ],
        formats[0],
    )


def merge_globals(base: GlobalOptions, values: dict[str, Any]) -> GlobalOptions:
    """`base` (the options given before the command) updated by those given after it; pops them."""
    given = {name: values.pop(name) for name in GLOBAL_NAMES}
    return GlobalOptions(
        region=given["global_region"] or base.region,
        profile=given["global_profile"] or base.profile,
        endpoint_url=given["global_endpoint_url"] or base.endpoint_url,
        color=base.color and not given["global_no_color"],
        verbose=max(base.verbose + given["global_verbose"], WIRE if given["global_debug"] else 0),
        traceback=base.traceback or given["global_traceback"],
        stats=base.stats or given["global_stats"],
    )


@dataclass(frozen=True)
class Call:
    """What a command's body receives: its output channels and, if it reads a spec, the spec's options."""

    session: Session
    spec_args: SpecArgs | None = None

    @property
    def inputs(self) -> SpecInputs:
        """The spec's file, environment and --var values (a malformed --var is a usage error)."""
        if self.spec_args is None:
            raise TypeError("this command was declared without spec options")
        args = self.spec_args
        return SpecInputs(args.path, args.environment, parse_vars(args.pairs), args.path_given)


@dataclass(frozen=True)
class SpecArgs:
    """The spec options as given on the command line."""

    path: Path
    environment: str | None
    pairs: list[str]
    path_given: bool
    """-f was on the command line (not the default monitoring.yaml)."""


CommandBody = Callable[..., int]


def command(
    app: typer.Typer, *, name: str | None = None, spec: bool = False, formats: Sequence[str] = ()
) -> Callable[[CommandBody], CommandBody]:
    """Register `body(call, **options) -> exit code` as a command of `app`.

    spec: add -f/--env/--var (read with `call.inputs`); formats: add --format with these choices
    (the first is the default). The global options are always added.
    """

    def register(body: CommandBody) -> CommandBody:
        hints = typing.get_type_hints(body, include_extras=True)
        own = [
            p.replace(kind=inspect.Parameter.KEYWORD_ONLY, annotation=hints[p.name])
            for p in list(inspect.signature(body).parameters.values())[1:]
        ]
        parameters = [_keyword("ctx", typer.Context, inspect.Parameter.empty), *own]
        if spec:
            parameters += SPEC_OPTIONS
        if formats:
            parameters.append(_format_option(formats))
        parameters += GLOBAL_OPTIONS

        def invoke(ctx: typer.Context, **values: Any) -> None:
            base = ctx.obj if isinstance(ctx.obj, GlobalOptions) else GlobalOptions()
            options = merge_globals(base, values)
            spec_args = None
            if spec:
                file, env, pairs = (values.pop(n) for n in SPEC_NAMES)
                given = ctx.get_parameter_source("spec_file") not in (None, ParameterSource.DEFAULT)
                spec_args = SpecArgs(file, env, list(pairs or []), given)
            session = Session(options, output_format=values.pop("output_format", "text"))
            try:
                run(session, lambda: body(Call(session, spec_args), **values))
            finally:
                session.close()

        invoke.__name__ = body.__name__
        invoke.__doc__ = body.__doc__
        invoke.__annotations__ = {}  # the signature below carries the evaluated annotations
        setattr(invoke, "__signature__", inspect.Signature(parameters))  # noqa: B010 (mypy: no attribute)
        group = app.info.cls
        if not (isinstance(group, type) and issubclass(group, Group)):
            raise TypeError("commands are declared on an app made with typer.Typer(cls=Group)")
        info = CommandInfo(name=name or get_command_name(body.__name__), cls=Command, callback=invoke)
        _DECLARED.setdefault(group, {})[str(info.name)] = (
            info,
            app.pretty_exceptions_short,
            app.rich_markup_mode,
        )
        return body

    return register


def group_callback(app: typer.Typer, version: Callable[[], str]) -> None:
    """The options given before the command: the global ones, and --version."""

    def show_version(value: bool) -> None:
        if value:
            typer.echo(version())
            raise typer.Exit(ExitStatus.OK)

    version_option = _keyword(
        "show_version",
        Annotated[
            bool,
            typer.Option(
                "--version", is_eager=True, callback=show_version, help="Print the version and exit."
            ),
        ],
        False,
    )

    def callback(ctx: typer.Context, **values: Any) -> None:
        values.pop("show_version", None)
        ctx.obj = merge_globals(GlobalOptions(), values)

    callback.__annotations__ = {}
    setattr(  # noqa: B010 (mypy: no attribute)
        callback,
        "__signature__",
        inspect.Signature(
            [_keyword("ctx", typer.Context, inspect.Parameter.empty), *GLOBAL_OPTIONS, version_option]
        ),
    )
    app.callback()(callback)


# Usage errors: exit 3 (2 means "changes present"), and a JSON error document when asked for JSON.


def _asks_for_json(args: Sequence[str]) -> bool:
    args = list(args)
    return "--format=json" in args or any(
        a == "--format" and b == "json" for a, b in itertools.pairwise(args)
    )


def _usage_failure(exc: ClickUsageError, args: Sequence[str]) -> None:
    exc.exit_code = ExitStatus.INVALID
    if _asks_for_json(args):
        write_json(error_document(ErrorType.USAGE, exc.format_message()))


_DECLARED: dict[type[Group], dict[str, tuple[CommandInfo, bool, Any]]] = {}
"""The commands `command` declared, by the group class of their app and by name, with the app's
settings typer builds them with: the group builds each when it is looked up."""


class _CommandsBuiltWhenLookedUp(MutableMapping[str, ClickCommand]):
    """A group's commands, each built (typer.main.get_command_from_info) when first looked up: a run
    of one command builds that one, where typer built all 19 (~10 ms of every run). Every name is
    listed (help, completion, typer's suggestion for a mistyped name) without building the others."""

    def __init__(self, declared: dict[str, tuple[CommandInfo, bool, Any]], built: dict[str, ClickCommand]):
        self._declared = declared
        self._built = built
        self._order = [*built, *declared]
        """Every name in the order declared (help lists them so), whether built or not."""

    def __getitem__(self, name: str) -> ClickCommand:
        command = self._built.get(name)
        if command is None:
            info, pretty_exceptions_short, rich_markup_mode = self._declared.pop(name)  # KeyError: none
            command = get_command_from_info(
                info, pretty_exceptions_short=pretty_exceptions_short, rich_markup_mode=rich_markup_mode
            )
            self._built[name] = command
        return command

    def __setitem__(self, name: str, command: ClickCommand) -> None:
        if name not in self:
            self._order.append(name)
        self._declared.pop(name, None)
        self._built[name] = command

    def __delitem__(self, name: str) -> None:
        if self._declared.pop(name, None) is None:
            del self._built[name]
        self._order.remove(name)

    def __contains__(self, name: object) -> bool:
        return name in self._built or name in self._declared

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._order))

    def __len__(self) -> int:
        return len(self._built) + len(self._declared)


class Group(TyperGroup):
    """The command group: usage errors anywhere on the command line exit 3; each command built when
    it is looked up."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        declared = dict(_DECLARED.get(type(self), {}))
        self.commands = _CommandsBuiltWhenLookedUp(declared, dict(self.commands))

    def make_context(
        self, info_name: str | None, args: list[str], parent: ClickContext | None = None, **extra: Any
    ) -> ClickContext:
        raw = list(args)
        try:
            ctx = super().make_context(info_name, args, parent, **extra)
        except ClickUsageError as exc:
            _usage_failure(exc, raw)
            raise
        ctx.meta[ARGV_KEY] = raw
        return ctx

    def invoke(self, ctx: ClickContext) -> Any:
        try:
            return super().invoke(ctx)
        except ClickUsageError as exc:  # an unknown command, or the command's own options
            _usage_failure(exc, ctx.meta.get(ARGV_KEY, []))
            raise


class Command(TyperCommand):
    """A command (its usage errors are answered by the group)."""


# Exceptions to exit codes: the one place.


def error_document(
    error_type: ErrorType,
    message: str,
    diagnostics: list[dict[str, Any]] | None = None,
    exception: str | None = None,
) -> dict[str, Any]:
    error: dict[str, Any] = {"type": str(error_type), "message": message, "diagnostics": diagnostics or []}
    if exception is not None:
        error["exception"] = exception
    return {"format_version": ERROR_FORMAT_VERSION, "error": error}


def write_json(document: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(document, indent=2, allow_nan=False) + "\n")
    sys.stdout.flush()


def run(session: Session, action: Callable[[], int]) -> None:
    """Run a command's body; every exception becomes an exit code, a message on stderr and, with
    --format json, one JSON error document on stdout."""
    code: int
    try:
        code = action()
    except (typer.Exit, SystemExit):
        raise
    except KeyboardInterrupt:
        session.say("interrupted", "bold red")
        code = ExitStatus.INTERRUPTED
        _json_error(session, error_document(ErrorType.INTERRUPTED, "interrupted"))
    except SpecError as exc:
        for diagnostic in exc.diagnostics:
            for line, style in render_diagnostic(diagnostic):
                session.say(line, style)
        count = len(exc.diagnostics)
        summary = f"{count} error{'s' if count != 1 else ''} in the spec"
        session.say(f"{summary}; nothing was sent to AWS.", "bold red")
        diagnostics = [d.to_json() for d in exc.diagnostics]
        _json_error(session, error_document(exc.error_type, summary, diagnostics))
        code = exc.exit_status
    except ReconcileError as exc:
        session.say(f"error: {exc}", "bold red")
        _json_error(session, error_document(exc.error_type, str(exc)))
        code = exc.exit_status
    except Exception as exc:  # AWS client failures and bugs alike end here, never as a bare traceback
        code = ExitStatus.ERROR
        aws = _is_aws_error(exc)
        message = _describe(exc)
        session.say(f"error: {message}", "bold red")
        if session.options.traceback:
            session.say("".join(traceback.format_exception(exc)))
        elif not aws:
            session.say("This looks like a bug in pacs-reconcile; run again with --traceback for details.")
        error_type = ErrorType.AWS if aws else ErrorType.INTERNAL
        _json_error(session, error_document(error_type, message, exception=type(exc).__name__))
    raise typer.Exit(code)


def _json_error(session: Session, document: dict[str, Any]) -> None:
    if session.json_output:
        session.emit_json(document)


def _is_aws_error(exc: BaseException) -> bool:
    module = type(exc).__module__
    return module.startswith(("botocore", "boto3"))


def _describe(exc: BaseException) -> str:
    if _is_aws_error(exc):
        from .engine.apply import describe_error

        return describe_error(exc)
    return f"internal error: {type(exc).__name__}: {exc}"
