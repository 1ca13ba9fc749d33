"""RFC 3161 time-stamp authorities: the setting's check and the well-known public ones.

No TSA is used by default (signing then contacts nobody). A TSA whose root is on the C2PA TSA
Trust List gives a time every C2PA validator trusts; the others still time-stamp, and read as
"time-stamp authority not on your trust list" until the user trusts their root.
"""

from __future__ import annotations

from urllib.parse import urlsplit

# (label, URL) of widely used public TSAs, offered in Settings and documented in the README.
WELL_KNOWN = [
    ("DigiCert", "http://timestamp.digicert.com"),
    ("SSL.com", "http://ts.ssl.com"),
    ("Sectigo", "http://timestamp.sectigo.com"),
]


def check_tsa_url(text: str) -> str:
    """The URL to store ("" for none), or ValueError with a sentence for the user."""
    url = (text or "").strip()
    if url.lower() in ("", "none"):
        return ""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"{text!r} is not an http(s) URL of a time-stamp authority "
                         "(for example http://timestamp.digicert.com).")
    if parts.username or parts.password:
        raise ValueError("A time-stamp authority URL must not carry a user name or password.")
    return url
