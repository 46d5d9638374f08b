"""Text measured, wrapped and split into runs with the document's fonts (`fonts.py`'s subsets): a face
per weight, and for characters it lacks the fallback chain's fonts."""

from dataclasses import dataclass, field

from streams.rendering.fonts import EmbeddedFont

# The names the content streams use for the fonts; the writer makes the resources by these names.
FONT_RESOURCES = {False: "F1", True: "F2"}  # by bold


def font_resource(bold: bool, index: int) -> str:
    """The resource name of font `index` of a face's fallback chain (`Fonts.chain`): F1, F2 for the faces."""
    return FONT_RESOURCES[bold] + (f"x{index}" if index else "")


@dataclass(frozen=True)
class Style:
    size: float
    bold: bool = False
    grey: float = 0.0  # 0 is black, 1 white


@dataclass(frozen=True)
class Fonts:
    """The document's two faces (with their fallbacks), and text measured and wrapped with them."""

    regular: EmbeddedFont
    bold: EmbeddedFont
    # Per face (by bold), the fallback chain's subsets for the characters the face lacks (fonts.py);
    # none for most documents, which then take the plain path: one font per text run.
    fallbacks: dict[bool, tuple[EmbeddedFont, ...]] = field(default_factory=dict)

    def face(self, style: Style) -> EmbeddedFont:
        return self.bold if style.bold else self.regular

    def chain(self, bold: bool) -> tuple[EmbeddedFont, ...]:
        """The face and its fallbacks: index 0 is the face, `fallback_resource` names the others."""
        return (self.bold if bold else self.regular, *self.fallbacks.get(bold, ()))

    def runs(self, text: str, bold: bool) -> list[tuple[int, str]]:
        """`text` split into runs, each with the index in `chain(bold)` of the first font that has its
        characters (characters none has go with the face, which prints them as "?")."""
        chain = self.chain(bold)
        runs: list[tuple[int, str]] = []
        for character in text:
            index = next((i for i, font in enumerate(chain) if character in font.glyphs), 0)
            if runs and runs[-1][0] == index:
                runs[-1] = (index, runs[-1][1] + character)
            else:
                runs.append((index, character))
        return runs

    def width(self, text: str, style: Style) -> float:
        if not self.fallbacks.get(style.bold):
            return self.face(style).width(text, style.size)
        chain = self.chain(style.bold)
        return sum(chain[index].width(run, style.size) for index, run in self.runs(text, style.bold))

    def wrap(self, text: str, style: Style, width: float) -> list[str]:
        """`text` in lines no wider than `width`: broken at spaces, and inside words too long for a line."""
        if self.width(text, style) <= width and "\n" not in text:  # most text: measured once, no splitting
            return [text]
        lines: list[str] = []
        for paragraph in text.splitlines():
            lines += self._wrap_paragraph(paragraph, style, width)
        return lines

    def _wrap_paragraph(self, paragraph: str, style: Style, width: float) -> list[str]:
        lines: list[str] = []
        line = ""
        for word in paragraph.split(" "):
            candidate = f"{line} {word}" if line else word
            if self.width(candidate, style) <= width:
                line = candidate
                continue
            if line:
                lines.append(line)
            *pieces, line = self._break_word(word, style, width)  # the word's last piece starts the next line
            lines += pieces
        lines.append(line)
        return lines

    def _break_word(self, word: str, style: Style, width: float) -> list[str]:
        """`word` in pieces that fit `width` (but for single characters), after a hyphen or slash where it has one."""
        pieces: list[str] = []
        while len(word) > 1 and self.width(word, style) > width:
            cut = len(word) - 1
            while cut > 1 and self.width(word[:cut], style) > width:
                cut -= 1
            hyphen = max(word.rfind("-", 0, cut), word.rfind("/", 0, cut))
            if hyphen > 0:  # "COFFEE-HUILA-" rather than "COFFEE-HUI"
                cut = hyphen + 1
            pieces.append(word[:cut])
            word = word[cut:]
        pieces.append(word)
        return pieces
