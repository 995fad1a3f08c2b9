"""The `pacs-reconcile` command line: options in, exit codes out.

Heavy imports (boto3, the engine) happen inside commands so `--help` and `validate` start fast.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from . import __version__
from .commands import GlobalOptions, Session, SpecInputs, parse_vars
from .errors import ExitStatus, ReconcileError, SpecError

app = typer.Typer(
    name="pacs-reconcile",
    help="Keep the PACS monitoring stack on AWS exactly as declared in monitoring.yaml.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

SpecFile = Annotated[Path, typer.Option("--file", "-f", help="The root spec file.")]
Env = Annotated[str | None, typer.Option("--env", help="Environment overlay to apply (e.g. dev, prod).")]
Vars = Annotated[list[str] | None, typer.Option("--var", help="Set a variable: NAME=VALUE (repeatable).")]
Format = Annotated[str, typer.Option("--format", help="Output format: text or json.")]
Targets = Annotated[
    list[str] | None, typer.Option("--target", help="Limit to KIND.NAME and its dependencies.")
]
Excludes = Annotated[
    list[str] | None, typer.Option("--exclude", help="Leave KIND.NAME (and its children) out.")
]
LockTimeout = Annotated[
    float,
    typer.Option("--lock-timeout", min=0, help="Seconds to wait while another apply holds the stack's lock."),
]
AllowDestroy = Annotated[
    list[str] | None,
    typer.Option("--allow-destroy", help="Let this stateful or protected address be deleted (repeatable)."),
]


@app.callback()
def main_options(
    ctx: typer.Context,
    region: Annotated[
        str | None, typer.Option(help="AWS region (default: the spec's, then AWS config).")
    ] = None,
    profile: Annotated[str | None, typer.Option(help="AWS named profile.")] = None,
    endpoint_url: Annotated[
        str | None, typer.Option(help="AWS endpoint (a local emulator); AWS_ENDPOINT_URL works too.")
    ] = None,
    no_color: Annotated[bool, typer.Option("--no-color", help="Plain output (NO_COLOR works too).")] = False,
    verbose: Annotated[int, typer.Option("--verbose", "-v", count=True, help="More detail on stderr.")] = 0,
    show_traceback: Annotated[
        bool, typer.Option("--traceback", help="Show tracebacks of internal errors.")
    ] = False,
    stats: Annotated[bool, typer.Option("--stats", help="Print AWS calls by operation on stderr.")] = False,
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.")] = False,
) -> None:
    if version:
        typer.echo(__version__)
        raise typer.Exit(0)
    ctx.obj = GlobalOptions(region, profile, endpoint_url, not no_color, verbose, show_traceback, stats)


def _session(ctx: typer.Context, output_format: str = "text") -> Session:
    if output_format not in ("text", "json"):
        _fail_usage(f"--format must be text or json, not {output_format!r}")
    options = ctx.obj if isinstance(ctx.obj, GlobalOptions) else GlobalOptions()
    return Session(options, json_output=output_format == "json")


def _fail_usage(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(ExitStatus.INVALID)


def _run(session: Session, action: Callable[[], int]) -> None:
    """The one place exceptions become exit codes and messages (JSON on stdout when asked)."""
    code: int
    try:
        code = action()
    except (typer.Exit, SystemExit):
        raise
    except KeyboardInterrupt:
        session.say("interrupted", "bold red")
        code = ExitStatus.INTERRUPTED
        _json_error(session, "interrupted", "interrupted", [])
    except SpecError as exc:
        for diagnostic in exc.diagnostics:
            session.say(f"{diagnostic}", "red")
        count = len(exc.diagnostics)
        session.say(
            f"{count} error{'s' if count != 1 else ''} in the spec; nothing was sent to AWS.", "bold red"
        )
        _json_error(
            session, "invalid_spec", f"{count} errors in the spec", [d.__dict__ for d in exc.diagnostics]
        )
        code = exc.exit_status
    except ReconcileError as exc:
        session.say(f"error: {exc}", "bold red")
        _json_error(session, type(exc).__name__, str(exc), [])
        code = exc.exit_status
    except Exception as exc:  # AWS client failures and bugs alike end here, never as a bare traceback
        code = ExitStatus.ERROR
        message = _describe(exc)
        session.say(f"error: {message}", "bold red")
        if session.options.traceback:
            session.say("".join(traceback.format_exception(exc)))
        elif not _is_aws_error(exc):
            session.say("This looks like a bug in pacs-reconcile; run again with --traceback for details.")
        _json_error(session, type(exc).__name__, message, [])
    raise typer.Exit(code)


def _is_aws_error(exc: BaseException) -> bool:
    module = type(exc).__module__
    return module.startswith(("botocore", "boto3"))


def _describe(exc: BaseException) -> str:
    if _is_aws_error(exc):
        from .engine.apply import describe_error

        return describe_error(exc)
    return f"internal error: {type(exc).__name__}: {exc}"


def _json_error(session: Session, kind: str, message: str, diagnostics: list[dict[str, Any]]) -> None:
    if session.json_output:
        session.emit_json(
            {"format_version": 1, "error": {"type": kind, "message": message, "diagnostics": diagnostics}}
        )


def _inputs(spec_file: Path, env: str | None, variables: list[str] | None) -> SpecInputs:
    return SpecInputs(spec_file, env, parse_vars(variables or []))


@app.command()
def validate(
    ctx: typer.Context,
    spec_file: SpecFile = Path("monitoring.yaml"),
    env: Env = None,
    var: Vars = None,
    output_format: Format = "text",
) -> None:
    """Check the spec offline: syntax, types, AWS value domains, references, cycles. No AWS call."""
    from . import commands

    session = _session(ctx, output_format)
    _run(session, lambda: commands.validate(_inputs(spec_file, env, var), session))


@app.command()
def plan(
    ctx: typer.Context,
    spec_file: SpecFile = Path("monitoring.yaml"),
    env: Env = None,
    var: Vars = None,
    out: Annotated[Path | None, typer.Option("--out", help="Save the plan for `apply PLAN.json`.")] = None,
    output_format: Format = "text",
    detailed_exitcode: Annotated[
        bool, typer.Option("--detailed-exitcode", help="Exit 2 when there are changes, 0 when none.")
    ] = False,
    target: Targets = None,
    exclude: Excludes = None,
    allow_destroy: AllowDestroy = None,
) -> None:
    """Read live AWS state and show what apply would create, update, replace or delete."""
    from . import commands

    session = _session(ctx, output_format)
    _run(
        session,
        lambda: commands.plan(
            _inputs(spec_file, env, var),
            session,
            out=out,
            detailed_exitcode=detailed_exitcode,
            targets=target or [],
            excludes=exclude or [],
            allow_destroy=allow_destroy or [],
        ),
    )


@app.command()
def apply(
    ctx: typer.Context,
    plan_file: Annotated[Path | None, typer.Argument(help="A plan saved with `plan --out`.")] = None,
    spec_file: SpecFile = Path("monitoring.yaml"),
    env: Env = None,
    var: Vars = None,
    auto_approve: Annotated[
        bool, typer.Option("--auto-approve", help="Do not ask for confirmation.")
    ] = False,
    target: Targets = None,
    exclude: Excludes = None,
    allow_destroy: AllowDestroy = None,
    parallelism: Annotated[
        int, typer.Option("--parallelism", min=1, max=64, help="Changes run at once.")
    ] = 8,
    output_format: Format = "text",
    lock_timeout: LockTimeout = 0.0,
) -> None:
    """Converge AWS to the spec, in dependency order."""
    from . import commands

    session = _session(ctx, output_format)
    _run(
        session,
        lambda: commands.apply(
            _inputs(spec_file, env, var),
            session,
            plan_file=plan_file,
            auto_approve=auto_approve,
            targets=target or [],
            excludes=exclude or [],
            allow_destroy=allow_destroy or [],
            parallelism=parallelism,
            lock_timeout=lock_timeout,
        ),
    )


@app.command()
def destroy(
    ctx: typer.Context,
    spec_file: SpecFile = Path("monitoring.yaml"),
    env: Env = None,
    var: Vars = None,
    auto_approve: Annotated[
        bool, typer.Option("--auto-approve", help="Do not ask for the stack name.")
    ] = False,
    allow_destroy: AllowDestroy = None,
    parallelism: Annotated[int, typer.Option("--parallelism", min=1, max=64)] = 8,
    output_format: Format = "text",
    lock_timeout: LockTimeout = 0.0,
) -> None:
    """Delete what this stack owns (stateful resources only when named with --allow-destroy)."""
    from . import commands

    session = _session(ctx, output_format)
    _run(
        session,
        lambda: commands.apply(
            _inputs(spec_file, env, var),
            session,
            plan_file=None,
            auto_approve=auto_approve,
            targets=[],
            excludes=[],
            allow_destroy=allow_destroy or [],
            parallelism=parallelism,
            destroy=True,
            lock_timeout=lock_timeout,
        ),
    )


@app.command("force-unlock")
def force_unlock(
    ctx: typer.Context,
    lock_id: Annotated[str, typer.Argument(help="The lock id, as printed by the apply that found it held.")],
    spec_file: SpecFile = Path("monitoring.yaml"),
    env: Env = None,
    var: Vars = None,
) -> None:
    """Remove the stack's apply lock left by a run that died; only if LOCK_ID is the one it holds."""
    from . import commands

    session = _session(ctx)
    _run(session, lambda: commands.force_unlock(_inputs(spec_file, env, var), session, lock_id))


@app.command()
def permissions(
    ctx: typer.Context,
    spec_file: SpecFile = Path("monitoring.yaml"),
    env: Env = None,
    var: Vars = None,
    read_only: Annotated[
        bool, typer.Option("--read-only", help="The policy of plan and drift (and its alerts), not apply's.")
    ] = False,
    metric_namespace: Annotated[str, typer.Option("--metric-namespace", help="drift's metric namespace.")] = (
        "PACS/Reconcile"
    ),
) -> None:
    """Print the IAM policy this spec needs for apply/destroy, or for plan/drift. No AWS call."""
    session = _session(ctx)

    def run() -> int:
        from . import permissions as iam_policy

        return iam_policy.run(
            _inputs(spec_file, env, var), session, read_only=read_only, metric_namespace=metric_namespace
        )

    _run(session, run)


@app.command()
def drift(
    ctx: typer.Context,
    spec_file: SpecFile = Path("monitoring.yaml"),
    env: Env = None,
    var: Vars = None,
    output_format: Format = "text",
    report: Annotated[
        Path | None, typer.Option("--report", help="Also write the JSON report here (atomically).")
    ] = None,
    publish_metric: Annotated[
        bool, typer.Option("--publish-metric", help="Put DriftedResources (total, per kind) into CloudWatch.")
    ] = False,
    metric_namespace: Annotated[str, typer.Option("--metric-namespace")] = "PACS/Reconcile",
    notify_topic: Annotated[
        str | None,
        typer.Option("--notify-topic", help="SNS topic (ARN or spec address) told when the findings change."),
    ] = None,
) -> None:
    """Read-only drift check for cron: exit 0 clean, 2 drift or pending changes, 1 error, 3 invalid spec."""
    from . import commands

    session = _session(ctx, output_format)
    _run(
        session,
        lambda: commands.drift(
            _inputs(spec_file, env, var),
            session,
            report_file=report,
            publish_metric=publish_metric,
            metric_namespace=metric_namespace,
            notify_topic=notify_topic,
        ),
    )


@app.command()
def verify(
    ctx: typer.Context,
    spec_file: SpecFile = Path("monitoring.yaml"),
    env: Env = None,
    var: Vars = None,
    output_format: Format = "text",
    notify: Annotated[
        bool,
        typer.Option(
            "--notify/--no-notify", help="Publish a test message and flip an alarm (reaches people)."
        ),
    ] = True,
    alarm: Annotated[
        str | None, typer.Option("--alarm", help="Alarm to flip (default: the first notifying one).")
    ] = None,
) -> None:
    """Check the applied stack like the guide's test scripts: resources, metrics, logs, notifications."""
    from . import commands

    session = _session(ctx, output_format)
    _run(session, lambda: commands.verify(_inputs(spec_file, env, var), session, notify=notify, alarm=alarm))


@app.command()
def demo(
    ctx: typer.Context,
    spec_file: SpecFile = Path("monitoring.yaml"),
    env: Env = None,
    var: Vars = None,
) -> None:
    """Run plan -> apply -> drift -> repair on an embedded local AWS emulator (no AWS account)."""
    session = _session(ctx)

    def run() -> int:
        from .emulator.demo import run_demo

        return run_demo(spec_file, env, parse_vars(var or []), session.options.color)

    _run(session, run)


@app.command()
def emulator(
    ctx: typer.Context,
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 4566,
    region: Annotated[str, typer.Option("--emulator-region", help="Region to seed.")] = "ap-northeast-2",
    seed: Annotated[bool, typer.Option(help="Create the PACS stack's existing infrastructure.")] = True,
) -> None:
    """Keep a seeded local AWS emulator running, to try plan/apply on your own edits (Ctrl-C stops)."""
    session = _session(ctx)

    def run() -> int:
        import time

        from .emulator.server import running_emulator

        with running_emulator(region, port, seed) as emu:
            session.say(
                f"Local AWS emulator listening on {emu.endpoint_url} (region {region}).", "bold green"
            )
            session.say("In another shell:")
            session.say(
                f"  export AWS_ENDPOINT_URL={emu.endpoint_url} AWS_ACCESS_KEY_ID=testing "
                "AWS_SECRET_ACCESS_KEY=testing"
            )
            session.say("  pacs-reconcile plan")
            session.say("State lives in memory; POST /moto-api/reset clears it. Ctrl-C stops.")
            while True:
                time.sleep(3600)

    _run(session, run)


OutFile = Annotated[Path | None, typer.Option("--out", help="Write to this file instead of stdout.")]


@app.command()
def schema(
    ctx: typer.Context,
    included: Annotated[
        bool, typer.Option("--included", help="The schema of included files (specs/*.yaml), not the root's.")
    ] = False,
    out: OutFile = None,
) -> None:
    """Print the spec's JSON Schema, for completion and checks in editors. No AWS call."""
    session = _session(ctx)

    def run() -> int:
        from . import schema as spec_schema

        return spec_schema.run(session, included=included, out=out)

    _run(session, run)


@app.command()
def docs(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", help="Folder of the pages.")] = Path("docs/reference"),
    examples: Annotated[
        Path, typer.Option("--examples", help="Folder of the hand-written examples, one KIND.yaml each.")
    ] = Path("docs/examples"),
) -> None:
    """Write the reference pages (a page per kind, lookups, an index) from the models. No AWS call."""
    session = _session(ctx)

    def run() -> int:
        from . import docs_gen

        return docs_gen.run(session, out=out, examples=examples)

    _run(session, run)


@app.command()
def graph(
    ctx: typer.Context,
    spec_file: SpecFile = Path("monitoring.yaml"),
    env: Env = None,
    var: Vars = None,
    output_format: Annotated[str, typer.Option("--format", help="mermaid or dot.")] = "mermaid",
    out: OutFile = None,
) -> None:
    """Print the dependency graph of the spec's resources and lookups (Mermaid or DOT). No AWS call."""
    session = _session(ctx)

    def run() -> int:
        from . import graph as spec_graph

        return spec_graph.run(session, _inputs(spec_file, env, var), output_format=output_format, out=out)

    _run(session, run)


@app.command()
def export(
    ctx: typer.Context,
    kind: Annotated[
        list[str] | None, typer.Option("--kind", help="A top-level kind to export (repeatable; default all).")
    ] = None,
    prefix: Annotated[str | None, typer.Option("--prefix", help="Names starting with this.")] = None,
    tag: Annotated[str | None, typer.Option("--tag", help="Resources carrying this tag: KEY=VALUE.")] = None,
    stack: Annotated[
        str | None,
        typer.Option("--stack", help="The spec's stack (default: S of --tag pacs-reconcile:stack=S)."),
    ] = None,
    out: OutFile = None,
) -> None:
    """Write spec YAML for existing resources (by kind and name prefix, or tag) to adopt them. Reads only."""
    session = _session(ctx)

    def run() -> int:
        from . import export as exporter

        return exporter.run(session, kinds=kind or [], prefix=prefix, tag=tag, stack=stack, out=out)

    _run(session, run)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        sys.exit(ExitStatus.INTERRUPTED)


if __name__ == "__main__":
    main()
