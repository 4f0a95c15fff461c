"""Writes corpora/guard_set.jsonl: review-style paragraphs with planted identifiers of every type, and
clean paragraphs that use the redaction conventions (with one invalid NHS number). Re-run to regenerate."""
import json
import random

random.seed(7)
names = ["Jessica Thompson", "Liam O'Connor", "Aisha Begum", "Tomasz Nowak", "Chidi Okafor", "Emily Clarke", "Mohammed Hussain",
         "Sophie Williams", "Daniel Evans", "Priya Sharma", "Kayleigh Brown", "Jordan Smith", "Fatima Ali", "Oliver Hughes",
         "Grace Mensah", "Ryan Murphy", "Zainab Ahmed", "Connor Walsh", "Amelia Taylor", "Kacper Zielinski"]
first = ["Jessica", "Liam", "Aisha", "Tomasz", "Chidi", "Emily", "Mohammed", "Sophie", "Daniel", "Priya"]
# Valid mod-11 check digits, in the forms records use.
nhs = ["943 476 5919", "398 259 7919", "907-483-3780", "8762328603", "129 040 4798", "666 972 5108", "273 464 6862",
       "958-969-3504", "4925899139", "944 117 7156"]
postcodes = ["LS6 2AB", "M1 1AE", "B33 8TH", "CR2 6XH", "DN55 1PT", "SW1A 1AA", "EH1 1YZ", "CF10 3AT", "NE1 4ST", "BS8 1TH"]
phones = ["07911 123456", "0113 496 0000", "+44 20 7946 0958", "020 7946 0958", "07700 900123", "01632 960123",
          "0161 496 0321", "+44 7700 900456", "07123 456789", "0121 496 0555"]
emails = ["jess.t@example.co.uk", "liam.oconnor@mail.com", "aisha_b@outlook.com", "t.nowak@yahoo.co.uk", "chidi@gmail.com",
          "e.clarke@nhs.net", "mo.h@hotmail.co.uk", "sophie.w@btinternet.com", "d.evans@stmarys.leeds.sch.uk", "priya@proton.me"]
addresses = ["14 Acacia Avenue", "22 Park Road", "Flat 3, 17 Victoria Street", "8 Holly Close", "115 Church Lane",
             "3 Mill Crescent", "47 Station Road", "9A Queens Drive", "61 Orchard Way", "2 Willow Gardens"]
ninos = ["JG103759A", "AB123456C", "CE 12 34 56 D", "HT 98 76 54 B", "PR204619C", "WK 33 21 09 A", "ZA564738D",
         "LM 12 90 87 C", "SC774400B", "EH 45 67 89 A"]
dates = ["12/03/2015", "3 May 2016", "14th February 2012", "01.09.2018", "July 4, 2011", "2014-06-30", "29 August 2009",
         "5/11/2017", "21st of December 2013", "18 January 2020"]
rows = []
T = {
 "PERSON": ["The health visitor noted that {x} had not been seen since the last visit.",
            "{x} told the police that the children were frightened of their father.",
            "At the strategy meeting, the school reported that {x} was often late and hungry.",
            "The neighbour, {x}, called an ambulance after hearing shouting.",
            "Mother's new partner, {x}, moved into the household in the spring."],
 "DATE_OF_BIRTH": ["Child A (date of birth {x}) was placed with foster carers.", "The baby was born on {x} at the local hospital.",
                   "Referral form: DOB {x}; school year 4.", "Her sister, born {x}, was living with the grandmother."],
 "NHS_NUMBER": ["The GP record (NHS number {x}) shows two missed immunisations.", "The discharge letter quoted NHS no. {x} for the baby.",
                "Hospital records under {x} show an earlier attendance."],
 "UK_POSTCODE": ["The family moved to a flat near {x} in the spring.", "The refuge was outside the area, at {x}.",
                 "Police attended an address in {x} twice that month."],
 "PHONE_NUMBER": ["Mother gave the school a new mobile number, {x}, in September.", "The duty team rang {x} but nobody answered.",
                  "Father's number, {x}, was on the contact sheet."],
 "EMAIL_ADDRESS": ["The school sent the minutes to {x} by mistake.", "Mother's solicitor wrote from {x} asking for the file.",
                   "Messages were exchanged with {x} over several weeks."],
 "STREET_ADDRESS": ["The family lived at {x} until the eviction.", "Police were called to {x} after a neighbour's report.",
                    "The grandmother's home at {x} was assessed as suitable."],
 "NATIONAL_INSURANCE_NUMBER": ["The benefits letter quoted National Insurance number {x}.",
                               "Mother's NI number {x} appeared on the tenancy form.",
                               "The housing file recorded {x} against Father's claim."],
}
vals = {"PERSON": names, "DATE_OF_BIRTH": dates, "NHS_NUMBER": nhs, "UK_POSTCODE": postcodes, "PHONE_NUMBER": phones,
        "EMAIL_ADDRESS": emails, "STREET_ADDRESS": addresses, "NATIONAL_INSURANCE_NUMBER": ninos}
for kind, values in vals.items():
    for i, v in enumerate(values):
        tpl = T[kind][i % len(T[kind])]
        rows.append({"text": tpl.format(x=v), "identifiers": [{"type": kind, "text": v}]})
# First names alone
for v in first:
    rows.append({"text": f"The teacher said that {v} seemed withdrawn and did not want to go home.",
                 "identifiers": [{"type": "PERSON", "text": v}]})
# Names no list knows, found by the words around them: apposition after a role, named/called/known as, a title.
context_names = [("Child B's mother, {x}, told the health visitor she was exhausted.", "Tegan"),
                 ("The father, {x}, said he had not seen the children since June.", "Radoslaw"),
                 ("Her older brother, {x}, collected the children from school.", "Oisin"),
                 ("A man named {x} stayed at the flat most weekends.", "Lowenna Price"),
                 ("The baby's grandmother, {x}, was the only adult present.", "Ngozi"),
                 ("The children talked about a friend of Mother's called {x}.", "Kerys"),
                 ("Her partner was known as {x} to the youth workers.", "Shay"),
                 ("The school spoke to Mrs {x} about the bruising.", "Abernethy"),
                 ("Dr {x} examined Child C in the emergency department.", "Lindqvist"),
                 ("The neighbour, Mr {x}, rang the police at midnight.", "Foster")]
# NI numbers whose prefix HMRC never allocates (its example QQ among them), found by shape where the cue stands.
context_ninos = [("The benefits letter gave her national insurance number as {x}.", "QQ 12 34 56 C"),
                 ("Father's NI number {x} was written on the tenancy form.", "QQ123456A"),
                 ("The claim recorded National Insurance No. {x} against Mother.", "OO 98 76 54 B"),
                 ("His NINO, {x}, appeared in the housing file.", "BG 10 20 30 D"),
                 ("The form asked for a National Insurance number and she wrote {x}.", "GB456789C")]
for kind, cases in (("PERSON", context_names), ("NATIONAL_INSURANCE_NUMBER", context_ninos)):
    for tpl, v in cases:
        rows.append({"text": tpl.format(x=v), "identifiers": [{"type": kind, "text": v}]})
clean = [
 # role words, numbered headings and their abbreviations, agency names: redaction conventions, never identifiers
 "KPE 3: the Young Person was seen by Practitioner B at the Youth Offending Service.",
 "In Key Practice Episode 2 Foster Carer 1 told the Supervising Social Worker that Adult C had visited.",
 "LP 4 recorded that Children's Social Care, the Integrated Care Board and Women's Aid shared information.",
 "The Designated Safeguarding Lead and the Named Nurse for Safeguarding attended the Strategy Discussion.",
 "Guardians and Independent Reviewing Officers were told of the outcome; Unborn Baby D was made subject to a plan.",
 "Mother's partner, Adult Male 1, and the Young Person's Advocate were interviewed for the review.",

 "Child D lived with Mother and Mr X in a two-bedroom flat in Local Authority 1.",
 "The maternal grandmother told the Children's Guardian that she could not care for both children.",
 "On 3 May 2016 the health visitor saw Baby N at home; Mother said the baby was feeding well.",
 "Ms Y, a family friend, was caring for Child K on the night of the incident.",
 "The Family Court Adviser spoke to each parent by telephone before the first hearing.",
 "[name redacted] attended the child protection conference with the social worker.",
 "Child J. The school reported concerns about attendance in the spring term of 2017.",
 "In March 2018 Father was released on licence and Probation referred Mother to MARAC.",
 "The paternal uncle and Mr W were both present when the police arrived at 11pm.",
 "Section 4.2 of the report set out the chronology from 2015 to 2019.",
 "The GP practice, School 2 and Hospital 1 each provided a chronology for the review.",
 "Mum and Dad separated when Child E was two; Child E lived with Mum.",
 "The independent reviewer met the Designated Family Judge and the Cafcass service manager.",
 "Child S, aged 15, took an overdose two days before the final hearing in private law proceedings.",
 "Siblings A and B were placed together; Child C stayed with the paternal grandparents.",
 "The MASH received the referral on a Friday afternoon and it was not screened until Tuesday.",
 "Mr X, Mother's partner, was convicted of causing grievous bodily harm with intent in 2019.",
 "The baby was born at 34 weeks and spent ten days in the neonatal unit.",
 "The review panel met six times between January and July 2020.",
 "Child T's father applied for a child arrangements order in the summer of 2016.",
 "The police attended the home five times within a year; each call was graded standard risk.",
 "The health visitor's records for Baby H show that safe sleep advice was given at the new birth visit.",
 "The Guardian's final analysis recommended a supervision order for twelve months.",
 "At the age of nineteen Mother was admitted to a psychiatric ward during an episode of psychosis.",
 "Nobody asked Child P what it was like at home at weekends.",
 "The social worker visited on 12 occasions and saw Child R alone on four of them.",
 "Local Authority 2 held the case for eight months before transferring it to Local Authority 1.",
 "Child L's half-brother, then aged 15, was the only other person in the flat.",
 "The school nurse and the CAMHS practitioner never spoke to each other about Child S.",
 "Father told the FCA on 14 March that he had been sober for six months.",
]
for c in clean:
    rows.append({"text": c, "identifiers": []})
# Invalid check digits are not NHS numbers: a clean paragraph must not be flagged for one.
rows.append({"text": "The reference 943 476 5918 on the letter was a case number, not a health record.", "identifiers": []})
with open(__import__("pathlib").Path(__file__).parents[1] / "corpora" / "guard_set.jsonl", "w") as fh:
    for r in rows:
        fh.write(json.dumps(r, ensure_ascii=False) + "\n")
print(len(rows))
