"""The README and the docs pages hold together: every relative link and picture path
resolves, every page is reachable from the README, the README's first screen stays a
first screen, and every generated section has exactly one home (results.PAGES)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import REPO
from gan_tf.evaluation.results import PAGES

DOCS = REPO / "docs"
# [text](target) and ![alt](target), also <img src="target">; targets without a
# scheme are relative paths, possibly with a #fragment.
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)|<img[^>]+src=\"([^\"]+)\"")
FENCE = re.compile(r"^```.*?^```", re.S | re.M)


def pages() -> list[Path]:
    return [REPO / "README.md", *sorted(DOCS.glob("*.md"))]


def relative_targets(page: Path) -> list[str]:
    text = FENCE.sub("", page.read_text())           # code blocks hold no links
    text = re.sub(r"`[^`\n]*`", "", text)             # nor does inline code
    targets = [a or b for a, b in LINK.findall(text)]
    return [t for t in targets if not re.match(r"^[a-z][a-z0-9+.-]*:", t)
            and not t.startswith("#")]


def broken_links(page_list) -> list[str]:
    """'PAGE: TARGET' for each relative link or picture of the pages that resolves to
    nothing (PAGE relative to the repository where it is inside it)."""
    broken = []
    for page in page_list:
        for target in relative_targets(page):
            path = (page.parent / target.split("#", 1)[0]).resolve()
            if not path.exists():
                where = page.relative_to(REPO) if page.is_relative_to(REPO) else page
                broken.append(f"{where}: {target}")
    return broken


def test_every_relative_link_and_picture_resolves():
    assert len(pages()) >= 10
    assert sum(len(relative_targets(p)) for p in pages()) > 30
    assert broken_links(pages()) == []


def test_a_broken_link_or_picture_is_caught(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("[ok](page.md) ![gone](missing.png) `[code](nope.md)` "
                    "[web](https://example.org) <img src=\"also-missing.png\">\n"
                    "```\n[in a block](nope.md)\n```\n")
    assert broken_links([page]) == [f"{page}: missing.png", f"{page}: also-missing.png"]


def test_every_docs_page_is_linked_from_the_readme():
    linked = {(REPO / t.split("#", 1)[0]).resolve()
              for t in relative_targets(REPO / "README.md")}
    assert [p.name for p in DOCS.glob("*.md") if p.resolve() not in linked] == []


def test_the_readme_is_a_first_screen():
    lines = (REPO / "README.md").read_text().splitlines()
    assert len(lines) <= 80, f"README.md has {len(lines)} lines; move detail into docs/"
    head = "\n".join(lines[:15])
    assert "make mnist-basic" in head and "make test" in head


@pytest.mark.parametrize("name", sorted(PAGES))
def test_each_generated_section_has_one_home(name):
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    homes = [p.name for p in pages() if start in p.read_text()]
    assert homes == [PAGES[name]]
    text = (DOCS / PAGES[name]).read_text()
    assert text.count(start) == text.count(end) == 1 and text.index(start) < text.index(end)
