"""Sphinx configuration for the skdae documentation.

Build offline, with warnings as errors::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

The example gallery runs every ``examples/plot_*.py`` in smoke mode (a few seconds
each); set ``SKDAE_EXAMPLES_SMOKE=0`` for the full-length runs and their figures.
"""

import os
from datetime import date

# Before sphinx-gallery runs the examples: keep the build short unless asked otherwise.
os.environ.setdefault("SKDAE_EXAMPLES_SMOKE", "1")
# Before torch is imported (by skdae, below): the examples' networks are small, and one
# thread is as fast as two on an idle machine but far faster on a busy one, where
# torch's threads would wait for each other.
os.environ.setdefault("OMP_NUM_THREADS", "1")

import skdae  # noqa: E402

project = "skdae"
author = "the skdae developers"
copyright = f"{date.today().year}, {author}"
release = skdae.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
default_role = "literal"  # `x` renders as code, not as an unresolved reference

# -- API reference ------------------------------------------------------------------
autosummary_generate = True
autodoc_typehints = "none"
# Each class page documents the methods skdae defines, its own inherited ones included
# (GaussianNoise.corrupt comes from BaseCorruption): see _templates/autosummary/class.rst
# and the hook below. scikit-learn's methods (get_params, fit_transform, set_output,
# set_fit_request, ...) are left to scikit-learn's documentation: their docstrings link
# into it with references that cannot resolve here, offline.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = False
numpydoc_xref_param_type = False


def _skip_foreign_members(app, what, name, obj, skip, options):
    """Skip class members that are not defined in skdae."""
    if what == "class" and not (getattr(obj, "__module__", None) or "").startswith("skdae"):
        return True
    return None


def setup(app):
    app.connect("autodoc-skip-member", _skip_foreign_members)


# -- Example gallery -----------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": "/plot_",
    # "Examples using X" on each API page, and links from the examples' code to the API.
    "doc_module": ("skdae",),
    "backreferences_dir": "gen_modules/backreferences",
    "reference_url": {"skdae": None},
    "download_all_examples": False,
    "remove_config_comments": True,
    "matplotlib_animations": False,
}

# No intersphinx: the build must work offline. References to scikit-learn objects
# render as code without a link.

# -- HTML ----------------------------------------------------------------------------
html_theme = "alabaster"
html_theme_options = {
    "description": "Denoising autoencoders for scikit-learn, powered by PyTorch.",
    "fixed_sidebar": True,
}
html_static_path = []
html_title = f"skdae {release}"
