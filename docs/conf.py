"""Sphinx configuration: ``make docs`` builds docs/ into docs/_build/html."""

from importlib import metadata
from pathlib import PurePosixPath

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util import logging

project = "amqp-dispatcher"
release = metadata.version("amqp-dispatcher")
exclude_patterns = ["_build"]
html_theme = "alabaster"
extensions = ["myst_parser"]  # for the benchmark's Markdown table, included in performance.rst

logger = logging.getLogger(__name__)


class PageLinks(SphinxPostTransform):
    """Point links between pages at the built pages.

    The pages link to each other as ```text <runtime.rst#stopping>`__``, so that the links also
    work where the .rst files are read as they are, on GitHub for instance. Here each such link
    is pointed at the page's HTML, and a page or anchor that does not exist is a warning, which
    ``make docs`` turns into an error.
    """

    default_priority = 5

    def run(self, **kwargs: object) -> None:
        for ref in self.document.findall(nodes.reference):
            page, _, anchor = ref.get("refuri", "").partition("#")
            if ":" in page or not page.endswith(".rst"):
                continue
            docname = str(PurePosixPath(self.env.docname).parent / page.removesuffix(".rst"))
            if docname not in self.env.found_docs:
                logger.warning("link to a page that does not exist: %s", page, location=ref)
                continue
            if anchor and anchor not in self._ids(docname):
                logger.warning(
                    "link to an anchor that does not exist: %s#%s", page, anchor, location=ref
                )
            uri = self.app.builder.get_relative_uri(self.env.docname, docname)
            ref["refuri"] = f"{uri}#{anchor}" if anchor else uri
            ref["internal"] = True

    def _ids(self, docname: str) -> set[str]:
        doctree = self.env.get_doctree(docname)
        return {id_ for node in doctree.findall(nodes.Element) for id_ in node["ids"]}


def setup(app: Sphinx) -> None:
    app.add_post_transform(PageLinks)
