"""The archive as an ASGI app: chats and their runs, a page per run, trends per chat.

Read-only: only GET routes, and nothing here writes to the store. Pages are rendered on the
server with Jinja2 (autoescape on), so there is no front-end build step.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.core.clock import Clock, SystemClock
from bot.core.plan import Chat
from bot.core.snapshot import RunNotFound, StoredRun, load_stored_run
from bot.core.store import Store, open_store
from bot.export.calendar import MEDIA_TYPE
from bot.export.formats import FORMATS, LABELS, export_filename, render
from bot.export.images import pillow_available, wordcloud_png
from bot.export.plan_export import NothingToPlan
from bot.export.templating import TEMPLATES, environment
from bot.web.auth import TokenGate
from bot.web.calendars import FeedUnavailable, PlanFeed, feed_query, webcal
from bot.web.charts import answers_per_day, answers_per_day_png, trends_png
from bot.web.config import ArchiveConfig
from bot.web.queries import chat_trends, summaries

WEB_TEMPLATES = Path(__file__).parent / "templates"
# Pages load only our own stylesheet and images; no scripts at all.
PAGE_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)
# The HTML export carries its styles inline.
EXPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


class SecurityHeaders:
    """Adds CSP, nosniff and referrer headers to every response that has none of its own."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                for name, value in (
                    (b"content-security-policy", PAGE_CSP.encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"same-origin"),
                ):
                    if name not in present:
                        headers.append((name, value))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers if scope["type"] == "http" else send)


@lru_cache(maxsize=32)
def _cloud(weights: tuple[tuple[str, int], ...]) -> bytes | None:
    """Word clouds drawn once per distinct set of words (a finished run's never changes)."""
    return wordcloud_png(weights)


class Archive:
    """The routes' shared state: the store, opened in the app's own event loop."""

    def __init__(
        self, config: ArchiveConfig, store: Store | None = None, clock: Clock | None = None
    ) -> None:
        self.config = config
        self._store = store
        self.templates = Jinja2Templates(env=environment(WEB_TEMPLATES))
        self.feed = PlanFeed(config.chats_file)
        self.templates.env.globals["feed_link"] = self.feed_link
        self.clock = clock or SystemClock()

    @property
    def store(self) -> Store:
        assert self._store is not None, "the archive's store opens with the app's lifespan"
        return self._store

    @asynccontextmanager
    async def lifespan(self, _app: Starlette) -> AsyncIterator[None]:
        owned = self._store is None
        if owned:
            self._store = await open_store(self.config.database_url, create=False)
        try:
            yield
        finally:
            if owned and self._store is not None:
                await self._store.close()
                self._store = None

    def page(self, request: Request, name: str, status: int = 200, **context: Any) -> Response:
        return self.templates.TemplateResponse(request, name, context, status_code=status)

    async def stored(self, request: Request) -> StoredRun:
        try:
            return await load_stored_run(
                self.store, request.path_params["run_id"], public_url=self.config.public_url
            )
        except RunNotFound:
            raise HTTPException(404, "No such run in this archive.") from None

    def feed_link(self, path: str) -> dict[str, str | None]:
        """A feed's links for a page: the file, and the subscription address when the
        archive has a public one."""
        token = self.config.token
        return {
            "href": path + feed_query(token),
            "webcal": webcal(self.config.public_url, path, token),
        }

    # routes

    async def healthz(self, request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def css(self, request: Request) -> Response:
        text = (TEMPLATES / "recap.css").read_text(encoding="utf-8")
        return Response(text, media_type="text/css", headers={"Cache-Control": "max-age=300"})

    async def index(self, request: Request) -> Response:
        chats = await self.store.chats()
        runs = await summaries(self.store, await self.store.all_runs())
        by_chat = {chat.id: [s for s in runs if s.run.chat_id == chat.id] for chat in chats}
        return self.page(request, "index.html", chats=chats, runs=by_chat)

    async def chat(self, request: Request) -> Response:
        chat_id = request.path_params["chat_id"]
        row = await self.store.get_chat(chat_id)
        if row is None:
            raise HTTPException(404, "No such chat in this archive.")
        runs = await self.store.runs_for_chat(chat_id)
        points = await chat_trends(self.store, runs)
        return self.page(
            request,
            "chat.html",
            chat=row,
            zone=_zone(row.plan_json),
            runs=await summaries(self.store, runs),
            points=points,
            chart=bool(points) and pillow_available(),
        )

    async def chat_chart(self, request: Request) -> Response:
        chat_id = request.path_params["chat_id"]
        row = await self.store.get_chat(chat_id)
        if row is None:
            raise HTTPException(404, "No such chat in this archive.")
        points = await chat_trends(self.store, await self.store.runs_for_chat(chat_id))
        png = trends_png(points, _zone(row.plan_json))
        if png is None:
            raise HTTPException(404, "No chart: no runs yet, or Pillow is not installed.")
        return Response(png, media_type="image/png", headers={"Cache-Control": "max-age=60"})

    async def run(self, request: Request) -> Response:
        stored = await self.stored(request)
        run_id = stored.view.run_id
        downloads = [
            {
                "format": fmt,
                "label": LABELS[fmt],
                "href": f"/runs/{run_id}/export.{fmt}",
                "filename": export_filename(stored, fmt),
            }
            for fmt in FORMATS
        ]
        has_cloud = bool(stored.recap.word_weights) and pillow_available()
        return self.page(
            request,
            "run.html",
            recap=stored.recap,
            chat=stored.chat,
            zone=stored.chat.zone,
            times=stored.times,
            cloud_src=f"/runs/{run_id}/wordcloud.png" if has_cloud else None,
            answers_src=f"/runs/{run_id}/answers.png" if stored.chat.is_async else None,
            downloads=downloads,
            standalone=False,
        )

    async def wordcloud(self, request: Request) -> Response:
        stored = await self.stored(request)
        png = _cloud(stored.recap.word_weights)
        if png is None:
            raise HTTPException(404, "No word cloud for this run.")
        return Response(png, media_type="image/png", headers={"Cache-Control": "max-age=60"})

    async def answers_chart(self, request: Request) -> Response:
        """An async chat's answers per day (its run page shows it)."""
        stored = await self.stored(request)
        days = answers_per_day(stored.recap, stored.chat.zone) if stored.chat.is_async else []
        png = answers_per_day_png(days)
        if png is None:
            raise HTTPException(404, "No chart: not an async chat, or Pillow is not installed.")
        return Response(png, media_type="image/png", headers={"Cache-Control": "max-age=60"})

    async def export(self, request: Request) -> Response:
        fmt = request.path_params["fmt"]
        if fmt not in FORMATS:
            raise HTTPException(404, f"Unknown format; use one of {', '.join(FORMATS)}.")
        stored = await self.stored(request)
        try:
            done = render(stored, fmt)
        except NothingToPlan as exc:  # a plan entry of a run that asked no question
            raise HTTPException(404, f"{exc}.") from None
        headers = {"Content-Disposition": f'attachment; filename="{done.filename}"'}
        if fmt == "html":
            headers["Content-Security-Policy"] = EXPORT_CSP
        return Response(done.content, media_type=done.media_type, headers=headers)

    async def calendar(self, request: Request) -> Response:
        chat_id = request.path_params.get("chat_id")
        try:
            chats = self.feed.chats(chat_id)
        except FeedUnavailable as exc:
            return Response(f"The calendar is unavailable: {exc}.\n", status_code=503)
        if chats is None:
            raise HTTPException(404, "No such chat in the plan.")
        content = self.feed.calendar(chats, public_url=self.config.public_url, now=self.clock.now())
        name = f"{chat_id or 'chats'}.ics"
        headers = {
            "Content-Disposition": f'inline; filename="{name}"',
            "Cache-Control": "max-age=300",
        }
        return Response(content, media_type=MEDIA_TYPE, headers=headers)

    async def not_found(self, request: Request, exc: Exception) -> Response:
        detail = exc.detail if isinstance(exc, HTTPException) else "Not found."
        status = exc.status_code if isinstance(exc, HTTPException) else 404
        return self.page(request, "message.html", status=status, title="Not found", text=detail)


def _zone(plan_json: str) -> Any:
    return Chat.model_validate_json(plan_json).zone


def create_app(
    config: ArchiveConfig, *, store: Store | None = None, clock: Clock | None = None
) -> Starlette:
    """The archive app; pass ``store`` to share an open one (it is then not closed here)."""
    archive = Archive(config, store, clock or SystemClock())
    routes = [
        Route("/", archive.index),
        Route("/healthz", archive.healthz),
        Route("/archive.css", archive.css),
        Route("/calendar.ics", archive.calendar),
        Route("/chats/{chat_id}/calendar.ics", archive.calendar),
        Route("/chats/{chat_id}", archive.chat),
        Route("/chats/{chat_id}/trends.png", archive.chat_chart),
        Route("/runs/{run_id:int}", archive.run),
        Route("/runs/{run_id:int}/wordcloud.png", archive.wordcloud),
        Route("/runs/{run_id:int}/answers.png", archive.answers_chart),
        Route("/runs/{run_id:int}/export.{fmt}", archive.export),
    ]
    secure = bool(config.public_url and config.public_url.startswith("https://"))
    app = Starlette(
        routes=routes,
        lifespan=archive.lifespan,
        middleware=[
            Middleware(SecurityHeaders),
            Middleware(TokenGate, token=config.token, secure_cookie=secure),
        ],
        exception_handlers={404: archive.not_found},
    )
    app.state.archive = archive
    return app
