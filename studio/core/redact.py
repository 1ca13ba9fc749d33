"""Secrets out of text: RPC and service URLs carry API keys anywhere after the host.

Everything after the host of a URL (path, query, fragment) and any userinfo is treated as
secret: providers put keys in paths (``/v3/<key>``, ``/v2/<key>``, short ones too), in queries
and in userinfo, and no pattern tells a key from a path reliably. Shared by the chain layer,
publishing and the logging filter, so none of them depends on another for it.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

REDACTED = "***"
_URL = re.compile(r"\b(?:https?|wss?)://[^\s'\"<>()\[\]{},]+", re.IGNORECASE)


def url_has_secret(url: str) -> bool:
    """True when anything follows the host (a path other than "/", a query, a fragment) or
    the URL carries userinfo."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return True
    return bool(parts.username or parts.password or parts.query or parts.fragment
                or parts.path.strip("/"))


def redact_url(url: str) -> str:
    """``scheme://host:port`` plus ``/***`` where anything followed the host."""
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return REDACTED
    if port:
        host = f"{host}:{port}"
    if parts.username or parts.password:
        host = f"{REDACTED}@{host}"
    hidden = parts.path.strip("/") or parts.query or parts.fragment
    path = f"/{REDACTED}" if hidden else parts.path
    return urlunsplit((parts.scheme, host, path, "", ""))


def redact_urls(text: str) -> str:
    """``text`` with every http(s)/ws(s) URL in it redacted."""
    return _URL.sub(lambda m: redact_url(m.group(0)), text)
