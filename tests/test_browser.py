"""A real browser reads the built book offline and typesets its math.

Each TOC page is served from a local ``http.server`` and opened in headless Chromium whose every request to
another host goes to a local proxy that refuses it (and records it). The DOM after MathJax ran must hold its
CHTML output for every math element and no raw TeX; the page must have made no request outside the local
server; the MathJax script and its fonts must have come from the book's ``_static``.

A screenshot of the root page (a second Chromium run, so not of every page by default: CI time) is checked for
being more than blank and saved into a pytest temporary directory, printed at the end of the session. With
``$VAETUT_SCREENSHOTS=<dir>`` every page is screenshotted into that directory, for a person to look at.

Chromium is looked up as ``$VAETUT_CHROMIUM``, ``chromium`` or ``chromium-browser``. Without it the test is
skipped, except under ``CI=true`` where it fails: CI must install Debian's ``chromium``.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import shutil
import socketserver
import subprocess
import tempfile
import threading
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from PIL import Image, ImageStat

BUDGET_MS = 10_000  # virtual time for the page and MathJax to finish
TIMEOUT = 180  # real seconds for one Chromium run
WINDOW = (1200, 2400)
ROOT_PAGE = "book/intro"  # the page screenshotted even without $VAETUT_SCREENSHOTS (_toc.yml's root)
RAW_TEX = ("\\(", "\\)", "\\[", "\\]", "$$", "\\begin{", "\\end{")
# Hosts Chromium itself calls (component updater, sign-in, network time): not the page's requests.
BROWSER_SERVICES = (
    "accounts.google.com",
    "clients2.google.com",
    "clientservices.googleapis.com",
    "content-autofill.googleapis.com",
    "edgedl.me.gvt1.com",
    "optimizationguide-pa.googleapis.com",
    "redirector.gvt1.com",
    "safebrowsing.googleapis.com",
    "update.googleapis.com",
)
CODE = ("pre", "code", "script", "style", "textarea", "mjx-container")

pytestmark = [pytest.mark.browser, pytest.mark.book, pytest.mark.slow]


def find_chromium() -> str | None:
    for name in (os.environ.get("VAETUT_CHROMIUM"), "chromium", "chromium-browser"):
        if name and (path := shutil.which(name)):
            return path
    return None


@pytest.fixture(scope="session")
def chromium() -> str:
    path = find_chromium()
    if path is None:
        message = (
            "Chromium is not installed (looked for $VAETUT_CHROMIUM, chromium, chromium-browser): "
            "install Debian's chromium (`apt-get install -y chromium`) for the real-browser check"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


class _Handler(http.server.SimpleHTTPRequestHandler):
    log: list[tuple[str, int]]

    def log_request(self, code="-", size="-"):  # noqa: ARG002
        self.log.append((self.path.split("?")[0], int(code) if str(code).isdigit() else 0))

    def log_message(self, format, *args):  # noqa: A002 - quiet
        pass


@pytest.fixture(scope="session")
def site(book_html: Path):
    """The built HTML on http://127.0.0.1:<port>/ and the list of (path, status) it served."""
    log: list[tuple[str, int]] = []
    handler = type("Handler", (_Handler,), {"log": log})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(book_html)))
    with _serving(server) as port:
        yield f"http://127.0.0.1:{port}/", log


@contextlib.contextmanager
def _serving(server: socketserver.BaseServer):
    """Run server in a daemon thread; yield its port; shut it down afterwards."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


class _RefusingProxy(socketserver.BaseRequestHandler):
    """Answers every proxied request (plain or CONNECT) with 403 and records its first line."""

    requests: list[str]

    def handle(self):
        self.request.settimeout(5)
        try:
            first = self.request.recv(4096).split(b"\r\n", 1)[0].decode("latin-1")
        except OSError:
            return
        target = first.split(" ")[1] if first.count(" ") >= 2 else first
        host = target.split("://", 1)[-1].split("/", 1)[0].rsplit(":", 1)[0]
        if host not in BROWSER_SERVICES:
            self.requests.append(first)
        self.request.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")


@pytest.fixture(scope="session")
def proxy():
    """A proxy on 127.0.0.1 that refuses every request to another host: the browser has no network."""
    requests: list[str] = []
    handler = type("Proxy", (_RefusingProxy,), {"requests": requests})
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    with _serving(server) as port:
        yield f"127.0.0.1:{port}", requests


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory, summary_note) -> Path:
    configured = os.environ.get("VAETUT_SCREENSHOTS")
    directory = Path(configured).resolve() if configured else tmp_path_factory.mktemp("screenshots")
    directory.mkdir(parents=True, exist_ok=True)
    summary_note(f"screenshots of the book's pages: {directory}")
    return directory


def run_chromium(chromium: str, proxy: str, url: str, *extra: str) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory(prefix="vaetut-chromium-") as profile:
        cmd = [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-quic",
            "--disable-domain-reliability",
            "--disable-features=NetworkTimeServiceQuerying,OptimizationHints",
            "--no-pings",
            "--disable-extensions",
            "--hide-scrollbars",
            f"--proxy-server=http://{proxy}",  # loopback (the local server) is never proxied
            f"--user-data-dir={profile}",
            f"--virtual-time-budget={BUDGET_MS}",
            *extra,
            url,
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT, check=False)
    assert proc.returncode == 0, f"chromium exited {proc.returncode} on {url}:\n{proc.stderr[-3000:]}"
    return proc


def raw_tex_outside_code(doc: BeautifulSoup) -> list[str]:
    found = []
    for text in doc.body.find_all(string=True):
        if any(parent.name in CODE for parent in text.parents):
            continue
        if any(delimiter in text for delimiter in RAW_TEX):
            found.append(text.strip()[:80])
    return found


def test_page_math_is_typeset_offline(chromium, site, proxy, screenshots, book_html, toc_page):
    page = book_html / f"{toc_page}.html"
    if not page.is_file():
        pytest.skip(f"no HTML page for {toc_page}")
    base, served = site
    proxy_address, refused = proxy
    url = base + f"{toc_page}.html"
    static = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    n_math = len(static.select(".math"))
    served.clear()
    refused.clear()

    dom = BeautifulSoup(run_chromium(chromium, proxy_address, url, "--dump-dom").stdout, "html.parser")
    assert dom.body is not None, f"{toc_page}: Chromium dumped no DOM"
    maths = dom.select(".math")
    assert len(maths) == n_math, f"{toc_page}: {n_math} math elements in the HTML, {len(maths)} in the DOM"
    untypeset = [node.get_text()[:80] for node in maths if node.find("mjx-container") is None]
    assert not untypeset, f"{toc_page}: {len(untypeset)} of {n_math} math elements not typeset: {untypeset[:5]}"
    errors = [node.get_text()[:80] for node in dom.select("mjx-merror, [data-mjx-error]")]
    assert not errors, f"{toc_page}: MathJax reported TeX errors: {errors[:5]}"
    raw = raw_tex_outside_code(dom)
    assert not raw, f"{toc_page}: raw TeX left on the page: {raw[:5]}"
    assert not refused, f"{toc_page}: the page requested other hosts (a reader offline loses them): {refused}"
    missing = [path for path, status in served if status >= 400 and path != "/favicon.ico"]
    assert not missing, f"{toc_page}: the local server answered errors for {missing}"
    if n_math:
        assert dom.find("mjx-container"), f"{toc_page}: no MathJax output"
        paths = [path for path, _ in served]
        assert "/_static/mathjax/tex-mml-chtml.js" in paths, f"{toc_page}: MathJax not loaded from _static"
        fonts = [path for path in paths if path.startswith("/_static/mathjax/") and path.endswith(".woff")]
        assert fonts, f"{toc_page}: no MathJax font was loaded from _static/mathjax"

    if toc_page != ROOT_PAGE and not os.environ.get("VAETUT_SCREENSHOTS"):
        return
    shot = screenshots / (toc_page.replace("/", "__") + ".png")
    shot.unlink(missing_ok=True)
    run_chromium(chromium, proxy_address, url, f"--screenshot={shot}", f"--window-size={WINDOW[0]},{WINDOW[1]}")
    assert shot.is_file(), f"{toc_page}: no screenshot written"
    with Image.open(shot) as image:
        assert image.size == WINDOW, f"{toc_page}: screenshot is {image.size}"
        spread = ImageStat.Stat(image.convert("L")).extrema[0]
        assert spread[1] - spread[0] > 100, f"{toc_page}: the screenshot {shot} is blank"
