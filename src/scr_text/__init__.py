"""scr-text: text mining for child safeguarding case reviews.

Read the package top-down to follow one passage from a file to the report (README, "Follow one passage"):
ingest (file -> Document) -> intake (segmented, checked by the identifier guard, stored) -> segment (->
Passage with offsets and spaCy analysis) -> embed (-> vectors, cached in the store) -> rules + features + classify
+ review_gate (-> scores) -> tagger (-> tags with evidence) -> facts, prevalence, cluster -> run and report/.
"""

__version__ = "0.1.0"
