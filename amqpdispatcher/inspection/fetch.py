"""HTTP GETs of the management API and of a daemon's endpoint, with the standard library and
a time limit."""

from __future__ import annotations

import http.client
import urllib.error
import urllib.request
from urllib.parse import urlsplit

TIMEOUT = 5.0  # seconds for each request


class Unreachable(Exception):
    """No HTTP answer: the text says why (refused, timed out, not HTTP)."""


def http_url_problem(url: str) -> str | None:
    """What is wrong with `url` as the base URL of an HTTP endpoint, or None."""
    try:
        parts = urlsplit(url)
        port = parts.port  # ValueError for one out of range
    except ValueError as exc:
        return str(exc)
    if parts.scheme not in ("http", "https") or not parts.hostname or port == 0:
        return "expected http[s]://HOST[:PORT][/PATH]"
    if parts.query or parts.fragment:
        return "expected no query nor fragment"
    return None


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    """The status and body of a GET of `url`, whatever the status; Unreachable without one."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            return response.status, response.read().decode(errors="replace")
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.read().decode(errors="replace")
    except urllib.error.URLError as error:
        raise Unreachable(str(error.reason)) from None
    except (OSError, http.client.HTTPException) as error:
        raise Unreachable(str(error) or type(error).__name__) from None
