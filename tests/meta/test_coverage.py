"""The suite checks itself: spec <-> tests <-> docs.

Each check runs on the real tree (must find nothing) and on a deliberately broken copy (must
find the breakage), so none of them can pass vacuously.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from spec.registry import SpecError, find_claim_refs, load
from tests.meta import checks

ROOT = Path(__file__).resolve().parents[2]
DOCS, TESTS = ROOT / "docs", ROOT / "tests" / "claims"
CLAIMS = load()
REFS = find_claim_refs(TESTS)


def test_spec_has_claims():
    assert CLAIMS, "spec/*.toml holds no claims"


def test_every_claim_has_a_test():
    assert checks.claims_without_tests(CLAIMS, REFS) == []


def test_every_test_cites_a_known_claim():
    assert checks.unknown_test_ids(CLAIMS, REFS) == []


def test_every_chapter_has_a_page():
    assert checks.chapters_without_pages(CLAIMS, DOCS) == []


def test_every_claim_has_a_marker_on_its_chapter_page():
    assert checks.claims_without_markers(CLAIMS, DOCS) == []


def test_every_marker_names_a_known_claim():
    assert checks.unknown_markers(CLAIMS, DOCS) == []


def test_every_code_path_resolves():
    assert checks.unresolved_code_paths(CLAIMS) == []


def test_no_catalogue_id_is_claimed_twice():
    assert checks.catalogue_claimed_twice(CLAIMS) == []


# The checks can fail: each is shown a broken input.


def test_meta_detects_a_claim_that_lost_its_test():
    cid = next(iter(CLAIMS))
    refs = [r for r in REFS if r.claim_id != cid]
    assert checks.claims_without_tests(CLAIMS, refs) == [cid]


def test_meta_detects_a_claim_with_only_a_breaking_case():
    cid = next(iter(CLAIMS))
    refs = [dataclasses.replace(r, breaks="x") if r.claim_id == cid else r for r in REFS]
    assert checks.claims_without_tests(CLAIMS, refs) == [cid]


def test_meta_detects_unknown_test_ids():
    bogus = dataclasses.replace(REFS[0], claim_id="kernels.no-such-claim")
    assert checks.unknown_test_ids(CLAIMS, [*REFS, bogus])


def test_meta_detects_a_lost_marker(tmp_path):
    for page in DOCS.glob("*.md"):
        (tmp_path / page.name).write_text(page.read_text(encoding="utf-8"), encoding="utf-8")
    cid = next(iter(CLAIMS))
    page = tmp_path / f"{CLAIMS[cid].chapter}.md"
    page.write_text(
        page.read_text(encoding="utf-8").replace(f"<!-- claim: {cid} -->", ""), encoding="utf-8"
    )
    assert checks.claims_without_markers(CLAIMS, tmp_path) == [cid]
    page.unlink()
    assert CLAIMS[cid].chapter in checks.chapters_without_pages(CLAIMS, tmp_path)


def test_meta_detects_unresolved_code_and_double_catalogue():
    c = next(iter(CLAIMS.values()))
    broken = {
        "a": dataclasses.replace(
            c, id="a", code=("dlcore.linear.no_such_name", "no_such_module.x")
        ),
        "b": dataclasses.replace(c, id="b"),
    }
    assert len(checks.unresolved_code_paths(broken)) == 2
    assert checks.catalogue_claimed_twice(broken) == list(c.catalogue)


def test_registry_rejects_malformed_spec(tmp_path):
    (tmp_path / "kernels.toml").write_text(
        '[[claim]]\nid = "ridge.wrong-chapter"\ntitle = "t"\nkind = "identity"\n'
        'priority = "core"\nstatement = "s"\nsource = "l"\n',
        encoding="utf-8",
    )
    with pytest.raises(SpecError, match="must look like"):
        load(tmp_path)


def test_claim_decorator_rejects_unknown_ids():
    from tests.support.claims import claim

    with pytest.raises(LookupError, match="no such claim"):
        claim("kernels.no-such-claim")


def test_meta_unknown_catalogue_ids_finds_an_unknown_id():
    # tools/audit.py --catalogue DIR runs this check against the extraction catalogue, which is
    # not part of the repository; here it is shown a catalogue that lacks one id, and all of them.
    ids = {cat for c in CLAIMS.values() for cat in c.catalogue}
    assert checks.unknown_catalogue_ids(CLAIMS, ids) == []
    missing = sorted(ids)[0]
    assert any(
        p.endswith(f": {missing}") for p in checks.unknown_catalogue_ids(CLAIMS, ids - {missing})
    )
