"""The pages: the staff console, the manager reports and the traveller web chat.

``frontend/`` holds plain JavaScript modules and CSS served as they are (no build step) at
``/console/``, ``/reports/``, ``/chat/`` and the modules they share at ``/shared/``; ``/`` links
the three. Every
response carries security headers; the pages get a Content-Security-Policy that allows scripts,
styles and connections from this origin only, so a traveller's text can never run as code even
if a bug rendered it as HTML.
"""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, RedirectResponse
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from consult119.config import PageSettings

log = logging.getLogger(__name__)

#: Page folders under ``frontend/`` and the path each is served at.
PAGES = ("console", "reports", "chat")
SHARED = "shared"

#: No inline scripts or styles, nothing from other origins, never framed.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

#: Headers every response gets (API included).
COMMON_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
)


def frontend_dir(override: Path | None = None) -> Path | None:
    """The folder of the pages: the override, else the repository's ``frontend/`` (an editable
    install or a checkout), else a copy shipped inside the package (``consult119/static``)."""
    candidates = []
    if override is not None:
        candidates.append(Path(override))
    here = Path(__file__).resolve()
    candidates += [here.parents[2] / "frontend", here.parent / "static"]
    for folder in candidates:
        if (folder / "console" / "index.html").is_file():
            if override is not None and folder != Path(override):
                log.warning(
                    "CONSULT119_FRONTEND_DIR=%s holds no pages; serving %s", override, folder
                )
            return folder
    return None


class SecurityHeaders:
    """Pure ASGI middleware adding the security headers (WebSockets pass through untouched)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                for name, value in COMMON_HEADERS:
                    if name not in present:
                        headers.append((name, value))
                # A page with needs of its own (the API docs) sets its policy itself.
                if b"content-security-policy" not in present:
                    headers.append((b"content-security-policy", CONTENT_SECURITY_POLICY.encode()))
                if not path.startswith("/api/") and b"cache-control" not in present:
                    # Modules without a build step: always revalidate (ETag), never stale.
                    headers.append((b"cache-control", b"no-cache"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def install_pages(app: FastAPI, settings: PageSettings | None = None) -> Path | None:
    """Serve the pages and add the security headers. Returns the folder served, if any."""
    app.add_middleware(SecurityHeaders)
    settings = settings or PageSettings()  # the app passes its Settings
    folder = frontend_dir(settings.frontend_dir)
    if folder is None:
        log.warning("pages not served: no frontend folder found (set CONSULT119_FRONTEND_DIR)")
        return None

    for name in PAGES:
        # "/console" → "/console/", so the page's relative module paths resolve.
        app.add_api_route(
            f"/{name}",
            _redirect_to(f"/{name}/"),
            methods=["GET"],
            include_in_schema=False,
        )
        app.mount(f"/{name}/", StaticFiles(directory=folder / name, html=True), name=f"page-{name}")
    app.mount(f"/{SHARED}/", StaticFiles(directory=folder / SHARED), name="page-shared")
    home = folder / "index.html"
    if home.is_file():
        app.add_api_route("/", _file(home), methods=["GET"], include_in_schema=False)
    return folder


def _redirect_to(target: str):
    async def redirect() -> RedirectResponse:
        return RedirectResponse(target, status_code=308)

    return redirect


def _file(path: Path):
    async def page() -> FileResponse:
        return FileResponse(path, media_type="text/html; charset=utf-8")

    return page
