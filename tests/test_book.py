"""The book build helpers: the root redirect page."""
from __future__ import annotations

from reliable_ml import book


def test_bare_redirect_becomes_a_page_with_favicon(tmp_path):
    index = tmp_path / "index.html"
    index.write_text('<meta http-equiv="Refresh" content="0; url=book/index.html" />')
    book.write_redirect(index)
    html = index.read_text()
    assert html.startswith("<!DOCTYPE html>") and '<link rel="icon" href="_static/favicon.svg"/>' in html
    assert 'content="0; url=book/index.html"' in html and '<a href="book/index.html">' in html


def test_real_page_is_left_alone(tmp_path):
    index = tmp_path / "index.html"
    page = '<html><head><meta http-equiv="Refresh" content="0; url=x.html"/></head><body>hi</body></html>'
    index.write_text(page)
    book.write_redirect(index)
    assert index.read_text() == page
