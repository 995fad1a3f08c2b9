"""${stack.name} and ${stack.region}: values of the stack itself, e.g. a dashboard widget's region."""

from __future__ import annotations

from pathlib import Path

from .test_loader import load, make_spec, problems

WIDGET = """
environments:
  prod: {stack: pacs-prod, region: eu-west-1}
  dev: {}
dashboards:
  main:
    name: main-${stack.name}
    body:
      widgets:
        - type: metric
          x: 0
          y: 0
          width: 12
          height: 6
          properties:
            region: ${stack.region}
            metrics: [[AWS/RDS, CPUUtilization]]
"""


def widget_region(spec: object) -> str:
    body = spec.resources["dashboards.main"].config["body"]  # type: ignore[attr-defined]
    region: str = body["widgets"][0]["properties"]["region"]
    return region


def test_stack_values_follow_the_environment(tmp_path: Path) -> None:
    path = make_spec(tmp_path, WIDGET)
    dev, prod = load(path, env="dev"), load(path, env="prod")
    assert widget_region(dev) == "ap-northeast-2"
    assert dev.resources["dashboards.main"].config["name"] == "main-pacs-test"
    assert widget_region(prod) == "eu-west-1"
    assert prod.resources["dashboards.main"].config["name"] == "main-pacs-prod"


def test_an_unknown_stack_value_is_an_error(tmp_path: Path) -> None:
    path = make_spec(tmp_path, WIDGET.replace("${stack.region}", "${stack.zone}"))
    [problem] = problems(path)
    assert (
        "dashboards.main.body.widgets[0].properties.region: ${stack.zone}: use stack.name or stack.region"
        in problem
    )


def test_stack_region_needs_a_region(tmp_path: Path) -> None:
    path = make_spec(tmp_path, WIDGET.replace("  prod: {stack: pacs-prod, region: eu-west-1}\n", ""))
    path.write_text(path.read_text().replace("region: ap-northeast-2\n", "", 1))
    [problem] = problems(path)
    assert "${stack.region}: the spec sets no region" in problem
