"""The `pacs-reconcile` command line: one function per command, options in, exit code out.

Each command is declared with `@command` (cli_framework.py), which adds the spec's options
(`spec=True`), `--format` (`formats=`) and the global options, and maps exceptions to exit codes.
Heavy imports (boto3, the engine) happen inside commands so `--help` and `validate` start fast.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from . import collector, completion
from .cli_framework import Call, Group, command, group_callback
from .emulator import DEFAULT_PORT as DEFAULT_EMULATOR_PORT
from .errors import ExitStatus, UsageError

OUTPUT_FORMATS: dict[str, tuple[str, ...]] = {
    "validate": ("text", "json", "github", "sarif"),
    "plan": ("text", "json", "markdown"),
    "apply": ("text", "json", "markdown"),
    "destroy": ("text", "json"),
    "release": ("text", "json"),
    "drift": ("text", "json", "markdown", "html"),
    "verify": ("text", "json"),
    "graph": ("mermaid", "dot"),
    "test": ("text", "json", "junit"),
}
"""The --format choices of each command (the first is the default): the one place to add a format."""

app = typer.Typer(
    name="pacs-reconcile",
    help="Keep the PACS monitoring stack on AWS exactly as declared in monitoring.yaml.",
    cls=Group,
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def installed_version() -> str:
    """The installed package's version (its metadata), or the source tree's when not installed."""
    from importlib import metadata  # only when asked: it costs a tenth of a second at start-up

    from . import __version__

    try:
        return metadata.version("pacs-reconcile")
    except metadata.PackageNotFoundError:
        return __version__


group_callback(app, installed_version)

# Options more than one command takes.
Targets = Annotated[
    list[str] | None,
    typer.Option(
        "--target",
        metavar="KIND.NAME",
        autocompletion=completion.addresses,
        help="Limit to KIND.NAME and its dependencies (repeatable).",
    ),
]
Excludes = Annotated[
    list[str] | None,
    typer.Option(
        "--exclude",
        metavar="KIND.NAME",
        autocompletion=completion.addresses,
        help="Leave KIND.NAME (and its children) out (repeatable).",
    ),
]
AllowDestroy = Annotated[
    list[str] | None,
    typer.Option(
        "--allow-destroy",
        metavar="ADDRESS",
        autocompletion=completion.addresses,
        help="Let this stateful or protected address be deleted (repeatable; * patterns: log_groups.*).",
    ),
]
AdoptAll = Annotated[
    bool,
    typer.Option(
        "--adopt-all",
        help="Take over every declared resource that exists without an owner tag (a migration's first run).",
    ),
]
FullScan = Annotated[
    bool,
    typer.Option(
        "--full-scan",
        help="Find the stack's dashboards by reading every dashboard's tags, not through the stack's "
        "ownership index (apply then rewrites the index if it differs).",
    ),
]
IncludeStateful = Annotated[
    bool,
    typer.Option("--include-stateful", help="Destroy what holds data too (asks again, naming each one)."),
]
Parallelism = Annotated[
    int, typer.Option("--parallelism", metavar="N", min=1, max=64, help="Changes run at once.")
]
LockTimeout = Annotated[
    float,
    typer.Option(
        "--lock-timeout",
        metavar="SECONDS",
        min=0,
        help="Seconds to wait while another apply holds the stack's lock.",
    ),
]
OutFile = Annotated[
    Path | None, typer.Option("--out", metavar="FILE", help="Write to this file instead of stdout.")
]


@command(app)
def version(call: Call) -> int:
    """Print the installed version of pacs-reconcile."""
    typer.echo(installed_version())
    return ExitStatus.OK


@command(app, spec=True, formats=OUTPUT_FORMATS["validate"])
def validate(call: Call) -> int:
    """Check the spec offline: syntax, types, AWS value domains, references, cycles. No AWS call."""
    from . import commands

    return commands.validate(call.inputs, call.session)


@command(app, name="test", spec=True, formats=OUTPUT_FORMATS["test"])
def test_examples(call: Call) -> int:
    """Run the spec's `tests:` examples (metric filters, alarms, chains) offline; exit 1 if one fails."""
    from .monitoring import report

    return report.run(call.inputs, call.session)


@command(app, spec=True, formats=OUTPUT_FORMATS["plan"])
def plan(
    call: Call,
    out: Annotated[
        Path | None, typer.Option("--out", metavar="FILE", help="Save the plan for `apply FILE`.")
    ] = None,
    detailed_exitcode: Annotated[
        bool, typer.Option("--detailed-exitcode", help="Exit 2 when there are changes, 0 when none.")
    ] = False,
    target: Targets = None,
    exclude: Excludes = None,
    allow_destroy: AllowDestroy = None,
    destroy: Annotated[bool, typer.Option("--destroy", help="Preview what `destroy` would delete.")] = False,
    include_stateful: IncludeStateful = False,
    adopt_all: AdoptAll = False,
    full_scan: FullScan = False,
    remote_check: Annotated[
        bool,
        typer.Option(
            "--remote-check",
            help="Also ask AWS's TestMetricFilter about each metric filter's tests: examples and "
            "report where it disagrees with the offline engine (reads only).",
        ),
    ] = False,
) -> int:
    """Read live AWS state and show what apply would create, update, replace or delete."""
    from . import commands

    return commands.plan(
        call.inputs,
        call.session,
        out=out,
        detailed_exitcode=detailed_exitcode,
        targets=target or [],
        excludes=exclude or [],
        allow_destroy=allow_destroy or [],
        destroy=destroy,
        include_stateful=include_stateful,
        adopt_all=adopt_all,
        remote_check=remote_check,
        full_scan=full_scan,
    )


@command(app, spec=True, formats=OUTPUT_FORMATS["apply"])
def apply(
    call: Call,
    plan_file: Annotated[
        Path | None, typer.Argument(metavar="PLAN_FILE", help="A plan saved with `plan --out`.")
    ] = None,
    auto_approve: Annotated[
        bool, typer.Option("--auto-approve", help="Do not ask for confirmation.")
    ] = False,
    target: Targets = None,
    exclude: Excludes = None,
    allow_destroy: AllowDestroy = None,
    parallelism: Parallelism = 8,
    lock_timeout: LockTimeout = 0.0,
    adopt_all: AdoptAll = False,
) -> int:
    """Converge AWS to the spec, in dependency order."""
    from . import commands

    return commands.apply(
        call.inputs,
        call.session,
        plan_file=plan_file,
        auto_approve=auto_approve,
        targets=target or [],
        excludes=exclude or [],
        allow_destroy=allow_destroy or [],
        parallelism=parallelism,
        lock_timeout=lock_timeout,
        adopt_all=adopt_all,
    )


@command(app, spec=True, formats=OUTPUT_FORMATS["destroy"])
def destroy(
    call: Call,
    auto_approve: Annotated[
        bool, typer.Option("--auto-approve", help="Do not ask for the stack name.")
    ] = False,
    allow_destroy: AllowDestroy = None,
    include_stateful: IncludeStateful = False,
    parallelism: Parallelism = 8,
    lock_timeout: LockTimeout = 0.0,
) -> int:
    """Delete what this stack owns (stateful resources only when named, or with --include-stateful)."""
    from . import commands

    return commands.apply(
        call.inputs,
        call.session,
        plan_file=None,
        auto_approve=auto_approve,
        targets=[],
        excludes=[],
        allow_destroy=allow_destroy or [],
        parallelism=parallelism,
        destroy=True,
        include_stateful=include_stateful,
        lock_timeout=lock_timeout,
    )


@command(app, name="import-terraform")
def import_terraform(
    call: Call,
    state_file: Annotated[
        Path, typer.Argument(metavar="STATE_FILE", help="A Terraform state, format v4 (terraform.tfstate).")
    ],
    stack: Annotated[
        str, typer.Option("--stack", metavar="NAME", help="The stack (owner tag value) of the new spec.")
    ] = "pacs-monitoring",
    out: OutFile = None,
) -> int:
    """Write a spec for what a Terraform state manages (offline); list what could not be mapped."""
    from . import import_terraform as importer

    return importer.run(
        call.session, state_file=state_file, stack=stack, region=call.session.options.region, out=out
    )


@command(app, spec=True, formats=OUTPUT_FORMATS["release"])
def release(
    call: Call,
    addresses: Annotated[
        list[str],
        typer.Argument(
            metavar="ADDRESS...", help='Undeclared resources, as plan names them: log_groups["/aws/ecs/old"].'
        ),
    ],
    auto_approve: Annotated[
        bool, typer.Option("--auto-approve", help="Do not ask for confirmation.")
    ] = False,
    lock_timeout: LockTimeout = 0.0,
) -> int:
    """Stop managing resources the spec no longer declares, without deleting them (tags come off)."""
    from . import commands

    return commands.release(
        call.inputs, call.session, addresses=addresses, auto_approve=auto_approve, lock_timeout=lock_timeout
    )


@command(app, name="force-unlock", spec=True)
def force_unlock(
    call: Call,
    lock_id: Annotated[
        str,
        typer.Argument(metavar="LOCK_ID", help="The lock id, as printed by the apply that found it held."),
    ],
) -> int:
    """Remove the stack's apply lock left by a run that died; only if LOCK_ID is the one it holds."""
    from . import commands

    return commands.force_unlock(call.inputs, call.session, lock_id)


MetricNamespace = Annotated[
    str, typer.Option("--metric-namespace", metavar="NAMESPACE", help="drift's CloudWatch metric namespace.")
]


@command(app, spec=True)
def permissions(
    call: Call,
    read_only: Annotated[
        bool, typer.Option("--read-only", help="The policy of plan and drift (and its alerts), not apply's.")
    ] = False,
    metric_namespace: MetricNamespace = "PACS/Reconcile",
) -> int:
    """Print the IAM policy this spec needs for apply/destroy, or for plan/drift. No AWS call."""
    from . import permissions as iam_policy

    return iam_policy.run(call.inputs, call.session, read_only=read_only, metric_namespace=metric_namespace)


@command(app, spec=True, formats=OUTPUT_FORMATS["drift"])
def drift(
    call: Call,
    report: Annotated[
        Path | None,
        typer.Option("--report", metavar="FILE", help="Also write the JSON report here (atomically)."),
    ] = None,
    publish_metric: Annotated[
        bool, typer.Option("--publish-metric", help="Put DriftedResources (total, per kind) into CloudWatch.")
    ] = False,
    metric_namespace: MetricNamespace = "PACS/Reconcile",
    notify_topic: Annotated[
        str | None,
        typer.Option(
            "--notify-topic",
            metavar="ARN|KIND.NAME",
            help="SNS topic (ARN or spec address) told when the findings change.",
        ),
    ] = None,
    full_scan: FullScan = False,
) -> int:
    """Read-only drift check for cron: exit 0 clean, 2 drift or pending changes, 1 error, 3 invalid spec."""
    from . import commands

    return commands.drift(
        call.inputs,
        call.session,
        report_file=report,
        publish_metric=publish_metric,
        metric_namespace=metric_namespace,
        notify_topic=notify_topic,
        full_scan=full_scan,
    )


@command(app, spec=True, formats=OUTPUT_FORMATS["verify"])
def verify(
    call: Call,
    notify: Annotated[
        bool,
        typer.Option(
            "--notify/--no-notify",
            help="Also publish a test message and flip an alarm: this reaches people (off by default).",
        ),
    ] = False,
    alarm: Annotated[
        str | None,
        typer.Option("--alarm", metavar="NAME", help="Alarm to flip (default: the first notifying one)."),
    ] = None,
    prometheus_url: Annotated[
        str | None,
        typer.Option(
            "--prometheus-url",
            metavar="URL",
            envvar="PACS_PROMETHEUS_URL",
            help="Prometheus's address (http or https), to check its scrape targets; it must be reachable "
            "from here (it runs in the private subnets). Unset or unreachable: a warning.",
        ),
    ] = None,
) -> int:
    """Check the applied stack like the guide's test scripts: resources, metrics, logs, notifications,
    services and Prometheus's targets."""
    from . import commands

    if prometheus_url is not None and not prometheus_url.startswith(("http://", "https://")):
        raise UsageError(f"--prometheus-url {prometheus_url}: an http:// or https:// address")
    return commands.verify(
        call.inputs, call.session, notify=notify, alarm=alarm, prometheus_url=prometheus_url
    )


@command(app, spec=True)
def demo(call: Call) -> int:
    """Run plan -> apply -> drift -> repair on an embedded local AWS emulator (no AWS account)."""
    from .emulator.demo import run_demo

    inputs = call.inputs
    return run_demo(inputs.path, inputs.environment, inputs.variables, call.session.options.color)


@command(app)
def emulator(
    call: Call,
    port: Annotated[
        int,
        typer.Option("--port", metavar="PORT", min=0, max=65535, help="Port on 127.0.0.1 (0: any free one)."),
    ] = DEFAULT_EMULATOR_PORT,
    seed_region: Annotated[
        str, typer.Option("--emulator-region", metavar="REGION", help="Region to seed.")
    ] = "ap-northeast-2",
    seed: Annotated[bool, typer.Option(help="Create the PACS stack's existing infrastructure.")] = True,
) -> int:
    """Keep a seeded local AWS emulator running, to try plan/apply on your own edits (Ctrl-C stops)."""
    import time

    from .emulator.server import running_emulator

    session = call.session
    with running_emulator(seed_region, port, seed) as emu:
        session.say(
            f"Local AWS emulator listening on {emu.endpoint_url} (region {seed_region}).", "bold green"
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


@command(app)
def schema(
    call: Call,
    included: Annotated[
        bool, typer.Option("--included", help="The schema of included files (specs/*.yaml), not the root's.")
    ] = False,
    out: OutFile = None,
) -> int:
    """Print the spec's JSON Schema, for completion and checks in editors. No AWS call."""
    from . import schema as spec_schema

    return spec_schema.run(call.session, included=included, out=out)


@command(app)
def docs(
    call: Call,
    out: Annotated[Path, typer.Option("--out", metavar="DIR", help="Folder of the pages.")] = Path(
        "docs/reference"
    ),
    examples: Annotated[
        Path,
        typer.Option(
            "--examples", metavar="DIR", help="Folder of the hand-written examples, one KIND.yaml each."
        ),
    ] = Path("docs/examples"),
) -> int:
    """Write the reference pages (a page per kind, lookups, an index) from the models. No AWS call."""
    from . import docs_gen

    return docs_gen.run(call.session, out=out, examples=examples)


@command(app, spec=True, formats=OUTPUT_FORMATS["graph"])
def graph(call: Call, out: OutFile = None) -> int:
    """Print the dependency graph of the spec's resources and lookups (Mermaid or DOT). No AWS call."""
    from . import graph as spec_graph

    return spec_graph.run(call.session, call.inputs, output_format=call.session.output_format, out=out)


@command(app)
def export(
    call: Call,
    kind: Annotated[
        list[str] | None,
        typer.Option("--kind", metavar="KIND", help="A top-level kind to export (repeatable; default all)."),
    ] = None,
    prefix: Annotated[
        str | None, typer.Option("--prefix", metavar="PREFIX", help="Names starting with this.")
    ] = None,
    tag: Annotated[
        str | None, typer.Option("--tag", metavar="KEY=VALUE", help="Resources carrying this tag.")
    ] = None,
    stack: Annotated[
        str | None,
        typer.Option(
            "--stack", metavar="STACK", help="The spec's stack (default: S of --tag pacs-reconcile:stack=S)."
        ),
    ] = None,
    out: OutFile = None,
) -> int:
    """Write spec YAML for existing resources (by kind and name prefix, or tag) to adopt them. Reads only."""
    from . import export as exporter

    return exporter.run(call.session, kinds=kind or [], prefix=prefix, tag=tag, stack=stack, out=out)


@command(app, name="completion")
def completion_script(
    call: Call,
    shell: Annotated[
        str,
        typer.Argument(
            metavar="SHELL",
            autocompletion=lambda: list(completion.SHELLS),
            help=f"One of {', '.join(completion.SHELLS)}.",
        ),
    ],
) -> int:
    """Print the completion script of SHELL (each its own), e.g. completion zsh > ~/.zfunc/_pacs-reconcile."""
    if shell not in completion.SHELLS:
        raise UsageError(f"completion {shell}: not a shell this supports ({', '.join(completion.SHELLS)})")
    typer.echo(completion.script(shell))
    return ExitStatus.OK


def main() -> None:
    collector.tune_for_one_command()
    try:
        app()
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        sys.exit(ExitStatus.INTERRUPTED)


if __name__ == "__main__":
    main()
