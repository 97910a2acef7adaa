"""The built book and JupyterLab in a real browser (headless Chromium).

The book: every page of the smoke book opens with no console errors (requests to other hosts
are ignored: the test machines are offline), every image loads, every chapter is in the
navigation, search finds a chapter, widget outputs come with a "run this notebook to interact"
note, MathJax is served by the book and typesets every formula (no raw \\( or $$ left), cells
tagged hide-input show no source. Screenshots of every page go to ``<html>/_screenshots/``.

JupyterLab: the readable copy of chapter 3 (lab/, what `make lab`, Binder and Colab open; here
filled from a smoke run) runs in a live kernel, its rendered prose shows the run's numbers and no
role markup, and answers given in its labeling app are appended to the answer log.

Skipped where Chromium, chromedriver or selenium (or, for the second part, JupyterLab) are
missing (`.ci/run` installs Chromium; requirements.txt installs JupyterLab). Every wait has a
timeout.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import re
import shutil
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

import nbformat
import pytest

from reliable_ml.course import readable, runner, scorecard

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
CHROMEDRIVER = shutil.which("chromedriver")
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


@pytest.fixture(scope="module")
def site(smoke_book):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(smoke_book))
    handler.log_message = lambda *a, **k: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", smoke_book
    server.shutdown()


@pytest.fixture(scope="module")
def browser():
    webdriver = pytest.importorskip("selenium.webdriver")
    if not (CHROMIUM and CHROMEDRIVER):
        pytest.skip("headless Chromium and chromedriver are not installed (apt-get install chromium chromium-driver)")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--window-size=1280,2000",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def pages(html: Path) -> list[str]:
    chapters = [f"notebooks/{stem}.html" for stem in (p.stem for p in runner.discover())]
    return ["index.html", *chapters, "book/scorecard.html", "book/references.html"]


def own_errors(log: list[dict], base: str) -> list[str]:
    """Console errors, except failed loads of other hosts' assets (the machine is offline)."""
    errors = []
    for entry in log:
        if entry.get("level") != "SEVERE":
            continue
        message = entry.get("message", "")
        url = message.split(" ", 1)[0]
        if url.startswith("http") and not url.startswith(base):
            continue
        if "net::ERR_NAME_NOT_RESOLVED" in message or "net::ERR_INTERNET_DISCONNECTED" in message:
            continue
        errors.append(message)
    return errors


def test_every_page_loads_cleanly_with_images(site, browser):
    base, html = site
    shots = html / "_screenshots"
    shots.mkdir(exist_ok=True)
    for page in pages(html):
        assert (html / page).exists(), f"{page} was not built"
        browser.get(f"{base}/{page}")
        time.sleep(0.3)
        images = browser.execute_script(
            "return [...document.images].map(i => [i.getAttribute('src'), i.complete, i.naturalWidth]);"
        )
        broken = [src for src, complete, width in images if not urlparse(src).netloc and (not complete or width == 0)]
        assert not broken, f"{page}: images that did not load: {broken}"
        errors = own_errors(browser.get_log("browser"), base)
        assert not errors, f"{page}: console errors: {errors}"
        browser.save_screenshot(str(shots / (page.replace("/", "_").replace(".html", ".png"))))
    assert len(list(shots.glob("*.png"))) == len(pages(html))


MATH_STATE = """
const hub = window.MathJax && window.MathJax.Hub;
const math = document.querySelectorAll('.math').length;
const done = !math || (hub && hub.queue && hub.queue.pending === 0 && hub.queue.running === 0
                       && document.querySelectorAll('.MathJax, .MathJax_Display').length > 0);
if (!done) return null;
const clone = (document.querySelector('main') || document.body).cloneNode(true);
clone.querySelectorAll('pre, code, script, style, textarea').forEach(e => e.remove());
const hidden = [...document.querySelectorAll('.tag_hide-input .cell_input')]
  .filter(e => (e.checkVisibility ? e.checkVisibility() : e.offsetParent !== null)).length;
return {math: math, text: clone.textContent, hidden_inputs_shown: hidden,
        injected: document.querySelectorAll('.tag_injected-parameters, .tag_remove-cell').length,
        mathjax_src: [...document.scripts].map(s => s.src).filter(s => s.includes('MathJax')),
        external: performance.getEntriesByType('resource').map(e => e.name)
          .filter(n => !n.startsWith(location.origin) && !n.startsWith('data:'))};
"""


def test_math_renders_offline_and_hidden_cells_stay_hidden(site, browser):
    """MathJax comes from the book (no CDN) and typesets every formula: no raw \\( or $$ is
    left in the text, and no page requests anything from another host. Cells tagged hide-input show no source;
    papermill's cell is not shown."""
    base, html = site
    typeset = 0
    for page in pages(html):
        browser.get(f"{base}/{page}")
        state = wait_for(lambda: browser.execute_script(MATH_STATE), 120, f"MathJax to finish on {page}", poll_s=0.5)
        for src in state["mathjax_src"]:
            assert src.startswith(base), f"{page} loads MathJax from another host: {src}"
        assert not state["external"], f"{page} needs the network: it requests {state['external'][:5]}"
        for raw in ("\\(", "\\)", "\\[", "$$"):
            assert raw not in state["text"], f"{page}: raw {raw!r} in the rendered text (MathJax did not typeset it)"
        assert state["hidden_inputs_shown"] == 0, f"{page}: a hide-input cell shows its source"
        assert state["injected"] == 0, f"{page}: shows papermill's parameters cell or a remove-cell cell"
        typeset += state["math"]
    assert typeset > 0, "no page of the book has any formula: the check above tested nothing"


def test_every_chapter_is_in_the_navigation(site, browser):
    base, html = site
    browser.get(f"{base}/index.html")
    links = browser.execute_script("return [...document.querySelectorAll('nav a')].map(a => a.href);")
    for stem in (p.stem for p in runner.discover()):
        assert any(link.endswith(f"notebooks/{stem}.html") for link in links), f"{stem} missing from navigation"
    assert any(link.endswith("book/scorecard.html") for link in links)


def test_search_finds_a_chapter(site, browser):
    base, _ = site
    browser.get(f"{base}/search.html?q=provenance")
    deadline = time.time() + 20
    hits: list[str] = []
    while time.time() < deadline and not hits:
        time.sleep(0.5)
        hits = browser.execute_script("return [...document.querySelectorAll('#search-results a')].map(a => a.href);")
    assert any("notebooks/" in h for h in hits), f"search for 'provenance' found no chapter: {hits}"


def test_widgets_come_with_a_run_note(site, browser, smoke_runs):
    base, html = site
    _, outcomes = smoke_runs
    for stem, outcome in outcomes.items():
        nb = nbformat.read(outcome.output, as_version=4)
        has_widget = any(WIDGET_MIME in out.get("data", {}) for c in nb.cells for out in c.get("outputs", []))
        if not has_widget:
            continue
        browser.get(f"{base}/notebooks/{stem}.html")
        text = browser.execute_script("return document.body.innerText;")
        assert "Run this notebook to interact" in text, f"{stem} shows a widget without the run note"


PAGE_LAYOUT = """
const column = document.querySelector('article.bd-article') || document.querySelector('main') || document.body;
const right = column.getBoundingClientRect().right;
const wide = [...column.querySelectorAll('table')].map(t => {
  const r = t.getBoundingClientRect();
  return {cls: t.className, right: r.right, scroll: t.scrollWidth, client: t.clientWidth,
          head: (t.querySelector('tr') || t).innerText.slice(0, 80)};
}).filter(t => t.right > right + 1 || (t.cls.includes('scorecard') && t.scroll > t.client + 1));
const number = /^\\s*[-+]?(?:\\d+\\.?\\d*|\\.\\d+)(?:[eE][-+]?\\d+)?\\s*$/;
const bare = [...document.querySelectorAll('.tag_hide-input .cell_output .output.text_plain, '
                                          + '.tag_remove-input .cell_output .output.text_plain')]
  .map(o => o.innerText).filter(t => number.test(t));
return {wide: wide, bare: bare, column: right};
"""


def test_no_bare_numbers_under_hidden_cells(smoke_runs):
    """A hidden-input cell shows only its output: a lone number there is a value displayed where it
    was meant to be glued (chapter 03 once showed 7.472007751464844 under its first figure)."""
    from reliable_ml.course.pagecheck import bare_number_outputs

    _, outcomes = smoke_runs
    found = {stem: bare_number_outputs(nbformat.read(o.output, as_version=4)) for stem, o in outcomes.items()}
    found = {stem: f for stem, f in found.items() if f}
    assert not found, f"bare numbers under hidden-input cells (cell index, text): {found}"


def test_pages_fit_the_column_and_show_no_bare_numbers(site, browser):
    """No table is wider than the content column (the scorecard's last column was cut off), the
    scorecard fits without scrolling, and no hidden-input cell shows a lone number."""
    base, html = site
    for page in pages(html):
        browser.get(f"{base}/{page}")
        state = wait_for(lambda: browser.execute_script(PAGE_LAYOUT), 30, f"the layout of {page}")
        assert not state["wide"], f"{page}: tables wider than the content column: {state['wide']}"
        assert not state["bare"], f"{page}: bare numbers under hidden-input cells: {state['bare']}"
    browser.get(f"{base}/book/scorecard.html")
    badges = browser.execute_script(
        "return [...document.querySelectorAll('table.scorecard .sd-badge')].map(b => b.innerText.trim());"
    )
    assert badges and set(badges) <= set(scorecard.STATUSES), f"badges outside the scorecard's statuses: {badges}"


# ----------------------------------------------------------------------------- JupyterLab, live kernel

LAB_CHAPTER = "03_humans_vs_models"  # the chapter with the labeling app (reliable_ml.labels.labeling)
LAB_TIMEOUT_S = 300  # the whole chapter in smoke, in a live kernel
LAB_DATA = ("MNIST", "QMNIST")  # the labeling task: MNIST test digits by writer population


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def smoke_copy(src: Path, dest: Path, nb=None) -> Path:
    """The chapter (or ``nb``, e.g. its readable copy) with the smoke row injected after its
    parameters cell, as the runner does."""
    from reliable_ml import settings

    nb = nb if nb is not None else runner.read_notebook(src)
    params = {**settings.values(src.stem, "smoke"), "profile": "smoke"}
    injected = nbformat.v4.new_code_cell("\n".join(f"{k} = {v!r}" for k, v in params.items()))
    injected.metadata["tags"] = ["injected-parameters"]
    at = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", []))
    nb.cells.insert(at + 1, injected)
    nbformat.write(nb, dest)
    return dest


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab on localhost (token auth, the app object exposed to scripts), serving a smoke
    copy of the labeling chapter. Answer logs go to a temporary folder. Yields (url, tmp)."""
    import importlib.util
    import subprocess
    import sys
    import urllib.request

    if importlib.util.find_spec("jupyterlab") is None:
        pytest.skip("JupyterLab is not installed (`make lab` / requirements.txt install it)")
    from reliable_ml.data.root import data_root

    missing = [
        d for d in LAB_DATA if not any(p.is_file() for p in (data_root() / d).rglob("*"))
    ]  # empty folders don't count
    if missing:
        pytest.skip(f"{LAB_CHAPTER}'s labeling app needs {', '.join(missing)} under the data root")
    tmp = tmp_path_factory.mktemp("lab")
    root = tmp / "notebooks"
    root.mkdir()
    # the readable copy (what `make lab`, Binder and Colab open), its prose filled from a smoke run
    # of the chapter by the runner, with the smoke row injected so that it runs quickly here
    src = runner.discover([LAB_CHAPTER])[0]
    os.environ["RELIABLE_ML_RESULTS"] = str(tmp / "run-results")
    try:
        (outcome,) = runner.run([LAB_CHAPTER], "smoke", out_dir=tmp / "executed", progress=False)
    finally:
        os.environ.pop("RELIABLE_ML_RESULTS", None)
    if outcome.error:
        pytest.fail(f"{LAB_CHAPTER} failed in the smoke run: {outcome.error}")
    copy, pasted = readable.render_readable(LAB_CHAPTER, "smoke", results_dir=tmp / "run-results")
    smoke_copy(src, root / f"{LAB_CHAPTER}.ipynb", copy)
    (tmp / "pasted.json").write_text(json.dumps(pasted.pasted))
    settings_dir = tmp / "settings" / "@jupyterlab" / "notebook-extension"
    settings_dir.mkdir(parents=True)  # every cell in the page (no windowing), so all prose can be read
    (settings_dir / "tracker.jupyterlab-settings").write_text('{"windowingMode": "none"}')
    port, token = free_port(), "reliable-ml-test"
    env = {k: v for k, v in os.environ.items() if k != "RELIABLE_ML_HEADLESS"}  # a reader's session
    env.update(
        {
            "RELIABLE_ML_ANNOTATIONS": str(tmp / "annotations"),
            "RELIABLE_ML_RESULTS": str(tmp / "results"),
            "MPLBACKEND": "module://matplotlib_inline.backend_inline",
            "JUPYTER_CONFIG_DIR": str(tmp / "config"),
            "JUPYTER_RUNTIME_DIR": str(tmp / "runtime"),
            "JUPYTERLAB_SETTINGS_DIR": str(tmp / "settings"),
            "JUPYTERLAB_WORKSPACES_DIR": str(tmp / "workspaces"),
        }
    )
    cmd = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        "--LabApp.expose_app_in_browser=True",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",
        "--allow-root",
    ]
    log = open(tmp / "lab.log", "w")
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=root)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 90
        while True:
            if proc.poll() is not None:
                pytest.fail(f"JupyterLab exited with {proc.returncode}: {(tmp / 'lab.log').read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=5) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.time() > deadline:
                pytest.fail(f"JupyterLab did not answer in 90 s: {(tmp / 'lab.log').read_text()[-3000:]}")
            time.sleep(1)
        yield f"{url}/lab/tree/{LAB_CHAPTER}.ipynb?token={token}", tmp
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()


def wait_for(predicate, timeout_s: float, what: str, poll_s: float = 1.0):
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(poll_s)
    pytest.fail(f"timed out after {timeout_s:.0f} s waiting for {what}")


RUN_ALL = """
const done = arguments[arguments.length - 1];
const app = window.jupyterapp;
if (!app) { done('no app'); return; }
const panel = app.shell.currentWidget;
if (!panel || !panel.sessionContext) { done('no notebook'); return; }
panel.context.ready.then(() => panel.sessionContext.ready)
  .then(() => { app.commands.execute('notebook:run-all-cells'); done('started'); })
  .catch(e => done('error: ' + e));
"""

STATE = """
const app = window.jupyterapp, panel = app && app.shell.currentWidget;
if (!panel || !panel.sessionContext || !panel.sessionContext.session) return null;
const kernel = panel.sessionContext.session.kernel;
const prompts = [...document.querySelectorAll('.jp-InputPrompt')].map(p => p.innerText);
const errors = [...document.querySelectorAll('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')]
  .filter(o => o.innerText.includes('Traceback') || o.innerText.includes('Error')).map(o => o.innerText.slice(0, 400));
return {status: kernel ? kernel.status : 'none', running: prompts.filter(p => p.includes('*')).length,
        executed: prompts.filter(p => /\\[\\d+\\]/.test(p)).length, errors: errors};
"""


def buttons(browser, pattern: str):
    import re

    from selenium.webdriver.common.by import By

    return [
        b
        for b in browser.find_elements(By.CSS_SELECTOR, ".widget-button, .jupyter-button")
        if b.is_displayed() and re.fullmatch(pattern, b.text.strip())
    ]


def test_labeling_app_records_answers_in_jupyterlab(lab, browser):
    """Open the labeling chapter in JupyterLab, run every cell in a live kernel, label three
    digits in the app, and find the three answers appended to the answer log."""
    from selenium.webdriver.common.by import By

    from reliable_ml.labels import labeling

    url, tmp = lab
    browser.set_script_timeout(120)
    browser.get(url)
    wait_for(
        lambda: browser.execute_script(
            "return !!(window.jupyterapp && window.jupyterapp.shell.currentWidget"
            " && window.jupyterapp.shell.currentWidget.sessionContext)"
        ),
        120,
        "JupyterLab to open the notebook",
    )
    started = browser.execute_async_script(RUN_ALL)
    assert started == "started", f"could not run the notebook: {started}"

    def finished():
        state = browser.execute_script(STATE)
        if state and state["errors"]:
            pytest.fail(f"{LAB_CHAPTER} raised in JupyterLab: {state['errors'][0]}")
        return (
            state if state and state["executed"] > 0 and state["running"] == 0 and state["status"] == "idle" else None
        )

    time.sleep(3)
    wait_for(finished, LAB_TIMEOUT_S, f"{LAB_CHAPTER} to finish in the live kernel", poll_s=2)
    if not buttons(browser, r"Start / resume"):
        text = browser.execute_script("return document.body.innerText;")
        if "labeling task" in text:
            pytest.skip(f"{LAB_CHAPTER}'s labeling app needs MNIST and the QMNIST metadata under RELIABLE_ML_DATA")
        pytest.fail("the labeling app did not appear (no 'Start / resume' button)")

    name = browser.find_element(By.CSS_SELECTOR, "input[placeholder='your name']")
    name.send_keys("selenium")
    time.sleep(1)  # the Text widget syncs its value to the kernel
    buttons(browser, r"Start / resume")[0].click()
    classes = wait_for(
        lambda: [b for b in buttons(browser, r"\d: .+") if b.is_enabled()], 30, "the class buttons to be enabled"
    )
    log_dir = tmp / "annotations"
    picked = []
    for k in (3, 1, 4):
        target = [b for b in buttons(browser, r"\d: .+") if b.text.strip().startswith(f"{k}:")]
        assert target, f"no class button for {k}: {[b.text for b in classes]}"
        picked.append(target[0].text.split(":", 1)[1].strip())
        target[0].click()

        n_picked = len(picked)

        def answered(n=n_picked):
            logs = sorted(log_dir.rglob("*.jsonl"))
            records = labeling.read_log(logs[0])[0] if logs else []
            return records if sum(r["action"] == "label" for r in records) >= n else None

        wait_for(answered, 30, f"answer {len(picked)} to be appended to the log")
    (log,) = sorted(log_dir.rglob("*.jsonl"))
    records, problems = labeling.read_log(log)
    assert not problems
    labels = [r for r in records if r["action"] == "label"]
    assert [r["label"] for r in labels] == picked and {r["labeler"] for r in labels} == {"selenium"}
    assert len({r["item"] for r in labels}) == 3, "each answer is for a new image"


PROSE = """
return [...document.querySelectorAll('.jp-MarkdownCell .jp-RenderedMarkdown')].map(e => e.innerText).join('\\n');
"""


def test_readable_copy_shows_the_runs_numbers_in_jupyterlab(lab, browser):
    """After the labeling test ran the readable copy in the live kernel: its rendered Markdown
    has no role or directive markup, and every glued number of the run appears in the prose."""
    url, tmp = lab
    if not browser.current_url.startswith(url.split("/lab/")[0]):
        browser.get(url)
    prose = wait_for(lambda: browser.execute_script(PROSE), 120, "the Markdown cells to render")
    for markup in ("{glue", "{eval", "{cite", "```{", "{exercise", "{solution"):
        assert markup not in prose, f"raw markup {markup!r} in the rendered prose"
    pasted = json.loads((tmp / "pasted.json").read_text())
    numbers = [shown for _, shown in pasted if re.fullmatch(r"[+-]?[\d,]*\.?\d+%?", shown)]
    assert len(numbers) >= 5, f"the smoke run glued too few numbers: {pasted}"
    missing = [n for n in numbers if n not in prose]
    assert not missing, f"numbers glued by the run but not in the rendered prose: {missing}"
    assert "Readable copy of this chapter" in prose and "(Recht et al., 2019)" in prose
