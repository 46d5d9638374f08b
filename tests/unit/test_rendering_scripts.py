"""Names and addresses in every script the invoice prints (Latin Extended, Greek, Cyrillic, CJK): drawn
with the fallback chain (DejaVu Sans, Noto Sans, Noto Sans CJK), embedded as subsets, and read back
from the PDF exactly as the order gave them."""

import io
import re
from typing import Any

import pytest
from pypdf import PdfReader

from streams.rendering import fonts as font_module
from streams.rendering.pdf import render_invoice_pdf
from streams.rendering.text import Fonts
from tests.unit.test_rendering import document, invoice, pages_of
from tests.unit.test_rendering_pdf_checks import resources

JAPANESE_ADDRESS = {
    "street": "渋谷区神南一丁目",
    "streetNumber": "2-3",
    "zipCode": "150-0041",
    "city": "東京都",
    "country": "JP",
}


def base_fonts(pdf: bytes) -> set[str]:
    reader = PdfReader(io.BytesIO(pdf))
    return {
        re.sub(r"^/[A-Z]{6}\+", "", str(font.get_object()["/BaseFont"]))
        for page in reader.pages
        for font in resources(page)["/Font"].values()
    }


@pytest.mark.parametrize(
    ("name", "font"),
    [
        ("山田太郎", "NotoSansCJKJP-Regular"),
        ("やまだ たろう", "NotoSansCJKJP-Regular"),
        ("김철수", "NotoSansCJKKR-Regular"),
        ("Παπαδόπουλος", "DejaVuSans"),
        ("Иванов", "DejaVuSans"),
        ("Łódź Žluťoučký kůň", "DejaVuSans"),
    ],
)
def test_each_script_is_extracted_back_exactly(name: str, font: str) -> None:
    pdf = render_invoice_pdf(invoice(1, customer=name))
    [text] = pages_of(pdf)
    assert f"Billing address\n{name}\n" in text
    assert font in base_fonts(pdf)


def test_a_japanese_buyer_and_address_mixed_with_latin_on_one_line() -> None:
    customer = {"name": "山田太郎 (Taro Yamada)", "company": "株式会社ヤマダ"}
    pdf = render_invoice_pdf(document(customer=customer, billingAddress=JAPANESE_ADDRESS))
    [text] = pages_of(pdf)
    for string in ("山田太郎 (Taro Yamada)", "株式会社ヤマダ", "渋谷区神南一丁目 2-3", "150-0041 東京都"):
        assert string in text
    assert {"DejaVuSans", "DejaVuSans-Bold", "NotoSansCJKJP-Regular"} <= base_fonts(pdf)


def test_a_bold_cjk_seller_name_takes_the_bold_face() -> None:
    pdf = render_invoice_pdf(invoice(1, legal_name="山田珈琲店"))
    assert "山田珈琲店" in pages_of(pdf)[0]
    assert "NotoSansCJKJP-Bold" in base_fonts(pdf)


def test_the_fallback_subsets_hold_only_the_characters_drawn() -> None:
    [subset] = font_module.fallback_fonts(False, "山田太郎 abc")
    assert set(subset.glyphs) == {"山", "田", "太", "郎", " ", "?"}
    descriptor: Any = subset.descriptor
    assert len(descriptor["FontFile2"]["Bytes"]) < 10_000  # the collection is 20 MB a weight


def test_han_alone_takes_the_documents_language_face() -> None:
    assert font_module.fallback_fonts(False, "王", "zh-CN")[0].base_font.endswith("+NotoSansCJKSC-Regular")
    assert font_module.fallback_fonts(False, "王", "de")[0].base_font.endswith("+NotoSansCJKJP-Regular")


def test_a_latin_invoice_uses_no_fallback_and_grows_by_less_than_ten_percent() -> None:
    """The invoice with the fallback chain beside the same one drawn with DejaVu Sans alone."""
    latin = invoice(10, customer="Zażółć gęślą jaźń, Žluťoučký kůň")
    with_chain = render_invoice_pdf(latin)
    original = Fonts.__init__

    def without_fallbacks(self: Fonts, regular: Any, bold: Any, fallbacks: Any = None) -> None:
        original(self, regular, bold, {})

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Fonts, "__init__", without_fallbacks)
        dejavu_alone = render_invoice_pdf(latin)
    assert base_fonts(with_chain) == {"DejaVuSans", "DejaVuSans-Bold"}
    assert len(with_chain) < len(dejavu_alone) * 1.10


def test_a_missing_noto_font_says_what_to_install(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    monkeypatch.setattr(font_module, "NOTO_DIR", tmp_path)
    font_module._available.cache_clear()
    try:
        with pytest.raises(FileNotFoundError, match="fonts-noto-core"):
            font_module.fallback_fonts(False, "\u0b85")  # Tamil: beyond DejaVu Sans, tried in Noto Sans first
    finally:
        font_module._available.cache_clear()
