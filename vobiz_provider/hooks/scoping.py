"""Which hosts may receive the credentials, and where a redirect goes next (one rule for both transports)."""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

from vobiz_provider.hooks.settings import VobizSettings

MAX_REDIRECTS = 10
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


def host_allowed(settings: VobizSettings, url: str) -> bool:
    """Whether ``url``'s host (port ignored) is the API host or matches ``auth_hosts``."""
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    if not host:
        return False
    if host == settings.api_host:
        return True
    for pattern in settings.auth_hosts:
        # "*.example.com" matches any subdomain depth, not the bare domain.
        if (pattern.startswith("*.") and host.endswith(pattern[1:])) or host == pattern:
            return True
    return False


def credentials_for(settings: VobizSettings, url: str, *, origin: str | None = None) -> dict[str, str]:
    """The auth headers for a request to ``url``: none for a foreign host or an https-to-http downgrade."""
    if not host_allowed(settings, url):
        return {}
    if origin and urlsplit(origin).scheme == "https" and urlsplit(url).scheme != "https":
        return {}
    return settings.auth_headers


def redirect_target(current_url: str, status: int, location: str | None) -> str | None:
    """The next hop's absolute URL, or None when the answer is not a followable redirect."""
    if status not in REDIRECT_STATUSES or not location:
        return None
    return urljoin(current_url, location)


def redirect_method(method: str, status: int) -> str:
    """303 turns every method into GET; 307/308 keep it; 301/302 keep HEAD and GET (as browsers do)."""
    if status == 303 or (status in (301, 302) and method not in ("GET", "HEAD")):
        return "GET"
    return method
