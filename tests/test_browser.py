"""The built book in a real browser: headless Chromium opens every page of the smoke book.

Checks: no console errors (requests to other hosts are ignored: the test machines are offline,
so CDN assets such as MathJax cannot load), every image loads, every chapter is in the
navigation, search finds a chapter, widget outputs come with a "run this notebook to
interact" note. Screenshots of every page go to ``<html>/_screenshots/``.
Skipped where Chromium, chromedriver or selenium are missing (`.ci/run` installs them).
"""
from __future__ import annotations

import functools
import http.server
import json
import shutil
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

import nbformat
import pytest

from reliable_ml import notes, runner

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
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--window-size=1280,2000"):
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
            "return [...document.images].map(i => [i.getAttribute('src'), i.complete, i.naturalWidth]);")
        broken = [src for src, complete, width in images
                  if not urlparse(src).netloc and (not complete or width == 0)]
        assert not broken, f"{page}: images that did not load: {broken}"
        errors = own_errors(browser.get_log("browser"), base)
        assert not errors, f"{page}: console errors: {errors}"
        browser.save_screenshot(str(shots / (page.replace("/", "_").replace(".html", ".png"))))
    assert len(list(shots.glob("*.png"))) == len(pages(html))


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
        hits = browser.execute_script(
            "return [...document.querySelectorAll('#search-results a')].map(a => a.href);")
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
