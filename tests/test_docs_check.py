"""The built-site check of ``make docs`` finds what Sphinx's -W cannot see."""

import importlib.util
from pathlib import Path

_spec = importlib.util.spec_from_file_location(
    "check_html", Path(__file__).parents[1] / "docs" / "check_html.py"
)
check_html = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(check_html)


def _site(tmp_path, pages):
    for name, body in pages.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"<html><body>{body}</body></html>")
    return tmp_path


def test_a_sound_site_passes(tmp_path):
    root = _site(
        tmp_path,
        {
            "index.html": '<a href="api/a.html#x">a</a><img src="_images/f.png">'
            '<a href="https://example.org/missing">out</a><a href="#top" id="top">t</a>'
            # The HTML repr's parameter links: text fragments, not ids.
            '<a href="api/a.html#:~:text=alpha,-float">alpha</a>',
            "api/a.html": '<h1 id="x">A</h1><a href="../index.html">home</a>',
            "_images/f.png": "",
        },
    )
    assert check_html.broken_links(root) == ([], 2)
    assert check_html.main([str(root)]) == 0


def test_missing_pages_images_and_anchors_are_each_reported(tmp_path):
    root = _site(
        tmp_path,
        {
            "index.html": '<a href="gone.html">g</a><img src="_images/none.png">'
            '<a href="api/a.html#moved">m</a><a href="../../etc/passwd">up</a>'
            '<a href="api/gone.html#:~:text=alpha">t</a>',
            "api/a.html": '<h1 id="x">A</h1>',
        },
    )
    problems, _ = check_html.broken_links(root)
    assert len(problems) == 5
    assert sum("no such file" in p for p in problems) == 4
    assert any("no id 'moved'" in p for p in problems)
    assert check_html.main([str(root)]) == 1


def test_an_unbuilt_site_says_to_build_it(tmp_path, capsys):
    assert check_html.main([str(tmp_path)]) == 2
    assert "make docs" in capsys.readouterr().out


def test_a_page_that_shows_the_builders_paths_is_reported(tmp_path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("SKDAE_DATA", str(tmp_path / "data"))
    paths = check_html.builder_paths()
    assert f"{home}/" in paths and f"{tmp_path / 'data'}/" in paths
    repository = f"{Path(check_html.__file__).resolve().parents[1]}/"
    assert repository in paths
    root = _site(
        tmp_path / "site",
        {
            "index.html": "<p>plot_x.py:3: UserWarning: careful</p>",
            "auto_examples/plot_a.html": f"<pre>{repository}examples/plot_a.py:31: Warning</pre>",
            "auto_examples/plot_b.html": f"<pre>put the files in {tmp_path / 'data'}/mnist/</pre>",
            # A folder whose name merely starts like the home folder's is not inside it.
            "api/a.html": f"<pre>{home}-other/file</pre>",
        },
    )
    assert check_html.leaked_paths(root, paths) == [
        f"auto_examples/plot_a.html: shows {repository}",
        f"auto_examples/plot_b.html: shows {tmp_path / 'data'}/",
    ]
    assert check_html.main([str(root)]) == 1
