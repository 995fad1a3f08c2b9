"""The CI integration: the workflows pass actionlint, and the composite action's and the GitLab
template's shell steps run as their CI would run them, against the emulator (a fake `gh` stands in
for GitHub's API; nothing leaves the machine)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from .conftest import REGION, Server

REPO = Path(__file__).resolve().parents[2]
ACTION = REPO / "action.yml"
GITLAB = REPO / "ci" / "gitlab-ci.yml"
WORKFLOWS = [*sorted((REPO / ".github" / "workflows").glob("*.yml")), REPO / "ci" / "github-example.yml"]
EXPRESSION = re.compile(r"\$\{\{\s*(.+?)\s*\}\}")


def test_the_workflows_and_the_action_pass_actionlint() -> None:
    beside = Path(sys.executable).parent / "actionlint"
    actionlint = str(beside) if beside.is_file() else shutil.which("actionlint")
    if actionlint is None:
        pytest.skip("actionlint is not installed (the dev extra brings it)")
    # the repository's workflow uses the action (`uses: ./`), so its inputs are checked too
    result = subprocess.run(
        [actionlint, "-no-color", *map(str, WORKFLOWS)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


# A runner for the action's `run:` steps --------------------------------------------------------


@pytest.fixture
def tools(tmp_path: Path) -> Path:
    """A bin folder: `pacs-reconcile` from this source tree, and a `gh` that records its calls."""
    folder = tmp_path / "bin"
    folder.mkdir()
    shim = folder / "pacs-reconcile"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m pacs_reconcile.cli "$@"\n')
    gh = folder / "gh"
    gh.write_text(
        "#!/bin/bash\n"
        'echo "$*" >>"$GH_LOG"\n'
        'for arg in "$@"; do case "$arg" in body=@*) cp "${arg#body=@}" "$GH_BODY" ;; esac; done\n'
    )
    for tool in (shim, gh):
        tool.chmod(0o755)
    return folder


def _base_env(tools: Path, tmp_path: Path, server: Server) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "RUNNER_", "CI_"))}
    env.update(
        PATH=f"{tools}{os.pathsep}{env.get('PATH', '')}",
        AWS_ENDPOINT_URL=server.endpoint,
        AWS_DEFAULT_REGION=REGION,
        NO_COLOR="1",
        RUNNER_TEMP=str(tmp_path),
        GH_LOG=str(tmp_path / "gh.log"),
        GH_BODY=str(tmp_path / "gh-body.md"),
    )
    return env


class ActionRun:
    """The composite action's steps, run as a runner does: expressions substituted, each `run:`
    in `bash --noprofile --norc -eo pipefail`, outputs and the job summary in files."""

    def __init__(self, tmp_path: Path, env: dict[str, str], workdir: Path) -> None:
        self.tmp = tmp_path
        self.env = env
        self.workdir = workdir
        self.summary = tmp_path / "summary.md"

    def __call__(self, **given: str) -> dict[str, str]:
        action = yaml.safe_load(ACTION.read_text(encoding="utf-8"))
        inputs = {name: str(spec.get("default", "")) for name, spec in action["inputs"].items()}
        inputs.update({"package": "", "python-version": ""}, **given)
        context: dict[str, Any] = {
            "inputs": inputs,
            "github": {
                "event_name": "pull_request",
                "repository": "pacs/monitoring",
                "token": "test-token",
                "event": {"pull_request": {"number": "7"}},
            },
            "steps": {},
        }
        for step in action["runs"]["steps"]:
            if "uses" in step:
                continue  # actions/setup-python: the test's own Python serves
            if "if" in step and not _condition(step["if"], context):
                continue
            output = self.tmp / "output.txt"
            output.write_text("")
            env = {
                **self.env,
                **{k: _substitute(str(v), context) for k, v in step.get("env", {}).items()},
                "GITHUB_OUTPUT": str(output),
                "GITHUB_STEP_SUMMARY": str(self.summary),
            }
            cwd = self.workdir / _substitute(step.get("working-directory", "."), context)
            result = subprocess.run(
                ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
                cwd=cwd,
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
            assert result.returncode == 0, f"{step['name']}: {result.stdout[-2000:]}{result.stderr[-3000:]}"
            if "id" in step:
                context["steps"][step["id"]] = {"outputs": _outputs(output.read_text())}
        return dict(context["steps"].get("run", {}).get("outputs", {}))


def _lookup(path: str, context: Mapping[str, Any]) -> str:
    value: Any = context
    for part in path.split("."):
        value = value[part]
    return str(value)


def _substitute(text: str, context: Mapping[str, Any]) -> str:
    return EXPRESSION.sub(lambda m: _lookup(m.group(1), context), text)


def _condition(expression: str, context: Mapping[str, Any]) -> bool:
    """`a == 'x' && b != 'y'`: the only form of condition the action uses (anything else fails)."""
    results = []
    for term in expression.split("&&"):
        match = re.fullmatch(r"\s*([\w.-]+)\s*(==|!=)\s*'([^']*)'\s*", term)
        assert match, f"condition the test cannot evaluate: {expression}"
        name, operator, literal = match.groups()
        value = _lookup(name, context)
        results.append(value == literal if operator == "==" else value != literal)
    return all(results)


def _outputs(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


@pytest.mark.slow
def test_the_action_and_the_gitlab_template_plan_and_apply(
    server: Server, stack_dir: Path, tools: Path, tmp_path: Path
) -> None:
    """One stack, one full apply between them: the action plans and comments, GitLab's jobs plan
    and apply, then the action's apply finds nothing left and its plan is clean."""
    env = _base_env(tools, tmp_path, server)
    run = ActionRun(tmp_path, env, stack_dir)

    planned = run(command="plan")
    assert planned["exitcode"] == "2" and planned["has-changes"] == "true"
    report = Path(planned["report"]).read_text(encoding="utf-8")
    assert report.startswith("### pacs-reconcile plan: stack <code>pacs-monitoring</code>")
    assert report in run.summary.read_text(encoding="utf-8")  # the job summary
    comment = (tmp_path / "gh-body.md").read_text(encoding="utf-8")
    assert comment.startswith("<!-- pacs-reconcile plan: monitoring.yaml  -->\n")
    assert comment.endswith(report)
    calls = (tmp_path / "gh.log").read_text(encoding="utf-8").splitlines()
    assert calls[0].startswith("api --paginate repos/pacs/monitoring/issues/7/comments")
    assert calls[1].startswith("api --method POST repos/pacs/monitoring/issues/7/comments -F body=@")

    template = yaml.safe_load(GITLAB.read_text(encoding="utf-8"))
    assert template["stages"] == ["validate", "plan", "apply"]
    assert template["pacs-reconcile:apply"]["rules"][0]["when"] == "manual"
    assert template["pacs-reconcile:apply"]["environment"]["name"] == "production"
    assert _gitlab_job("pacs-reconcile:validate", env, stack_dir).returncode == 0
    gitlab_plan = _gitlab_job("pacs-reconcile:plan", env, stack_dir)
    assert gitlab_plan.returncode == 0, gitlab_plan.stderr[-3000:]
    assert (stack_dir / "plan.md").read_text(encoding="utf-8") == report
    gitlab_apply = _gitlab_job("pacs-reconcile:apply", env, stack_dir)
    assert gitlab_apply.returncode == 0, gitlab_apply.stderr[-3000:]
    assert "**Apply complete! Resources: " in (stack_dir / "apply.md").read_text(encoding="utf-8")

    applied = run(command="apply")
    assert applied["exitcode"] == "0"
    assert "**No changes.**" in Path(applied["report"]).read_text(encoding="utf-8")
    assert len((tmp_path / "gh.log").read_text(encoding="utf-8").splitlines()) == 2  # no comment on apply

    again = run(command="plan", comment="false")
    assert again["exitcode"] == "0" and again["has-changes"] == "false"


def test_the_composite_action_fails_on_an_invalid_spec(
    server: Server, stack_dir: Path, tools: Path, tmp_path: Path
) -> None:
    logs = stack_dir / "specs" / "logs.yaml"
    logs.write_text(logs.read_text(encoding="utf-8").replace("retention_days:", "retention_dayz:", 1))
    run = ActionRun(tmp_path, _base_env(tools, tmp_path, server), stack_dir)
    with pytest.raises(AssertionError, match=r"Validate the spec: ::error file=specs/logs.yaml,line=\d+"):
        run(command="plan")


def _gitlab_job(name: str, env: dict[str, str], workdir: Path) -> subprocess.CompletedProcess[str]:
    """A job's before_script and script in one bash, as GitLab's runner runs them (set -eo pipefail)."""
    template = yaml.safe_load(GITLAB.read_text(encoding="utf-8"))
    job = template[name]
    base = template[job["extends"]] if "extends" in job else {}
    lines = [*base.get("before_script", []), *job.get("before_script", []), *job["script"]]
    variables = {k: str(v) for k, v in template.get("variables", {}).items()}
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", "\n".join(lines)],
        cwd=workdir,
        env={**variables, **env, "PACS_RECONCILE_PACKAGE": ""},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
