"""``/docs`` (Swagger UI) and ``/redoc``, served from this origin under the pages' policy.

FastAPI's defaults load floating versions of both from a CDN. On the console's origin, where a
staff token lives in the browser, a script from elsewhere could read it. Here the assets come
from an installed, pinned package (``fastapi-offline``, which ships Swagger UI and ReDoc) and
the pages carry no inline script: the start-up code is a module of its own, so the same
Content-Security-Policy as the console (``script-src 'self'``) applies.
"""

from __future__ import annotations

from html import escape
from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, Response
from starlette.staticfiles import StaticFiles

#: Where the bundled assets are served.
ASSETS = "/docs/assets"

#: Styles the documentation needs beyond the console's policy: both UIs set inline styles
#: (ReDoc injects ``<style>`` elements), and ReDoc runs its search in a worker made from a blob.
#: Scripts stay this origin's only, which is what guards the token.
DOCS_CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "worker-src 'self' blob:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

_SWAGGER_INIT = """\
window.addEventListener("DOMContentLoaded", () => {
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
  });
});
"""

_REDOC_INIT = """\
window.addEventListener("DOMContentLoaded", () => {
  Redoc.init("/openapi.json", {}, document.getElementById("redoc"));
});
"""


def asset_folder() -> Path:
    """The folder of the installed package's Swagger UI and ReDoc files."""
    return Path(str(files("fastapi_offline") / "static"))


def _page(title: str, head: str, body: str) -> HTMLResponse:
    html = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title>
<link rel="icon" href="{ASSETS}/favicon.png">
{head}
</head>
<body>
{body}
</body>
</html>
"""
    return HTMLResponse(html, headers={"content-security-policy": DOCS_CONTENT_SECURITY_POLICY})


def _script(text: str) -> Response:
    return Response(text, media_type="text/javascript; charset=utf-8")


def install_api_docs(app: FastAPI) -> None:
    """Add ``/docs`` and ``/redoc`` (the app must be built with ``docs_url=None`` and
    ``redoc_url=None``, so FastAPI's CDN pages are not added as well)."""
    title = app.title

    async def swagger() -> HTMLResponse:
        return _page(
            f"{title} — API",
            f'<link rel="stylesheet" href="{ASSETS}/swagger-ui.css">',
            f'<div id="swagger-ui"></div>\n<script src="{ASSETS}/swagger-ui-bundle.js"></script>\n'
            '<script src="/docs/swagger-init.js"></script>',
        )

    async def redoc() -> HTMLResponse:
        return _page(
            f"{title} — ReDoc",
            "",
            f'<div id="redoc"></div>\n<script src="{ASSETS}/redoc.standalone.js"></script>\n'
            '<script src="/docs/redoc-init.js"></script>',
        )

    async def swagger_init() -> Response:
        return _script(_SWAGGER_INIT)

    async def redoc_init() -> Response:
        return _script(_REDOC_INIT)

    for path, endpoint in (
        ("/docs", swagger),
        ("/redoc", redoc),
        ("/docs/swagger-init.js", swagger_init),
        ("/docs/redoc-init.js", redoc_init),
    ):
        app.add_api_route(path, endpoint, methods=["GET"], include_in_schema=False)
    app.mount(ASSETS, StaticFiles(directory=asset_folder()), name="api-docs-assets")
