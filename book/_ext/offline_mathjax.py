"""Serve MathJax 3 from the book's own ``_static`` so that its math renders with no network, using only pip.

Sphinx's MathJax extension loads ``tex-mml-chtml.js`` from a CDN by default. This extension

* takes MathJax 3.2.2 from the ``sphinx-mathjax-offline`` wheel (pinned in requirements.txt), which ships
  MathJax's ``es5`` bundle with its fonts: no Node.js, no npm and no network at build time;
* sets ``mathjax_path`` to ``mathjax/tex-mml-chtml.js``, a path under ``_static``, so every page with math
  loads MathJax from the built site itself;
* copies only the files that script needs (the CHTML output and its woff-v2 fonts, the TeX and MathML inputs
  and their lazily loaded extensions, the menu and accessibility components) into ``<html>/_static/mathjax``.

The wheel's own Sphinx extension is not loaded: it would copy the whole 24 MB package (SVG output, the
speech bundle) into every build.

The chapters' live ipywidgets are removed from the pages (each has a static form), so the book serves no
widget loader: ``_config.yml`` sets myst-nb's ``nb_ipywidgets_js`` to ``{}``, so that no page loads
RequireJS or the widget manager from a CDN.

There is no fallback to a CDN: if the wheel is missing or incomplete, the build stops with a message saying
which package to install.
"""

from __future__ import annotations

import json
import shutil
from importlib import metadata
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.errors import ExtensionError
from sphinx.util import logging

logger = logging.getLogger(__name__)

#: The pip distribution that ships MathJax, and where its files are inside it.
DISTRIBUTION = "sphinx-mathjax-offline"
PACKAGE_DIR = "sphinx-mathjax-offline/static/mathjax"
VERSION = "3.2.2"  # the MathJax the wheel ships (checked in the entry script at build time)
#: The MathJax entry script, relative to the MathJax directory and to ``_static/mathjax``.
ENTRY = "tex-mml-chtml.js"
ENTRY_STATIC = f"mathjax/{ENTRY}"
TARGET = "mathjax"  # under _static
PARTS = (
    ENTRY,
    "input/tex",  # tex/extensions/*.js are autoloaded by macros such as \boldsymbol or \cancel
    "input/mml",
    "output/chtml",  # fonts/woff-v2/*.woff
    "output/chtml.js",
    "a11y",  # loaded from the MathJax context menu
    "sre",
    "ui",
)
REQUIRED = (ENTRY, "output/chtml/fonts/woff-v2/MathJax_Main-Regular.woff", "input/tex/extensions/ams.js")
STAMP = ".offline_mathjax.json"
INSTALL = f"pip install -r requirements.txt (it pins {DISTRIBUTION})"


def _complete(directory: Path) -> bool:
    return all((directory / part).is_file() for part in REQUIRED)


def mathjax_dir() -> Path:
    """The MathJax directory inside the installed ``sphinx-mathjax-offline`` wheel; an ExtensionError if none."""
    try:
        dist = metadata.distribution(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        raise ExtensionError(
            f"offline_mathjax: the Python package {DISTRIBUTION} is not installed, so MathJax cannot be served "
            f"with the book. Run `{INSTALL}`. The book does not fall back to a CDN."
        ) from None
    directory = Path(str(dist.locate_file(PACKAGE_DIR))).resolve()
    if not _complete(directory):
        raise ExtensionError(
            f"offline_mathjax: {directory} ({DISTRIBUTION} {dist.version}) lacks one of {', '.join(REQUIRED)}; "
            f"reinstall it with `{INSTALL}`. The book does not fall back to a CDN."
        )
    return directory


def mathjax_version(directory: Path) -> str:
    """The MathJax version written in the entry script (``VERSION="3.2.2"``), or "unknown"."""
    text = (directory / ENTRY).read_text(encoding="utf-8", errors="replace")
    start = text.find('VERSION="')
    return text[start + 9 : text.find('"', start + 9)] if start >= 0 else "unknown"


def _copy(source: Path, target: Path) -> None:
    for part in PARTS:
        src, dst = source / part, target / part
        if src.is_dir():
            shutil.copytree(src, dst, dirs_exist_ok=True)
        else:
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)


def config_inited(app: Sphinx, config: Config) -> None:
    if config.mathjax_path and config.mathjax_path != ENTRY_STATIC and "://" in config.mathjax_path:
        logger.info(f"offline_mathjax: replacing mathjax_path {config.mathjax_path} with _static/{ENTRY_STATIC}")
    config.mathjax_path = ENTRY_STATIC  # relative to _static


def builder_inited(app: Sphinx) -> None:
    if app.builder.format != "html":
        return
    directory = mathjax_dir()  # fail at the start of the build, not after reading every page
    version = mathjax_version(directory)
    if version != VERSION:
        raise ExtensionError(f"offline_mathjax: {directory} holds MathJax {version}, not {VERSION}; {INSTALL}")
    app.env.offline_mathjax_dir = str(directory)  # type: ignore[attr-defined]
    logger.info(f"offline_mathjax: MathJax {version} from {directory}")


def build_finished(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    source = Path(getattr(app.env, "offline_mathjax_dir", "") or mathjax_dir())
    target = Path(app.outdir) / "_static" / TARGET
    stamp = {"source": str(source), "version": mathjax_version(source), "parts": list(PARTS)}
    try:
        if json.loads((target / STAMP).read_text(encoding="utf-8")) == stamp:
            return  # already copied by an earlier build into this output directory
    except (OSError, ValueError):
        pass
    _copy(source, target)
    (target / STAMP).write_text(json.dumps(stamp), encoding="utf-8")
    logger.info(f"offline_mathjax: copied MathJax {stamp['version']} into {target}")


def setup(app: Sphinx) -> dict:
    app.setup_extension("sphinx.ext.mathjax")
    app.connect("config-inited", config_inited, priority=900)  # after anything that sets mathjax_path
    app.connect("builder-inited", builder_inited)
    app.connect("build-finished", build_finished)
    return {"version": "2.0", "parallel_read_safe": True, "parallel_write_safe": True}
