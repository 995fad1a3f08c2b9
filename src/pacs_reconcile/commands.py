"""What each command does, independent of how its options are parsed."""

from __future__ import annotations

import json
import os
import sys
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Literal, TextIO

from .errors import ExitStatus, PlanRefused, UsageError
from .plain_text import StyledLine, expand_tabs, plain_file, strip_control_codes, takes_no_styles
from .redact import Redactor
from .verbosity import PHASES, WIRE, disable_wire_log, enable_wire_log, timed_phase

if TYPE_CHECKING:  # rich, boto3 and the engine are imported when used: `--help` does without them
    from rich.console import Console
    from rich.text import Text

    from .aws import AwsContext
    from .engine.apply import Outcome, ProgressHook
    from .engine.changes import Change
    from .engine.drift import DriftReport
    from .engine.plan import Plan, PlanOptions
    from .engine.values import Values
    from .render import PlanPrinter
    from .spec.model import Spec


@dataclass
class GlobalOptions:
    region: str | None = None
    profile: str | None = None
    endpoint_url: str | None = None
    color: bool = True
    verbose: int = 0
    traceback: bool = False
    stats: bool = False


@dataclass
class SpecInputs:
    path: Path
    environment: str | None
    variables: dict[str, str]
    path_given: bool = True
    """Whether the person named the spec (-f); if not, `apply PLAN` reads the one PLAN was made from."""


@dataclass
class Session:
    """Per-invocation output channels: results on stdout, people's diagnostics on stderr."""

    options: GlobalOptions
    output_format: str = "text"
    redactor: Redactor = field(default_factory=Redactor)

    @property
    def json_output(self) -> bool:
        return self.output_format == "json"

    @property
    def document_output(self) -> bool:
        """stdout carries one document (JSON, Markdown, HTML...): what people read goes to stderr."""
        return self.output_format != "text"

    @cached_property
    def stdout(self) -> Console:
        return self._console(stderr=False)

    @cached_property
    def stderr(self) -> Console:
        return self._console(stderr=True)

    @property
    def _no_color(self) -> bool:
        return not self.options.color or "NO_COLOR" in os.environ

    def _console(self, stderr: bool) -> Console:
        from rich.console import Console

        no_color = self._no_color
        # no_color alone still lets rich write bold/dim escapes: plain output means no color system at all
        system: Literal["auto"] | None = None if no_color else "auto"
        return Console(stderr=stderr, no_color=no_color, color_system=system, highlight=False, soft_wrap=True)

    def __post_init__(self) -> None:
        if self.options.verbose >= WIRE:
            enable_wire_log(self.redactor)

    def close(self) -> None:
        """The command is done: stop the wire log it started."""
        if self.options.verbose >= WIRE:
            disable_wire_log()

    def phase(self, name: str, ctx: AwsContext | None = None) -> AbstractContextManager[None]:
        """With -v: say when the phase starts and how long it took (and the AWS calls of `ctx`)."""
        if self.options.verbose < PHASES:
            return nullcontext()
        calls = (lambda: int(ctx.stats.total)) if ctx is not None else None
        return timed_phase(lambda message: self.say(message, "dim"), name, calls)

    def say(self, message: str | Text, style: str = "") -> None:
        if isinstance(message, str) and self._said_plainly(message):
            return
        from rich.text import Text

        text = message if isinstance(message, Text) else Text(message, style=style)
        if any(secret in text.plain for secret in self.redactor.secrets):  # styling is lost only then
            text = Text(self.redactor.text(text.plain), style=text.style or style)
        self.stderr.print(text, highlight=False)

    def say_styled(self, *parts: str | tuple[str, str]) -> None:
        """One message of parts, each plain text or (text, style), as rich's Text.assemble joins them."""
        line = StyledLine.assemble(*parts)
        if not self._said_plainly(line.plain):
            self.say(line.rich())

    def _said_plainly(self, message: str) -> bool:
        """`message` written to stderr as rich would write it there, when rich would write no styles
        and its console is not made yet (so nothing of rich's, a live display say, is on screen):
        a command that only says a line or two then does without rich. False: rich must say it."""
        stream = self.plain_stream(stderr=True)
        if stream is None:
            return False
        shown = expand_tabs(self.redactor.text(strip_control_codes(message)))
        if shown is None:
            return False
        stream.write(shown + "\n")
        stream.flush()
        return True

    def plain_stream(self, stderr: bool) -> TextIO | None:
        """stderr or stdout, where people's text can be written as it is, without rich: rich would
        write no styles there (a file, a pipe, NO_COLOR) and the session's console for it is not made
        (so nothing of rich's, a live display say, is on screen). None: rich must write it."""
        stream = sys.stderr if stderr else sys.stdout
        if ("stderr" if stderr else "stdout") in self.__dict__:
            return None
        return stream if takes_no_styles(stream, color=not self._no_color) else None

    def output(self, stderr: bool = False) -> SessionOutput:
        """stdout (or stderr) for a printer's lines (render.PlanPrinter)."""
        return SessionOutput(self, stderr)

    def emit_document(self, text: str) -> None:
        """A rendered document (Markdown, HTML, annotations) on stdout, secrets masked."""
        sys.stdout.write(self.redactor.text(text))
        sys.stdout.flush()

    def emit_json(self, document: dict[str, Any]) -> None:
        sys.stdout.write(
            json.dumps(self.redactor.data(document), indent=2, sort_keys=False, default=str, allow_nan=False)
            + "\n"
        )
        sys.stdout.flush()


def planfile_is_stdio(path: Path) -> bool:
    """`--out -` writes the plan to stdout; `apply -` reads it from stdin."""
    return str(path) == "-"


def parse_vars(pairs: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"--var {pair.split('=', 1)[0]!r}: expected NAME=VALUE")
        out[name.strip()] = value
    return out


def load(inputs: SpecInputs, session: Session) -> Spec:
    from . import api, collector

    with session.phase(f"loading the spec {inputs.path}"), collector.settled():
        spec = api.load(inputs.path, environment=inputs.environment, variables=inputs.variables)
    session.redactor.add(spec.secrets)
    return spec


@dataclass(frozen=True)
class SessionOutput:
    """A session's stdout or stderr as a printer's output (render.Output): plain text where the
    session writes it without rich (Session.plain_stream), else its console; a console the session
    has made already (an environment's captured one, say) writes plainly where it takes no styles."""

    session: Session
    stderr: bool

    def plain_stream(self) -> IO[str] | None:
        made: Console | None = self.session.__dict__.get("stderr" if self.stderr else "stdout")
        if made is not None:
            return plain_file(made)
        return self.session.plain_stream(self.stderr)

    def console(self) -> Console:
        return self.session.stderr if self.stderr else self.session.stdout


def aws_context(spec: Spec, session: Session, parallelism: int = 8) -> AwsContext:
    from . import api

    opts = session.options
    ctx = api.connect(
        spec,
        region=opts.region,
        profile=opts.profile,
        endpoint_url=opts.endpoint_url,
        parallelism=parallelism,
    )
    ctx.report = lambda message: session.say(message, "yellow")
    if session.options.verbose >= 1:
        ctx.trace = lambda message: session.say(message, "dim")
    return ctx


def check_placeholders(spec: Spec) -> None:
    """Refuse to apply while a variable the environment requires still has its default."""
    unset = spec.placeholders()
    if not unset:
        return
    lines = [
        f"variables.{v.name}: still its default in environment {spec.environment} (required_in); set "
        + (f"the environment variable {v.from_env} or " if v.from_env else "")
        + f"--var {v.name}=..."
        for v in unset
    ]
    raise UsageError("refusing to apply placeholder values:\n  " + "\n  ".join(lines))


def print_stats(session: Session, ctx: AwsContext) -> None:
    if not session.options.stats:
        return
    stats = ctx.stats
    session.say(f"AWS calls: {stats.total} ({stats.retries} retries, {stats.seconds:.2f}s in calls)", "bold")
    for name, count in sorted(stats.calls.items()):
        session.say(f"  {name}: {count}")


def validate(inputs: SpecInputs, session: Session) -> int:
    """The spec offline; without --env, the base spec and every environment's overlay."""
    if session.output_format in ("github", "sarif"):
        return _validate_for_ci(inputs, session)
    spec, environments = _load_and_check(inputs, session)
    if session.json_output:
        session.emit_json(
            {
                "format_version": 1,
                "valid": True,
                "stack": spec.stack,
                "resources": len(spec.resources),
                "files": spec.files,
                "environments": environments,
            }
        )
    else:
        checked = f"; environments {', '.join(environments)}" if environments else ""
        session.say_styled(
            ("Valid: ", "bold green"),
            f"{len(spec.resources)} resources and {len(spec.lookups)} lookups in "
            f"{len(spec.files)} files (stack {spec.stack}{checked}).",
        )
    return ExitStatus.OK


def _load_and_check(inputs: SpecInputs, session: Session) -> tuple[Spec, list[str]]:
    """The spec and the environments validated: without --env, the base spec and every environment
    (a bad value in an overlay is found before `--env` names it)."""
    from .monitoring.runner import check_examples, run_examples

    if inputs.environment is None:
        from . import collector
        from .spec.loader import load_every_environment

        with collector.settled():
            spec, environments = load_every_environment(
                inputs.path, cli_vars=inputs.variables, environ=os.environ
            )
        session.redactor.add(spec.secrets)
    else:
        spec, environments = load(inputs, session), [inputs.environment]
    check_examples(run_examples(spec))  # a failing `tests:` example is an invalid spec
    return spec, environments


def _validate_for_ci(inputs: SpecInputs, session: Session) -> int:
    """Problems as GitHub annotations or a SARIF log on stdout; people's text still on stderr."""
    from .annotations import github_annotations, sarif_log
    from .errors import SpecError

    try:
        spec, _ = _load_and_check(inputs, session)
    except SpecError as exc:
        if session.output_format == "github":
            session.emit_document(github_annotations(exc.diagnostics))
        else:
            session.emit_json(sarif_log(exc.diagnostics))
        raise
    if session.output_format == "sarif":
        session.emit_json(sarif_log([]))
    session.say(f"Valid: {len(spec.resources)} resources in {len(spec.files)} files (stack {spec.stack}).")
    return ExitStatus.OK


def plan(
    inputs: SpecInputs,
    session: Session,
    *,
    out: Path | None,
    detailed_exitcode: bool,
    targets: list[str],
    excludes: list[str],
    allow_destroy: list[str],
    destroy: bool = False,
    include_stateful: bool = False,
    remote_check: bool = False,
    adopt_all: bool = False,
    full_scan: bool = False,
) -> int:
    from . import api, environments
    from .engine.plan import PlanOptions
    from .render import PlanPrinter, plan_json

    if inputs.environment == environments.ALL:
        if out is not None:
            raise UsageError("--env all cannot save one plan (--out): save each environment's plan apart")
        return environments.run_every_environment(
            inputs,
            session,
            lambda one, captured: plan(
                one,
                captured,
                out=None,
                detailed_exitcode=detailed_exitcode,
                targets=targets,
                excludes=excludes,
                allow_destroy=allow_destroy,
                destroy=destroy,
                include_stateful=include_stateful,
                remote_check=remote_check,
                adopt_all=adopt_all,
                full_scan=full_scan,
            ),
        )
    options = PlanOptions(
        targets, excludes, allow_destroy, destroy, include_stateful, adopt_all=adopt_all, full_scan=full_scan
    )
    check_addresses(options)
    to_stdout = out is not None and planfile_is_stdio(out)
    if to_stdout and session.output_format != "text":
        raise UsageError(f"--out - and --format {session.output_format} would both write to stdout")
    spec = load(inputs, session)
    ctx = aws_context(spec, session)
    with session.phase("reading AWS and planning", ctx):
        the_plan = api.plan(spec, options, aws=ctx)
    # The plan's JSON document (a walk of every change: ~10 ms for 1,700 resources) is made only for
    # what writes it: a saved plan, the remote check, JSON output; not for the text or Markdown view.
    writes_document = out is not None or remote_check or session.json_output
    document = plan_json(the_plan, session.redactor) if writes_document else {}
    if out is not None:
        from . import planfile

        sensitive = {n for n, v in spec.variables.items() if v.sensitive}
        saved_vars = {k: v for k, v in inputs.variables.items() if k not in sensitive}
        planfile.save(
            out,
            document,
            the_plan,
            # absolute: `apply PLAN` finds the spec from any folder
            planfile.SavedInputs(str(inputs.path.resolve()), inputs.environment, saved_vars),
            session.redactor,
        )
    if remote_check:
        _remote_check(spec, ctx, session, document)
    if session.json_output:
        session.emit_json(document)
    elif session.output_format == "markdown":
        from .render_markdown import plan_markdown

        session.emit_document(plan_markdown(the_plan, session.redactor))
    else:
        PlanPrinter(session.output(stderr=to_stdout), session.redactor).plan(the_plan)
        if out is not None and not to_stdout:
            session.say(f"Saved the plan to {out}; apply it exactly with: pacs-reconcile apply {out}")
    print_stats(session, ctx)
    if the_plan.refused:
        for change in the_plan.refused:
            session.say(f"error: {change.address}: {change.reason}", "bold red")
        return ExitStatus.ERROR
    if detailed_exitcode and the_plan.has_changes:
        return ExitStatus.CHANGES
    return ExitStatus.OK


def _remote_check(spec: Spec, ctx: AwsContext, session: Session, document: dict[str, Any]) -> None:
    """Ask AWS's TestMetricFilter about the metric filter examples; report disagreements (stderr, JSON)."""
    from .monitoring.remote_check import remote_check

    result = remote_check(spec, ctx.client("logs"))
    document["remote_check"] = result.as_json()
    for disagreement in result.disagreements:
        session.say(f"warning: TestMetricFilter disagrees: {disagreement}", "yellow")
    session.say(
        f"Remote check: {result.lines} example lines of {result.patterns} metric filters asked of "
        f"TestMetricFilter; {len(result.disagreements)} disagreements with the offline engine."
    )


def apply(
    inputs: SpecInputs,
    session: Session,
    *,
    plan_file: Path | None,
    auto_approve: bool,
    targets: list[str],
    excludes: list[str],
    allow_destroy: list[str],
    parallelism: int,
    destroy: bool = False,
    include_stateful: bool = False,
    show_plan: bool = True,
    lock_timeout: float = 0.0,
    adopt_all: bool = False,
) -> int:
    from .engine.lock import stack_lock
    from .engine.plan import PlanOptions

    saved_document = None
    if plan_file is not None:
        from . import planfile

        saved_document, saved = planfile.load(plan_file)
        spec_path = planfile.spec_location(saved, inputs.path if inputs.path_given else None)
        inputs = SpecInputs(spec_path, saved.environment, {**saved.variables, **inputs.variables})
        auto_approve = True  # a saved plan was reviewed when it was made
    spec = load(inputs, session)
    if saved_document is not None:
        planfile.check_same_spec(saved_document, saved, spec, inputs.path)  # before any AWS call
    options = PlanOptions(targets, excludes, allow_destroy, destroy, include_stateful, adopt_all=adopt_all)
    if saved_document is not None:
        options = PlanOptions(**_saved_options(saved_document))
    check_addresses(options)
    if not destroy:
        check_placeholders(spec)
    ctx = aws_context(spec, session, parallelism)
    # Nothing to do, or nothing allowed: answer without the lock, so a converged stack costs no write
    # at all. Anything to change is planned again under the lock before it is applied.
    early = _answer_without_lock(spec, ctx, session, options, saved_document)
    if early is not None:
        return early
    # One apply at a time per stack and region: planned and applied under the lock, released on
    # success, failure and Ctrl-C alike.
    with stack_lock(ctx, spec.stack, lock_timeout, "destroy" if destroy else "apply", session.say):
        return _apply_locked(
            spec,
            ctx,
            session,
            options,
            saved_document,
            auto_approve=auto_approve,
            parallelism=parallelism,
            destroy=destroy,
            show_plan=show_plan,
        )


def check_addresses(options: PlanOptions) -> None:
    """Address patterns with an unknown kind are refused offline, before any AWS call."""
    from .engine.addresses import parse_all

    parse_all(options.allow_destroy, "--allow-destroy")
    parse_all(options.release, "release")


def _plan_to_apply(
    spec: Spec, ctx: AwsContext, session: Session, options: PlanOptions, saved_document: dict[str, Any] | None
) -> tuple[Plan, PlanPrinter]:
    """The plan an apply would carry out, and the printer for it; PlanRefused when it refuses
    changes, and (applying a saved plan) an error when AWS or the spec moved since it was saved."""
    from . import api
    from .render import PlanPrinter

    with session.phase("reading AWS and planning", ctx):
        the_plan = api.plan(spec, options, aws=ctx)
    printer = PlanPrinter(session.output(stderr=session.document_output), session.redactor)
    if saved_document is not None:
        from . import planfile

        planfile.check_still_valid(saved_document, the_plan, session.redactor)
    if the_plan.refused:
        printer.plan(the_plan)
        raise PlanRefused(
            "the plan has refused changes; nothing was applied:\n  "
            + "\n  ".join(f"{c.address}: {c.reason}" for c in the_plan.refused)
        )
    return the_plan, printer


def _answer_without_lock(
    spec: Spec, ctx: AwsContext, session: Session, options: PlanOptions, saved_document: dict[str, Any] | None
) -> int | None:
    """Exit code when the plan has nothing to apply or refuses; None when there is work to do."""
    the_plan, printer = _plan_to_apply(spec, ctx, session, options, saved_document)
    if the_plan.has_changes or the_plan.bookkeeping or the_plan.housekeeping:
        return None
    _emit_unchanged(session, printer, the_plan)
    print_stats(session, ctx)
    return ExitStatus.OK


def _apply_locked(
    spec: Spec,
    ctx: AwsContext,
    session: Session,
    options: PlanOptions,
    saved_document: dict[str, Any] | None,
    *,
    auto_approve: bool,
    parallelism: int,
    destroy: bool,
    show_plan: bool,
) -> int:
    from .engine.apply import apply_plan
    from .render import apply_json

    ctx.forget_all()  # what was read before the lock was taken may have moved since
    the_plan, printer = _plan_to_apply(spec, ctx, session, options, saved_document)
    if not the_plan.has_changes and not the_plan.bookkeeping and not the_plan.housekeeping:
        _emit_unchanged(session, printer, the_plan)
        print_stats(session, ctx)
        return ExitStatus.OK
    if saved_document is None and show_plan:
        printer.plan(the_plan)
    if not auto_approve and the_plan.has_changes:  # recording fingerprints alone changes no resource
        _confirm(session, destroy, spec.stack)
        if options.include_stateful:
            _confirm_data_loss(session, the_plan)
    with session.phase("applying", ctx):
        result = apply_plan(
            the_plan, the_plan.values or _values(the_plan), ctx, parallelism, _progress(session)
        )
    if session.json_output:
        session.emit_json(apply_json(the_plan, result, session.redactor))
    elif session.output_format == "markdown":
        from .render_markdown import apply_markdown

        session.emit_document(apply_markdown(the_plan, result, session.redactor))
    else:
        printer.apply_result(result, "Destroy" if destroy else "Apply")
    print_stats(session, ctx)
    if result.interrupted:
        return ExitStatus.INTERRUPTED
    return ExitStatus.OK if result.ok else ExitStatus.ERROR


def _emit_unchanged(session: Session, printer: PlanPrinter, the_plan: Plan) -> None:
    """Apply's answer when there is nothing to change: the (empty) plan in the asked format."""
    from .render import apply_json

    if session.json_output:
        session.emit_json(apply_json(the_plan, None, session.redactor))
    elif session.output_format == "markdown":
        from .render_markdown import plan_markdown

        session.emit_document(plan_markdown(the_plan, session.redactor))
    else:
        printer.plan(the_plan)


def _saved_options(document: dict[str, Any]) -> dict[str, Any]:
    saved = document.get("saved_plan", {}).get("options") or {}
    flags = ("destroy", "include_stateful", "adopt_all")
    keys = ("targets", "excludes", "allow_destroy", "destroy", "include_stateful", "release", "adopt_all")
    return {k: saved.get(k, False if k in flags else []) for k in keys}


def _values(the_plan: Plan) -> Values:
    from .engine.values import Values

    return Values(the_plan.lookups)


def _confirm(session: Session, destroy: bool, stack: str) -> None:
    if not sys.stdin.isatty():
        raise UsageError(
            "refusing to change AWS without confirmation: no terminal to ask on; pass --auto-approve"
        )
    if destroy:
        session.say(f"Type the stack name ({stack}) to destroy everything it owns:", "bold")
        expected = stack
    else:
        session.say("Do you want to perform these actions? Only 'yes' will be accepted:", "bold")
        expected = "yes"
    answer = _answer()
    if answer != expected:
        raise PlanRefused(f"{'destroy' if destroy else 'apply'} cancelled; nothing was changed")


def _answer() -> str:
    """A line typed at the confirmation prompt; Ctrl-D (end of input) is no answer, not a crash."""
    try:
        return input("  Enter a value: ").strip()
    except EOFError:
        sys.stderr.write("\n")
        return ""


def _confirm_data_loss(session: Session, the_plan: Plan) -> None:
    """`destroy --include-stateful`: a second question, naming every resource whose data goes."""
    from .engine.changes import Action
    from .engine.plan import is_protected
    from .resources.registry import KINDS

    losing = [
        c.address
        for c in the_plan.changes
        if c.action is Action.DELETE and (KINDS[c.kind].meta.stateful or is_protected(c.live))
    ]
    if not losing:
        return
    session.say("These hold data or were protected, and will be deleted with everything in them:", "bold red")
    for address in losing:
        session.say(f"  - {address}")
    session.say(f"Type 'delete {len(losing)} with their data' to go on:", "bold")
    if _answer() != f"delete {len(losing)} with their data":
        raise PlanRefused("destroy cancelled; nothing was changed")


def release(
    inputs: SpecInputs,
    session: Session,
    *,
    addresses: list[str],
    auto_approve: bool,
    lock_timeout: float = 0.0,
) -> int:
    """Stop managing undeclared resources without deleting them: the tool's tags come off."""
    from . import api
    from .engine.addresses import parse_all
    from .engine.apply import apply_plan
    from .engine.lock import stack_lock
    from .engine.plan import PlanOptions
    from .engine.release import check_not_declared, releases_only
    from .render import PlanPrinter, apply_json

    patterns = parse_all(addresses, "release")
    spec = load(inputs, session)
    check_not_declared(spec, patterns)
    ctx = aws_context(spec, session)
    options = PlanOptions(release=addresses)
    printer = PlanPrinter(session.output(stderr=session.json_output), session.redactor)
    releases_only(api.plan(spec, options, aws=ctx), patterns)  # every address checked before the lock
    with stack_lock(ctx, spec.stack, lock_timeout, "release", session.say):
        ctx.forget_all()
        the_plan = releases_only(api.plan(spec, options, aws=ctx), patterns)
        printer.plan(the_plan)
        if not auto_approve:
            _confirm(session, False, spec.stack)
        with session.phase("applying", ctx):
            result = apply_plan(the_plan, the_plan.values or _values(the_plan), ctx, 8, _progress(session))
    if session.json_output:
        session.emit_json(apply_json(the_plan, result, session.redactor))
    else:
        printer.apply_result(result)
    print_stats(session, ctx)
    return ExitStatus.OK if result.ok else ExitStatus.ERROR


def _progress(session: Session) -> ProgressHook:
    from .engine.changes import Action
    from .engine.scheduler import Status

    verbs = {
        Action.CREATE: ("Creating", "Creation"),
        Action.UPDATE: ("Modifying", "Modifications"),
        Action.REPLACE: ("Replacing", "Replacement"),
        Action.DELETE: ("Destroying", "Destruction"),
        Action.RELEASE: ("Releasing", "Release"),
    }

    # "Creating..." lines are live progress, for a person at a terminal (or -v); what finished or
    # failed is always reported, so logs of unattended runs keep it.
    live_progress = session.stderr.is_terminal or session.options.verbose > 0

    def report(event: str, change: Change, outcome: Outcome | None) -> None:
        if session.json_output:
            return
        doing, done = verbs.get(change.action, ("Working on", "Work"))
        if event == "start":
            if live_progress:
                session.say(f"{change.address}: {doing}...")
        elif outcome is None:
            return
        elif outcome.status is Status.DONE:
            session.say(f"{change.address}: {done} complete after {outcome.seconds:.1f}s", "green")
        else:
            session.say(f"{change.address}: {outcome.status}: {outcome.message}", "red")

    return report


def drift(
    inputs: SpecInputs,
    session: Session,
    *,
    report_file: Path | None,
    publish_metric: bool,
    metric_namespace: str,
    notify_topic: str | None,
    full_scan: bool = False,
) -> int:
    """Read-only: classify every difference as drifted, pending, missing, unmanaged or conflict."""
    from . import environments

    if inputs.environment == environments.ALL:
        return environments.run_every_environment(
            inputs,
            session,
            lambda one, captured: drift(
                one,
                captured,
                report_file=environments.report_path_for(report_file, str(one.environment))
                if report_file
                else None,
                publish_metric=publish_metric,
                metric_namespace=metric_namespace,
                notify_topic=notify_topic,
                full_scan=full_scan,
            ),
        )
    from . import api
    from .engine import alerts
    from .engine.drift import classify, report_json
    from .render import PlanPrinter, masked_differences_json, print_drift

    spec = load(inputs, session)
    ctx = aws_context(spec, session)
    from .engine.plan import PlanOptions

    with session.phase("reading AWS and planning", ctx):
        the_plan = api.plan(spec, PlanOptions(full_scan=full_scan), aws=ctx)
    report = classify(the_plan)
    document = session.redactor.data(report_json(report, masked_differences_json))
    if report_file is not None:
        from .planfile import write_atomically

        write_atomically(report_file, json.dumps(document, indent=2, sort_keys=True, allow_nan=False) + "\n")
    if publish_metric:
        sent = alerts.publish_metric(ctx, report, metric_namespace)
        document["metric"] = {"namespace": metric_namespace, "datapoints": sent}
    if notify_topic:
        topic_arn = _topic_arn(notify_topic, the_plan)
        outcome = alerts.notify(ctx, report, topic_arn)
        document["notification"] = {"sent": outcome.sent, "reason": outcome.reason}
    if session.json_output:
        session.emit_json(document)
    elif session.output_format in ("markdown", "html"):
        _emit_drift_document(session, report)
    else:
        print_drift(PlanPrinter(session.output(), session.redactor), report)
    if notify_topic and not session.json_output:
        session.say(
            f"notification: {'sent' if document['notification']['sent'] else 'not sent'} "
            f"({document['notification']['reason']})"
        )
    print_stats(session, ctx)
    return ExitStatus.CHANGES if report.findings else ExitStatus.OK


def _emit_drift_document(session: Session, report: DriftReport) -> None:
    if session.output_format == "markdown":
        from .render_markdown import drift_markdown

        session.emit_document(drift_markdown(report, session.redactor))
    else:
        from datetime import UTC, datetime

        from .render_html import drift_html

        now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        session.emit_document(drift_html(report, session.redactor, now))


def _topic_arn(reference: str, the_plan: Plan) -> str:
    """An SNS topic ARN, or a spec address like sns_topics.alerts resolved from what plan read."""
    if reference.startswith("arn:"):
        return reference
    attrs = the_plan.values.resources.get(reference) if the_plan.values else None
    arn = attrs.get("arn") if attrs else None
    if not isinstance(arn, str):
        raise UsageError(f"--notify-topic {reference}: not a topic ARN, nor an existing topic of the spec")
    return arn


def verify(
    inputs: SpecInputs, session: Session, *, notify: bool, alarm: str | None, prometheus_url: str | None
) -> int:
    """The guide's test scripts as one check: exit 0 when nothing fails (warnings allowed), else 1."""
    from rich.table import Table
    from rich.text import Text

    from . import api
    from .verify import Outcome, Summary, run_checks

    spec = load(inputs, session)
    ctx = aws_context(spec, session)
    with session.phase("reading AWS and checking", ctx):
        checks = run_checks(
            api.plan(spec, aws=ctx), ctx, notify=notify, alarm_name=alarm, prometheus_url=prometheus_url
        )
    summary = Summary.of(checks)
    failed = summary.failed > 0
    if session.json_output:
        session.emit_json(
            {
                "format_version": 1,
                "ok": not failed,
                "summary": {"passed": summary.passed, "warnings": summary.warnings, "failed": summary.failed},
                "notified": notify,
                "checks": [{"check": c.name, "outcome": str(c.outcome), "detail": c.detail} for c in checks],
            }
        )
    else:
        table = Table(title=f"Verification of stack {spec.stack}", show_lines=False)
        for column in ("check", "result", "detail"):
            table.add_column(column)
        styles = {Outcome.PASS: "green", Outcome.WARN: "yellow", Outcome.FAIL: "bold red"}
        for check in checks:
            table.add_row(
                check.name,
                Text(str(check.outcome).upper(), style=styles[check.outcome]),
                session.redactor.text(check.detail),
            )
        session.stdout.print(table)
        session.say(f"{summary} ({len(checks)} checks).", "bold red" if failed else "bold green")
        if not notify:
            session.say(
                "The alert path was not exercised: --notify publishes a test message and flips an alarm."
            )
    print_stats(session, ctx)
    return ExitStatus.ERROR if failed else ExitStatus.OK


def force_unlock(inputs: SpecInputs, session: Session, lock_id: str) -> int:
    """Remove the stack's apply lock, only if LOCK_ID is the one it holds (a run that died)."""
    from .engine.lock import StackLock

    spec = load(inputs, session)
    ctx = aws_context(spec, session)
    holder = StackLock(ctx, spec.stack).force_unlock(lock_id)
    session.say(f"Removed the lock of stack {spec.stack} in {ctx.region}, held by {holder.describe()}.")
    return ExitStatus.OK
