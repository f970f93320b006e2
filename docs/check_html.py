"""Fail when the built site has a broken internal link or a missing image.

Sphinx's ``-W`` catches unresolved references in the sources; this catches what it
cannot see: links and images in the built HTML (raw HTML, figures whose file a gallery
run did not produce, anchors that moved). Every ``href`` and ``src`` that points inside
the site must name a file that exists and, with a ``#fragment``, an ``id`` on that page.

    python docs/check_html.py docs/_build/html
"""

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


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    root = Path(argv[0] if argv else "docs/_build/html")
    if not (root / "index.html").exists():
        print(f"{root}/index.html not found: build the docs first (make docs).")
        return 2
    problems, n_pages = broken_links(root)
    for problem in problems:
        print(problem)
    print(f"{n_pages} pages checked: {len(problems)} broken internal link(s) or image(s).")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
