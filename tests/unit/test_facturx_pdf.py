"""streams/rendering/facturx.py read back with pikepdf and pypdf: the embedded factur-x.xml and how it is
attached, the output intent, the XMP, embedded fonts, and the invoice itself unchanged. (veraPDF and
Mustang judge the same files in tests/validators.)"""

import io
import warnings
from datetime import UTC, datetime

import pikepdf
import pytest
from lxml import etree
from pypdf import PdfReader

from invoicing.einvoice import EInvoiceFormat, FacturXProfile, einvoice_xml
from streams.rendering.facturx import facturx_pdf
from streams.rendering.pdf import render_invoice_pdf
from tests.einvoice_cases import SETTINGS, cases

MOMENT = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
[CASE] = [case for case in cases() if case.name == "unicode-names"]
XMP = {
    "pdfaid": "http://www.aiim.org/pdfa/ns/id/",
    "fx": "urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#",
    "dc": "http://purl.org/dc/elements/1.1/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
}


@pytest.fixture(scope="module")
def rendered() -> bytes:
    return render_invoice_pdf(CASE.document)


@pytest.fixture(scope="module")
def xml() -> bytes:
    return einvoice_xml(CASE.document, SETTINGS, EInvoiceFormat.FACTURX, CASE.facts)


@pytest.fixture(scope="module")
def facturx(rendered: bytes, xml: bytes) -> bytes:
    return facturx_pdf(rendered, xml, moment=MOMENT)


def test_xml_embedded_as_factur_x_xml_with_relationship_alternative(facturx: bytes, xml: bytes) -> None:
    with pikepdf.open(io.BytesIO(facturx)) as pdf:
        spec = pdf.attachments["factur-x.xml"]
        assert spec.get_file().read_bytes() == xml
        filespec = pikepdf.NameTree(pdf.Root.Names.EmbeddedFiles)["factur-x.xml"]
        assert filespec.AFRelationship == pikepdf.Name.Alternative
        assert filespec.UF == "factur-x.xml" and filespec.F == "factur-x.xml"
        assert [entry.objgen for entry in pdf.Root.AF] == [filespec.objgen], "the catalog's /AF lists it"
        stream = filespec.EF.F
        assert stream.Subtype == pikepdf.Name("/text/xml")
        assert stream.Params.Size == len(xml)
        assert str(stream.Params.ModDate) == "D:20261125093000+00'00'"


def test_srgb_output_intent(facturx: bytes) -> None:
    with pikepdf.open(io.BytesIO(facturx)) as pdf:
        [intent] = pdf.Root.OutputIntents
        assert intent.S == pikepdf.Name.GTS_PDFA1
        profile = intent.DestOutputProfile.read_bytes()
        assert intent.DestOutputProfile.N == 3
        assert profile[36:40] == b"acsp" and profile[16:20] == b"RGB ", "an RGB ICC profile"


@pytest.mark.parametrize(
    ("profile", "level"), [(FacturXProfile.EN16931, "EN 16931"), (FacturXProfile.XRECHNUNG, "XRECHNUNG")]
)
def test_xmp_declares_pdfa_3b_and_factur_x(rendered: bytes, xml: bytes, profile: FacturXProfile, level: str) -> None:
    with pikepdf.open(io.BytesIO(facturx_pdf(rendered, xml, profile=profile, moment=MOMENT))) as pdf:
        xmp = etree.fromstring(pdf.Root.Metadata.read_bytes())
        info = pdf.docinfo

        def value(path: str) -> str:
            [found] = xmp.xpath(f"//{path}/text()", namespaces=XMP)
            return str(found)

        assert (value("pdfaid:part"), value("pdfaid:conformance")) == ("3", "B")
        assert value("fx:DocumentType") == "INVOICE"
        assert value("fx:DocumentFileName") == "factur-x.xml"
        assert value("fx:Version") == "1.0"
        assert value("fx:ConformanceLevel") == level
        assert value("dc:title/rdf:Alt/rdf:li") == str(info.Title) == "Invoice INV-000042"
        assert value("dc:creator/rdf:Seq/rdf:li") == str(info.Author) == "Ørsted & Müller GmbH"
        assert str(info.CreationDate) == str(info.ModDate) == "D:20261125093000+00'00'"


def test_every_font_is_embedded(facturx: bytes) -> None:
    with pikepdf.open(io.BytesIO(facturx)) as pdf:
        fonts = [font for page in pdf.pages for font in page.Resources.Font.values()]
        assert fonts
        for font in fonts:
            descriptors = [descendant.FontDescriptor for descendant in font.get("/DescendantFonts", [])]
            descriptors += [font.FontDescriptor] if "/FontDescriptor" in font else []
            assert descriptors, f"{font.BaseFont} has no font descriptor"
            assert all(
                any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3"))
                for descriptor in descriptors
            ), f"{font.BaseFont} is not embedded"


def test_invoice_pages_and_text_unchanged(rendered: bytes, facturx: bytes) -> None:
    before = [page.extract_text() for page in PdfReader(io.BytesIO(rendered)).pages]
    after = [page.extract_text() for page in PdfReader(io.BytesIO(facturx)).pages]
    assert after == before


def test_same_input_same_bytes(rendered: bytes, xml: bytes, facturx: bytes) -> None:
    assert facturx_pdf(rendered, xml, moment=MOMENT) == facturx


def test_an_incremental_update_that_readers_take_without_a_warning(rendered: bytes, facturx: bytes) -> None:
    assert facturx.startswith(rendered), "the rendered PDF is kept byte for byte"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        reader = PdfReader(io.BytesIO(facturx), strict=True)
        assert list(reader.attachments) == ["factur-x.xml"]
    with pikepdf.open(io.BytesIO(rendered)) as before, pikepdf.open(io.BytesIO(facturx)) as after:
        assert bytes(after.trailer.ID[0]) == bytes(before.trailer.ID[0]), "the first file identifier stays"
        assert bytes(after.trailer.ID[1]) != bytes(before.trailer.ID[1])
    with pikepdf.open(io.BytesIO(facturx)) as pdf:
        assert pdf.check_pdf_syntax() == []
