"""The sandbox: local, seeded stand-ins for the Yelp Fusion, Census PEP and states-page APIs."""

from extract.sandbox.config import SandboxConfig
from extract.sandbox.server import SandboxServer

__all__ = ["SandboxConfig", "SandboxServer"]
