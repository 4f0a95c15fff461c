"""The identifier guard (Presidio on the project's spaCy pipeline): detection, conventions, commands."""
from __future__ import annotations

import json
import socket
import subprocess
import sys

import pytest

from scr_text.privacy.guard import IdentifierGuard, load_guard_config
from scr_text.records import Document


@pytest.fixture(scope="module")
def guard(segmenter):
    return IdentifierGuard(load_guard_config(), segmenter.nlp)


def findings(guard, segmenter, text):
    (passages,) = segmenter.transform([Document("t", "t.txt", "txt", "x", text)])
    return guard.check_passages(passages)


@pytest.mark.parametrize("kind,text,value", [
    ("PERSON", "The neighbour, Chidi Okafor, called an ambulance.", "Chidi Okafor"),
    ("PERSON", "The teacher said that Aisha seemed withdrawn.", "Aisha"),
    ("DATE_OF_BIRTH", "Child A (date of birth 12/03/2015) was placed with foster carers.", "12/03/2015"),
    ("DATE_OF_BIRTH", "Her sister, born 29 August 2009, lived with the grandmother.", "29 August 2009"),
    ("NHS_NUMBER", "The GP record (NHS number 943 476 5919) shows missed immunisations.", "943 476 5919"),
    ("UK_POSTCODE", "The refuge was outside the area, at CF10 3AT.", "CF10 3AT"),
    ("PHONE_NUMBER", "The duty team rang 0113 496 0000 but nobody answered.", "0113 496 0000"),
    ("EMAIL_ADDRESS", "The school sent the minutes to jess.t@example.co.uk by mistake.", "jess.t@example.co.uk"),
    ("STREET_ADDRESS", "Police were called to 47 Station Road after a report.", "47 Station Road"),
    ("NATIONAL_INSURANCE_NUMBER", "The letter quoted National Insurance number JG103759A.", "JG103759A"),
    # Names no list knows, found by their naming context: apposition after a role, named/called/known as, a title.
    ("PERSON", "Child C's stepmother, Briony, told the school nurse about the bruise.", "Briony"),
    ("PERSON", "Her partner, Teodor Vasile, was not known to the police.", "Teodor Vasile"),
    ("PERSON", "The children spoke often of a man named Caspian who visited at night.", "Caspian"),
    ("PERSON", "The lodger was known as Rook to the neighbours.", "Rook"),
    ("PERSON", "The health visitor wrote to Mrs Foster about the missed appointment.", "Mrs Foster"),
    # An NI number by its shape where the words say it is one, even with a prefix HMRC never allocates.
    ("NATIONAL_INSURANCE_NUMBER", "The form gave his national insurance number as QQ 12 34 56 C.", "QQ 12 34 56 C"),
    ("NATIONAL_INSURANCE_NUMBER", "Mother's NI number, FQ654321D, was on the claim.", "FQ654321D"),
])
def test_each_identifier_type_is_found_with_its_exact_span(guard, segmenter, kind, text, value):
    found = findings(guard, segmenter, text)
    start = text.index(value)
    assert [(f.type, f.start, f.end, f.text) for f in found if f.type == kind] == [(kind, start, start + len(value), value)]


@pytest.mark.parametrize("text", [
    "Child D lived with Mother and Mr X in Local Authority 1.",
    "The maternal grandmother told the Children's Guardian that she could not cope.",
    "On 3 May 2016 the health visitor saw Baby N; Mother said the baby was feeding well.",
    "[name redacted] attended the conference with Ms Y and the paternal uncle.",
    "Mum and Dad separated when Child E was two.",
    "Section 4.2 of the report covered 2015 to 2019; 2 The court then adjourned.",
    "The reference 943 476 5918 was a case number, not a health record.",  # fails the NHS check digit
    # Seen on the 66-review corpus: a numbered heading, a sentence after an initial, the statutory guidance.
    "2.2 Midwifery and health visiting. The midwife booked Mother at twelve weeks.",
    "He lived with Mother and her partner, Mr Y. Late one evening a neighbour called the police.",
    "The statutory guidance then in force, Working Together to Safeguard Children (2010), applied.",
    # Role words standing for people, numbered episodes and their abbreviations, agency names.
    "KPE 5: the Young Person told Practitioner D at the Youth Offending Service that she was scared.",
    "In Key Practice Episode 1 Foster Carer 2 and Adult B met the Supervising Social Worker.",
    "LP 2 noted that Children's Social Care, the Integrated Care Board and Women's Aid shared the plan.",
    "Guardians and Independent Reviewing Officers were told; the Named Nurse for Safeguarding attended.",
    "The child's mother, Mother, and her partner, Adult Male 2, were both interviewed.",
])
def test_redaction_conventions_and_event_dates_are_not_identifiers(guard, segmenter, text):
    assert findings(guard, segmenter, text) == []


def test_a_given_name_after_a_full_stop_is_still_found(guard, segmenter):
    """A capital after a full stop counts as the sentence's, unless the given-names list knows the word."""
    text = "The report was read by Mr Y. Aisha then spoke to the nurse."
    found = [f for f in findings(guard, segmenter, text) if f.type == "PERSON"]
    assert found and all(f.start <= text.index("Aisha") and f.end >= text.index("Aisha") + 5 for f in found)


def test_email_check_never_touches_the_network(guard, segmenter, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    found = findings(guard, segmenter, "Messages went to priya@proton.me and to e.clarke@nhs.net.")
    assert sorted(f.text for f in found if f.type == "EMAIL_ADDRESS") == ["e.clarke@nhs.net", "priya@proton.me"]


def test_redact_replaces_each_finding_with_a_typed_placeholder(guard, segmenter):
    text = "Jessica Thompson, born on 12/03/2015, lives at 14 Acacia Avenue, Leeds LS6 2AB."
    out = guard.redact(text, findings(guard, segmenter, text))
    assert out == "[PERSON], born on [DATE_OF_BIRTH], lives at [ADDRESS], Leeds [POSTCODE]."


def scr(tmp_path, *args):
    return subprocess.run([sys.executable, "-m", "scr_text", "--store", str(tmp_path / "s.sqlite"), *map(str, args)],
                          capture_output=True, text=True)


def test_check_command_exit_codes_and_json(tmp_path):
    slip = tmp_path / "slip.txt"
    slip.write_text("Child D lived with Mother.\n\nThe teacher, Jessica Thompson, rang 07911 123456 about Child D.\n")
    clean = tmp_path / "clean.txt"
    clean.write_text("Child D lived with Mother and Mr X.\n")
    res = scr(tmp_path, "check", slip, clean, "--format", "json")
    assert res.returncode == 3, res.stderr
    items = json.loads(res.stdout)
    assert all(list(i) == ["doc_id", "start", "end", "type", "text", "score"] for i in items)
    text = slip.read_text()
    assert {(i["type"], i["text"]) for i in items} == {("PERSON", "Jessica Thompson"), ("PHONE_NUMBER", "07911 123456")}
    assert all(text[i["start"]:i["end"]] == i["text"] for i in items)
    assert scr(tmp_path, "check", clean).returncode == 0
    missing = scr(tmp_path, "check", tmp_path / "nope.txt")
    assert missing.returncode == 2 and "Traceback" not in missing.stderr


def test_ingest_refuses_a_document_with_identifiers_unless_allowed(tmp_path):
    slip = tmp_path / "slip.txt"
    slip.write_text("Mother's new partner, Liam O'Connor, moved in. He gave DOB 01.09.1990.\n")
    clean = tmp_path / "clean.txt"
    clean.write_text("Child D lived with Mother and Mr X.\n")
    res = scr(tmp_path, "ingest", slip, clean)
    assert res.returncode == 1
    assert "slip.txt: has 2 possible unredacted identifier(s)" in res.stderr and "not stored" in res.stderr
    import sqlite3

    ids = [r[0] for r in sqlite3.connect(tmp_path / "s.sqlite").execute("SELECT doc_id FROM documents")]
    assert ids == ["clean"]
    assert scr(tmp_path, "ingest", "--allow-identifiers", slip).returncode == 0
    redacted = scr(tmp_path, "redact", slip, "--out", tmp_path / "red")
    assert redacted.returncode == 0
    assert (tmp_path / "red" / "slip.txt").read_text() == \
        "Mother's new partner, [PERSON], moved in. He gave DOB [DATE_OF_BIRTH].\n"


def test_a_dismissed_finding_no_longer_refuses_and_the_allow_list_says_who_and_why(tmp_path):
    slip = tmp_path / "review.txt"
    slip.write_text("Child D lived with Mother.\n\nMother went to a parenting group called Sunflower Steps.\n")
    check = scr(tmp_path, "check", slip)
    assert check.returncode == 3 and "Sunflower Steps" in check.stdout
    kind, text = check.stdout.split("\t")[1], check.stdout.strip().split("\t")[-1]
    assert scr(tmp_path, "ingest", slip).returncode == 1
    assert scr(tmp_path, "dismiss", text, "--type", "NOT_A_TYPE", "--by", "ana", "--why", "x").returncode == 2
    assert scr(tmp_path, "dismiss", text, "--type", kind, "--by", "ana", "--why", "a parenting group, not a person").returncode == 0
    listed = scr(tmp_path, "dismissals")
    assert listed.stdout.split("\t")[:4] == [kind, text, "ana", "a parenting group, not a person"]
    again = scr(tmp_path, "check", slip)
    assert again.returncode == 0 and "1 dismissed" in again.stderr
    assert scr(tmp_path, "ingest", slip).returncode == 0
    assert scr(tmp_path, "dismiss", text, "--type", kind, "--by", "ana", "--why", "x", "--undo").returncode == 0
    assert scr(tmp_path, "check", slip).returncode == 3


def test_commands_that_store_text_refuse_a_file_alike(tmp_path):
    """ingest, cluster and prevalence: the same line for the refused file, the intake summary, exit 1."""
    folder = tmp_path / "batch"
    folder.mkdir()
    (folder / "slip.txt").write_text("Mother's partner, Liam O'Connor, moved in with Child D.\n")
    lines = {}
    for command in ("ingest", "cluster", "prevalence"):
        args = [folder] if command == "ingest" else [folder, "--out", tmp_path / command]
        res = scr(tmp_path, command, *args)
        assert res.returncode == 1, (command, res.stderr)
        lines[command] = [line for line in res.stderr.splitlines() if "slip.txt" in line]
        assert "0 added" in res.stdout and "1 failed" in res.stdout
    assert lines["ingest"] == lines["cluster"] == lines["prevalence"] != []
    assert "not stored" in lines["ingest"][0] and "scr-text dismiss" in lines["ingest"][0]


def test_docx_headers_and_footers_are_read_and_checked(tmp_path):
    from docmaker import make_docx

    path = make_docx(tmp_path / "headed.docx", header="Review of Child A: confidential", footer="Prepared by Jessica Thompson")
    res = scr(tmp_path, "check", path, "--format", "json")
    assert res.returncode == 3
    assert [(i["type"], i["text"]) for i in json.loads(res.stdout)] == [("PERSON", "Jessica Thompson")]
