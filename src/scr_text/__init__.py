"""scr-text: text mining for child safeguarding case reviews.

Read the package top-down to follow one passage from a file to the report:
ingest (files -> Document) -> segment (-> Passage with offsets and spaCy analysis)
-> embed (-> vectors, cached) -> store (SQLite) -> run (the main job, report).
"""

__version__ = "0.1.0"
