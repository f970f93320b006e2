"""Fail when the built site has a broken internal link or a missing image, or shows
where the builder's files lie.

Sphinx's ``-W`` catches unresolved references in the sources; this catches what it
cannot see: links and images in the built HTML (raw HTML, figures whose file a gallery
run did not produce, anchors that moved). Every ``href`` and ``src`` that points inside
the site must name a file that exists and, with a ``#fragment``, an ``id`` on that page.
And no page may show an absolute path of the machine that built it (the repository,
the home folder, the data home): the gallery pages show what the examples printed.

    python docs/check_html.py docs/_build/html
"""

import os
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit


class _Page(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids = set()
        self.links = []  # (attribute, value)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in ("id", "name"):
            if attrs.get(name):
                self.ids.add(attrs[name])
        for name in ("href", "src"):
            if attrs.get(name) and not (tag == "link" and attrs.get("rel") == "preconnect"):
                self.links.append((name, attrs[name]))


def _parse(path):
    page = _Page()
    page.feed(path.read_text(encoding="utf-8", errors="replace"))
    return page


def broken_links(root):
    """Every internal link or image of the site under ``root`` that leads nowhere."""
    root = Path(root).resolve()
    pages = {
        path: _parse(path)
        for path in root.rglob("*.html")
        # Themes copy their Jinja templates into _static: assets, not pages.
        if path.relative_to(root).parts[0] not in ("_static", "_sources")
    }
    problems = []
    for path, page in pages.items():
        for attribute, value in page.links:
            parts = urlsplit(value)
            if parts.scheme or parts.netloc or value.startswith(("mailto:", "javascript:")):
                continue  # outside the site: not checked offline
            target = (path.parent / unquote(parts.path)).resolve() if parts.path else path
            where = f"{path.relative_to(root)}: {attribute}={value!r}"
            if not target.is_relative_to(root) or not target.exists():
                problems.append(f"{where} -> no such file")
            elif parts.fragment.startswith(":~:"):
                continue  # a text fragment (the HTML repr's parameter links): no id
            elif parts.fragment and target.suffix == ".html":
                ids = pages[target].ids if target in pages else _parse(target).ids
                if unquote(parts.fragment) not in ids:
                    problems.append(f"{where} -> no id {parts.fragment!r} on that page")
    return problems, len(pages)


def builder_paths():
    """Folders of this machine that a reader of the site has no business seeing: the
    repository, the home folder and the data home (``$SKDAE_DATA``), each with a
    trailing separator so that only paths inside them match."""
    folders = {Path(__file__).resolve().parents[1], Path.home()}
    if os.environ.get("SKDAE_DATA"):
        folders.add(Path(os.environ["SKDAE_DATA"]).expanduser().resolve())
    return sorted(
        str(folder).rstrip(os.sep) + os.sep for folder in folders if folder.parent != folder
    )


def leaked_paths(root, paths):
    """``page: shows <path>`` for every page of the site under ``root`` whose text holds
    one of ``paths``."""
    root = Path(root).resolve()
    problems = []
    for page in sorted(root.rglob("*.html")):
        if page.relative_to(root).parts[0] in ("_static", "_sources"):
            continue
        text = page.read_text(encoding="utf-8", errors="replace")
        problems += [f"{page.relative_to(root)}: shows {path}" for path in paths if path in text]
    return problems


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    root = Path(argv[0] if argv else "docs/_build/html")
    if not (root / "index.html").exists():
        print(f"{root}/index.html not found: build the docs first (make docs).")
        return 2
    problems, n_pages = broken_links(root)
    leaks = leaked_paths(root, builder_paths())
    for leak in leaks:
        print(leak)
    for problem in problems:
        print(problem)
    print(
        f"{n_pages} pages checked: {len(problems)} broken internal link(s) or image(s), "
        f"{len(leaks)} showing a path of the machine that built them."
    )
    return 1 if problems or leaks else 0


if __name__ == "__main__":
    sys.exit(main())
