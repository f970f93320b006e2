"""The HTML repr (Jupyter) links skdae's estimators and their parameters to skdae's API
pages, and each page it links to is one the docs build makes."""

import inspect
import re
from pathlib import Path
from urllib.parse import unquote

import pytest
from sklearn.base import BaseEstimator, clone
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

import skdae
from skdae import Compose, DenoisingAutoencoder, GaussianNoise, MaskingNoise
from skdae._doc_links import DOCS_URL, docs_root

API_PAGE_LIST = Path(__file__).parents[1] / "docs" / "api.rst"
ESTIMATOR_CLASSES = [
    cls
    for name in skdae.__all__
    if inspect.isclass(cls := getattr(skdae, name))
    and issubclass(cls, BaseEstimator)
    and not inspect.isabstract(cls)
]


def _example(cls):
    return cls([GaussianNoise(), MaskingNoise()]) if cls is Compose else cls()


def _links(html):
    return re.findall(r'href="([^"]*)"', html)


@pytest.fixture(autouse=True)
def _published_docs(monkeypatch):
    monkeypatch.delenv("SKDAE_DOCS_URL", raising=False)


@pytest.mark.parametrize("cls", ESTIMATOR_CLASSES, ids=lambda cls: cls.__name__)
def test_each_estimator_links_to_its_own_api_page(cls):
    link = _example(cls)._get_doc_link()
    assert link == f"{docs_root()}/generated/skdae.{cls.__name__}.html"
    assert link.startswith(DOCS_URL.format(version=skdae.__version__))
    # The page exists in the docs build: api.rst lists the class under an autosummary.
    assert re.search(rf"^   {cls.__name__}$", API_PAGE_LIST.read_text(), re.MULTILINE)


@pytest.mark.parametrize("cls", ESTIMATOR_CLASSES, ids=lambda cls: cls.__name__)
def test_every_parameter_links_to_its_entry_on_that_page(cls):
    estimator = _example(cls)
    page = estimator._get_doc_link()
    parameter_links = {
        unquote(link.split("#:~:text=")[1]).split(",-")[0]
        for link in _links(estimator._repr_html_())
        if link.startswith(page + "#:~:text=")
    }
    assert parameter_links == set(estimator.get_params(deep=False))


def test_skdae_docs_url_points_the_links_at_another_build(monkeypatch):
    monkeypatch.setenv("SKDAE_DOCS_URL", "file:///tmp/skdae-docs/html/")
    assert DenoisingAutoencoder()._get_doc_link() == (
        "file:///tmp/skdae-docs/html/generated/skdae.DenoisingAutoencoder.html"
    )


def test_inside_a_pipeline_each_step_links_to_its_own_package():
    pipe = Pipeline([("dae", DenoisingAutoencoder()), ("clf", LogisticRegression())])
    links = _links(clone(pipe)._repr_html_())
    assert f"{docs_root()}/generated/skdae.DenoisingAutoencoder.html" in links
    assert any(
        link.startswith("https://scikit-learn.org/") and "LogisticRegression" in link
        for link in links
    )
    # The nested corruption is a parameter value here, linked through its parameter.
    assert any("skdae.DenoisingAutoencoder.html#:~:text=corruption" in link for link in links)
