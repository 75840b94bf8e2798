"""The API's URL patterns come first (portal/urls.py; issue 9 item 5): an API call is no longer
matched against every page pattern of the portal before its own, and no path resolves to another
view than before (no page pattern can match an API path, nor an API pattern a page's path)."""

from __future__ import annotations

from typing import Any

from django.urls import URLPattern, URLResolver, resolve, reverse
from django.urls import resolvers as url_resolvers

SAMPLE_KWARGS = {"reference": "LRP-2026-000042", "attachment_id": 7, "file_id": 8, "form_id": 9, "token_id": 3,
                 "officer_id": 4, "token": "abc", "rest": "1/change/", "uidb36": "x", "key": "k"}


def named_patterns(patterns: list[Any], namespace: str = "") -> list[tuple[str, URLPattern]]:
    found: list[tuple[str, URLPattern]] = []
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            found += named_patterns(entry.url_patterns, inner)
        elif entry.name:
            found.append((f"{namespace}{entry.name}", entry))
    return found


def sample_path(name: str, pattern: URLPattern) -> str | None:
    names = list(pattern.pattern.regex.groupindex)
    if any(n not in SAMPLE_KWARGS for n in names):
        return None
    return reverse(name, kwargs={n: SAMPLE_KWARGS[n] for n in names} or None)


def test_an_api_call_is_matched_against_no_page_pattern(monkeypatch):
    tried: list[str] = []
    original = url_resolvers.URLPattern.resolve

    def counted(self: URLPattern, path: str) -> Any:
        tried.append(self.lookup_str)
        return original(self, path)

    monkeypatch.setattr(url_resolvers.URLPattern, "resolve", counted)
    match = resolve("/api/v1/requests/")
    assert match.view_name == "api:request-list"
    pages = [name for name in tried if name.startswith(("requests_app.web", "requests_app.views"))]
    assert pages == [], f"{len(pages)} page patterns tried first: {pages[:5]}"
    assert len(tried) <= 2


def test_every_page_and_api_path_resolves_to_its_own_view():
    """Every named pattern of the portal's pages and of the API, filled with sample arguments,
    resolves to its own view; the API's are the ones under /api/."""
    from requests_app.api import urls as api_urls
    from requests_app.web import urls as web_urls

    ours = named_patterns(web_urls.urlpatterns, "portal:") + named_patterns(api_urls.urlpatterns, "api:")
    assert len(ours) > 30
    for name, pattern in ours:
        path = sample_path(name, pattern)
        assert path is not None, f"no sample arguments for {name}: add them to SAMPLE_KWARGS"
        match = resolve(path)
        assert match.view_name == name, (path, match.view_name)
        assert path.startswith("/api/") == name.startswith("api:"), path
