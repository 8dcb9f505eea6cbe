"""clean.serialize writes exactly what BeautifulSoup's ``decode_contents(formatter=NBSP_FORMATTER)``
wrote before it (the HTML html2text reads), for parsed and for cleaned trees."""

from __future__ import annotations

from bs4 import BeautifulSoup
from hypothesis import HealthCheck, given, settings

from pipelines import clean
from tests.test_souplike import fixture_markup, markup


def assert_same(html: str) -> None:
    for soup in (BeautifulSoup(html, "lxml"), clean.clean(BeautifulSoup(html, "lxml"))):
        root = soup.body if soup.body else soup
        assert clean.serialize(soup) == root.decode_contents(formatter=clean.NBSP_FORMATTER)


def test_every_fixture_is_written_as_beautifulsoup_wrote_it() -> None:
    for html in fixture_markup():
        if len(html) < 300_000:  # the saved WeChat pages (3 MB, mostly script) would take most of the suite's time
            assert_same(html)


def test_tags_made_by_the_cleaners_are_written_as_beautifulsoup_wrote_them() -> None:
    # hand-made: new tags, a void element given content, a renamed one, an empty attribute and a list
    soup = BeautifulSoup("<p>a\xa0&amp;<br><img src='x'></p><script>1<2</script>", "lxml")
    soup.p.append(soup.new_tag("a", href="u?a=1&b=\"2'"))
    soup.find("img").append("inside")
    soup.find("br").name = "hr"
    soup.p["data-flag"] = None
    soup.p["class"] = ["x", "y"]
    assert clean.serialize(soup) == soup.body.decode_contents(formatter=clean.NBSP_FORMATTER)
    assert clean.serialize(soup).startswith('<p class="x y" data-flag="">a&nbsp;&amp;<hr>')


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(markup)
def test_generated_markup_is_written_as_beautifulsoup_wrote_it(html: str) -> None:
    assert_same(html)
