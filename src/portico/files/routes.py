"""HTTP routes of the files API: ``/v1/files`` (OpenAI's shape) over a FileService."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from portico.errors import InvalidRequest, PayloadTooLarge
from portico.files.access import owner_of
from portico.files.records import UPLOAD_PURPOSES
from portico.files.service import MAX_LIST, FileService

# Multipart framing around the file: boundaries, headers and the small form fields.
_FORM_OVERHEAD = 64 * 1024


def _expires_after(form: Any) -> float | None:
    anchor = form.get("expires_after[anchor]")
    seconds = form.get("expires_after[seconds]")
    if anchor is None and seconds is None:
        return None
    if anchor != "created_at":
        raise InvalidRequest("expires_after[anchor] must be 'created_at'.", param="expires_after.anchor")
    try:
        value = int(str(seconds))
    except ValueError:
        raise InvalidRequest("expires_after[seconds] must be an integer.", param="expires_after.seconds") from None
    if not 3600 <= value <= 2_592_000:
        raise InvalidRequest(
            "expires_after[seconds] must be between 3600 (1 hour) and 2592000 (30 days).",
            param="expires_after.seconds",
        )
    return float(value)


def files_router(service: FileService) -> APIRouter:
    """Mounted with ``Access.KEY``: the door checked the key; the owner is the door's grant."""
    router = APIRouter(prefix="/v1/files", tags=["files"])

    @router.post("")
    async def create_file(request: Request) -> dict[str, Any]:
        owner = owner_of(request.scope)
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > service.max_bytes + _FORM_OVERHEAD:
            raise PayloadTooLarge(f"The upload is {declared} bytes; the file limit is {service.max_bytes} bytes.")
        if not request.headers.get("content-type", "").startswith("multipart/form-data"):
            raise InvalidRequest("Upload files as multipart/form-data with fields 'file' and 'purpose'.")
        try:
            form_cm = request.form(max_files=1, max_fields=16)
            async with form_cm as form:
                upload = form.get("file")
                purpose = form.get("purpose")
                if not isinstance(upload, UploadFile):
                    raise InvalidRequest("Missing the 'file' part of the upload.", param="file")
                if not isinstance(purpose, str) or not purpose:
                    raise InvalidRequest("Missing 'purpose'.", param="purpose")
                if purpose not in UPLOAD_PURPOSES:
                    raise InvalidRequest(
                        f"Invalid purpose '{purpose}'; expected one of {', '.join(sorted(UPLOAD_PURPOSES))}.",
                        param="purpose",
                    )
                expires = _expires_after(form)
                data = await upload.read(service.max_bytes + 1)
                name = upload.filename or "upload"
        except (InvalidRequest, PayloadTooLarge):
            raise
        except Exception as exc:  # the multipart parser's own errors (malformed body, too many parts)
            raise InvalidRequest(f"Could not parse the multipart upload: {exc}.") from None
        record = await service.create(owner.id, purpose, name, data, expires_after_s=expires)
        return record.public()

    @router.get("")
    async def list_files(
        request: Request,
        purpose: str | None = None,
        after: str | None = None,
        limit: Annotated[int, Query(ge=1, le=MAX_LIST)] = MAX_LIST,
        order: Literal["asc", "desc"] = "desc",
    ) -> dict[str, Any]:
        owner = owner_of(request.scope)
        page = await service.list(owner.id, purpose=purpose, after=after, limit=limit, order=order)
        return page.public()

    @router.get("/{file_id}")
    async def retrieve_file(request: Request, file_id: str) -> dict[str, Any]:
        owner = owner_of(request.scope)
        return (await service.get(owner.id, file_id)).public()

    @router.get("/{file_id}/content")
    async def file_content(request: Request, file_id: str) -> Response:
        owner = owner_of(request.scope)
        data = await service.content(owner.id, file_id)
        return Response(content=data, media_type="application/octet-stream")

    @router.delete("/{file_id}")
    async def delete_file(request: Request, file_id: str) -> dict[str, Any]:
        owner = owner_of(request.scope)
        record = await service.delete(owner.id, file_id)
        return {"id": record.id, "object": "file", "deleted": True}

    return router
