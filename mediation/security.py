"""HTTP security headers and cookie flags, for every response.

The Content-Security-Policy allows scripts, styles, fonts and images from the
service itself only: no inline script, no inline style, no framing.
"""

from flask import Flask

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    # Bootstrap Italia's script adds two small <style> elements of its own at run time
    # (one of them empty): allowed by their hashes, not by 'unsafe-inline'.
    "style-src 'self' 'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=' "
    "'sha256-wPXhisdsFu1DtHYH1D9W5isSGqS5vIPn6QJWSNLqfCM='",
    "img-src 'self' data:",
    "font-src 'self' data:",  # Bootstrap Italia's stylesheet embeds an icon font
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])
HSTS = "max-age=31536000; includeSubDomains"


def _served_over_https(app: Flask) -> bool:
    return str(app.config.get("EXTERNAL_URL", "")).startswith("https://")


def configure_security(app: Flask) -> None:
    # Cookies travel over HTTPS only once the service is served over HTTPS (any real
    # deployment); the development server on http://127.0.0.1 keeps working.
    https = _served_over_https(app)
    for key in ("SESSION_COOKIE_SECURE", "REMEMBER_COOKIE_SECURE"):
        if app.config.get(key) is None:
            app.config[key] = https
    hsts = app.config.get("SECURITY_HSTS")
    if hsts is None:
        hsts = https

    @app.after_request
    def security_headers(response):
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if hsts:
            headers.setdefault("Strict-Transport-Security", HSTS)
        return response
