"""docs/reliability.md's table lists exactly the suite's cases, as tests/faults/table.py renders them."""

from __future__ import annotations

import re

from tests.conftest import ROOT
from tests.faults.blast import BLAST_CASES
from tests.faults.cases import CASES
from tests.faults.table import BEGIN, BLAST_BEGIN, BLAST_END, END, blast_table, table

DOC = ROOT / "docs" / "reliability.md"


def test_the_doc_lists_exactly_the_suites_cases() -> None:
    text = DOC.read_text()
    listed = re.findall(r"^\| `([a-z0-9-]+)` \|", text, flags=re.MULTILINE)
    assert listed == [case.id for case in CASES] + [case.id for case in BLAST_CASES]


def test_the_doc_table_is_the_generated_one() -> None:
    text = DOC.read_text()
    assert text[text.index(BEGIN) : text.index(END) + len(END)] == table(), (
        "regenerate it: python -m tests.faults.table"
    )


def test_the_doc_blast_radius_table_is_the_generated_one() -> None:
    text = DOC.read_text()
    assert text[text.index(BLAST_BEGIN) : text.index(BLAST_END) + len(BLAST_END)] == blast_table(), (
        "regenerate it: python -m tests.faults.table"
    )
