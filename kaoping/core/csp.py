"""Content-Security-Policy: pages run only the scripts they ship.

Django 5.2 has no CSP of its own. Scripts come from our own origin (HTMX and ECharts are
vendored) or are inline blocks carrying the request's nonce (`nonce="{{ csp_nonce }}"`); no
inline event handlers (`onclick=`), no eval. Styles may be inline (HTMX injects its indicator
style, templates use style attributes): a style cannot run code. Nothing may frame the pages.
"""

import secrets

from django.conf import settings

POLICY = (
    "default-src 'self'; "
    "script-src 'self' 'nonce-{nonce}'; "
    "style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; "
    "font-src 'self' data:; "
    "connect-src 'self'; "
    "media-src 'self' blob:; "
    "object-src 'none'; "
    "base-uri 'self'; "
    "form-action 'self'; "
    "frame-ancestors 'none'"
)


class ContentSecurityPolicyMiddleware:
    """Give each request a nonce and send the policy with every HTML page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.csp_nonce = secrets.token_urlsafe(16)
        response = self.get_response(request)
        content_type = response.get("Content-Type", "")
        if content_type.startswith("text/html") and "Content-Security-Policy" not in response:
            header = (
                "Content-Security-Policy-Report-Only"
                if getattr(settings, "CSP_REPORT_ONLY", False)
                else "Content-Security-Policy"
            )
            response[header] = POLICY.format(nonce=request.csp_nonce)
        return response


def csp_nonce(request) -> dict:
    """Template context: the nonce inline <script> blocks carry."""
    return {"csp_nonce": getattr(request, "csp_nonce", "")}
