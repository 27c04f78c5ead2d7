"""Serve MathJax 3 from the book's own ``_static`` so that its math renders with no network.

Sphinx's MathJax extension loads ``tex-mml-chtml.js`` from a CDN by default. This extension

* fetches the npm package ``mathjax`` (pinned by ``offline_mathjax_spec``) once with ``npm pack``
  and unpacks it into a cache outside git (``<book>/_build/.mathjax`` unless ``VAETUT_MATHJAX_CACHE``
  names another directory); later builds reuse it, so only the first build needs the npm registry;
* sets ``mathjax_path`` to ``mathjax/es5/tex-mml-chtml.js``, a path under ``_static``, so every page
  with math loads MathJax from the built site itself;
* copies the files that script needs (the CHTML output and its woff-v2 fonts, the TeX input and its
  lazily loaded extensions, the menu and accessibility components) into ``<html>/_static/mathjax``.

``VAETUT_MATHJAX_DIR`` may name an already unpacked ``mathjax`` 3 package (a directory holding
``es5/tex-mml-chtml.js``, e.g. ``node_modules/mathjax``); then npm is not needed.

There is no fallback to a CDN: if MathJax cannot be had, the build stops with a message saying why.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.errors import ExtensionError
from sphinx.util import logging

logger = logging.getLogger(__name__)

#: The MathJax entry script, relative to the package root and to ``_static/mathjax``.
ENTRY = "es5/tex-mml-chtml.js"
#: What the entry script loads at run time (relative to the package root); copied into ``_static/mathjax``.
PARTS = (
    "LICENSE",
    "package.json",
    ENTRY,
    "es5/input",  # tex/extensions/*.js are autoloaded by macros such as \boldsymbol or \cancel
    "es5/output/chtml",  # fonts/woff-v2/*.woff
    "es5/output/chtml.js",
    "es5/a11y",  # loaded from the MathJax context menu
    "es5/sre",
    "es5/ui",
)
#: Files whose presence says an unpacked package is complete.
REQUIRED = (ENTRY, "es5/output/chtml/fonts/woff-v2/MathJax_Main-Regular.woff", "es5/input/tex/extensions/ams.js")
STAMP = ".offline_mathjax.json"
TIMEOUT = 300  # seconds for npm pack


def _complete(package: Path) -> bool:
    return all((package / part).is_file() for part in REQUIRED)


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


def _fetch(spec: str, cache: Path) -> Path:
    """Return the unpacked package for the npm ``spec``, running ``npm pack`` if it is not cached yet."""
    package = cache / re.sub(r"[^A-Za-z0-9._-]+", "_", spec) / "package"
    if _complete(package):
        return package
    npm = shutil.which("npm")
    if npm is None:
        raise ExtensionError(
            f"offline_mathjax: `npm` is not installed, so MathJax ({spec}) cannot be fetched to serve it with "
            f"the book. Install Node.js and npm (Debian/Ubuntu: `apt-get install npm`), or set VAETUT_MATHJAX_DIR "
            f"to an unpacked mathjax 3 package (a directory holding {ENTRY}). The book does not fall back to a CDN."
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
                f"offline_mathjax: `npm pack {spec}` failed (exit {proc.returncode}); MathJax is needed to render "
                f"the book's math offline and there is no CDN fallback. Check the npm registry is reachable, or "
                f"set VAETUT_MATHJAX_DIR to an unpacked mathjax 3 package.\n{detail}"
            )
        unpacked = Path(tmp) / "unpacked"
        with tarfile.open(tarballs[0]) as tar:
            if hasattr(tarfile, "data_filter"):
                tar.extractall(unpacked, filter="data")
            else:  # pragma: no cover - Python < 3.10.12
                tar.extractall(unpacked)  # noqa: S202
        if not _complete(unpacked / "package"):
            raise ExtensionError(f"offline_mathjax: the npm package {spec} lacks {', '.join(REQUIRED)}")
        package.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(unpacked / "package", package)  # atomic; a concurrent build may have won the race
        except OSError:
            if not _complete(package):
                raise
    return package


def _resolve(app: Sphinx) -> Path:
    source = app.config.offline_mathjax_dir or os.environ.get("VAETUT_MATHJAX_DIR")
    if source:
        package = Path(source).expanduser().resolve()
        if not _complete(package):
            raise ExtensionError(
                f"offline_mathjax: {package} (VAETUT_MATHJAX_DIR) is not an unpacked mathjax 3 package: "
                f"it lacks one of {', '.join(REQUIRED)}"
            )
        return package
    return _fetch(app.config.offline_mathjax_spec, _cache_dir(app))


def config_inited(app: Sphinx, config: Config) -> None:
    if config.mathjax_path and config.mathjax_path != ENTRY_STATIC and "://" in config.mathjax_path:
        logger.info(f"offline_mathjax: replacing mathjax_path {config.mathjax_path} with _static/{ENTRY_STATIC}")
    config.mathjax_path = ENTRY_STATIC  # relative to _static


def builder_inited(app: Sphinx) -> None:
    if app.builder.format != "html":
        return
    package = _resolve(app)
    app.env.offline_mathjax_package = str(package)  # type: ignore[attr-defined]
    logger.info(f"offline_mathjax: MathJax {_version(package)} from {package}")


def build_finished(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    package = Path(getattr(app.env, "offline_mathjax_package", "") or _resolve(app))
    target = Path(app.outdir) / "_static" / "mathjax"
    stamp = {"source": str(package), "version": _version(package), "parts": list(PARTS)}
    stamp_file = target / STAMP
    try:
        if json.loads(stamp_file.read_text(encoding="utf-8")) == stamp and (target / ENTRY).is_file():
            return  # already copied by an earlier build into this output directory
    except (OSError, ValueError):
        pass
    for part in PARTS:
        src, dst = package / part, target / part
        if src.is_dir():
            shutil.copytree(src, dst, dirs_exist_ok=True)
        elif src.is_file():
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)
    stamp_file.write_text(json.dumps(stamp), encoding="utf-8")
    logger.info(f"offline_mathjax: copied MathJax {stamp['version']} into {target}")


ENTRY_STATIC = f"mathjax/{ENTRY}"


def setup(app: Sphinx) -> dict:
    app.setup_extension("sphinx.ext.mathjax")
    app.add_config_value("offline_mathjax_spec", "mathjax@3.2.2", "html", [str])
    app.add_config_value("offline_mathjax_cache", "", "html", [str])
    app.add_config_value("offline_mathjax_dir", "", "html", [str])
    app.connect("config-inited", config_inited, priority=900)  # after anything that sets mathjax_path
    app.connect("builder-inited", builder_inited)
    app.connect("build-finished", build_finished)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
