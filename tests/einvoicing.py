"""The official EN 16931 business rules (../shared/einvoicing/, validation 1.3.16) run with
Saxon-HE on an invoice's CII XML: the fatal failed asserts, each as "<rule id>: <text>"."""

from functools import cache
from pathlib import Path

from lxml import etree

EINVOICING = Path(__file__).resolve().parents[2] / "shared" / "einvoicing" / "en16931-cii"
SVRL = "http://purl.oclc.org/dsdl/svrl"


@cache
def _executable():
    """Compiled once per test process (about a second)."""
    from saxonche import PySaxonProcessor

    processor = PySaxonProcessor(license=False)
    compiler = processor.new_xslt30_processor()
    executable = compiler.compile_stylesheet(
        stylesheet_file=str(EINVOICING / "EN16931-CII-validation.xslt")
    )
    return processor, executable


def en16931_failures(xml: bytes) -> list[str]:
    processor, executable = _executable()
    document = processor.parse_xml(xml_text=xml.decode())
    report = executable.transform_to_string(xdm_node=document)
    root = etree.fromstring(report.encode())
    return [
        f"{failed.get('id')}: {' '.join(''.join(failed.itertext()).split())}"
        for failed in root.iter(f"{{{SVRL}}}failed-assert")
        if failed.get("flag") == "fatal"
    ]
