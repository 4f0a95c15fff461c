"""The analyst web app (FastAPI): upload a review, review its tags with their evidence, accept, reject
or add codes, correct case facts, and open the corpus views. Routes only: every page calls the same
library functions the CLI calls. No remote assets; HTML from documents is escaped; a token is required
when the app listens on anything but the loopback interface."""
from __future__ import annotations

import re
import secrets
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, File, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from scr_text.config import Settings

# FastAPI reads the routes' annotations by name, so the types they use are imported at module level.
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def create_app(store_path: Path, settings: Settings, host: str = "127.0.0.1", token: str | None = None):
    from scr_text.app.jobs import Jobs
    from scr_text.app.views import review_context
    from scr_text.codebook import load_codebook
    from scr_text.errors import UserError
    from scr_text.ingest import SUPPORTED
    from scr_text.modeldir import model_key, resolve_model_dir
    from scr_text.report.render import render_template
    from scr_text.store.database import Store

    if host not in LOOPBACK and not token:
        raise UserError("a token is required when serving on a non-loopback address (--token)")
    jobs = Jobs(store_path, settings)

    @asynccontextmanager
    async def lifespan(_app):
        yield
        jobs.close()  # on shutdown: no upload is left on disk

    app = FastAPI(title="scr-text", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    codebook = load_codebook()

    def model_name() -> str:  # the configured model, until the analysts switch to another (the Model page)
        return settings.tagger.model
    max_upload = int(float(settings.app.max_upload_mb) * 2**20)

    def key() -> str:
        return model_key(resolve_model_dir(model_name()), codebook.hash)

    def store() -> Store:
        return Store(store_path, settings.store.busy_timeout_s)

    def page(name: str, **context) -> HTMLResponse:
        return HTMLResponse(render_template(name, codebook=codebook, **context))

    @app.middleware("http")
    async def guard_and_headers(request: Request, call_next):
        if token:
            supplied = request.query_params.get("token") or request.headers.get("x-scr-token") or request.cookies.get("scr_token")
            if not supplied or not secrets.compare_digest(supplied, token):
                return JSONResponse({"error": "token required"}, status_code=401)
        response = await call_next(request)
        if token and request.query_params.get("token"):
            response.set_cookie("scr_token", token, httponly=True, samesite="strict")
        # Nothing may load from elsewhere: scripts and styles are inline, and so is everything else.
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data: blob:; connect-src 'self'; frame-ancestors 'none'")
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    def wants_page(request: Request) -> bool:
        """A person's browser on a page or form (not the page's own API calls) gets a page, not JSON."""
        return not request.url.path.startswith("/api/") and "text/html" in request.headers.get("accept", "")

    def error_page(status: int, message: str) -> HTMLResponse:
        return HTMLResponse(render_template("app_error.html.j2", codebook=codebook, status=status, message=message),
                            status_code=status)

    @app.exception_handler(UserError)
    async def user_error(request: Request, exc: UserError):
        if wants_page(request):
            return error_page(400, str(exc))
        return JSONResponse({"error": str(exc)}, status_code=400)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException):
        if wants_page(request):
            return error_page(exc.status_code, str(exc.detail))
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)

    @app.get("/", response_class=HTMLResponse)
    def home():
        with store() as s:
            k = key()
            reviews = [{"doc_id": d, "passages": len(s.passages(d)), "tagged": s.has_tags(k, d)} for d in s.doc_ids()]
        return page("app_home.html.j2", reviews=reviews, formats=", ".join(sorted(SUPPORTED)), max_mb=max_upload // 2**20)

    @app.post("/upload")
    async def upload(file: UploadFile = File(...)):
        name = Path(file.filename or "").name
        suffix = Path(name).suffix.lower()
        if suffix not in SUPPORTED:
            raise HTTPException(415, f"'{name}': upload a .txt, .md, .docx or .pdf file")
        stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", Path(name).stem).strip("._") or "review"
        target = jobs.upload_path(f"{stem}{suffix}")
        size = 0
        try:
            with open(target, "wb") as fh:
                while chunk := await file.read(1 << 20):
                    size += len(chunk)
                    if size > max_upload:
                        raise HTTPException(413, f"'{name}' is larger than {max_upload // 2**20} MB")
                    fh.write(chunk)
        except BaseException:  # too large, or the client went away: the part written goes at once
            jobs.discard(target)
            raise
        job = jobs.submit(target, name)
        return RedirectResponse(f"/jobs/{job.id}", status_code=303)

    @app.get("/jobs/{job_id}", response_class=HTMLResponse)
    def job_page(job_id: str):
        job = jobs.get(job_id)
        if job is None:  # jobs live in memory: a restart of the app forgets them
            raise HTTPException(404, "No such upload job: it may have been running when the app was restarted. "
                                     "Upload the file again.")
        return page("app_job.html.j2", job=job)

    @app.get("/api/jobs/{job_id}")
    def job_status(job_id: str):
        job = jobs.get(job_id)
        if job is None:
            raise HTTPException(404, "no such job")
        return {"status": job.status, "step": job.step, "progress": job.progress, "message": job.message,
                "doc_id": job.doc_id, "findings": job.findings, "filename": job.filename,
                "warnings": job.warnings, "kind": job.kind, "model": job.model}

    @app.post("/api/jobs/{job_id}/settle")
    async def settle_job(job_id: str, request: Request):
        body = await json_object(request)
        actions = body.get("actions")
        if not isinstance(actions, list):
            raise HTTPException(400, "actions must be a list: redact or dismiss, one per finding")
        job = jobs.settle(job_id, str(body.get("coder", "")), [str(a) for a in actions], str(body.get("reason", "")))
        return {"status": job.status}

    @app.post("/api/jobs/{job_id}/cancel")
    def cancel_job(job_id: str):
        return {"status": jobs.cancel(job_id).status}

    @app.get("/review/{doc_id}", response_class=HTMLResponse)
    def review(doc_id: str):
        with store() as s:
            if doc_id not in s.doc_ids():
                raise HTTPException(404, f"no review '{doc_id}'")
            return page("app_review.html.j2", **review_context(s, doc_id, key(), codebook, settings, model_name()))

    @app.get("/api/review/{doc_id}/state")
    def review_state(doc_id: str, coder: str):
        with store() as s:
            decisions = s.decisions(coder, doc_id)
            codings = {p: c for (d, p), c in s.codings(coder).items() if d == doc_id}
            return {"decisions": [{"passage": p, "code": c, "decision": d} for (p, c), d in decisions.items()],
                    "codes": {str(p): c for p, c in codings.items()}, "facts": s.fact_corrections(coder, doc_id),
                    "memos": {str(p): t for p, t in s.memos(coder, doc_id).items()}}

    async def json_object(request: Request) -> dict:
        try:
            body = await request.json()
        except ValueError:  # also UnicodeDecodeError
            body = None
        if not isinstance(body, dict):
            raise HTTPException(400, "the request body must be a JSON object")
        return body

    def stored_passage(s: Store, body: dict) -> tuple[str, int]:
        """The request's (doc_id, passage), which must be a stored passage."""
        try:
            passage = int(body.get("passage"))
        except (TypeError, ValueError):
            raise HTTPException(400, "passage must be a whole number") from None
        doc_id = str(body.get("doc_id"))
        if not any(p.index == passage for p in s.passages(doc_id)):
            raise HTTPException(404, "no such passage")
        return doc_id, passage

    @app.post("/api/decision")
    async def decision(request: Request):
        body = await json_object(request)
        coder = str(body.get("coder", "")).strip()
        code, verdict = body.get("code"), body.get("decision")
        if not coder or code not in codebook.ids or verdict not in ("accept", "reject", "add", "remove", "clear"):
            raise HTTPException(400, "needs coder, a codebook code and decision accept|reject|add|remove|clear")
        with store() as s:
            doc_id, passage = stored_passage(s, body)
            return {"codes": s.decide(coder, doc_id, passage, code, verdict)}

    @app.post("/api/review/{doc_id}/rename")
    async def rename_review(doc_id: str, request: Request):
        name = str((await json_object(request)).get("name", ""))
        with store() as s:
            s.rename_document(doc_id, name)  # a bad or taken name is a UserError: 400 with the reason
        return {"doc_id": name}

    @app.post("/api/review/{doc_id}/delete")
    def delete_review(doc_id: str):
        with store() as s:
            if doc_id not in s.doc_ids():
                raise HTTPException(404, "no such review")
            s.remove_documents([doc_id])
        return {"deleted": doc_id}

    @app.get("/api/coders")
    def coders():
        with store() as s:
            return {"coders": s.coder_names()}

    @app.post("/api/coders")
    async def add_coder(request: Request):
        from scr_text.coding.coders import MODEL_CODER

        name = " ".join(str((await json_object(request)).get("name", "")).split())
        if not name or len(name) > 60 or name == MODEL_CODER:
            raise HTTPException(400, f"a coder's name is 1 to 60 characters and not '{MODEL_CODER}'")
        with store() as s:
            s.add_coder(name)
            return {"coders": s.coder_names()}

    @app.post("/api/memo")
    async def memo(request: Request):
        body = await json_object(request)
        coder, text = str(body.get("coder", "")).strip(), str(body.get("text", ""))
        if not coder or len(text) > 20000:
            raise HTTPException(400, "needs coder, and a memo of at most 20,000 characters")
        with store() as s:
            doc_id, passage = stored_passage(s, body)
            s.set_memo(coder, doc_id, passage, text)
        return {"saved": bool(text.strip())}

    @app.post("/api/fact")
    async def fact(request: Request):
        from scr_text.facts.extract import FACT_COLUMNS

        body = await json_object(request)
        coder, name, value = str(body.get("coder", "")).strip(), body.get("fact"), str(body.get("value", ""))
        if not coder or name not in FACT_COLUMNS + ("risks_present",) or not value:
            raise HTTPException(400, "needs coder, a case fact and a value")
        with store() as s:
            s.correct_fact(coder, str(body.get("doc_id")), name, value)
        return {"ok": True}

    @app.get("/clusters", response_class=HTMLResponse)
    def clusters():
        from scr_text.app.views import cluster_page

        with store() as s:
            return HTMLResponse(cluster_page(s, settings, codebook, key(), model_name(), refresh=jobs.refresh_clusters))

    @app.get("/prevalence", response_class=HTMLResponse)
    def prevalence_page():
        from scr_text.app.views import prevalence_html

        with store() as s:
            return HTMLResponse(prevalence_html(s, settings, codebook, model_name()))

    @app.get("/agreement", response_class=HTMLResponse)
    def agreement_page(code: str | None = None, a: str | None = None, b: str | None = None):
        from scr_text.app.views import agreement_context

        with store() as s:
            return page("app_agreement.html.j2", **agreement_context(s, settings, codebook, key(), code, a, b))

    @app.get("/queue", response_class=HTMLResponse)
    def queue(coder: str = ""):
        from scr_text.app.views import queue_context

        with store() as s:
            return page("app_queue.html.j2", **queue_context(s, coder.strip(), key(), model_name(), codebook, settings))

    @app.get("/models", response_class=HTMLResponse)
    def models():
        from scr_text.app.views import models_context

        with store() as s:
            return page("app_models.html.j2", **models_context(s, settings, codebook, jobs.latest("retrain"),
                                                              jobs.latest("retag")))

    @app.post("/api/retrain")
    async def retrain(request: Request):
        coders = (await json_object(request)).get("coders")
        if not isinstance(coders, list) or not all(isinstance(c, str) for c in coders):
            raise HTTPException(400, "coders must be a list of coder names")
        return {"job": jobs.retrain(coders).id}

    @app.post("/api/model")
    async def use_model(request: Request):
        return {"job": jobs.use_model(str((await json_object(request)).get("name", ""))).id}

    @app.get("/search", response_class=HTMLResponse)
    def search(q: str = ""):
        from scr_text.app.views import search_context

        with store() as s:
            return page("app_search.html.j2", **search_context(s, q))

    @app.get("/export/review/{doc_id}.csv")
    def export_review(doc_id: str, coder: str = ""):
        from scr_text.app.views import coded_review_csv

        with store() as s:
            data = coded_review_csv(s, doc_id, coder.strip(), key())
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", doc_id)
        return Response(data, media_type="text/csv", headers={"Content-Disposition": f'attachment; filename="{safe}.csv"'})

    @app.get("/export/{name}")
    def export(name: str):
        from scr_text.app.views import export_bytes

        with store() as s:
            data, media = export_bytes(s, name, settings, codebook, key(), model_name())
        return Response(data, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'})

    return app
