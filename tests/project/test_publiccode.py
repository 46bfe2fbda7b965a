"""publiccode.yml: the file at the root is valid, and the validator refuses what is not."""

import copy
import importlib.util
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("publiccode_check", ROOT / ".ci" / "publiccode.py")
publiccode = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(publiccode)


@pytest.fixture(scope="module")
def document():
    return yaml.safe_load((ROOT / "publiccode.yml").read_text(encoding="utf-8"))


def test_the_file_is_valid(document):
    assert publiccode.validate(document) == []


def test_it_declares_accessibility_and_platforms(document):
    assert document["it"]["conforme"]["lineeGuidaDesign"] is True
    assert set(document["it"]["piattaforme"]) == publiccode.IT_PIATTAFORME
    assert document["localisation"]["availableLanguages"] == ["it", "en"]


@pytest.mark.parametrize(("change", "problem"), [
    (lambda d: d.pop("name"), "name: missing"),
    (lambda d: d.update(developmentStatus="finished"), "developmentStatus: 'finished'"),
    (lambda d: d.update(categories=["booking"]), "categories: 'booking'"),
    (lambda d: d["description"]["it"].update(shortDescription="x" * 151),
     "shortDescription: 151 characters"),
    (lambda d: d["description"]["en"].update(longDescription="short"), "longDescription: 5"),
    (lambda d: d["legal"].update(license="proprietary"), "legal.license"),
    (lambda d: d["localisation"].update(availableLanguages=["xx-nope"]), "BCP 47"),
    (lambda d: d["it"]["conforme"].update(accessibile=True), "it.conforme.accessibile"),
    (lambda d: d["maintenance"].update(contacts=[]), "maintenance.contacts"),
    (lambda d: d.update(releaseDate="04/12/2026"), "releaseDate"),
])
def test_the_validator_refuses_a_broken_file(document, change, problem):
    broken = copy.deepcopy(document)
    change(broken)
    problems = publiccode.validate(broken)
    assert any(problem in line for line in problems), problems
