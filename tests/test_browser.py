"""The exploration notebook really works in a browser: JupyterLab + headless Chromium.

nbval only checks that the cells run; it never renders a widget. Here a real JupyterLab
server (127.0.0.1, random port and token) serves a temporary copy of the notebook, Debian's
Chromium (driven by Playwright) opens it, runs all cells through the Run menu, moves the
"frame" slider one step with the keyboard and checks that the bytes of the image shown next
to it change. A screenshot lands in the git-ignored ``build/browser/``.

Playwright's own browser download does not work here (no internet beyond PyPI/Debian), so
the browser is the system one: ``make browser-deps`` installs Debian's ``chromium`` package
when it can (root + apt-get); where it cannot, these tests are skipped with the reason.
A first test runs the same steps on a tiny generated notebook, so that a failure there
points at the browser set-up rather than at the exploration notebook.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest
from conftest import REPO_ROOT

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOT_DIR = REPO_ROOT / "build" / "browser"
EXPLORATION_NOTEBOOKS = ["09_exploration_lab.ipynb"]

# Upper bounds only (the CI machine has 2 busy cores); a passing run takes far less.
SERVER_START_S = 120
NOTEBOOK_OPEN_S = 120
RUN_ALL_S = 300
IMAGE_CHANGE_S = 90
SHUTDOWN_S = 30

# DOM of JupyterLab 4 / ipywidgets 8 that the test relies on.
CELL = ".jp-Notebook .jp-Cell"
KERNEL_STATUS = ".jp-StatusBar-TextItem"  # "Python 3 (ipykernel) | Idle"
OPEN_LEFT_SIDEBAR_TAB = ".jp-SideBar.jp-mod-left .lm-TabBar-tab.lm-mod-current"
RUN_MENU = '.lm-MenuBar-item:has(.lm-MenuBar-itemLabel:text-is("Run"))'
RUN_ALL_MENU_ITEM = '.lm-Menu-item:has(.lm-Menu-itemLabel:text-is("Run All Cells"))'
SLIDER = ".widget-slider"
SLIDER_LABEL = ".widget-label"
SLIDER_HANDLE = ".noUi-handle"
SLIDER_READOUT = ".widget-readout"
WIDGET_IMAGE = "img.widget-image"

TINY_NOTEBOOK_CODE = """\
import io
import ipywidgets as widgets
from PIL import Image as PILImage

def frame_png(i: int) -> bytes:
    buf = io.BytesIO()
    PILImage.new("RGB", (96, 64), (40 * i % 256, 255 - 40 * i % 256, 128)).save(buf, format="PNG")
    return buf.getvalue()

slider = widgets.IntSlider(value=0, min=0, max=5, description="frame")
image = widgets.Image(value=frame_png(0), format="png", width=192)
slider.observe(lambda change: setattr(image, "value", frame_png(change["new"])), names="value")
widgets.VBox([slider, image])
"""

# Quiet, self-contained JupyterLab: no news/update toasts over the page, every cell in the DOM.
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
        "doNotDisturbMode": True,
    },
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}

# Status of every code cell: its prompt text and whether it shows a Python traceback.
CELL_STATES_JS = """() => Array.from(document.querySelectorAll('.jp-Notebook .jp-CodeCell')).map(cell => ({
    prompt: (cell.querySelector('.jp-InputPrompt') || {}).textContent || '',
    traceback: Array.from(cell.querySelectorAll('.jp-OutputArea-output'))
        .map(o => o.textContent).filter(t => t.includes('Traceback (most recent call last)')).join('\\n'),
}))"""

# The <img> of the widget paired with the slider: the nearest one among the slider's ancestors.
PAIRED_IMAGE_JS = """(slider) => {
    for (let node = slider.parentElement; node; node = node.parentElement) {
        const img = node.querySelector('img.widget-image');
        if (img) return img;
        if (node.classList.contains('jp-Cell')) break;
    }
    return null;
}"""

# What the browser displays: src plus a SHA-256 of the image bytes behind it (blob: or data: URL).
IMAGE_STATE_JS = """async (img) => {
    const bytes = await (await fetch(img.src)).arrayBuffer();
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
    return {src: img.src, size: bytes.byteLength, loaded: img.complete && img.naturalWidth > 0,
            sha256: Array.from(digest).map(b => b.toString(16).padStart(2, '0')).join('')};
}"""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class JupyterLab:
    """A JupyterLab server on 127.0.0.1 serving ``root``; ``stop()`` ends it and its kernels."""

    def __init__(self, root: Path, state: Path):
        self.root, self.port, self.token = root, _free_port(), secrets.token_hex(16)
        for rel, values in LAB_SETTINGS.items():
            (state / "settings" / rel).parent.mkdir(parents=True, exist_ok=True)
            (state / "settings" / rel).write_text(json.dumps(values))
        env = dict(
            os.environ,
            DGMPM_SMOKE="1",
            JUPYTER_CONFIG_DIR=str(state / "config"),
            JUPYTER_RUNTIME_DIR=str(state / "runtime"),
            JUPYTERLAB_SETTINGS_DIR=str(state / "settings"),
            JUPYTERLAB_WORKSPACES_DIR=str(state / "workspaces"),
        )
        self.log = state / "jupyterlab.log"
        cmd = [
            sys.executable, "-m", "jupyter", "lab", "--no-browser", "--allow-root",
            "--ip=127.0.0.1", f"--port={self.port}", "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={root}",
            "--ServerApp.terminals_enabled=False", "--LabApp.news_url=None",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        ]  # fmt: skip
        with self.log.open("w") as log:
            self.proc = subprocess.Popen(
                cmd, env=env, cwd=root, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}/{path.lstrip('/')}?token={self.token}"

    def log_tail(self, n: int = 30) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])

    def wait_until_up(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"JupyterLab exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(self.url("api/status"), timeout=5) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.5)
        raise TimeoutError(f"JupyterLab did not answer within {timeout:.0f} s:\n{self.log_tail()}")

    def stop(self) -> None:
        """SIGTERM to the server's process group (the server shuts its kernels down), then SIGKILL."""
        if self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=SHUTDOWN_S)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=SHUTDOWN_S)


@pytest.fixture(scope="module")
def chromium():
    """Headless Debian Chromium driven by Playwright; skips (with the reason) where either is missing."""
    if not CHROMIUM.exists():
        pytest.skip(
            f"no Chromium at {CHROMIUM}: install Debian's `chromium` package "
            "(`make browser-deps` does it when run as root on a machine with apt-get)"
        )
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="Python package `playwright` missing: pip install -e '.[dev]'"
    )
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab serving a temporary folder (copies of notebooks go to its ``notebooks/``)."""
    root = tmp_path_factory.mktemp("lab_root")
    (root / "notebooks").mkdir()
    server = JupyterLab(root, tmp_path_factory.mktemp("lab_state"))
    try:
        server.wait_until_up(SERVER_START_S)
        yield server
    finally:
        server.stop()


def _wait_for_cells(page, timeout: float) -> list[dict]:
    """Until every code cell shows an execution count (none queued ``[*]``, none left blank)."""
    deadline = time.monotonic() + timeout
    states = []
    while time.monotonic() < deadline:
        states = page.evaluate(CELL_STATES_JS)
        tracebacks = [s["traceback"] for s in states if s["traceback"]]
        assert not tracebacks, "a cell raised:\n" + tracebacks[0][-3000:]
        if states and all(re.fullmatch(r"\[\d+\]:", s["prompt"].strip()) for s in states):
            return states
        page.wait_for_timeout(1000)
    raise AssertionError(f"cells not all executed after {timeout:.0f} s: {[s['prompt'] for s in states]}")


def scrub_frame_slider(lab: JupyterLab, chromium, notebook: Path, screenshot: Path) -> dict:
    """Open ``notebook`` in JupyterLab, run all cells, step the "frame" slider, return what changed."""
    shutil.copy(notebook, lab.root / "notebooks" / notebook.name)
    page = chromium.new_page(viewport={"width": 1400, "height": 1000})
    try:
        page.set_default_timeout(NOTEBOOK_OPEN_S * 1000)
        # A fresh workspace per notebook, so that JupyterLab does not reopen earlier tabs.
        workspace = f"{notebook.stem}-{secrets.token_hex(4)}"
        page.goto(lab.url(f"lab/workspaces/{workspace}/tree/notebooks/{notebook.name}"))
        # Ready = the notebook's own cells are shown (JupyterLab first shows a placeholder cell)
        # and the status bar says the kernel is idle.
        n_cells = len(nbformat.read(notebook, as_version=4).cells)
        page.wait_for_function(f"document.querySelectorAll('{CELL}').length === {n_cells}")
        page.locator(KERNEL_STATUS).filter(has_text=re.compile(r"\|\s*Idle\s*$")).wait_for(state="visible")

        sidebar_tab = page.locator(OPEN_LEFT_SIDEBAR_TAB)
        if sidebar_tab.count():  # collapse the file browser: more room for the notebook
            sidebar_tab.first.click()
        page.locator(RUN_MENU).click()
        page.locator(RUN_ALL_MENU_ITEM).click()
        started = time.monotonic()
        cells = _wait_for_cells(page, RUN_ALL_S)
        run_all_s = time.monotonic() - started

        frame_label = page.locator(SLIDER_LABEL).filter(has_text=re.compile(r"^\s*frame\s*$"))
        slider = page.locator(SLIDER).filter(has=frame_label).first
        slider.wait_for(state="visible")
        image = slider.evaluate_handle(PAIRED_IMAGE_JS).as_element()
        assert image is not None, "no ipywidgets.Image next to the 'frame' slider"
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image)
        before = image.evaluate(IMAGE_STATE_JS)
        assert before["loaded"] and before["size"] > 0, f"the image is not displayed: {before}"

        handle = slider.locator(SLIDER_HANDLE)
        value, top = float(handle.get_attribute("aria-valuenow")), float(handle.get_attribute("aria-valuemax"))
        handle.focus()
        handle.press("ArrowLeft" if value >= top else "ArrowRight")
        page.wait_for_function(
            "([h, v]) => parseFloat(h.getAttribute('aria-valuenow')) !== v", arg=[handle.element_handle(), value]
        )
        new_value = float(handle.get_attribute("aria-valuenow"))
        readout = slider.locator(SLIDER_READOUT).inner_text().strip()

        deadline, after = time.monotonic() + IMAGE_CHANGE_S, before
        while time.monotonic() < deadline:
            after = image.evaluate(IMAGE_STATE_JS)
            if after["sha256"] != before["sha256"] and after["loaded"]:
                break
            page.wait_for_timeout(500)

        slider.evaluate("element => element.scrollIntoView({block: 'start'})")
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(screenshot))
        return dict(
            cells=cells, run_all_s=run_all_s, value=value, new_value=new_value,
            readout=readout, before=before, after=after,
        )  # fmt: skip
    except Exception:
        failure = screenshot.with_name(f"{screenshot.stem}-failure.png")
        failure.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(failure))
        print(f"[browser] page at the failure: {failure}\nJupyterLab log:\n{lab.log_tail()}")
        raise
    finally:
        page.close()


def _report(capsys, text: str) -> None:
    with capsys.disabled():
        print(f"\n[browser] {text}")


def test_frame_slider_on_a_tiny_notebook(chromium, lab, tmp_path, capsys):
    """The harness itself, on a notebook with just an IntSlider('frame') and the PNG it picks."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_markdown_cell("# tiny scrubber"), nbformat.v4.new_code_cell(TINY_NOTEBOOK_CODE)]
    path = tmp_path / "tiny_scrubber.ipynb"
    nbformat.write(nb, path)

    shot = SCREENSHOT_DIR / "tiny_scrubber.png"
    result = scrub_frame_slider(lab, chromium, path, shot)

    assert [c["prompt"].strip() for c in result["cells"]] == ["[1]:"]
    assert (result["value"], result["new_value"], result["readout"]) == (0, 1, "1")
    assert result["after"]["src"] != result["before"]["src"]
    assert result["after"]["sha256"] != result["before"]["sha256"], "the displayed image did not change"
    assert shot.stat().st_size > 0
    _report(capsys, f"screenshot {shot}")


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(name, marks=pytest.mark.skipif(
            not (REPO_ROOT / "notebooks" / name).exists(), reason=f"notebooks/{name} does not exist yet"
        ))
        for name in EXPLORATION_NOTEBOOKS
    ],
)  # fmt: skip
def test_exploration_notebook_frame_scrubber(name, chromium, lab, capsys):
    notebook = REPO_ROOT / "notebooks" / name
    shot = SCREENSHOT_DIR / f"{notebook.stem}.png"
    result = scrub_frame_slider(lab, chromium, notebook, shot)

    assert result["new_value"] == result["value"] + (1 if result["new_value"] > result["value"] else -1)
    assert result["readout"] == str(int(result["new_value"]))
    assert result["after"]["loaded"]
    assert result["after"]["sha256"] != result["before"]["sha256"], (
        f"moving 'frame' from {result['value']:.0f} to {result['new_value']:.0f} did not change the image"
    )
    assert shot.stat().st_size > 0
    _report(capsys, f"{name}: ran all cells in {result['run_all_s']:.0f} s; screenshot {shot}")
