"""Bearer tokens with scopes: `read` (the /v1 read API) and `ingest` (the HR ingest API).

Tokens come from the settings (the environment or .dlt/secrets.toml), never from a request or a
log. Anonymous reading is a switch for open data (GOURMAND_API_ANONYMOUS_READ).
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterable, Mapping
from typing import Annotated, Any

from fastapi import Header, HTTPException


class Tokens:
    """token -> the scopes it grants."""

    def __init__(self, grants: Mapping[str, Iterable[str]], anonymous: Iterable[str] = ()) -> None:
        self.grants = {token: frozenset(scopes) for token, scopes in grants.items() if token}
        self.anonymous = frozenset(anonymous)

    def scopes(self, authorization: str | None) -> frozenset[str] | None:
        """The scopes of the request's bearer token; None when it names no known token."""
        scheme, _, given = (authorization or "").partition(" ")
        if scheme.lower() != "bearer":  # the scheme is case-insensitive (RFC 9110 11.1)
            return None
        for token, scopes in self.grants.items():
            # compared in constant time: the comparison tells nothing of a near miss
            if hmac.compare_digest(given.strip().encode(), token.encode()):
                return scopes
        return None

    def require(self, scope: str) -> Callable[..., Any]:
        """A FastAPI dependency: the request may go on only with `scope`."""

        # async: FastAPI runs a plain function in its thread pool, a hop that costs more than
        # the check itself on every request
        async def check(authorization: Annotated[str | None, Header()] = None) -> None:
            if authorization is None and scope in self.anonymous:
                return
            granted = self.scopes(authorization)
            if granted is None:
                raise HTTPException(401, "missing or wrong token", {"WWW-Authenticate": "Bearer"})
            if scope not in granted:
                raise HTTPException(403, f"this token does not have the {scope} scope")

        return check
