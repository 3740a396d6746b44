"""Files over HTTP: a traveller's web-chat upload in, a case's files out to staff.

``GET /api/v1/attachments/{id}`` streams a file to doctors and EMTs only (managers and admins
see no medical data: 403), each read in the access log. The answer is built so a file can never
act as a page of this origin: ``X-Content-Type-Options: nosniff``, the type decided on intake,
and a sandboxing ``Content-Security-Policy`` (a PDF's lets the browser's own viewer run, no
script of the file's).

``POST /api/v1/webchat/attachments`` reads the multipart body as it arrives, straight into the
store's incoming folder (never whole in memory), so a 20 MB photo costs a few kilobytes of
memory; the shared body limit leaves this path to its own (``CONSULT119_MAX_ATTACHMENT_BYTES``).
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, Response
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.concurrency import run_in_threadpool

from consult119.attachments import service
from consult119.attachments.schemas import UploadPublic
from consult119.attachments.store import Spool, TooLarge
from consult119.audit import service as audit
from consult119.auth.deps import client_ip, require_roles
from consult119.channels.webchat.tokens import SOURCE
from consult119.context import AppContext, ContextDep
from consult119.errors import Invalid, NotFound, PayloadTooLarge, UnsupportedMediaType
from consult119.i18n import lazy_gettext as _l
from consult119.staff.models import Role, Staff
from consult119.tickets import repository as tickets_repo
from consult119.types import PathId

router = APIRouter(prefix="/api/v1/attachments", tags=["attachments"])
upload_router = APIRouter(tags=["webchat"])

#: Who reads files: those who treat (docs/security.md).
Clinician = Annotated[Staff, Depends(require_roles(Role.DOCTOR, Role.EMT))]

#: The paths that read their own body (main.OWN_BODY_LIMIT_PATHS).
UPLOAD_PATH = "/api/v1/webchat/attachments"
STAFF_UPLOAD_PATH = "/api/v1/attachments"
#: Room for the multipart framing around the file.
MULTIPART_OVERHEAD = 16 * 1024
#: A file may only be looked at, never run: no script, no plugin, no form, no navigation.
SANDBOX_CSP = "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"
#: The browser's PDF viewer does not run in a sandboxed document; a PDF gets no sandbox but
#: still no script, connection or frame of its own.
PDF_CSP = (
    "default-src 'none'; object-src 'self'; plugin-types application/pdf; frame-ancestors 'self'"
)


def _file_headers(filename: str, content_type: str) -> dict[str, str]:
    ascii_name = filename.encode("ascii", "replace").decode().replace('"', "_").replace("?", "_")
    return {
        "Content-Disposition": f"inline; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": PDF_CSP if content_type == "application/pdf" else SANDBOX_CSP,
        "Cache-Control": "private, no-store",
        "Cross-Origin-Resource-Policy": "same-origin",
    }


def _read(ctx: AppContext, staff: Staff, attachment_id: int, request: Request, action: str):  # noqa: ANN202
    with ctx.db.unit_of_work() as session:
        att, ticket_id = service.for_staff(session, attachment_id)
        audit.record(
            session,
            staff_id=staff.id,
            action=action,
            ticket_id=ticket_id,
            client_ip=client_ip(request),
            detail={"attachment_id": attachment_id},
            at=ctx.now(),
        )
    return att


@router.get("/{attachment_id}", response_class=FileResponse)
def read_file(
    ctx: ContextDep, staff: Clinician, attachment_id: PathId, request: Request
) -> Response:
    """The file itself, streamed. Every read is in the access log."""
    att = _read(ctx, staff, attachment_id, request, audit.VIEW_ATTACHMENT)
    path = service.file_of(service.store_of(ctx.settings), att)
    if not path.exists():
        raise NotFound("attachment_missing", _l("The file is missing from the store."))
    return FileResponse(
        path, media_type=att.content_type, headers=_file_headers(att.filename, att.content_type)
    )


@router.get("/{attachment_id}/thumbnail", response_class=FileResponse)
def read_thumbnail(
    ctx: ContextDep, staff: Clinician, attachment_id: PathId, request: Request
) -> Response:
    """A small JPEG of an image (made on first request, then kept); 404 for a PDF."""
    att = _read(ctx, staff, attachment_id, request, audit.VIEW_THUMBNAIL)
    store = service.store_of(ctx.settings)
    if not service.file_of(store, att).exists():
        raise NotFound("attachment_missing", _l("The file is missing from the store."))
    path = service.thumbnail_of(store, att)
    if path is None:
        raise NotFound("no_thumbnail", _l("This file has no thumbnail."))
    return FileResponse(
        path, media_type="image/jpeg", headers=_file_headers("thumbnail.jpg", "image/jpeg")
    )


# ---- the traveller's upload ---------------------------------------------------------------------


def _bearer(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


@upload_router.post(UPLOAD_PATH, status_code=201, response_model=UploadPublic)
async def upload(request: Request, ctx: ContextDep) -> UploadPublic:
    """A file for the traveller's next message (multipart field ``file``), checked, stored."""
    token = _bearer(request)
    now = ctx.now()

    def find_session() -> tuple[int, str]:
        with ctx.db.read_session() as session:
            row = service.webchat_session_of(session, token, now=now)
            assert row.id is not None
            return row.id, row.sid

    session_id, sid = await run_in_threadpool(find_session)
    ctx.limiter.check(f"webchat-upload:{sid}")
    stored = await _receive_upload(request, ctx)

    def save() -> UploadPublic:
        with ctx.db.unit_of_work() as session:
            row = service.add_upload(session, stored, webchat_session_id=session_id, now=now)
            return UploadPublic.model_validate(row)

    return await run_in_threadpool(save)


@router.post("", status_code=201, response_model=UploadPublic)
async def staff_upload(request: Request, ctx: ContextDep, staff: Clinician) -> UploadPublic:
    """A file for the uploader's next reply (doctor, EMT; multipart field ``file``), checked and
    stored like a traveller's: only its uploader may send it, on a channel that carries files."""
    ctx.limiter.check(f"staff-upload:{staff.id}")
    stored = await _receive_upload(request, ctx)
    now = ctx.now()

    def save() -> UploadPublic:
        assert staff.id is not None
        with ctx.db.unit_of_work() as session:
            row = service.add_staff_upload(session, stored, staff_id=staff.id, now=now)
            return UploadPublic.model_validate(row)

    return await run_in_threadpool(save)


@upload_router.get(UPLOAD_PATH + "/{attachment_id}", response_class=FileResponse)
def traveller_read(request: Request, ctx: ContextDep, attachment_id: PathId) -> Response:
    """A file of the traveller's own case (theirs, or one staff sent them), with their web-chat
    token; 404 for any other file (another case's, an internal note's, an unsent upload)."""
    token = _bearer(request)
    with ctx.db.read_session() as session:
        row = service.webchat_session_of(session, token, now=ctx.now())
        contact_id = tickets_repo.find_contact_id(session, SOURCE, row.sid)
        att = service.traveller_file(session, attachment_id, contact_id)
    path = service.file_of(service.store_of(ctx.settings), att)
    if not path.exists():
        raise NotFound("attachment_missing", _l("The file is missing from the store."))
    return FileResponse(
        path, media_type=att.content_type, headers=_file_headers(att.filename, att.content_type)
    )


async def _receive_upload(request: Request, ctx: AppContext) -> service.StoredFile:
    """The multipart body's field ``file`` streamed into the store, its type checked, an image
    re-encoded: the stored file, or the 4xx of a refusal."""
    limit = ctx.settings.max_attachment_bytes
    media, params = parse_options_header(request.headers.get("content-type", ""))
    boundary = params.get(b"boundary")
    if media != b"multipart/form-data" or not boundary:
        raise UnsupportedMediaType(
            "unsupported_media_type", _l("Send the file as multipart/form-data, field file.")
        )
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit + MULTIPART_OVERHEAD:
        raise _too_large(limit)
    store = service.store_of(ctx.settings)
    with store.spool(limit=limit) as spool:
        filename = await _receive_file(request, spool, boundary, limit)
        try:
            return await run_in_threadpool(service.accept, store, spool, filename)
        except service.Refused as refused:
            raise _refusal(refused) from None


async def _receive_file(request: Request, spool: Spool, boundary: bytes, limit: int) -> str:
    """Stream the body through the multipart parser into ``spool``; the file's name."""
    state: dict[str, object] = {"field": b"", "value": b"", "headers": {}, "in_file": False}
    found: dict[str, object] = {}

    def on_header_field(data: bytes, start: int, end: int) -> None:
        state["field"] = bytes(state["field"]) + data[start:end]  # type: ignore[arg-type]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        state["value"] = bytes(state["value"]) + data[start:end]  # type: ignore[arg-type]

    def on_header_end() -> None:
        headers = state["headers"]
        assert isinstance(headers, dict)
        headers[bytes(state["field"]).lower()] = bytes(state["value"])  # type: ignore[arg-type]
        state["field"] = state["value"] = b""

    def on_headers_finished() -> None:
        headers = state["headers"]
        assert isinstance(headers, dict)
        _, options = parse_options_header(headers.get(b"content-disposition", b""))
        is_file = options.get(b"name") == b"file" and "file" not in found
        state["in_file"] = is_file
        if is_file:
            found["file"] = options.get(b"filename", b"").decode("utf-8", "replace")

    def on_part_data(data: bytes, start: int, end: int) -> None:
        if state["in_file"]:
            spool.write(data[start:end])

    def on_part_end() -> None:
        state["in_file"] = False
        state["headers"] = {}

    parser = MultipartParser(
        boundary,
        {
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_headers_finished": on_headers_finished,
            "on_part_data": on_part_data,
            "on_part_end": on_part_end,
        },
    )
    received = 0
    try:
        async for chunk in request.stream():
            received += len(chunk)
            if received > limit + MULTIPART_OVERHEAD:
                raise TooLarge
            parser.write(chunk)
        parser.finalize()
    except TooLarge:
        raise _too_large(limit) from None
    except Exception as exc:  # the parser's own errors: a body that is not multipart
        raise Invalid("invalid_multipart", _l("The body is not a valid multipart form.")) from exc
    if "file" not in found:
        raise Invalid("missing_file", _l("Send the file in the form field file."), field="file")
    return str(found["file"])


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        "attachment_too_large", _l("A file may be at most {max_bytes:,} bytes.", max_bytes=limit)
    )


def _refusal(refused: service.Refused) -> Exception:
    if refused.code == "unsupported_type":
        return UnsupportedMediaType(
            "attachment_type_not_accepted",
            _l("Only photos (JPEG, PNG, WebP, HEIC, GIF) and PDF files are accepted."),
        )
    if refused.code == "too_large":
        return PayloadTooLarge("attachment_too_large", _l("The file is too large."))
    return Invalid("attachment_unreadable", _l("The image could not be opened; send it again."))
