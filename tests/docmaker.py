"""Build real DOCX and PDF files for tests (python-docx, fpdf2, and Chromium printing a web page)."""
from __future__ import annotations

import html
from pathlib import Path

PARAGRAPHS = [
    "1. Introduction",
    "1.1 This review concerns Child A, who was admitted to hospital with serious injuries. The health visitor had "
    "seen the family twice in the preceding month and recorded no concerns about the home.",
    "1.2 Mother told the social worker that her partner, Mr X, had moved into the household in the spring. No checks "
    "were made with the police about him before the first hearing, and the safety plan did not mention him.",
    "2. Analysis",
    "2.1 The assessment concluded that the risk was low. That conclusion did not follow from the evidence the agencies "
    "held, and there was little professional curiosity about who was caring for Child A at night.",
]


def make_docx(path: Path, paragraphs=PARAGRAPHS, table_rows=None, footnotes=(), header=None, footer=None,
              endnotes=()) -> Path:
    import docx

    document = docx.Document()
    if header:
        document.sections[0].header.paragraphs[0].text = header
    if footer:
        document.sections[0].footer.paragraphs[0].text = footer
    for text in paragraphs:
        document.add_paragraph(text)
        document.add_paragraph("")  # empty paragraphs are dropped, not passages
    if table_rows:
        table = document.add_table(rows=len(table_rows), cols=len(table_rows[0]))
        for r, row in enumerate(table_rows):
            for c, cell in enumerate(row):
                table.cell(r, c).text = cell
    document.save(path)
    if footnotes:
        _add_footnotes(path, footnotes)
    if endnotes:
        _add_footnotes(path, endnotes, kind="endnote")
    return path


def _add_footnotes(path: Path, footnotes, kind: str = "footnote") -> None:
    """Add a footnotes (or endnotes) part as Word writes one (python-docx cannot): two separators, then the notes."""
    import zipfile

    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    notes = "".join(
        f'<w:{kind} w:id="{i}"><w:p><w:r><w:{kind}Ref/></w:r><w:r><w:t xml:space="preserve"> {text}</w:t></w:r></w:p>'
        f"</w:{kind}>" for i, text in enumerate(footnotes, 1))
    part = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:{kind}s xmlns:w="{w}">'
            f'<w:{kind} w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p></w:{kind}>'
            f'<w:{kind} w:type="continuationSeparator" w:id="0"><w:p><w:r><w:continuationSeparator/></w:r></w:p>'
            f"</w:{kind}>{notes}</w:{kind}s>")
    with zipfile.ZipFile(path) as z:
        entries = {name: z.read(name) for name in z.namelist()}
    entries[f"word/{kind}s.xml"] = part.encode()
    entries["word/_rels/document.xml.rels"] = entries["word/_rels/document.xml.rels"].replace(
        b"</Relationships>", f'<Relationship Id="rId{kind}s" Type="http://schemas.openxmlformats.org/officeDocument/'
        f'2006/relationships/{kind}s" Target="{kind}s.xml"/></Relationships>'.encode())
    entries["[Content_Types].xml"] = entries["[Content_Types].xml"].replace(
        b"</Types>", f'<Override PartName="/word/{kind}s.xml" ContentType="application/vnd.openxmlformats-'
        f'officedocument.wordprocessingml.{kind}s+xml"/></Types>'.encode())
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries.items():
            z.writestr(name, data)


def make_pdf(path: Path, paragraphs, header="Serious Case Review: Child A - Confidential", pages_break_every=None,
             encrypt_password=None, paragraph_space=4, even_header=None, footer=True, aes=None, font=None) -> Path:
    """``even_header``: a different running head on even pages; ``aes``: 128 or 256 to encrypt with AES
    (with ``encrypt_password`` as the user password, "" for none); ``font``: a TrueType file for the body
    text, for characters outside Latin-1 (dashes, curly quotes) that fpdf2's built-in Helvetica lacks."""
    from fpdf import FPDF

    class Review(FPDF):
        def header(self):
            if header:
                self.set_font("Helvetica", size=9)
                self.cell(0, 8, even_header if even_header and self.page_no() % 2 == 0 else header, align="C")
                self.ln(12)

        def footer(self):
            if footer:
                self.set_y(-15)
                self.set_font("Helvetica", size=9)
                self.cell(0, 10, f"Page {self.page_no()}", align="C")

    pdf = Review()
    pdf.set_auto_page_break(True, margin=20)
    if aes:
        from fpdf.enums import EncryptionMethod

        pdf.set_encryption(owner_password="owner", user_password=encrypt_password or "",
                           encryption_method=EncryptionMethod.AES_128 if aes == 128 else EncryptionMethod.AES_256)
    elif encrypt_password:
        pdf.set_encryption(owner_password="owner", user_password=encrypt_password)
    pdf.add_page()
    if font:
        pdf.add_font("Body", fname=str(font))
    pdf.set_font("Body" if font else "Helvetica", size=11)
    for i, text in enumerate(paragraphs):
        if pages_break_every and i and i % pages_break_every == 0:
            pdf.add_page()
        pdf.multi_cell(0, 6, text)  # 6 mm lines
        pdf.ln(paragraph_space)  # mm between paragraphs
    pdf.output(str(path))
    return path


def make_browser_pdf(browser, path: Path, paragraphs, css="p { margin: 0 0 8pt 0; }") -> Path:
    """The paragraphs as a web page printed to PDF by Chromium: justified serif text that, unlike fpdf2,
    breaks lines after the hyphen of a compound ("non-" | "molestation"), as word processors do."""
    body = "".join(f"<h2>{html.escape(p)}</h2>" if len(p) < 80 and not p.endswith(".")
                   else f"<p>{html.escape(p)}</p>" for p in paragraphs)
    page = browser.new_page()
    try:
        page.set_content("<html><head><meta charset='utf-8'><style>body { font: 11pt serif; text-align: justify; }"
                         f" h2 {{ font-size: 13pt; }} {css}</style></head><body>{body}</body></html>")
        page.pdf(path=str(path), format="A4", margin={"top": "2cm", "bottom": "2cm", "left": "2cm", "right": "2cm"})
    finally:
        page.close()
    return path


_W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_NUMBERED_OUTLINE = f"""<w:abstractNum xmlns:w="{_W_NS}" w:abstractNumId="90">
  <w:multiLevelType w:val="multilevel"/>
  <w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="decimal"/><w:pStyle w:val="Heading1"/>
    <w:lvlText w:val="%1."/></w:lvl>
  <w:lvl w:ilvl="1"><w:start w:val="1"/><w:numFmt w:val="decimal"/><w:lvlText w:val="%1.%2"/></w:lvl>
  <w:lvl w:ilvl="2"><w:start w:val="1"/><w:numFmt w:val="lowerLetter"/><w:lvlText w:val="(%3)"/></w:lvl>
</w:abstractNum>"""


def make_numbered_docx(path: Path, paragraphs) -> Path:
    """A review numbered the way Word numbers it: "1. Introduction" as a Heading 1 paragraph, "1.1 ..." and
    "(a) ..." as paragraphs at levels 2 and 3 of the same outline list, "• ..." in the List Bullet style, with
    the numbers in the numbering definitions (which python-docx does not apply), not in the text."""
    import re

    import docx
    from docx.oxml import parse_xml
    from docx.oxml.ns import qn

    document = docx.Document()
    numbering = document.part.numbering_part.element
    numbering.insert(0, parse_xml(_NUMBERED_OUTLINE))
    numbering.append(parse_xml(f'<w:num xmlns:w="{_W_NS}" w:numId="90"><w:abstractNumId w:val="90"/></w:num>'))
    heading = document.styles["Heading 1"].element
    heading.get_or_add_pPr().append(parse_xml(f'<w:numPr xmlns:w="{_W_NS}"><w:numId w:val="90"/></w:numPr>'))
    for text in paragraphs:
        if m := re.fullmatch(r"\d+\. (.{1,80})", text):
            document.add_paragraph(m.group(1), style="Heading 1")
        elif m := re.fullmatch(r"(?:\d+\.\d+|\([a-z]+\)) (.*)", text, re.S):  # "1.1 ..." or "(a) ..."
            p = document.add_paragraph(m.group(1))
            num_pr = p._p.get_or_add_pPr()._add_numPr()
            num_pr._add_ilvl().set(qn("w:val"), "2" if text.startswith("(") else "1")
            num_pr._add_numId().set(qn("w:val"), "90")
        elif text.startswith("• "):
            document.add_paragraph(text[2:], style="List Bullet")
        else:
            document.add_paragraph(text)
    document.save(str(path))
    return path
