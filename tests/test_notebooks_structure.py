"""Structure of the notebook series (execution itself is nbval's job in `make test`)."""

import json
import re

import papermill as pm
import pytest
from conftest import REPO_ROOT

from dgmpm_lite.notebooks import colab_url, notebook_paths

NOTEBOOKS = notebook_paths()
COMMON_PARAMETERS = {"SMOKE": "bool", "DEVICE": "str", "FIG_DIR": "str", "SEED": "int"}


def test_there_are_notebooks_numbered_without_gaps():
    numbers = [int(p.name[:2]) for p in NOTEBOOKS]
    assert numbers and numbers == list(range(len(numbers)))
    stray = [p.name for p in (REPO_ROOT / "notebooks").glob("*.ipynb") if p not in NOTEBOOKS]
    assert stray == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_parameters_cell(path):
    params = pm.inspect_notebook(str(path))
    for name, typ in COMMON_PARAMETERS.items():
        assert name in params, f"{path.name} lacks parameter {name}"
        assert params[name]["inferred_type_name"] == typ


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_stripped_badge_kernel_and_install_guard(path):
    nb = json.loads(path.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert all(not c["outputs"] and c["execution_count"] is None for c in code), "outputs not stripped"
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    first = "".join(nb["cells"][0]["source"])
    badge = re.findall(r"\((https://colab\.research\.google\.com/github/[^)]+)\)", first)
    assert badge == [colab_url(path.name)]
    install = "".join(code[0]["source"])
    assert 'find_spec("google.colab")' in install
    pip_calls = re.findall(r"check_call\(\s*(\[.*?\])\s*\)", install, re.S)  # each call's argument list
    assert pip_calls and all('"pip"' in c and "torch" not in c for c in pip_calls), "never reinstall torch"
    tags = [c.get("metadata", {}).get("tags", []) for c in code]
    assert tags[1] == ["parameters"], "the parameters cell must be the second code cell"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_cell_has_its_own_id(path):
    """nbformat 4.5 wants a cell id (papermill and nbval warn without one, later nbformat refuses)."""
    cells = json.loads(path.read_text())["cells"]
    ids = [c.get("id") for c in cells]
    assert None not in ids and len(set(ids)) == len(ids)
