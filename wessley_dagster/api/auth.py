"""Who is asking: a bearer JWT as Supabase issues it (HS256 with `SUPABASE_JWT_SECRET`, the user
id in `sub`, role `authenticated`, audience `authenticated` or `SUPABASE_JWT_AUDIENCE`), or the
project's service key (role `service_role`, no audience), which reaches every project. A project
the caller does not own answers exactly as one that does not exist, so that no response reveals
whether it does."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Annotated

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from wessley_dagster.api.backends import Backends
from wessley_dagster.api.errors import ApiError

bearer = HTTPBearer(auto_error=False, description="A Supabase JWT (HS256), or the service key")


@dataclass(frozen=True)
class Principal:
    user_id: str | None  # None for the service role
    service: bool

    def owns(self, owner: str | None) -> bool:
        return owner is not None and (self.service or owner == self.user_id)


# Dependencies are coroutines: they do no I/O, and a sync one would cost a thread hop per request.
async def backends(request: Request) -> Backends:
    return request.app.state.backends


Live = Annotated[Backends, Depends(backends)]


Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


async def principal(credentials: Credentials, live: Live) -> Principal:
    if credentials is None:
        raise ApiError(401, "unauthenticated", "an Authorization: Bearer token is required")
    try:
        claims = jwt.decode(
            credentials.credentials,
            live.jwt_secret,
            algorithms=["HS256"],
            options={"require": ["exp", "role"], "verify_aud": False},
        )
    except jwt.PyJWTError as exc:
        raise ApiError(401, "unauthenticated", f"the token is not valid: {exc}") from None
    if claims["role"] == "service_role":
        return Principal(None, service=True)
    if claims["role"] == "authenticated" and isinstance(claims.get("sub"), str) and claims["sub"]:
        audience = claims.get("aud")
        if live.jwt_audience not in (audience if isinstance(audience, list) else [audience]):
            raise ApiError(401, "unauthenticated", f"the token is not for this API's audience {live.jwt_audience!r}")
        return Principal(claims["sub"], service=False)
    raise ApiError(403, "forbidden", f"role {claims['role']!r} cannot use this API")


Who = Annotated[Principal, Depends(principal)]


def require_project(project_id: str, who: Principal, live: Backends) -> None:
    """The caller owns the project, or it is 404 as if it did not exist."""
    if not who.owns(live.metadata.project_owner(project_id)):
        raise ApiError(404, "not_found", f"no project {project_id!r}")


def issue_token(secret: bytes, user_id: str | None, ttl: int = 3600) -> str:
    """A token as Supabase Auth signs one: a user's, or with no user the service key."""
    now = int(time.time())
    claims = {"iss": "wessley-dagster", "iat": now, "exp": now + ttl}
    if user_id is None:
        claims["role"] = "service_role"
    else:
        claims |= {"role": "authenticated", "aud": "authenticated", "sub": user_id}
    return jwt.encode(claims, secret, algorithm="HS256")
