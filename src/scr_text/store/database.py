"""The project store: one SQLite file for documents, passages, analyses, embeddings, tags,
coder annotations and runs. Versioned schema with forward migrations; every write is one
transaction, so a killed process leaves the store as it was before that write."""
from __future__ import annotations

import json
import re
import sqlite3
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from scr_text.errors import DuplicateDocument, UserError
from scr_text.hashing import text_key
from scr_text.records import Document, Passage, TagTable

# Each entry moves the schema one version up. Append only; never edit a released step.
MIGRATIONS: list[str] = [
    # 1: the foundation
    """
    CREATE TABLE documents (
        doc_id TEXT PRIMARY KEY,
        sha256 TEXT NOT NULL UNIQUE,
        source_path TEXT NOT NULL,
        format TEXT NOT NULL,
        pages INTEGER NOT NULL,
        text TEXT NOT NULL,
        analysis BLOB,
        analysis_model TEXT,
        ingested_at TEXT NOT NULL
    );
    CREATE TABLE passages (
        doc_id TEXT NOT NULL REFERENCES documents(doc_id) ON DELETE CASCADE,
        idx INTEGER NOT NULL,
        start INTEGER NOT NULL,
        end INTEGER NOT NULL,
        text TEXT NOT NULL,
        text_sha TEXT NOT NULL,
        PRIMARY KEY (doc_id, idx)
    );
    CREATE TABLE embeddings (
        model TEXT NOT NULL,
        text_sha TEXT NOT NULL,
        vector BLOB NOT NULL,
        PRIMARY KEY (model, text_sha)
    );
    CREATE TABLE runs (
        run_id INTEGER PRIMARY KEY AUTOINCREMENT,
        command TEXT NOT NULL,
        params TEXT NOT NULL,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        status TEXT NOT NULL
    );
    CREATE TABLE tags (
        model TEXT NOT NULL,
        doc_id TEXT NOT NULL,
        passage INTEGER NOT NULL,
        code TEXT NOT NULL,
        score REAL NOT NULL,
        decided INTEGER NOT NULL,
        evidence TEXT NOT NULL,
        run_id INTEGER REFERENCES runs(run_id),
        PRIMARY KEY (model, doc_id, passage, code),
        FOREIGN KEY (doc_id, passage) REFERENCES passages(doc_id, idx) ON DELETE CASCADE
    );
    CREATE TABLE codings (
        coder TEXT NOT NULL,
        doc_id TEXT NOT NULL,
        passage INTEGER NOT NULL,
        codes TEXT NOT NULL,
        source TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (coder, doc_id, passage),
        FOREIGN KEY (doc_id, passage) REFERENCES passages(doc_id, idx) ON DELETE CASCADE
    );
    """,
    # 2: case facts per review, cached by the model and facts-settings key that produced them
    """
    CREATE TABLE facts (
        key TEXT NOT NULL,
        doc_id TEXT NOT NULL REFERENCES documents(doc_id) ON DELETE CASCADE,
        row TEXT NOT NULL,
        evidence TEXT NOT NULL,
        PRIMARY KEY (key, doc_id)
    );
    """,
    # 3: outputs of whole-corpus stages (clusters), cached by a hash of everything they depend on
    """
    CREATE TABLE artifacts (
        key TEXT NOT NULL,
        name TEXT NOT NULL,
        data BLOB NOT NULL,
        PRIMARY KEY (key, name)
    );
    """,
    # 4: an analyst's decisions on the model's suggestions, and corrections of case facts (web app)
    """
    CREATE TABLE decisions (
        coder TEXT NOT NULL,
        doc_id TEXT NOT NULL,
        passage INTEGER NOT NULL,
        code TEXT NOT NULL,
        decision TEXT NOT NULL,
        decided_at TEXT NOT NULL,
        PRIMARY KEY (coder, doc_id, passage, code),
        FOREIGN KEY (doc_id, passage) REFERENCES passages(doc_id, idx) ON DELETE CASCADE
    );
    CREATE TABLE fact_corrections (
        coder TEXT NOT NULL,
        doc_id TEXT NOT NULL REFERENCES documents(doc_id) ON DELETE CASCADE,
        fact TEXT NOT NULL,
        value TEXT NOT NULL,
        corrected_at TEXT NOT NULL,
        PRIMARY KEY (coder, doc_id, fact)
    );
    """,
    # 5: identifier-guard findings a user dismissed for this project (an allow-list: who, why, when)
    """
    CREATE TABLE guard_dismissals (
        type TEXT NOT NULL,
        text TEXT NOT NULL,
        coder TEXT NOT NULL,
        reason TEXT NOT NULL,
        dismissed_at TEXT NOT NULL,
        PRIMARY KEY (type, text)
    );
    """,
    # 6: the coders of this project, chosen in the web app rather than typed at each decision; passages found
    # by their text (reviews stored twice); a coder's memo on a passage
    """
    CREATE INDEX passages_text_sha ON passages(text_sha);
    CREATE TABLE memos (
        coder TEXT NOT NULL,
        doc_id TEXT NOT NULL,
        passage INTEGER NOT NULL,
        text TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (coder, doc_id, passage),
        FOREIGN KEY (doc_id, passage) REFERENCES passages(doc_id, idx) ON DELETE CASCADE
    );
    CREATE TABLE coder_names (
        name TEXT PRIMARY KEY,
        added_at TEXT NOT NULL
    );
    INSERT OR IGNORE INTO coder_names SELECT DISTINCT coder, datetime('now') FROM codings;
    """,
]
SCHEMA_VERSION = len(MIGRATIONS)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class Store:
    def __init__(self, path: str | Path, busy_timeout_s: float = 30):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.conn = self._connect_wal(busy_timeout_s)
        except sqlite3.DatabaseError as exc:
            if "locked" in str(exc):
                raise self._busy() from exc
            raise UserError(f"{self.path}: not a scr-text store ({exc})") from exc
        self.conn.execute(f"PRAGMA busy_timeout={int(busy_timeout_s * 1000)}")
        self.conn.execute("PRAGMA foreign_keys=ON")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.migrate()

    def _connect_wal(self, busy_timeout_s: float) -> sqlite3.Connection:
        """A connection in WAL mode. Two processes opening a new store at once both try to switch it to
        WAL, and SQLite answers one of them "locked" at once instead of waiting (its busy handler is not
        called where waiting could deadlock), so the switch is retried until the busy timeout."""
        deadline = time.monotonic() + busy_timeout_s
        while True:
            conn = sqlite3.connect(self.path, timeout=busy_timeout_s, isolation_level=None)
            try:
                conn.execute("PRAGMA journal_mode=WAL")
                return conn
            except sqlite3.OperationalError as exc:
                conn.close()
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
            except BaseException:
                conn.close()
                raise

    def _busy(self) -> UserError:
        return UserError(f"{self.path}: the store is busy with another process; try again")

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE takes the write lock up front, so two writers queue instead of deadlocking."""
        for attempt in range(5):
            try:
                self.conn.execute("BEGIN IMMEDIATE")
                break
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or attempt == 4:
                    raise self._busy() from exc
                time.sleep(0.5 * (attempt + 1))
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        else:
            self.conn.execute("COMMIT")

    # -- schema ------------------------------------------------------------------
    @property
    def version(self) -> int:
        return self.conn.execute("PRAGMA user_version").fetchone()[0]

    def migrate(self) -> None:
        if self.version > SCHEMA_VERSION:
            raise UserError(
                f"{self.path}: store schema v{self.version} is newer than this scr-text (v{SCHEMA_VERSION}); upgrade scr-text"
            )
        while self.version < SCHEMA_VERSION:
            with self.transaction() as conn:
                # Read under the write lock: another process may have migrated since the check above.
                current = conn.execute("PRAGMA user_version").fetchone()[0]
                if current >= SCHEMA_VERSION:
                    break
                for statement in MIGRATIONS[current].split(";"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute(f"PRAGMA user_version={current + 1}")

    # -- documents and passages ---------------------------------------------------
    def find_by_sha(self, sha256: str) -> str | None:
        row = self.conn.execute("SELECT doc_id FROM documents WHERE sha256=?", (sha256,)).fetchone()
        return row[0] if row else None

    def claim_doc_id(self, document: Document) -> str:
        """The id a new document gets: its own, unless another source already holds it."""
        base, n, doc_id = document.doc_id, 1, document.doc_id
        while True:
            row = self.conn.execute("SELECT source_path FROM documents WHERE doc_id=?", (doc_id,)).fetchone()
            if row is None or row[0] == document.source_path:
                return doc_id
            n += 1
            doc_id = f"{base}-{n}"

    def add_document(self, document: Document, passages: Sequence[Passage], analysis: bytes | None, analysis_model: str | None) -> str:
        """Store a document and its passages in one transaction.

        Returns "added", "replaced" (the same source path with new content) or "unchanged".
        Raises DuplicateDocument when the same content is stored under another id.
        """
        with self.transaction() as conn:
            existing = self.find_by_sha(document.sha256)
            if existing == document.doc_id:
                return "unchanged"
            if existing is not None:
                raise DuplicateDocument(document.source_path, existing)
            replaced = conn.execute("DELETE FROM documents WHERE doc_id=?", (document.doc_id,)).rowcount > 0
            conn.execute(
                "INSERT INTO documents VALUES (?,?,?,?,?,?,?,?,?)",
                (document.doc_id, document.sha256, document.source_path, document.format, document.pages,
                 document.text, analysis, analysis_model, _now()),
            )
            conn.executemany(
                "INSERT INTO passages VALUES (?,?,?,?,?,?)",
                [(p.doc_id, p.index, p.start, p.end, p.text, text_key(p.text)) for p in passages],
            )
        return "replaced" if replaced else "added"

    def find_by_text(self, text: str) -> str | None:
        row = self.conn.execute("SELECT doc_id FROM documents WHERE text=? ORDER BY doc_id", (text,)).fetchone()
        return row[0] if row else None

    def remove_documents(self, doc_ids: Sequence[str]) -> None:
        """Remove reviews with everything kept about them: the schema's ON DELETE CASCADE takes their passages,
        and the passages their tags, codings, decisions and memos; facts and fact corrections go with the review."""
        with self.transaction() as conn:
            conn.executemany("DELETE FROM documents WHERE doc_id=?", [(d,) for d in doc_ids])

    _DOC_TABLES = ("passages", "tags", "codings", "decisions", "fact_corrections", "facts", "memos")

    def rename_document(self, old: str, new: str) -> None:
        """Give a review another id, with everything kept about it."""
        if not new.strip() or new != new.strip() or len(new) > 120 or re.search(r"[/\\\x00-\x1f]", new):
            raise UserError(f"'{new}' cannot be a review id (1 to 120 characters, no slashes or control characters)")
        with self.transaction() as conn:
            if conn.execute("SELECT 1 FROM documents WHERE doc_id=?", (new,)).fetchone():
                raise UserError(f"a review called '{new}' is already stored")
            conn.execute("PRAGMA defer_foreign_keys=ON")  # the children follow within this transaction
            if conn.execute("UPDATE documents SET doc_id=? WHERE doc_id=?", (new, old)).rowcount == 0:
                raise UserError(f"no review called '{old}'")
            for table in self._DOC_TABLES:
                conn.execute(f"UPDATE {table} SET doc_id=? WHERE doc_id=?", (new, old))

    def similar_reviews(self, doc_id: str, min_share: float) -> list[tuple[str, float]]:
        """Other stored reviews holding at least ``min_share`` of this review's passages word for word (the
        same review uploaded again in another format, say), most alike first."""
        n = self.conn.execute("SELECT COUNT(*) FROM passages WHERE doc_id=?", (doc_id,)).fetchone()[0]
        if not n:
            return []
        rows = self.conn.execute(
            "SELECT b.doc_id, COUNT(DISTINCT a.idx) FROM passages a JOIN passages b ON b.text_sha = a.text_sha "
            "AND b.doc_id != a.doc_id WHERE a.doc_id=? GROUP BY b.doc_id", (doc_id,)).fetchall()
        return sorted(((d, k / n) for d, k in rows if k / n >= min_share), key=lambda x: -x[1])

    def search_passages(self, query: str, limit: int) -> list[tuple[str, int, str]]:
        """(doc_id, passage, text) of passages containing ``query`` (case ignored for ASCII letters)."""
        pattern = "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        return self.conn.execute("SELECT doc_id, idx, text FROM passages WHERE text LIKE ? ESCAPE '\\' "
                                 "ORDER BY doc_id, idx LIMIT ?", (pattern, limit)).fetchall()

    def doc_ids(self) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT doc_id FROM documents ORDER BY doc_id")]

    def document(self, doc_id: str) -> Document:
        row = self.conn.execute(
            "SELECT doc_id, source_path, format, sha256, text, pages FROM documents WHERE doc_id=?", (doc_id,)
        ).fetchone()
        if row is None:
            raise UserError(f"no document '{doc_id}' in {self.path}")
        return Document(*row)

    def passages(self, doc_id: str | None = None) -> list[Passage]:
        sql = "SELECT doc_id, idx, start, end, text FROM passages"
        args: tuple = ()
        if doc_id is not None:
            sql += " WHERE doc_id=?"
            args = (doc_id,)
        return [Passage(*row) for row in self.conn.execute(sql + " ORDER BY doc_id, idx", args)]

    def analysis(self, doc_id: str) -> tuple[bytes | None, str | None]:
        row = self.conn.execute("SELECT analysis, analysis_model FROM documents WHERE doc_id=?", (doc_id,)).fetchone()
        return (row[0], row[1]) if row else (None, None)

    def counts(self) -> dict[str, int]:
        tables = ("documents", "passages", "embeddings", "tags", "codings", "runs", "facts", "artifacts")
        return {t: self.conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in tables}

    # -- embedding cache (see embed.EmbeddingCache) ---------------------------------
    def get_embeddings(self, model_id: str, keys: Sequence[str]) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        unique = list(dict.fromkeys(keys))
        for i in range(0, len(unique), 500):
            chunk = unique[i : i + 500]
            rows = self.conn.execute(
                f"SELECT text_sha, vector FROM embeddings WHERE model=? AND text_sha IN ({','.join('?' * len(chunk))})",
                (model_id, *chunk),
            )
            out.update({k: np.frombuffer(v, dtype=np.float32) for k, v in rows})
        return out

    def put_embeddings(self, model_id: str, items: dict[str, np.ndarray]) -> None:
        with self.transaction() as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO embeddings VALUES (?,?,?)",
                [(model_id, k, np.asarray(v, dtype=np.float32).tobytes()) for k, v in items.items()],
            )

    # -- tags -------------------------------------------------------------------------
    def put_tags(self, model: str, run_id: int | None, rows: list[tuple[str, int, str, float, bool, str]]) -> None:
        """Replace the model's tags for the passages named in rows: (doc_id, passage, code, score, decided, evidence_json)."""
        with self.transaction() as conn:
            for doc_id in sorted({r[0] for r in rows}):
                conn.execute("DELETE FROM tags WHERE model=? AND doc_id=?", (model, doc_id))
            conn.executemany("INSERT INTO tags VALUES (?,?,?,?,?,?,?,?)",
                             [(model, d, p, c, s, int(dec), ev, run_id) for d, p, c, s, dec, ev in rows])

    def has_tags(self, model: str, doc_id: str) -> bool:
        return self.conn.execute("SELECT 1 FROM tags WHERE model=? AND doc_id=? LIMIT 1", (model, doc_id)).fetchone() is not None

    def tags(self, model: str, doc_id: str, codes: list[str]) -> TagTable:
        """The stored tags of one document, a row per passage and a column per code of ``codes``."""
        passages = self.passages(doc_id)
        column = {c: j for j, c in enumerate(codes)}
        row = {p.index: i for i, p in enumerate(passages)}
        scores = np.zeros((len(passages), len(codes)))
        decided = np.zeros((len(passages), len(codes)), dtype=bool)
        evidence: list[dict[str, list]] = [{} for _ in passages]
        for passage, code, score, is_decided, ev in self.conn.execute(
            "SELECT passage, code, score, decided, evidence FROM tags WHERE model=? AND doc_id=? ORDER BY passage, rowid",
            (model, doc_id),
        ):
            if code in column and passage in row:
                i, j = row[passage], column[code]
                scores[i, j] = score
                if is_decided:
                    decided[i, j] = True
                    evidence[i][code] = json.loads(ev)
        return TagTable(list(codes), passages, scores, decided, evidence)

    def tag_rows(self, model: str, doc_id: str, codes: list[str]) -> list[dict]:
        """The `tag` contract rows of one document, rebuilt from the stored tags."""
        return list(self.tags(model, doc_id, codes).rows())

    # -- coders' codings ---------------------------------------------------------------------
    def replace_codings(self, coder: str, rows: dict[str, dict[int, list[str]]], source: str,
                        uncoded_missing: bool = False) -> None:
        """One transaction: the coder's codings of these reviews become exactly ``rows`` (doc -> passage -> codes).
        A passage missing from a review's dict was seen and left uncoded, or, with ``uncoded_missing``, not
        rated at all (no row: agreement treats it as missing for this coder)."""
        with self.transaction() as conn:
            for doc_id, coded in rows.items():
                conn.execute("DELETE FROM codings WHERE coder=? AND doc_id=?", (coder, doc_id))
                passages = [r[0] for r in conn.execute("SELECT idx FROM passages WHERE doc_id=? ORDER BY idx", (doc_id,))]
                if uncoded_missing:
                    passages = [i for i in passages if i in coded]
                conn.executemany("INSERT INTO codings VALUES (?,?,?,?,?,?)",
                                 [(coder, doc_id, i, json.dumps(sorted(coded.get(i, []))), source, _now()) for i in passages])

    def decide(self, coder: str, doc_id: str, passage: int, code: str, decision: str) -> list[str]:
        """Record an analyst's decision on one code of one passage (accept, reject, add, remove; clear takes
        the decision back, leaving the code undecided) and keep the coder's codes for that passage in step,
        in one transaction; returns the passage's codes."""
        with self.transaction() as conn:
            row = conn.execute("SELECT codes FROM codings WHERE coder=? AND doc_id=? AND passage=?",
                               (coder, doc_id, passage)).fetchone()
            codes = set(json.loads(row[0])) if row else set()
            if decision in ("accept", "add"):
                codes.add(code)
            else:
                codes.discard(code)
            conn.execute("INSERT OR IGNORE INTO coder_names VALUES (?,?)", (coder, _now()))
            if decision == "clear":
                conn.execute("DELETE FROM decisions WHERE coder=? AND doc_id=? AND passage=? AND code=?",
                             (coder, doc_id, passage, code))
            else:
                conn.execute("INSERT OR REPLACE INTO decisions VALUES (?,?,?,?,?,?)",
                             (coder, doc_id, passage, code, decision, _now()))
            conn.execute("INSERT OR REPLACE INTO codings VALUES (?,?,?,?,?,?)",
                         (coder, doc_id, passage, json.dumps(sorted(codes)), "manual", _now()))
            # The coder has now seen this review: its other passages count as coded (with no codes) for agreement.
            conn.execute("INSERT OR IGNORE INTO codings SELECT ?, doc_id, idx, '[]', 'manual', ? FROM passages WHERE doc_id=?",
                         (coder, _now(), doc_id))
        return sorted(codes)

    def set_memo(self, coder: str, doc_id: str, passage: int, text: str) -> None:
        """A coder's memo on a passage; empty text removes it."""
        with self.transaction() as conn:
            if text.strip():
                conn.execute("INSERT OR REPLACE INTO memos VALUES (?,?,?,?,?)", (coder, doc_id, passage, text, _now()))
            else:
                conn.execute("DELETE FROM memos WHERE coder=? AND doc_id=? AND passage=?", (coder, doc_id, passage))

    def memos(self, coder: str, doc_id: str) -> dict[int, str]:
        return dict(self.conn.execute("SELECT passage, text FROM memos WHERE coder=? AND doc_id=?", (coder, doc_id)))

    def decided_passages(self, coder: str) -> set[tuple[str, int]]:
        """(doc_id, passage) of every passage the coder has made a decision on."""
        return set(self.conn.execute("SELECT DISTINCT doc_id, passage FROM decisions WHERE coder=?", (coder,)))

    def decisions(self, coder: str, doc_id: str) -> dict[tuple[int, str], str]:
        return {(p, c): d for p, c, d in self.conn.execute(
            "SELECT passage, code, decision FROM decisions WHERE coder=? AND doc_id=?", (coder, doc_id))}

    def correct_fact(self, coder: str, doc_id: str, fact: str, value: str) -> None:
        with self.transaction() as conn:
            conn.execute("INSERT OR REPLACE INTO fact_corrections VALUES (?,?,?,?,?)", (coder, doc_id, fact, value, _now()))

    def latest_fact_corrections(self, doc_ids: Sequence[str]) -> dict[str, dict[str, tuple[str, str]]]:
        """doc -> fact -> (value, coder): each fact's latest correction by any coder."""
        out: dict[str, dict[str, tuple[str, str]]] = {}
        wanted = set(doc_ids)
        for coder, doc_id, fact, value in self.conn.execute(
                "SELECT coder, doc_id, fact, value FROM fact_corrections ORDER BY corrected_at, rowid"):
            if doc_id in wanted:
                out.setdefault(doc_id, {})[fact] = (value, coder)
        return out

    def fact_corrections(self, coder: str, doc_id: str) -> dict[str, str]:
        return dict(self.conn.execute("SELECT fact, value FROM fact_corrections WHERE coder=? AND doc_id=?", (coder, doc_id)))

    def dismiss_finding(self, kind: str, text: str, coder: str, reason: str) -> None:
        """Allow ``text`` as a finding of type ``kind`` in this project from now on (the guard no longer refuses it)."""
        if not coder.strip() or not reason.strip():
            raise UserError("a dismissal needs who dismissed it and why")
        with self.transaction() as conn:
            conn.execute("INSERT OR REPLACE INTO guard_dismissals VALUES (?,?,?,?,?)",
                         (kind, " ".join(text.split()), coder.strip(), reason.strip(), _now()))

    def undismiss_finding(self, kind: str, text: str) -> bool:
        with self.transaction() as conn:
            return conn.execute("DELETE FROM guard_dismissals WHERE type=? AND text=?",
                                (kind, " ".join(text.split()))).rowcount > 0

    def dismissals(self) -> list[dict]:
        cols = ("type", "text", "coder", "reason", "dismissed_at")
        return [dict(zip(cols, r)) for r in self.conn.execute(
            f"SELECT {', '.join(cols)} FROM guard_dismissals ORDER BY type, text")]

    def add_coder(self, name: str) -> None:
        with self.transaction() as conn:
            conn.execute("INSERT OR IGNORE INTO coder_names VALUES (?,?)", (name, _now()))

    def coder_names(self) -> list[str]:
        """Everyone who may code here: the coders added in the web app and everyone with coding in the store."""
        added = [r[0] for r in self.conn.execute("SELECT name FROM coder_names")]
        return sorted(set(added) | set(self.coders()), key=str.lower)

    def coders(self) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT DISTINCT coder FROM codings ORDER BY coder")]

    def codings(self, coder: str) -> dict[tuple[str, int], list[str]]:
        return {(d, p): json.loads(c) for d, p, c in
                self.conn.execute("SELECT doc_id, passage, codes FROM codings WHERE coder=?", (coder,))}

    def model_codings(self, model: str) -> dict[tuple[str, int], list[str]]:
        """The model's decided codes as a coder's: every passage of every review it tagged."""
        out: dict[tuple[str, int], list[str]] = {}
        for d, p, code, decided in self.conn.execute(
                "SELECT doc_id, passage, code, decided FROM tags WHERE model=? ORDER BY doc_id, passage, rowid", (model,)):
            out.setdefault((d, p), [])
            if decided:
                out[(d, p)].append(code)
        return out

    def tag_scores(self, model: str, code: str) -> dict[tuple[str, int], tuple[float, str]]:
        return {(d, p): (s, e) for d, p, s, e in self.conn.execute(
            "SELECT doc_id, passage, score, evidence FROM tags WHERE model=? AND code=?", (model, code))}

    # -- case facts ---------------------------------------------------------------------
    def put_facts(self, key: str, items: list[tuple[str, dict, dict]]) -> None:
        with self.transaction() as conn:
            conn.executemany("INSERT OR REPLACE INTO facts VALUES (?,?,?,?)",
                             [(key, d, json.dumps(row), json.dumps(ev)) for d, row, ev in items])

    def get_facts(self, key: str, doc_ids: Sequence[str]) -> dict[str, tuple[dict, dict]]:
        out = {}
        for doc_id in doc_ids:
            r = self.conn.execute("SELECT row, evidence FROM facts WHERE key=? AND doc_id=?", (key, doc_id)).fetchone()
            if r:
                out[doc_id] = (json.loads(r[0]), json.loads(r[1]))
        return out

    # -- cached whole-corpus outputs ---------------------------------------------------------
    def get_artifacts(self, key: str) -> dict[str, bytes]:
        return {n: bytes(d) for n, d in self.conn.execute("SELECT name, data FROM artifacts WHERE key=?", (key,))}

    def put_artifacts(self, key: str, items: dict[str, bytes]) -> None:
        with self.transaction() as conn:
            conn.executemany("INSERT OR REPLACE INTO artifacts VALUES (?,?,?)", [(key, n, d) for n, d in items.items()])

    def document_hashes(self, doc_ids: Sequence[str]) -> list[str]:
        return [self.conn.execute("SELECT sha256 FROM documents WHERE doc_id=?", (d,)).fetchone()[0] for d in doc_ids]

    # -- runs -------------------------------------------------------------------------
    def start_run(self, command: str, params: dict) -> int:
        with self.transaction() as conn:
            cur = conn.execute(
                "INSERT INTO runs (command, params, started_at, status) VALUES (?,?,?,?)",
                (command, json.dumps(params, default=str), _now(), "running"),
            )
            return int(cur.lastrowid)

    def finish_run(self, run_id: int, status: str) -> None:
        with self.transaction() as conn:
            conn.execute("UPDATE runs SET finished_at=?, status=? WHERE run_id=?", (_now(), status, run_id))
