"""Issue 18 item 14: the FCP7 XML validates against Apple's xmeml DTDs (v4 and v5), attributes included.

The structural check in test_timelines.py ignores attributes; this one runs a real validating
parser (libxml2 through lxml) on the written file, so an undeclared attribute such as the
adapter's ``frameBlend`` fails it.
"""

from __future__ import annotations

from pathlib import Path

import opentimelineio as otio
import pytest
from lxml import etree

from app.export.timelines import write_fcp7
from tests.app.export.test_timelines import CASES, Case, make_export

DTD_DIR = Path(__file__).resolve().parents[2] / "data" / "xmeml"


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_fcp7_xml_validates_against_the_xmeml_dtds(tmp_path: Path, case: Case) -> None:
    export = make_export(tmp_path, case)
    target = tmp_path / "cut.xml"
    write_fcp7(export.plan, export.export_dir, target)

    tree = etree.parse(str(target))
    assert tree.getroot().get("version") == "4"
    for version in ("4", "5"):
        dtd = etree.DTD(str(DTD_DIR / f"xmeml_v{version}.dtd"))
        valid = dtd.validate(tree)
        assert valid, [f"v{version} line {e.line}: {e.message}" for e in dtd.error_log]
    assert "frameBlend" not in target.read_text(encoding="utf-8")
    # Still a cut OpenTimelineIO (and so Resolve/Premiere) reads: every shot, in order.
    timeline = otio.adapters.read_from_file(str(target), adapter_name="fcp_xml")
    assert [c.name for c in timeline.find_clips()] == [s.number for s in export.plan.shots]
