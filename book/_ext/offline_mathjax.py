"""Serve MathJax 3 from the book's own ``_static`` so that its math renders with no network.

Sphinx's MathJax extension loads ``tex-mml-chtml.js`` from a CDN by default. This extension

* fetches the npm package ``mathjax@3.2.2`` once with ``npm pack`` and unpacks it into a cache outside git
  (``<book>/_build/.mathjax`` unless ``VAETUT_MATHJAX_CACHE`` names another directory); later builds reuse
  it, so only the first build needs the npm registry;
* sets ``mathjax_path`` to ``mathjax/es5/tex-mml-chtml.js``, a path under ``_static``, so every page
  with math loads MathJax from the built site itself;
* copies the files that script needs (the CHTML output and its woff-v2 fonts, the TeX input and its
  lazily loaded extensions, the menu and accessibility components) into ``<html>/_static/mathjax``.

It does the same for the two scripts that render a notebook's saved ipywidgets state (RequireJS and
``@jupyter-widgets/html-manager``'s ``embed-amd.js``, which myst-nb loads from CDNs by default), so that a
chapter with widgets also reads offline; ``offline_mathjax_widgets = False`` leaves myst-nb's default.

``VAETUT_MATHJAX_DIR`` may name an already unpacked ``mathjax`` 3 package (a directory holding
``es5/tex-mml-chtml.js``, e.g. ``node_modules/mathjax``); then npm is not needed for MathJax.

There is no fallback to a CDN: if a package cannot be had, the build stops with a message saying why.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.errors import ExtensionError
from sphinx.util import logging

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Asset:
    """An npm package whose files the site serves from ``_static/<target>``."""

    spec: str  # what ``npm pack`` fetches (pinned)
    parts: tuple[str, ...]  # files and directories copied, relative to the package root
    required: tuple[str, ...]  # files whose presence says an unpacked package is complete
    target: str  # under _static
    skip: tuple[str, ...] = ()  # glob patterns not copied (source maps, other bundles)


#: The MathJax entry script, relative to the package root and to ``_static/mathjax``.
ENTRY = "es5/tex-mml-chtml.js"
ENTRY_STATIC = f"mathjax/{ENTRY}"
MATHJAX = Asset(
    spec="mathjax@3.2.2",  # the last MathJax 3
    parts=(
        "LICENSE",
        "package.json",
        ENTRY,
        "es5/input",  # tex/extensions/*.js are autoloaded by macros such as \boldsymbol or \cancel
        "es5/output/chtml",  # fonts/woff-v2/*.woff
        "es5/output/chtml.js",
        "es5/a11y",  # loaded from the MathJax context menu
        "es5/sre",
        "es5/ui",
    ),
    required=(ENTRY, "es5/output/chtml/fonts/woff-v2/MathJax_Main-Regular.woff", "es5/input/tex/extensions/ams.js"),
    target="mathjax",
)
# The two scripts that render saved ipywidgets state (myst-nb's ``nb_ipywidgets_js``, from CDNs by default),
# the versions myst-nb 1.x pins.
REQUIREJS = Asset("requirejs@2.3.4", ("require.js", "package.json"), ("require.js",), "widgets/requirejs")
HTML_MANAGER = Asset(
    spec="@jupyter-widgets/html-manager@1.0.6",
    parts=("LICENSE", "package.json", "dist"),
    required=("dist/embed-amd.js",),
    target="widgets/html-manager",
    skip=("*.map", "embed.js", "libembed-amd.js", "*.embed.js", "*.txt"),
)
ASSETS = (MATHJAX, REQUIREJS, HTML_MANAGER)
WIDGETS_JS = {
    f"{REQUIREJS.target}/require.js": {},
    f"{HTML_MANAGER.target}/dist/embed-amd.js": {},
}
# embed-amd.js loads its icon fonts from ``<page's directory>/@jupyter-widgets/html-manager/dist/``.
WIDGET_FONTS_DIR = "@jupyter-widgets/html-manager/dist"
WIDGET_FONTS = ("*.woff", "*.woff2", "*.ttf", "*.eot", "*.svg")
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
STAMP = ".offline_assets.json"
TIMEOUT = 300  # seconds for npm pack


def _complete(package: Path, asset: Asset) -> bool:
    return all((package / part).is_file() for part in asset.required)


def _version(package: Path) -> str:
    try:
        return json.loads((package / "package.json").read_text(encoding="utf-8"))["version"]
    except (OSError, ValueError, KeyError):
        return "unknown"


def _cache_dir(app: Sphinx) -> Path:
    configured = app.config.offline_mathjax_cache or os.environ.get("VAETUT_MATHJAX_CACHE")
    if configured:
        return Path(configured).expanduser().resolve()
    return Path(app.srcdir) / "_build" / ".mathjax"


def _fetch(asset: Asset, cache: Path) -> Path:
    """Return the unpacked package for ``asset``, running ``npm pack`` if it is not cached yet."""
    spec = asset.spec
    package = cache / re.sub(r"[^A-Za-z0-9._-]+", "_", spec) / "package"
    if _complete(package, asset):
        return package
    npm = shutil.which("npm")
    if npm is None:
        alternative = f", or set VAETUT_MATHJAX_DIR to an unpacked mathjax 3 package (holding {ENTRY})"
        raise ExtensionError(
            f"offline_mathjax: `npm` is not installed, so {spec} cannot be fetched to serve it with the book. "
            f"Install Node.js and npm (Debian/Ubuntu: `apt-get install npm`){alternative if asset is MATHJAX else ''}. "
            "The book does not fall back to a CDN."
        )
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache, prefix=".fetch-") as tmp:
        logger.info(f"offline_mathjax: fetching {spec} with npm pack into {cache}")
        try:
            proc = subprocess.run(
                [npm, "pack", spec, "--json", "--silent"],
                cwd=tmp,
                capture_output=True,
                text=True,
                timeout=TIMEOUT,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ExtensionError(f"offline_mathjax: `npm pack {spec}` failed: {exc}") from exc
        tarballs = sorted(Path(tmp).glob("*.tgz"))
        if proc.returncode != 0 or len(tarballs) != 1:
            detail = (proc.stderr or proc.stdout).strip()[-2000:]
            raise ExtensionError(
                f"offline_mathjax: `npm pack {spec}` failed (exit {proc.returncode}); the book serves it itself so "
                f"that it reads offline, and there is no CDN fallback. Check that the npm registry is reachable "
                f"(a proxy or registry set in ~/.npmrc applies).\n{detail}"
            )
        unpacked = Path(tmp) / "unpacked"
        with tarfile.open(tarballs[0]) as tar:
            if hasattr(tarfile, "data_filter"):
                tar.extractall(unpacked, filter="data")
            else:  # pragma: no cover - Python without tarfile filters
                tar.extractall(unpacked)  # noqa: S202
        if not _complete(unpacked / "package", asset):
            raise ExtensionError(f"offline_mathjax: the npm package {spec} lacks one of {', '.join(asset.required)}")
        package.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(unpacked / "package", package)  # atomic; a concurrent build may have won the race
        except OSError:
            if not _complete(package, asset):
                raise
    return package


def _resolve(app: Sphinx, asset: Asset) -> Path:
    source = app.config.offline_mathjax_dir or os.environ.get("VAETUT_MATHJAX_DIR")
    if asset is MATHJAX and source:
        package = Path(source).expanduser().resolve()
        if not _complete(package, asset):
            raise ExtensionError(
                f"offline_mathjax: {package} (VAETUT_MATHJAX_DIR) is not an unpacked mathjax 3 package: "
                f"it lacks one of {', '.join(asset.required)}"
            )
        return package
    return _fetch(asset, _cache_dir(app))


def _copy(package: Path, parts: tuple[str, ...], target: Path, skip: tuple[str, ...] = ()) -> None:
    ignore = shutil.ignore_patterns(*skip) if skip else None
    for part in parts:
        src, dst = package / part, target / part
        if src.is_dir():
            shutil.copytree(src, dst, dirs_exist_ok=True, ignore=ignore)
        elif src.is_file():
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)


def config_inited(app: Sphinx, config: Config) -> None:
    if config.mathjax_path and config.mathjax_path != ENTRY_STATIC and "://" in config.mathjax_path:
        logger.info(f"offline_mathjax: replacing mathjax_path {config.mathjax_path} with _static/{ENTRY_STATIC}")
    config.mathjax_path = ENTRY_STATIC  # relative to _static
    if config.offline_mathjax_widgets and "nb_ipywidgets_js" in config:
        config.nb_ipywidgets_js = dict(WIDGETS_JS)  # relative to _static


def _assets(app: Sphinx) -> tuple[Asset, ...]:
    return ASSETS if app.config.offline_mathjax_widgets else (MATHJAX,)


def builder_inited(app: Sphinx) -> None:
    if app.builder.format != "html":
        return
    packages = {asset.spec: str(_resolve(app, asset)) for asset in _assets(app)}
    app.env.offline_mathjax_packages = packages  # type: ignore[attr-defined]
    logger.info(f"offline_mathjax: MathJax {_version(Path(packages[MATHJAX.spec]))} from {packages[MATHJAX.spec]}")


def build_finished(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    outdir = Path(app.outdir)
    packages = getattr(app.env, "offline_mathjax_packages", {})
    for asset in _assets(app):
        package = Path(packages.get(asset.spec) or _resolve(app, asset))
        target = outdir / "_static" / asset.target
        stamp = {"source": str(package), "version": _version(package), "parts": list(asset.parts)}
        try:
            if json.loads((target / STAMP).read_text(encoding="utf-8")) == stamp:
                continue  # already copied by an earlier build into this output directory
        except (OSError, ValueError):
            pass
        _copy(package, asset.parts, target, asset.skip)
        (target / STAMP).write_text(json.dumps(stamp), encoding="utf-8")
        logger.info(f"offline_mathjax: copied {asset.spec} into {target}")
    if app.config.offline_mathjax_widgets:
        dist = Path(packages.get(HTML_MANAGER.spec) or _resolve(app, HTML_MANAGER)) / "dist"
        fonts = tuple(f for pattern in WIDGET_FONTS for f in dist.glob(pattern))
        dirs = {page.parent for page in outdir.rglob("*.html") if WIDGET_STATE in page.read_text(encoding="utf-8")}
        for directory in sorted(dirs):
            (directory / WIDGET_FONTS_DIR).mkdir(parents=True, exist_ok=True)
            for font in fonts:
                shutil.copy2(font, directory / WIDGET_FONTS_DIR / font.name)


def setup(app: Sphinx) -> dict:
    app.setup_extension("sphinx.ext.mathjax")
    app.add_config_value("offline_mathjax_cache", "", "html", [str])
    app.add_config_value("offline_mathjax_dir", "", "html", [str])
    app.add_config_value("offline_mathjax_widgets", True, "html", [bool])  # serve the ipywidgets loader too
    app.connect("config-inited", config_inited, priority=900)  # after anything that sets mathjax_path
    app.connect("builder-inited", builder_inited)
    app.connect("build-finished", build_finished)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
