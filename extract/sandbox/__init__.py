"""The sandbox: local, seeded stand-ins for the Yelp Fusion, Census PEP and states-page APIs.

The server and its config are loaded when first asked for (PEP 562): every `gourmand` command
imports `extract.sandbox.process` to find or start the home's sandbox, and loading the server's
data generators with it was ~1 s of each command's start-up."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from extract.sandbox.config import SandboxConfig
    from extract.sandbox.server import SandboxServer

__all__ = ["SandboxConfig", "SandboxServer"]


def __getattr__(name: str) -> Any:
    if name == "SandboxConfig":
        from extract.sandbox.config import SandboxConfig

        return SandboxConfig
    if name == "SandboxServer":
        from extract.sandbox.server import SandboxServer

        return SandboxServer
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
