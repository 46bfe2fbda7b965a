"""The project's documents: every relative link in the README and docs/ resolves."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def relative_links(path: Path) -> list[str]:
    text = re.sub(r"^```.*?^```", "", path.read_text(encoding="utf-8"), flags=re.M | re.S)
    return [target for target in LINK.findall(text)
            if not re.match(r"^(https?:|mailto:|#)", target)]


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(document):
    missing = [target for target in relative_links(document)
               if not (document.parent / target.split("#")[0]).exists()]
    assert not missing, f"{document.name} links to missing files: {missing}"


def test_the_checker_finds_links():
    assert "docs/design.md" in relative_links(ROOT / "README.md")


def test_nothing_cites_a_design_file_outside_the_project():
    cited = [str(path.relative_to(ROOT)) for path in [*ROOT.glob("mediation/**/*.py"),
                                                       *ROOT.glob("migrations/**/*.py")]
             if re.search(r"(?<!docs/)DESIGN\.md", path.read_text(encoding="utf-8"))]
    assert not cited
