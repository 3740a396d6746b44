"""The application: ``create_app()`` wires settings, database, routes and background work."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from fastapi.responses import JSONResponse

from consult119 import __version__
from consult119.alerts.routes import router as alerts_router
from consult119.apidocs import install_api_docs
from consult119.attachments.downloads import start_downloads
from consult119.attachments.routes import router as attachments_router
from consult119.attachments.routes import upload_router as attachment_upload_router
from consult119.audit.routes import router as audit_router
from consult119.auth.routes import router as auth_router
from consult119.auth.security import signing_key
from consult119.bodylimit import BodyLimit
from consult119.channels.chat.routes import router as chat_intake_router
from consult119.channels.edge.http import require_intake_secret, unsigned_channels
from consult119.channels.email.routes import router as email_intake_router
from consult119.channels.email.smtp import start_smtp_listener, stop_smtp_listener
from consult119.channels.kakao.routes import router as kakao_intake_router
from consult119.channels.line.routes import router as line_intake_router
from consult119.channels.phone.routes import events_router as phone_events_router
from consult119.channels.phone.routes import router as phone_router
from consult119.channels.webchat.routes import router as webchat_router
from consult119.config import Settings, get_settings
from consult119.console.runtime import console_lifespan
from consult119.console.socket import router as console_router
from consult119.context import AppContext, Clock
from consult119.db import Database, ping, utcnow
from consult119.errors import install_error_handlers
from consult119.followups.routes import router as followups_router
from consult119.logs import RequestIds
from consult119.metrics import install_metrics
from consult119.metrics import router as metrics_router
from consult119.outbound import repository as outbound_repo
from consult119.outbound.dispatcher import start_dispatcher
from consult119.pages import install_pages
from consult119.readiness import code_head, readiness
from consult119.replies.routes import router as replies_router
from consult119.reports.routes import router as reports_router
from consult119.schemas import HealthOut, ReadinessOut
from consult119.staff.routes import router as staff_router
from consult119.tickets.merge import router as merge_router
from consult119.tickets.routes import router as tickets_router
from consult119.triage import ktas, scheduler

log = logging.getLogger(__name__)

#: Routes that read their own body through ``consult119.channels.edge.http.read_body``, with their own
#: size limit (the e-mail intake's is larger), then check the signature before the JSON: the
#: shared body limit leaves them alone. A new route with its own limit is added here.
OWN_BODY_LIMIT_PATHS = (
    "/api/v1/intake/chat",
    "/api/v1/intake/email",
    "/api/v1/intake/kakao",
    "/api/v1/intake/line",
    "/api/v1/intake/phone/events",
    "/api/v1/webchat/sessions",
    "/api/v1/webchat/attachments",  # streamed into the attachment store, its own size limit
    "/api/v1/attachments",  # staff uploads, the same
)


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> FastAPI:
    """Build the app. The schema must already be current (``serve`` upgrades it first)."""
    settings = settings or get_settings()
    ktas.configure_targets(settings.sla_target_seconds)
    db = Database(settings)
    ctx = AppContext(
        settings=settings, db=db, signing_key=signing_key(settings), clock=clock or utcnow
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        open_channels = unsigned_channels(settings)
        if open_channels:
            log.warning(
                "channels open unsigned (CONSULT119_ALLOW_UNSIGNED_CHANNELS=true), anyone may "
                "post to them: %s",
                ", ".join(open_channels),
            )
        db.writer.start()
        code_head()  # read the migrations once now, not on the first /readyz
        triage_scheduler = scheduler.start(ctx)
        ctx.scheduler = triage_scheduler
        smtp_listener = start_smtp_listener(ctx)
        dispatcher = start_dispatcher(ctx)
        downloads = start_downloads(ctx)
        try:
            async with console_lifespan(ctx):
                yield
        finally:
            ctx.scheduler = None
            await triage_scheduler.stop()
            await dispatcher.stop()
            await downloads.stop()
            stop_smtp_listener(smtp_listener)
            db.dispose()

    app = FastAPI(
        title="consult119",
        version=__version__,
        description="Case system for emergency medical consultation of Koreans abroad.",
        lifespan=lifespan,
        docs_url=None,  # served by install_api_docs from this origin, not a CDN
        redoc_url=None,
    )
    app.state.ctx = ctx
    install_error_handlers(app)
    install_metrics(ctx, outbound_repo.work_counts)
    app.add_middleware(
        BodyLimit, max_bytes=settings.max_body_bytes, own_limit_paths=OWN_BODY_LIMIT_PATHS
    )
    # Outermost: every answer, a refusal of the body limit too, carries its X-Request-ID.
    app.add_middleware(RequestIds)
    app.include_router(auth_router)
    app.include_router(chat_intake_router)
    app.include_router(console_router)
    app.include_router(staff_router)
    app.include_router(tickets_router)
    app.include_router(followups_router)
    app.include_router(audit_router)
    app.include_router(attachments_router)
    app.include_router(attachment_upload_router)
    # E-mail over HTTP is signed with the intake secret: off while it is unset (docs/security.md).
    app.include_router(email_intake_router, dependencies=[Depends(require_intake_secret)])
    app.include_router(kakao_intake_router)
    app.include_router(line_intake_router)
    app.include_router(phone_router)
    app.include_router(phone_events_router)
    app.include_router(webchat_router)
    app.include_router(merge_router)
    app.include_router(replies_router)
    app.include_router(alerts_router)
    app.include_router(reports_router)
    app.include_router(metrics_router)
    install_api_docs(app)
    install_pages(app, settings)

    @app.get("/healthz", tags=["ops"], response_model=HealthOut)
    def healthz() -> JSONResponse:
        """200 once the database answers; 503 while it does not."""
        try:
            with db.read_session() as session:
                ping(session)
        except Exception as exc:  # noqa: BLE001 - any failure means "not healthy"
            log.warning("health check failed: %s", type(exc).__name__)
            return JSONResponse(HealthOut(status="unavailable").model_dump(), status_code=503)
        return JSONResponse(HealthOut(status="ok").model_dump())

    @app.get("/readyz", tags=["ops"], response_model=ReadinessOut)
    def readyz() -> JSONResponse:
        """200 when the schema is current and the intake writer, the relay and the scheduler
        run; 503 naming each part that is not ready."""
        ready, body = readiness(ctx)
        out = ReadinessOut.model_validate(body).model_dump(by_alias=True, exclude_unset=True)
        return JSONResponse(out, status_code=200 if ready else 503)

    return app
