"""Word's automatic paragraph numbers ("1.", "4.2", "(a)", bullets). They are not in a paragraph's runs but
worked out by Word from the numbering definitions, so python-docx's text has none: a review numbered
"4.2 The strategy meeting ..." in Word would read "The strategy meeting ...", and a reader could no longer
find "paragraph 4.2" among the passages. ``Numbering.label(p)`` gives each numbered paragraph its label, in
reading order, as Word shows it for the usual formats."""
from __future__ import annotations

import re

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _val(element, path: str, default=None):
    """The w:val of the first element at ``path`` (w: steps) under ``element``."""
    found = element.find(path.replace("w:", _W)) if element is not None else None
    return found.get(_W + "val", default) if found is not None else default


def _roman(n: int) -> str:
    out = ""
    for value, letters in ((1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"),
                           (50, "l"), (40, "xl"), (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i")):
        count, n = divmod(n, value)
        out += letters * count
    return out


def _letters(n: int) -> str:
    # Word's letter numbering repeats the letter past z: a ... z, aa ... zz, aaa ...
    return chr(ord("a") + (n - 1) % 26) * ((n - 1) // 26 + 1) if n > 0 else ""


_FORMATS = {
    "decimal": str,
    "decimalZero": lambda n: f"{n:02d}",
    "lowerLetter": _letters,
    "upperLetter": lambda n: _letters(n).upper(),
    "lowerRoman": _roman,
    "upperRoman": lambda n: _roman(n).upper(),
}


class Numbering:
    """Counters for a document's lists, advanced paragraph by paragraph: call ``label`` on every paragraph
    in reading order. A list's counters are kept per abstract definition, as Word continues a list across its
    instances unless one restarts it (``startOverride``); a deeper level restarts when a shallower one
    advances. A bullet shows as "•"; formats other than those in ``_FORMATS`` count in decimal."""

    def __init__(self, document):
        from docx.opc.constants import RELATIONSHIP_TYPE as RT
        from docx.oxml import parse_xml

        # Read from the package, not python-docx's ``numbering_part``, which adds an empty part when there is none.
        parts = [rel.target_part for rel in document.part.rels.values()
                 if rel.reltype == RT.NUMBERING and not rel.is_external]
        numbering = parse_xml(parts[0].blob) if parts else None
        self.abstract = {}  # abstractNumId -> {ilvl: w:lvl}
        self.instances = {}  # numId -> (abstractNumId, {ilvl: start override})
        if numbering is not None:
            for a in numbering.iterchildren(_W + "abstractNum"):
                self.abstract[a.get(_W + "abstractNumId")] = {lvl.get(_W + "ilvl"): lvl for lvl in a.iter(_W + "lvl")}
            for num in numbering.iterchildren(_W + "num"):
                overrides = {o.get(_W + "ilvl"): int(_val(o, "w:startOverride"))
                             for o in num.iterchildren(_W + "lvlOverride") if _val(o, "w:startOverride") is not None}
                self.instances[num.get(_W + "numId")] = (_val(num, "w:abstractNumId"), overrides)
        # Paragraph styles that number their paragraphs (Heading 1 in a numbered outline, List Number).
        self.styles = {}
        for style in document.styles.element.iterchildren(_W + "style"):
            self.styles[style.get(_W + "styleId")] = (style, _val(style, "w:basedOn"))
        self.counters: dict[str, dict[str, int]] = {}
        self.started: set[str] = set()

    def _style_num(self, style_id: str | None) -> tuple[str | None, str | None]:
        seen = set()
        while style_id in self.styles and style_id not in seen:
            seen.add(style_id)
            style, based_on = self.styles[style_id]
            num_pr = style.find(f"{_W}pPr/{_W}numPr")
            if num_pr is not None:
                return _val(num_pr, "w:numId"), _val(num_pr, "w:ilvl")
            style_id = based_on
        return None, None

    def _num(self, p) -> tuple[str | None, str | None]:
        """(numId, ilvl) of paragraph ``p``: its own numbering, else its style's. A style's numbering may leave
        the level to the list definition, which names the style on the level it numbers."""
        num_pr = p.find(f"{_W}pPr/{_W}numPr")
        style_id = _val(p, "w:pPr/w:pStyle")
        if num_pr is not None and _val(num_pr, "w:numId") is not None:
            return _val(num_pr, "w:numId"), _val(num_pr, "w:ilvl", "0")
        num_id, ilvl = self._style_num(style_id)
        ilvl = _val(num_pr, "w:ilvl", ilvl)  # a paragraph may set only the level of its style's list
        if num_id is not None and ilvl is None:
            levels = self.abstract.get(self.instances.get(num_id, (None, {}))[0], {})
            ilvl = next((k for k, lvl in levels.items() if _val(lvl, "w:pStyle") == style_id), "0")
        return num_id, ilvl

    def label(self, p) -> str:
        """The label Word shows before paragraph ``p`` ("4.2", "(b)", "•"), or "" if it is not numbered.
        Advances the list's counters, so call it once per paragraph, in reading order."""
        num_id, ilvl = self._num(p)
        if num_id in (None, "0") or num_id not in self.instances:
            return ""
        abstract_id, overrides = self.instances[num_id]
        levels = self.abstract.get(abstract_id)
        if not levels or ilvl not in levels:
            return ""
        counters = self.counters.setdefault(abstract_id, {})
        if num_id not in self.started:  # an instance that restarts the list
            self.started.add(num_id)
            for level, start in overrides.items():
                counters[level] = start - 1
        lvl = levels[ilvl]
        start = int(_val(lvl, "w:start", "1"))
        counters[ilvl] = counters.get(ilvl, start - 1) + 1
        depth = int(ilvl)
        for level in [k for k in counters if int(k) > depth]:  # deeper levels start again
            del counters[level]
        fmt = _val(lvl, "w:numFmt", "decimal")
        if fmt == "bullet":
            return "•"
        if fmt == "none":
            return ""
        legal = lvl.find(_W + "isLgl") is not None  # "legal" numbering shows every level in decimal

        def number(match: re.Match) -> str:
            level = str(int(match.group(1)) - 1)
            n = counters.get(level, int(_val(levels.get(level), "w:start", "1")))
            level_fmt = "decimal" if legal else _val(levels.get(level), "w:numFmt", "decimal")
            return _FORMATS.get(level_fmt, str)(n)

        return re.sub(r"%([1-9])", number, _val(lvl, "w:lvlText", "")).strip()
