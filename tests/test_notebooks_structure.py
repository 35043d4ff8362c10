"""Structure of the notebook series (execution itself is nbval's job in `make test`)."""

import io
import json
import re
import tokenize

import papermill as pm
import pytest
from conftest import REPO_ROOT

from dgmpm_lite.notebooks import colab_url, navigation_cell, notebook_paths

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


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_notebook_ends_with_links_to_its_neighbours(path):
    last = json.loads(path.read_text())["cells"][-1]
    assert last["cell_type"] == "markdown" and "".join(last["source"]) == navigation_cell(path), (
        f"{path.name}: regenerate its last cell from dgmpm_lite.notebooks.navigation_cell"
    )
    for target in re.findall(r"\]\(([0-9]{2}_[a-z0-9_]+\.ipynb)\)", "".join(last["source"])):
        assert (path.parent / target).is_file()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_code_cells_read_easily(path):
    """Short lines, one statement per line, no assignment expressions (issue 15)."""
    for cell in json.loads(path.read_text())["cells"]:
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"])
        long = [line for line in source.splitlines() if len(line) > 100]
        assert not long, f"{path.name}, cell {cell['id']}: lines over 100 characters: {long}"
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
        for tok, nxt in zip(tokens, tokens[1:]):
            assert tok.string != ":=", f"{path.name}, cell {cell['id']}: an assignment expression (:=)"
            if tok.string == ";":  # a trailing ';' only hides a figure's repr; joining statements is out
                assert nxt.type in (tokenize.NEWLINE, tokenize.NL, tokenize.COMMENT, tokenize.ENDMARKER), (
                    f"{path.name}, cell {cell['id']}, line {tok.start[0]}: statements joined with ';'"
                )
