"""The dashboard: ``GET /dashboard``, an HTML page over the analytics routes, and its static assets.

The page (``service/dashboard/``: ``index.html``, ``dashboard.js``, ``categories.js``, ``discover.js``) and the
chart code, words and styles it shares with the HTML report (``nlp/analytics/charts/``, package data of ``nlp``)
hold no data, so they are served without a key; the page asks for an API key once, keeps it in the browser tab's
sessionStorage and sends it as ``X-API-Key`` to the ``/v1`` routes, which check it as for any client. Charts are
drawn with plotly.js's basic bundle (scatter and bar traces, MIT, vendored as
``nlp/analytics/charts/vendor/plotly-basic.min.js``: 1.2 MB against 4.8 MB for the full bundle, which a browser
takes about a second longer to compile on a slow core): nothing is fetched from the internet, and the page's
Content-Security-Policy lets it load scripts and data from this server only.

Asset URLs carry a digest of their content (``assets/charts.js?v=…``), so browsers may keep them for a year
and fetch again only when an upgrade changes them; text assets are sent gzip-compressed when the browser
accepts it (plotly.js: 1.2 MB → 0.4 MB). ``prepare_assets`` reads, hashes and compresses them all once, in a
background thread at startup, so the first browser does not wait for it.
"""

from __future__ import annotations

import gzip
import hashlib
import re
import threading
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import HTMLResponse

from nlp.resources import chart_assets_dir

DASHBOARD_DIR = Path(__file__).resolve().parent.parent / "dashboard"
_MEDIA_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
_SHARED = ("dashboard.css", "i18n.js", "charts.js", "vendor/plotly-basic.min.js")  # also inlined by the report
_OWN = ("categories.js", "discover.js", "dashboard.js")  # the page's own scripts
_ASSETS = {**{name: chart_assets_dir() / name for name in _SHARED}, **{name: DASHBOARD_DIR / name for name in _OWN}}
_PLACEHOLDER = re.compile(r"\{\{asset:([a-z0-9.\-/]+)\}\}")

CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                           "img-src 'self' data: blob:; connect-src 'self'; font-src 'self' data:; "
                           "object-src 'none'; base-uri 'self'; frame-ancestors 'none'")

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class Asset:
    body: bytes
    media_type: str
    digest: str

    @cached_property
    def gzipped(self) -> bytes:
        """Compressed on first use, not when the page is built."""
        return gzip.compress(self.body, compresslevel=6, mtime=0)


@cache
def asset(name: str) -> Asset:
    """A static asset of the page, read once."""
    if name not in _ASSETS:
        raise HTTPException(404, "the dashboard has no such asset")
    path = _ASSETS[name]
    body = path.read_bytes()
    return Asset(body=body, media_type=_MEDIA_TYPES[path.suffix], digest=hashlib.sha256(body).hexdigest()[:16])


@cache
def page() -> str:
    """The page with each ``{{asset:NAME}}`` replaced by the asset's versioned URL (relative, so the page also
    works behind a reverse proxy that serves the service under a path prefix)."""
    html = (DASHBOARD_DIR / "index.html").read_text(encoding="utf-8")
    return _PLACEHOLDER.sub(lambda m: f"dashboard/assets/{m[1]}?v={asset(m[1]).digest}", html)


def prepare_assets() -> threading.Thread:
    """Read, hash and gzip every asset and build the page in a daemon thread (work that would otherwise fall
    on the first page load)."""
    def work() -> None:
        for name in _ASSETS:
            _ = asset(name).gzipped
        page()

    thread = threading.Thread(target=work, name="dashboard-assets", daemon=True)
    thread.start()
    return thread


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard() -> HTMLResponse:
    """The dashboard page (no data in it: the page fetches /v1 with the key it asks for)."""
    return HTMLResponse(page(), headers={"Content-Security-Policy": CONTENT_SECURITY_POLICY,
                                         "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY"})


@router.get("/dashboard/assets/{name:path}")
def dashboard_asset(name: str, request: Request) -> Response:
    """A script or style sheet of the page; cacheable for a year (its URL changes with its content)."""
    found = asset(name)
    etag = f'"{found.digest}"'
    headers = {"Cache-Control": "public, max-age=31536000, immutable", "ETag": etag, "Vary": "Accept-Encoding"}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    if "gzip" in request.headers.get("accept-encoding", ""):
        return Response(found.gzipped, media_type=found.media_type, headers={**headers, "Content-Encoding": "gzip"})
    return Response(found.body, media_type=found.media_type, headers=headers)
