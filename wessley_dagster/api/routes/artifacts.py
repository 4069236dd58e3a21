"""Objects of the local artifacts folder behind the HMAC-signed URLs that job status hands out:
served until the URL's expiry, refused after it or when any part of it was altered."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from wessley_dagster.api.auth import Live
from wessley_dagster.api.errors import ERRORS, ApiError
from wessley_dagster.stores.objects import content_type
from wessley_dagster.stores.signing import SignatureError

router = APIRouter(tags=["artifacts"], responses={403: ERRORS[401], 404: ERRORS[404]})


@router.get(
    "/v1/artifacts/{key:path}", response_class=Response, responses={200: {"content": {"application/octet-stream": {}}}}
)
def artifact(
    live: Live,
    key: str,
    expires: Annotated[int, Query(description="Unix time after which the URL is refused")],
    signature: Annotated[str, Query(description="HMAC-SHA256 of the key and expiry")],
) -> Response:
    try:
        live.signer.verify(key, expires, signature)
    except SignatureError as exc:
        raise ApiError(403, "forbidden", str(exc)) from None
    try:
        data = live.local_artifacts.get(key) if live.local_artifacts is not None else None
    except ValueError:  # a key that escapes the folder or names a link: no such artifact
        data = None
    if data is None:
        raise ApiError(404, "not_found", "no such artifact")
    return Response(data, media_type=content_type(key))
