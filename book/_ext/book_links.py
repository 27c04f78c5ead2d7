"""Links to the published book lead to the local pages of this build, and every one of them is checked.

A chapter opened alone (Colab, a download) has no other pages beside it, so its links to other chapters and to
the book's pages are absolute URLs of the published book, ``html_baseurl`` (``html.baseurl`` in ``_config.yml``)
plus the page's path: ``https://vaetut.github.io/vaetut/notebooks/03_vae.html#the-loss``
(``tools/standalone.py`` writes them). In the built book, and in a copy of it read offline, those links should
stay on the local site. This extension, after the references are resolved and only for HTML builders,

* turns every link whose URL starts with ``html_baseurl`` into a relative link to the same page (and anchor) of
  this build, marked internal;
* warns (``book_links.missing``; an error under ``-W``) if the URL names no page of this book, or an anchor
  that page does not have, so that ``jupyter-book build -W -n`` checks every such link.

``index.html`` (and the bare base URL) is the root page.
"""

from __future__ import annotations

from posixpath import splitext

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util import logging

logger = logging.getLogger(__name__)


def page_docname(path: str, root_doc: str) -> str | None:
    """The docname of a page path relative to the base URL (``notebooks/03_vae.html`` -> ``notebooks/03_vae``)."""
    if path in ("", "index.html"):
        return root_doc
    stem, suffix = splitext(path)
    return stem if suffix == ".html" else None


def split_book_url(uri: str, base: str) -> tuple[str, str] | None:
    """(page path, fragment) of a URL under ``base``, else None."""
    if not base or not uri.startswith(base):
        return None
    path, _, fragment = uri[len(base) :].partition("#")
    return path.split("?", 1)[0], fragment


class LocalBookLinks(SphinxPostTransform):
    default_priority = 900  # after the references are resolved (myst's and Sphinx's resolvers run earlier)
    formats = ("html",)

    def run(self, **kwargs) -> None:
        base = self.config.html_baseurl or ""
        if base and not base.endswith("/"):
            base += "/"
        for node in list(self.document.findall(nodes.reference)):
            parts = split_book_url(node.get("refuri", ""), base)
            if parts is None:
                continue
            path, fragment = parts
            docname = page_docname(path, self.config.root_doc)
            if docname is None or docname not in self.env.all_docs:
                logger.warning(
                    f"link to the published book names no page of this book: {node['refuri']}",
                    location=node,
                    type="book_links",
                    subtype="missing",
                )
                continue
            if fragment and fragment not in ids_of(self.app, docname):
                logger.warning(
                    f"link to the published book names no anchor #{fragment} in {docname}: {node['refuri']}",
                    location=node,
                    type="book_links",
                    subtype="missing",
                )
                continue
            uri = self.app.builder.get_relative_uri(self.env.docname, docname)
            node["refuri"] = uri + (f"#{fragment}" if fragment else "")
            node["internal"] = True
            if "external" in node.get("classes", []):
                node["classes"].remove("external")


def ids_of(app: Sphinx, docname: str) -> set[str]:
    """Every id in a page's doctree (section ids, targets, labels): the anchors its HTML page has."""
    cache = app.__dict__.setdefault("_book_links_ids", {})
    if docname not in cache:
        doctree = app.env.get_doctree(docname)
        cache[docname] = {id_ for node in doctree.findall(nodes.Element) for id_ in node.get("ids", [])}
    return cache[docname]


def _clear_cache(app: Sphinx, *args) -> None:
    app.__dict__.pop("_book_links_ids", None)


def setup(app: Sphinx) -> dict:
    app.add_post_transform(LocalBookLinks)
    app.connect("env-updated", _clear_cache)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
