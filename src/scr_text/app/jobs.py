"""Work the web app does in the background, one job at a time, while the browser polls its progress: an
uploaded review is checked, stored, tagged and given its case facts; a retrain from the analysts' coding
trains and measures a new model; switching to another model re-tags the stored reviews with it. An upload
the identifier guard refuses waits, file kept, until the analyst settles each finding (redact or dismiss)
or cancels it."""
from __future__ import annotations

import logging
import re
import shutil
import tempfile
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from scr_text.codebook import load_codebook
from scr_text.config import Settings
from scr_text.errors import UserError
from scr_text.store.database import Store


@dataclass
class Job:
    id: str
    filename: str
    status: str = "queued"  # queued | running | refused (waiting to be settled) | done | failed | cancelled
    step: str = "waiting"
    progress: float = 0.0
    message: str = ""
    doc_id: str | None = None
    findings: list[dict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # stored, but worth a look (intake's warnings)
    upload: Path | None = None  # the refused upload, kept until it is settled or cancelled
    kind: str = "upload"  # upload | retrain | retag
    model: str | None = None  # the model a retrain made, or a re-tag switched to


class Jobs:
    def __init__(self, store_path: Path, settings: Settings):
        self.store_path = store_path
        self.settings = settings
        self.jobs: dict[str, Job] = {}
        self.lock = threading.Lock()
        # One worker: uploads are processed in order, and spaCy and torch are not shared across threads.
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="scr-text-job")
        self.upload_root: Path | None = None  # made at the first upload, removed by close()
        self._clustering = False  # a cluster map refresh is queued or running

    def upload_path(self, name: str) -> Path:
        """Where to write an upload before ``submit``: a folder of its own, so that the file keeps its name (the
        review's id) beside other uploads of the same name; ``discard`` removes the folder."""
        with self.lock:
            if self.upload_root is None:
                self.upload_root = Path(tempfile.mkdtemp(prefix="scr-text-uploads-"))
        return Path(tempfile.mkdtemp(dir=self.upload_root)) / name

    @staticmethod
    def discard(path: Path) -> None:
        shutil.rmtree(path.parent, ignore_errors=True)

    def close(self) -> None:
        """Finish the running job, drop the queued ones and remove every upload still waiting."""
        self.pool.shutdown(wait=True, cancel_futures=True)
        if self.upload_root is not None:
            shutil.rmtree(self.upload_root, ignore_errors=True)

    def submit(self, path: Path, filename: str) -> Job:
        """Process an upload written to ``upload_path``; its folder is removed when the job ends."""
        job = self._add(Job(uuid.uuid4().hex[:12], filename))
        self.pool.submit(self._run, job, path)
        return job

    def refresh_clusters(self) -> None:
        """Make a new cluster map over every tagged review, once at a time, in the background."""
        with self.lock:
            if self._clustering:
                return
            self._clustering = True
        self.pool.submit(self._clusters)

    def _clusters(self) -> None:
        from scr_text.app.views import make_cluster_map
        from scr_text.modeldir import model_key, resolve_model_dir

        try:
            codebook = load_codebook()
            model = self.settings.tagger.model
            with Store(self.store_path, self.settings.store.busy_timeout_s) as store:
                make_cluster_map(store, self.settings, codebook, model_key(resolve_model_dir(model), codebook.hash), model)
        except Exception:  # a failed refresh leaves the previous map in place, and says why in the log
            logging.getLogger("scr_text.app").exception("cluster map refresh failed")
        finally:
            with self.lock:
                self._clustering = False

    def get(self, job_id: str) -> Job | None:
        with self.lock:
            return self.jobs.get(job_id)

    def latest(self, kind: str) -> Job | None:
        """The newest job of this kind, so that a page opened again shows the one still running."""
        with self.lock:
            return next((j for j in reversed(self.jobs.values()) if j.kind == kind), None)

    def retrain(self, coders: list[str]) -> Job:
        """Train a new model on the base corpus and these coders' coding, with its before/after figures."""
        if not coders:
            raise UserError("choose whose coding to train on")
        job = self._add(Job(uuid.uuid4().hex[:12], "retrain from " + ", ".join(coders), kind="retrain"))
        self.pool.submit(self._attempt, job, self._retrain, coders)
        return job

    def use_model(self, name: str) -> Job:
        """Switch the app to another trained model (for this run of the app) and tag the stored reviews with it."""
        from scr_text.modeldir import resolve_model_dir

        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", name):  # a model is chosen by its folder's name, not a path
            raise UserError(f"'{name}': not a model's name")
        resolve_model_dir(name)  # a clear error now, not in the background
        job = self._add(Job(uuid.uuid4().hex[:12], f"tagging the stored reviews with {name}", kind="retag", model=name))
        self.pool.submit(self._attempt, job, self._retag, name)
        return job

    def _add(self, job: Job) -> Job:
        with self.lock:
            self.jobs[job.id] = job
        return job

    def _attempt(self, job: Job, work, *args) -> None:
        try:
            work(job, *args)
            job.step, job.progress, job.status = "done", 1.0, "done"
        except Exception as exc:
            self._fail(job, exc)

    @staticmethod
    def _fail(job: Job, exc: Exception) -> None:
        # The browser must hear about anything that goes wrong; a UserError already says it in the user's terms.
        job.status, job.message = "failed", str(exc) if isinstance(exc, UserError) else f"{exc.__class__.__name__}: {exc}"

    def _retrain(self, job: Job, coders: list[str]) -> None:
        from scr_text.training.retrain import retrain, training_store_path

        # Its own store: the base corpus's reviews must not join the analysts' list in the project store.
        with Store(self.store_path, self.settings.store.busy_timeout_s) as store, \
                Store(training_store_path(self.store_path), self.settings.store.busy_timeout_s) as work:
            result = retrain(store, coders, self.settings, load_codebook(), work,
                             step=lambda text, share: self._step(job, text, share))
        job.model = result.model

    @staticmethod
    def _facts(job: Job, parts, doc_ids: list[str], tags) -> None:
        """Case facts for the reviews, where the model learnt them; a model trained on a corpus without case
        facts still tags, and the job says why the facts panel stays empty."""
        from scr_text.facts.sheet import facts_for_stored, has_fact_model

        if has_fact_model(parts.model):
            facts_for_stored(parts, doc_ids, tags)
        else:
            job.warnings.append(f"model '{parts.model}' learnt no case facts (its corpus had no cases.csv rows), "
                                "so the reviews have none")

    def _retag(self, job: Job, name: str) -> None:
        from scr_text.tagging.apply import tag_stored
        from scr_text.tagging.components import Components

        # Switched here, in the one worker, so that an upload queued before goes through under the old model.
        previous, self.settings.tagger.model = self.settings.tagger.model, name
        try:
            with Store(self.store_path, self.settings.store.busy_timeout_s) as store:
                parts = Components(self.settings, store)
                parts.tagger  # noqa: B018 (loads the model: a refused one switches back before anything is stored)
                doc_ids = store.doc_ids()
                self._step(job, f"tagging {len(doc_ids)} stored reviews", 0.1)
                _, tags = tag_stored(parts, doc_ids, progress=False)
                self._step(job, "extracting case facts", 0.7)
                self._facts(job, parts, doc_ids, tags)
        except BaseException:
            self.settings.tagger.model = previous
            raise

    def _step(self, job: Job, step: str, progress: float) -> None:
        job.step, job.progress, job.status = step, progress, "running"

    def settle(self, job_id: str, coder: str, actions: list[str], reason: str) -> Job:
        """Go on with a refused upload: each finding redacted (a typed placeholder in a plain-text copy that is
        stored instead) or dismissed (the project's allow-list, with ``coder`` and ``reason``)."""
        from scr_text.ingest import read_documents
        from scr_text.privacy.guard import Finding, guard_for

        job = self._refused(job_id)
        if len(actions) != len(job.findings) or set(actions) - {"redact", "dismiss"}:
            raise UserError("settle every finding: one action, redact or dismiss, per finding")
        dismiss = [f for f, a in zip(job.findings, actions) if a == "dismiss"]
        if dismiss and (not coder.strip() or not reason.strip()):
            raise UserError("a dismissal needs a coder and a reason")
        path = job.upload
        redact = [Finding.from_json(f) for f, a in zip(job.findings, actions) if a == "redact"]
        if redact:
            (document,), _ = read_documents([path], self.settings)
            redacted = guard_for(self.settings).redact(document.text, redact)
            path.unlink()
            path = path.with_suffix(".txt")
            path.write_text(redacted, encoding="utf-8")
        with Store(self.store_path, self.settings.store.busy_timeout_s) as store:
            for f in dismiss:
                store.dismiss_finding(f["type"], f["text"], coder, reason)
        job.status, job.step, job.progress, job.message, job.findings, job.upload = "queued", "waiting", 0.0, "", [], None
        self.pool.submit(self._run, job, path)
        return job

    def cancel(self, job_id: str) -> Job:
        job = self._refused(job_id)
        self.discard(job.upload)
        job.status, job.step, job.upload = "cancelled", "cancelled: nothing was stored", None
        return job

    def _refused(self, job_id: str) -> Job:
        job = self.get(job_id)
        if job is None:
            raise UserError("no such upload")
        if job.status != "refused" or job.upload is None:
            raise UserError(f"this upload is {job.status}, not waiting to be settled")
        return job

    def _run(self, job: Job, path: Path) -> None:
        from scr_text.ingest import read_documents
        from scr_text.ingest.intake import ingest_files
        from scr_text.privacy.guard import guard_for, refusal, settle
        from scr_text.tagging.apply import tag_stored
        from scr_text.tagging.components import Components

        keep = False
        try:
            self._step(job, "checking for unredacted identifiers", 0.1)
            documents, failed = read_documents([path], self.settings)
            if failed:
                raise UserError(failed[0].split(": ", 1)[-1])
            with Store(self.store_path, self.settings.store.busy_timeout_s) as store:
                parts = Components(self.settings, store)
                (passages,) = parts.segmenter.transform(documents)
                findings, _ = settle(guard_for(self.settings).check_passages(passages), store.dismissals())
                if findings:
                    text = documents[0].text
                    job.findings = [{**f.to_json(), "before": text[max(0, f.start - 60):f.start],
                                     "after": text[f.end:f.end + 60]} for f in findings]
                    job.status, job.step, job.upload, keep = "refused", "waiting for the findings to be settled", path, True
                    job.message = f"The review {refusal(findings)}. Redact or dismiss each finding, or cancel the upload."
                    return
                self._step(job, "storing passages", 0.3)
                report = ingest_files([path], store, self.settings, segmenter=parts.segmenter, progress=False)
                if report.failed or report.duplicates:
                    raise UserError((report.failed + report.duplicates)[0].split(": ", 1)[-1])
                doc_id = (report.added + report.replaced + report.unchanged)[0]
                # Intake names the file by its path, here a temporary folder's: the analyst knows it by its name.
                job.warnings = [w.split(": ", 1)[-1] for w in report.warnings]
                self._step(job, "tagging passages", 0.55)
                _, tags = tag_stored(parts, [doc_id], progress=False)
                self._step(job, "extracting case facts", 0.85)
                self._facts(job, parts, [doc_id], tags)
            job.doc_id, job.step, job.progress, job.status = doc_id, "done", 1.0, "done"
        except Exception as exc:
            self._fail(job, exc)
        finally:
            if not keep:
                self.discard(path)
