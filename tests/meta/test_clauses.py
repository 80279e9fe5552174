"""Every clause of every statement is asserted by a test; the lecture's voice stays apart.

A statement marks each mathematical assertion (an equality, a bound, a rate, a step count, a
condition number, an ordering) as a clause, `⟨a⟩`, `⟨b⟩`, ...; a test asserts it inside
`with clause("a"):`. These checks read both by parsing, on the real tree (must find nothing) and
on deliberately broken inputs (must find the breakage).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from spec.registry import ClauseCheck, SpecError, find_claim_refs, load
from tests.meta import checks

ROOT = Path(__file__).resolve().parents[2]
CLAIMS = load()
REFS = find_claim_refs(ROOT / "tests" / "claims")


def test_every_property_claim_marks_its_clauses():
    assert checks.claims_without_clauses(CLAIMS) == []


def test_illustrated_remarks_assert_nothing():
    assert checks.illustrations_with_clauses(CLAIMS) == []


def test_every_clause_is_asserted_by_a_test():
    assert checks.untested_clauses(CLAIMS, REFS) == []


def test_every_clause_block_names_a_clause_of_its_claim():
    assert checks.unknown_clause_labels(CLAIMS, REFS) == []


def test_every_clause_block_asserts_something():
    assert checks.clause_blocks_without_assertion(REFS) == []


def test_statements_do_not_speak_for_the_lecture():
    assert checks.statements_in_lecture_voice(CLAIMS) == []


def test_every_erratum_quotes_the_lines_it_corrects():
    assert checks.errata_without_quotes(CLAIMS) == []


def test_every_claim_says_what_the_lecture_says():
    assert checks.claims_without_lecture(CLAIMS) == []


# The checks can fail: each is shown a broken input.


def _a_tested_claim():
    """A claim with several clauses, every one of them asserted by a test."""
    return next(
        c
        for c in CLAIMS.values()
        if len(c.clauses) >= 2 and not checks.untested_clauses({c.id: c}, REFS)
    )


def test_meta_detects_an_untested_clause():
    c = _a_tested_claim()
    last = sorted(c.clauses)[-1]
    refs = [
        dataclasses.replace(
            r,
            clause_checks=tuple(
                dataclasses.replace(k, labels=tuple(x for x in k.labels if x != last))
                for k in r.clause_checks
            ),
        )
        if r.claim_id == c.id
        else r
        for r in REFS
    ]
    assert [p.split(":")[0] for p in checks.untested_clauses({c.id: c}, refs)] == [
        f"{c.id} ⟨{last}⟩"
    ]


def test_meta_detects_a_clause_checked_only_by_a_breaking_case():
    c = _a_tested_claim()
    refs = [dataclasses.replace(r, breaks="x") if r.claim_id == c.id else r for r in REFS]
    assert len(checks.untested_clauses({c.id: c}, refs)) == len(c.clauses)


def test_meta_detects_a_clause_block_without_assertion_and_an_unknown_label():
    r = next(r for r in REFS if r.clause_checks)
    broken = dataclasses.replace(r, clause_checks=(ClauseCheck(("z",), 1, False),))
    assert checks.clause_blocks_without_assertion([broken])
    assert checks.unknown_clause_labels(CLAIMS, [broken])
    assert broken.clauses == set()  # a block that asserts nothing checks no clause


def test_meta_detects_the_lecture_voice_in_a_statement_and_a_missing_paraphrase():
    c = dataclasses.replace(next(iter(CLAIMS.values())), statement="⟨a⟩ $x = 1$.")
    broken = {
        "a": dataclasses.replace(c, id="a", statement=c.statement + " The lecture says so."),
        "b": dataclasses.replace(c, id="b", statement='It is "a good default".'),
        "c": dataclasses.replace(c, id="c", lecture=None),
        "d": dataclasses.replace(c, id="d", lecture="It says so, somewhere."),
    }
    assert [p.split(":")[0] for p in checks.statements_in_lecture_voice(broken)] == ["a", "b"]
    assert checks.claims_without_lecture(broken) == ["c", "d"]
    errata = {
        "e": dataclasses.replace(c, id="e", erratum="The lecture is wrong; in fact x."),
        "f": dataclasses.replace(c, id="f", erratum='It says "y" (line 12); in fact x.'),
    }
    assert checks.errata_without_quotes(errata) == ["e"]


def test_meta_detects_an_illustration_that_asserts():
    c = next(c for c in CLAIMS.values() if c.check == "illustration")
    broken = {"x": dataclasses.replace(c, statement="⟨a⟩ $1 + 1 = 2$.")}
    assert checks.illustrations_with_clauses(broken) == ["x"]
    assert checks.claims_without_clauses(
        {"y": dataclasses.replace(broken["x"], kind="identity", statement="s")}
    ) == ["y"]


@pytest.mark.parametrize(
    ("statement", "added", "match"),
    [
        ("⟨b⟩ x ⟨a⟩ y", "[]", "must be"),
        ("⟨a⟩ x ⟨a⟩ y", "[]", "must be"),
        ("⟨a⟩ x ⟨b⟩ y", '["c"]', "names no clause"),
    ],
)
def test_registry_rejects_malformed_clauses(tmp_path, statement, added, match):
    (tmp_path / "kernels.toml").write_text(
        f'[[claim]]\nid = "kernels.x"\ntitle = "t"\nkind = "identity"\npriority = "core"\n'
        f'statement = "{statement}"\nsource = "l"\nadded = {added}\n',
        encoding="utf-8",
    )
    with pytest.raises(SpecError, match=match):
        load(tmp_path)


def test_clause_text_runs_to_the_next_marker():
    (c,) = [
        dataclasses.replace(next(iter(CLAIMS.values())), statement="Pre. ⟨a⟩ $x = 1$; ⟨b⟩ y  z.")
    ]
    assert c.clauses == {"a": "$x = 1$;", "b": "y z."}


def test_a_failing_clause_block_names_its_clause():
    from tests.support import claims as support

    c = _a_tested_claim()
    support.begin_test(c.id)
    with pytest.raises(AssertionError) as info, support.clause("a"):
        raise AssertionError("boom")
    assert any(f"clause ⟨a⟩ of {c.id}" in note for note in info.value.__notes__)
    with support.clause("a", "b"):
        pass
    assert support.clauses_ran() == ["a", "b"]
    with pytest.raises(LookupError, match="has clauses"), support.clause("zz"):
        pass
    support.begin_test(None)


def test_the_report_names_a_clause_block_that_never_completed():
    from tests.support.report import clauses_never_ran

    c = _a_tested_claim()
    labels = sorted(c.clauses)
    rec = {"claim": c.id, "breaks": None, "outcome": "passed", "clauses": labels[:-1]}
    assert clauses_never_ran([rec]) == [f"{c.id} ⟨{labels[-1]}⟩"]
    assert clauses_never_ran([{**rec, "clauses": labels}]) == []
    assert clauses_never_ran([{**rec, "outcome": "failed"}]) == []  # a failure speaks for itself


def test_registry_rejects_an_illustration_that_is_not_a_remark(tmp_path):
    (tmp_path / "kernels.toml").write_text(
        '[[claim]]\nid = "kernels.x"\ntitle = "t"\nkind = "illustration"\npriority = "core"\n'
        'statement = "s"\nsource = "l"\n',
        encoding="utf-8",
    )
    with pytest.raises(SpecError, match="only remarks"):
        load(tmp_path)
