"""Project plumbing: environment.yml mirrors pyproject.toml, CI calls the README's command."""

import re

import tomllib
import yaml
from conftest import REPO_ROOT
from packaging.requirements import Requirement


def pyproject_requirements() -> dict[str, str]:
    data = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    reqs = data["project"]["dependencies"] + data["project"]["optional-dependencies"]["dev"]
    return {Requirement(r).name.lower().replace("_", "-"): str(Requirement(r).specifier) for r in reqs}


def environment_requirements() -> dict[str, str]:
    env = yaml.safe_load((REPO_ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    reqs = [r for r in pip_section if not r.startswith("-e")]
    return {Requirement(r).name.lower().replace("_", "-"): str(Requirement(r).specifier) for r in reqs}


def test_environment_yml_mirrors_pyproject():
    assert environment_requirements() == pyproject_requirements()


def test_environment_yml_installs_the_package_and_python():
    env = yaml.safe_load((REPO_ROOT / "environment.yml").read_text())
    conda = [d for d in env["dependencies"] if isinstance(d, str)]
    assert any(d.startswith("python") for d in conda) and "pip" in conda
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert "-e ." in pip_section
    python_floor = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert f"python{python_floor}" in conda


def test_torch_is_not_pinned_exactly_for_users():
    reqs = pyproject_requirements()
    assert reqs["torch"].startswith(">=") and reqs["torchvision"].startswith(">=")


def test_ci_runs_the_readme_test_command():
    readme = (REPO_ROOT / "README.md").read_text()
    commands = re.findall(r"^\s*(make \w+)\s*$", readme, flags=re.M)
    assert "make test" in commands and "make figures" in commands
    ci = [
        l.strip() for l in (REPO_ROOT / ".ci" / "run").read_text().splitlines() if l.strip() and not l.startswith("#")
    ]
    assert ci[-1] == "make test"
    makefile = (REPO_ROOT / "Makefile").read_text()
    assert 'pip install -c constraints.txt -e ".[dev]"' in makefile
    test_line = "DGMPM_SMOKE=1 DGMPM_CHECK_FIGURES=1 $(PY) -m pytest tests notebooks --nbval-lax --nbval-current-env"
    assert test_line in makefile
