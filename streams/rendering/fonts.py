"""DejaVu Sans (Debian's fonts-dejavu-core) with Noto fallbacks, subset and embedded as PDF composite fonts.

The font is a Type0 font over a CIDFontType2 (TrueType) descendant with Identity-H encoding, so every
character is written as its two-byte glyph id. A ToUnicode map from glyph ids back to characters lets
text extraction (pypdf, copy and paste, search) return the original text.

Subsetting DejaVu Sans takes a few hundred milliseconds, so each process builds the font objects once
and shares them between its documents: a base subset covers Latin scripts, punctuation and currency
signs; a document naming characters beyond it (Greek, Cyrillic, ...) gets a subset with those added,
kept in a small cache.

Characters DejaVu Sans lacks are drawn from a fallback chain of Noto faces (Debian's fonts-noto-core and
fonts-noto-cjk): Noto Sans, then Noto Sans CJK (the JP, KR or SC face by the document's language and the
kana or hangul it has). A fallback subset holds exactly the characters the document draws with it; the
CJK faces are CFF-based OpenType in a collection, so their subset is converted to TrueType outlines here
(a few glyphs, milliseconds) and embedded like DejaVu's. Characters no face has print as "?".
"""

import hashlib
import io
import logging
import os
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, lru_cache
from itertools import repeat
from pathlib import Path

from borb.pdf.primitives import name, stream
from fontTools import subset
from fontTools.pens.cu2quPen import Cu2QuPen
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTFont, newTable

FONT_DIR = Path(os.environ.get("INVOICE_FONT_DIR", "/usr/share/fonts/truetype/dejavu"))
FONT_FILES = {False: "DejaVuSans.ttf", True: "DejaVuSans-Bold.ttf"}
NOTO_DIR = Path("/usr/share/fonts/truetype/noto")  # fonts-noto-core
NOTO_CJK_DIR = Path("/usr/share/fonts/opentype/noto")  # fonts-noto-cjk

# Basic Latin, Latin-1, Latin Extended-A and -B, general punctuation (no-break and thin spaces, dashes,
# quotes), currency signs, and the numero and trademark signs.
BASE_CODE_POINTS = frozenset([*range(0x20, 0x7F), *range(0xA0, 0x250), *range(0x2000, 0x2070), *range(0x20A0, 0x20C1)])
REPLACEMENT = "?"
CONTROLS = frozenset([*range(0x20), *range(0x7F, 0xA0)])  # no font draws them: never a reason to look further

PdfObject = dict[str, object]


@dataclass(frozen=True)
class EmbeddedFont:
    """One subset of one face: its shared PDF objects and what the renderer needs to write with it."""

    base_font: str  # the subset's PDF name, "ABCDEF+DejaVuSans"
    descriptor: PdfObject  # the font descriptor with the embedded font program, shared by all documents
    to_unicode: stream  # glyph ids back to characters, shared by all documents
    glyphs: dict[str, str]  # character -> its glyph id as four hex digits (CID = GID: CIDToGIDMap Identity)
    advances: dict[str, int]  # character -> advance width in 1/1000 of the font size

    def width(self, text: str, size: float) -> float:
        """Width of `text` in points; characters the font lacks are measured as the "?" they print as."""
        return sum(map(self.advances.get, text, repeat(self.advances[REPLACEMENT]))) * size / 1000

    def encode(self, text: str) -> str:
        """`text` as a PDF hex string of glyph ids (without the angle brackets)."""
        glyphs, fallback = self.glyphs, self.glyphs[REPLACEMENT]
        return "".join([glyphs.get(character, fallback) for character in text])

    def resource(self, characters: Iterable[str]) -> PdfObject:
        """The Type0 font dictionary for one document that writes only `characters` with this font.

        Its width table lists just the glyphs of those characters (a viewer never asks for the others):
        borb's writer spends time on every array element, and all of the subset's glyphs would be
        some 650 elements per face.
        """
        widths = {int(self.glyphs[c], 16): self.advances[c] for c in {*characters, REPLACEMENT} if c in self.glyphs}
        descendant: PdfObject = {
            name("Type"): name("Font"),
            name("Subtype"): name("CIDFontType2"),
            name("BaseFont"): name(self.base_font),
            name("CIDSystemInfo"): {name("Registry"): "Adobe", name("Ordering"): "Identity", name("Supplement"): 0},
            name("FontDescriptor"): self.descriptor,
            name("CIDToGIDMap"): name("Identity"),
            name("DW"): self.advances[REPLACEMENT],
            name("W"): _width_array(widths),
        }
        return {
            name("Type"): name("Font"),
            name("Subtype"): name("Type0"),
            name("BaseFont"): name(self.base_font),
            name("Encoding"): name("Identity-H"),
            name("DescendantFonts"): [descendant],
            name("ToUnicode"): self.to_unicode,
        }


@dataclass(frozen=True)
class Source:
    """One installed face: a TrueType or OpenType file, or one font of a collection (.ttc)."""

    path: Path
    number: int  # the font's index in a collection, 0 for a single font
    stem: str  # its PDF name without the subset tag
    bold: bool
    package: str  # what installs it, for the error when it is missing

    def open(self, lazy: bool = False) -> TTFont:
        if not self.path.exists():
            raise FileNotFoundError(f"font {self.path} is missing: install {self.package}")
        return TTFont(self.path, fontNumber=self.number, lazy=lazy)


def _source(bold: bool) -> Source:
    path = FONT_DIR / FONT_FILES[bold]
    return Source(path, 0, path.stem, bold, "Debian's fonts-dejavu-core or set INVOICE_FONT_DIR")


# The faces of NotoSansCJK-*.ttc by index, and the languages they are drawn for: Han characters take
# different shapes in Japan, Korea and China. Kana make a text Japanese, hangul Korean; Han alone is
# drawn in the document language's face, Japanese when that is none of these.
CJK_FACES = {"ja": (0, "JP"), "ko": (1, "KR"), "zh": (2, "SC")}
KANA = frozenset(range(0x3040, 0x3100)) | frozenset(range(0x31F0, 0x3200)) | frozenset(range(0xFF66, 0xFFA0))
HANGUL = frozenset(range(0xAC00, 0xD7B0)) | frozenset(range(0x1100, 0x1200)) | frozenset(range(0x3130, 0x3190))


def _fallback_sources(bold: bool, language: str, code_points: frozenset[int]) -> tuple[Source, ...]:
    weight = "Bold" if bold else "Regular"
    cjk = "ja" if code_points & KANA else "ko" if code_points & HANGUL else language.split("-")[0].lower()
    number, region = CJK_FACES.get(cjk, CJK_FACES["ja"])
    return (
        Source(NOTO_DIR / f"NotoSans-{weight}.ttf", 0, f"NotoSans-{weight}", bold, "Debian's fonts-noto-core"),
        Source(
            NOTO_CJK_DIR / f"NotoSansCJK-{weight}.ttc",
            number,
            f"NotoSansCJK{region}-{weight}",
            bold,
            "Debian's fonts-noto-cjk",
        ),
    )


@cache
def _available(source: Source) -> frozenset[int]:
    """Every code point the full font has a glyph for."""
    return frozenset(source.open(lazy=True).getBestCmap())


def font_for(bold: bool, characters: Iterable[str]) -> EmbeddedFont:
    """The subset of the main face (DejaVu Sans) to write `characters` with: the base subset unless some lie beyond it.

    Beyond it, the subset grows by whole blocks of 128 code points (Greek, Cyrillic, ...), so that
    documents in the same script share one subset instead of making one per combination of characters.
    """
    extra = frozenset(ord(c) for c in characters) - BASE_CODE_POINTS
    if extra:
        blocks = {code // 128 * 128 for code in extra}
        extra = frozenset(code for start in blocks for code in range(start, start + 128)) & _available(_source(bold))
    return _subset(_source(bold), BASE_CODE_POINTS | extra)


def fallback_fonts(bold: bool, characters: Iterable[str], language: str = "") -> tuple[EmbeddedFont, ...]:
    """The fallback chain's subsets for the `characters` the main face lacks, in the chain's order
    (Noto Sans, then Noto Sans CJK), each holding just the characters it draws; none for Latin text."""
    main = _source(bold)
    missing = frozenset(ord(c) for c in characters) - CONTROLS - _available(main)
    if not missing:
        return ()
    result: list[EmbeddedFont] = []
    for source in _fallback_sources(bold, language, missing):
        covered = missing & _available(source)
        if covered:
            result.append(_subset(source, covered | {ord(" "), ord(REPLACEMENT)}))
            missing -= covered
    return tuple(result)


@lru_cache(maxsize=32)
def _subset(source: Source, unicodes: frozenset[int]) -> EmbeddedFont:
    # "FFTM NOT subset" and similar notes from fontTools are no news.
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    font = source.open()
    options = subset.Options(hinting=False, layout_features=[], notdef_outline=True)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=unicodes)
    subsetter.subset(font)
    if "CFF " in font:
        _to_truetype(font)
    buffer = io.BytesIO()
    font.save(buffer)
    font_file = buffer.getvalue()

    scale = 1000 / font["head"].unitsPerEm
    cmap: dict[int, str] = font.getBestCmap()
    glyph_ids = {glyph: font.getGlyphID(glyph) for glyph in font.getGlyphOrder()}
    widths = [round(font["hmtx"][glyph][0] * scale) for glyph in font.getGlyphOrder()]
    glyphs = {chr(code): f"{glyph_ids[glyph]:04X}" for code, glyph in cmap.items()}
    advances = {chr(code): widths[glyph_ids[glyph]] for code, glyph in cmap.items()}

    # A subset font's name carries a tag of six capital letters that names the subset (PDF 9.6.4).
    digest = hashlib.sha1(font_file, usedforsecurity=False).digest()
    tag = "".join(chr(ord("A") + byte % 26) for byte in digest[:6])
    base_font = f"{tag}+{source.stem}"

    head = font["head"]
    outlines = font["glyf"]
    cap_height = outlines["H"].yMax if "H" in outlines else getattr(font["OS/2"], "sCapHeight", head.yMax)
    descriptor: PdfObject = {
        name("Type"): name("FontDescriptor"),
        name("FontName"): name(base_font),
        name("Flags"): 32,  # non-symbolic: the glyphs are Latin text
        name("FontBBox"): [round(v * scale) for v in (head.xMin, head.yMin, head.xMax, head.yMax)],
        name("ItalicAngle"): 0,
        name("Ascent"): round(font["hhea"].ascent * scale),
        name("Descent"): round(font["hhea"].descent * scale),
        name("CapHeight"): round(cap_height * scale),
        name("StemV"): 140 if source.bold else 80,
        name("FontFile2"): _stream(font_file, Length1=len(font_file)),
    }
    return EmbeddedFont(base_font, descriptor, _stream(_to_unicode_cmap(glyphs)), glyphs, advances)


def _to_truetype(font: TTFont) -> None:
    """A CFF-based OpenType font turned into TrueType in place, its cubic outlines as quadratic glyf ones
    (fontTools' otf2ttf recipe): it then embeds as a CIDFontType2 like DejaVu's, glyph ids as CIDs
    (CIDToGIDMap Identity), rather than needing a second embedding (CIDFontType0 over the CID-keyed CFF)."""
    glyph_order = font.getGlyphOrder()
    glyph_set = font.getGlyphSet()
    glyf = newTable("glyf")
    glyf.glyphOrder = glyph_order
    glyf.glyphs = {}
    for glyph_name in glyph_order:
        pen = TTGlyphPen(None)
        glyph_set[glyph_name].draw(Cu2QuPen(pen, max_err=1.0, reverse_direction=True))
        glyf[glyph_name] = pen.glyph()
    for tag in ("CFF ", "VORG"):
        if tag in font:
            del font[tag]
    font["glyf"] = glyf
    font["loca"] = newTable("loca")
    maxp = newTable("maxp")
    maxp.tableVersion = 0x00010000
    maxp.numGlyphs = len(glyph_order)
    maxp.maxZones = 1
    for field in (  # no hinting; the outline counts are recalculated when the font is saved
        "maxTwilightPoints",
        "maxStorage",
        "maxFunctionDefs",
        "maxInstructionDefs",
        "maxStackElements",
        "maxSizeOfInstructions",
        "maxComponentElements",
        "maxPoints",
        "maxContours",
        "maxCompositePoints",
        "maxCompositeContours",
        "maxComponentDepth",
    ):
        setattr(maxp, field, 0)
    font["maxp"] = maxp
    font["head"].glyphDataFormat = 0
    font["head"].indexToLocFormat = 0
    post = font["post"]
    post.formatType = 3.0  # no glyph names: the PDF addresses glyphs by id
    post.extraNames = []
    post.mapping = {}
    font.sfntVersion = "\0\1\0\0"


def _stream(data: bytes, **entries: int) -> stream:
    """A FlateDecode stream compressed here, once, so that borb's writer leaves it as it is."""
    result = stream()
    result[name("Bytes")] = zlib.compress(data, 9)
    result[name("Filter")] = name("FlateDecode")
    result[name("Length")] = len(result["Bytes"])
    for key, value in entries.items():
        result[name(key)] = value
    return result


def _width_array(widths: dict[int, int]) -> list[object]:
    """The /W array for these glyph widths: consecutive glyph ids share one `first [w w ...]` entry."""
    result: list[object] = []
    run: list[int] = []
    previous = -2
    for glyph in sorted(widths):
        if glyph != previous + 1:
            run = []
            result += [glyph, run]
        run.append(widths[glyph])
        previous = glyph
    return result


def _to_unicode_cmap(glyphs: dict[str, str]) -> bytes:
    """A ToUnicode CMap from glyph ids back to characters (the first character wins a shared glyph)."""
    pairs: dict[str, str] = {}
    for character, glyph in sorted(glyphs.items()):
        pairs.setdefault(glyph, character.encode("utf-16-be").hex().upper())
    entries = sorted(pairs.items())
    blocks = []
    for start in range(0, len(entries), 100):  # at most 100 entries per bfchar block
        block = entries[start : start + 100]
        lines = "\n".join(f"<{glyph}> <{code}>" for glyph, code in block)
        blocks.append(f"{len(block)} beginbfchar\n{lines}\nendbfchar")
    return (
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
        "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
        "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n"
        + "\n".join(blocks)
        + "\nendcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n"
    ).encode("ascii")
