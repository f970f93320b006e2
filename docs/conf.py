"""Sphinx configuration for the skdae documentation.

Build offline, with warnings as errors::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

The example gallery runs every ``examples/plot_*.py`` on the full data (MNIST from
``$SKDAE_DATA``), so the published pages show the real results; ``SKDAE_EXAMPLES_SMOKE=1``
shrinks them to a few seconds each for a quick look at the layout. The landing page's
benchmark table is read from ``benchmarks/RESULTS.md``, the benchmark's own output.
"""

import linecache
import os
import warnings
from datetime import date
from pathlib import Path

# Before torch is imported (by skdae, below): the examples' networks are small, and one
# thread is as fast as two on an idle machine but far faster on a busy one, where
# torch's threads would wait for each other.
os.environ.setdefault("OMP_NUM_THREADS", "1")
# The estimators' HTML reprs in the gallery pages (auto_examples/) link to the API pages
# of this build, so that check_html.py checks those links with the rest of the site.
os.environ["SKDAE_DOCS_URL"] = ".."

import skdae  # noqa: E402
from skdae.datasets import SampleDataWarning  # noqa: E402

HERE = Path(__file__).parent
EXAMPLES = (HERE.parent / "examples").resolve()

# The gallery pages show what the examples print, warnings included; they must not show
# where the builder's files lie. Each example prints its own note when the bundled sample
# stands in for full MNIST, so the SampleDataWarning (whose text names the builder's
# data home) is left out; any other warning names its example by file name alone, not
# by absolute path (test_docs_check.py, and check_html.py looks for such paths).
warnings.filterwarnings("ignore", category=SampleDataWarning)
_format_warning = warnings.formatwarning


def _format_warning_without_paths(message, category, filename, lineno, line=None):
    """Python's warning format, with the file named relative to examples/ (or by name)."""
    if line is None:
        line = linecache.getline(filename, lineno)  # by the real path, while we have it
    path = Path(filename)
    if path.is_absolute():
        path = path.relative_to(EXAMPLES) if path.is_relative_to(EXAMPLES) else Path(path.name)
    return _format_warning(message, category, path.as_posix(), lineno, line)


warnings.formatwarning = _format_warning_without_paths

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
    "sphinx_design",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "_generated", "Thumbs.db", ".DS_Store"]
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


def _benchmark_table(results_md, out):
    """The first table of the benchmark's RESULTS.md (denoising quality and speed, one
    run, one machine), with the line that names the machine, as reStructuredText."""
    lines = results_md.read_text(encoding="utf-8").splitlines()
    machine = next(line for line in lines if line.startswith("- Machine:"))
    date_line = next(line for line in lines if line.startswith("- Date:"))
    start = next(i for i, line in enumerate(lines) if line.startswith("| system"))
    rows = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if not set("".join(cells)) <= set("-: "):  # skip the |---| rule
            rows.append(cells)
    text = [".. list-table::", "   :header-rows: 1", ""]
    for row in rows:
        row = [cell if cell not in ("", "-") else "—" for cell in row]  # "-" is a bullet
        text += [f"   * - {row[0]}"] + [f"     - {cell}" for cell in row[1:]]
    text += [
        "",
        f"{machine[2:].replace('Machine:', 'Measured on').strip()}, "
        f"{date_line[2:].replace('Date:', '').strip()}, by ``benchmarks/bench_mnist.py``.",
    ]
    out.parent.mkdir(exist_ok=True)
    out.write_text("\n".join(text) + "\n", encoding="utf-8")


def _command_help(out_dir):
    """``skdae --help`` and each command's ``--help``, as the installed command prints
    them, for the command-line page (so it cannot drift from the code)."""
    import contextlib
    import io

    from skdae.cli import main

    os.environ["COLUMNS"] = "88"  # argparse wraps to the terminal width
    for command in ["", "train", "evaluate", "denoise", "export", "summary"]:
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer), contextlib.suppress(SystemExit):
            main([command, "--help"] if command else ["--help"])
        (out_dir / f"cli-{command or 'skdae'}.txt").write_text(buffer.getvalue())


for page, table in (("RESULTS.md", "benchmarks.rst"), ("CONV.md", "benchmarks_conv.rst")):
    _benchmark_table(HERE.parent / "benchmarks" / page, HERE / "_generated" / table)
_command_help(HERE / "_generated")


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
    "download_all_examples": False,
    "remove_config_comments": True,
    "matplotlib_animations": False,
}

# No intersphinx: the build must work offline. References to scikit-learn objects
# render as code without a link.

# -- HTML ----------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_theme_options = {
    # Offline build and pages: no icon fonts or analytics fetched from elsewhere.
    "navbar_end": ["navbar-icon-links"],
    "show_toc_level": 2,
    "navigation_with_keys": False,
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
html_static_path = ["_static"]
html_css_files = ["skdae.css"]
html_title = f"skdae {release}"
