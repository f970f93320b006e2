"""Links from an estimator's HTML representation (Jupyter) to its skdae API page.

scikit-learn's HTML repr links an estimator's name to its documentation page and each
parameter to that parameter's entry there, but only for classes of the package named by
``_doc_link_module``; without this mixin, skdae's estimators would show no links at all.
"""

import os

from skdae._version import __version__

# Where the documentation is published. SKDAE_DOCS_URL points the links elsewhere: a
# local build (file:///.../docs/_build/html), or, in the docs build itself, a path
# relative to the gallery pages, so that their links are checked with the site's own.
DOCS_URL = "https://skdae.readthedocs.io/en/{version}"


def docs_root():
    """The URL of the documentation's root, without a trailing slash."""
    root = os.environ.get("SKDAE_DOCS_URL") or DOCS_URL.format(
        version="latest" if "dev" in __version__ else __version__
    )
    return root.rstrip("/")


class DocLinkMixin:
    """Point scikit-learn's HTML repr at skdae's API pages (``generated/skdae.X.html``)."""

    _doc_link_module = "skdae"

    @property
    def _doc_link_template(self):
        return docs_root() + "/generated/skdae.{estimator_name}.html"
