"""An HTTP client for the live tests: a person's browser without the JavaScript.

Standard library only, and never the application: everything the live tests learn of the
service comes over HTTP (or, to check figures, from the raw tables). Cookies are kept per
client; forms are read from the page and sent back with their current values, as a browser
would, plus what the test types.
"""

from __future__ import annotations

import http.cookiejar
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from html.parser import HTMLParser

TIMEOUT = 60


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@dataclass
class Response:
    url: str
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    @property
    def is_html(self) -> bool:
        return self.content_type == "text/html"

    @property
    def location(self) -> str | None:
        return self.headers.get("location")


@dataclass
class Form:
    """A form as a browser would send it: its action, method and the values it holds."""

    action: str
    method: str
    fields: list[tuple[str, str]] = field(default_factory=list)
    #: Names of the submit buttons with their values (one is sent, the clicked one).
    buttons: list[tuple[str, str]] = field(default_factory=list)
    #: Every <select>'s options: name -> [(value, label)].
    options: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    #: Radio buttons and check boxes: name -> [values].
    choices: dict[str, list[str]] = field(default_factory=dict)
    attrs: dict[str, str] = field(default_factory=dict)

    def values(self, **changes) -> list[tuple[str, str]]:
        """The fields with ``changes`` applied (a list value sends the name several times,
        ``None`` leaves the field out)."""
        result = [(k, v) for k, v in self.fields if k not in changes]
        for name, value in changes.items():
            if value is None:
                continue
            if isinstance(value, list | tuple):
                result.extend((name, str(v)) for v in value)
            else:
                result.append((name, str(value)))
        return result


class _PageParser(HTMLParser):
    """Links, forms (with their fields) of a page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: str | None = None
        self._select_selected: str | None = None
        self._select_first: str | None = None
        self._option: dict | None = None
        self._textarea: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "a" and "href" in a:
            self.links.append(a["href"])
        elif tag == "form":
            self._form = Form(action=a.get("action", ""), method=a.get("method", "get").lower(),
                              attrs=a)
            self.forms.append(self._form)
        elif self._form is None:
            return
        elif tag == "input":
            kind = a.get("type", "text").lower()
            name = a.get("name")
            if not name:
                return
            if kind in ("submit", "image"):
                self._form.buttons.append((name, a.get("value", "")))
            elif kind in ("checkbox", "radio"):
                self._form.choices.setdefault(name, []).append(a.get("value", "on"))
                if "checked" in a:
                    self._form.fields.append((name, a.get("value", "on")))
            elif kind not in ("button", "reset", "file"):
                self._form.fields.append((name, a.get("value", "")))
        elif tag == "button":
            if a.get("type", "submit").lower() == "submit" and a.get("name"):
                self._form.buttons.append((a["name"], a.get("value", "")))
        elif tag == "select" and a.get("name"):
            self._select = a["name"]
            self._select_selected = None
            self._select_first = None
            self._form.options[self._select] = []
        elif tag == "option" and self._select is not None:
            self._option = {"value": a.get("value"), "selected": "selected" in a}
            self._text = []
        elif tag == "textarea" and a.get("name"):
            self._textarea = a["name"]
            self._text = []

    def handle_data(self, data):
        if self._option is not None or self._textarea is not None:
            self._text.append(data)

    def handle_endtag(self, tag):
        if tag == "option" and self._option is not None:
            label = "".join(self._text).strip()
            value = self._option["value"] if self._option["value"] is not None else label
            self._form.options[self._select].append((value, label))
            if self._select_first is None:
                self._select_first = value
            if self._option["selected"]:
                self._select_selected = value
            self._option = None
        elif tag == "select" and self._select is not None:
            chosen = self._select_selected if self._select_selected is not None \
                else self._select_first
            if chosen is not None:
                self._form.fields.append((self._select, chosen))
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            self._form.fields.append((self._textarea, "".join(self._text).lstrip("\n")))
            self._textarea = None
        elif tag == "form":
            self._form = None


def parse(html: str) -> _PageParser:
    parser = _PageParser()
    parser.feed(html)
    parser.close()
    return parser


class Client:
    """One person's browser: its own cookies, no JavaScript, redirects followed by hand."""

    def __init__(self, base: str, accept_language: str = "it"):
        self.base = base.rstrip("/")
        self.cookies = http.cookiejar.CookieJar()
        self.accept_language = accept_language
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies), NoRedirect())
        self.last: Response | None = None

    def url(self, path: str) -> str:
        return path if path.startswith("http") else self.base + path

    def request(self, method: str, path: str, data: list | dict | None = None,
                follow: bool = True, referer: str | None = None) -> Response:
        url = self.url(path)
        body = None
        if data is not None:
            body = urllib.parse.urlencode(data).encode()
        for _ in range(10):
            req = urllib.request.Request(url, data=body, method=method)
            req.add_header("Accept-Language", self.accept_language)
            if referer:
                req.add_header("Referer", referer)
            try:
                with self.opener.open(req, timeout=TIMEOUT) as raw:
                    response = Response(raw.geturl(), raw.status,
                                        {k.lower(): v for k, v in raw.headers.items()},
                                        raw.read())
            except urllib.error.HTTPError as error:
                response = Response(url, error.code,
                                    {k.lower(): v for k, v in error.headers.items()},
                                    error.read())
            if follow and response.status in (301, 302, 303, 307, 308) and response.location:
                url = urllib.parse.urljoin(url, response.location)
                if response.status in (301, 302, 303):
                    method, body = "GET", None
                continue
            self.last = response
            return response
        raise AssertionError(f"too many redirects from {path}")

    def get(self, path: str, **kwargs) -> Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, data: list | dict, **kwargs) -> Response:
        return self.request("POST", path, data, **kwargs)

    def forms(self, page: Response) -> list[Form]:
        return parse(page.text).forms

    def form(self, page: Response, action_contains: str = "", index: int = 0,
             has_field: str | None = None) -> Form:
        """The ``index``-th POST-or-GET form of ``page`` whose action contains
        ``action_contains`` (and that has the field ``has_field``)."""
        found = [f for f in self.forms(page) if action_contains in f.action
                 and (has_field is None or any(k == has_field for k, _ in f.fields)
                      or has_field in f.options or has_field in f.choices)]
        if len(found) <= index:
            actions = [f.action for f in self.forms(page)]
            raise AssertionError(f"no form {action_contains!r} on {page.url}: {actions}")
        return found[index]

    def submit(self, page: Response, form: Form, button: tuple[str, str] | None = None,
               **changes) -> Response:
        """Send ``form`` as a browser would, from ``page``, with ``changes`` typed in."""
        values = form.values(**changes)
        if button is not None:
            values.append(button)
        action = urllib.parse.urljoin(page.url, form.action or page.url)
        if form.method == "post":
            return self.post(action, values, referer=page.url)
        query = urllib.parse.urlencode(values)
        return self.get(action.split("?")[0] + "?" + query, referer=page.url)

    def login(self, email: str, password: str) -> Response:
        page = self.get("/login")
        home = self.submit(page, self.form(page, has_field="email"),
                           email=email, password=password)
        if home.status != 200 or 'name="password"' in home.text:
            raise AssertionError(f"login of {email} failed: {home.status} {home.url}")
        return home

    def set_locale(self, locale: str) -> Response:
        page = self.get("/")
        form = self.form(page, "/locale")
        return self.submit(page, form, locale=locale, next="/")


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    if not match:
        raise AssertionError("no CSRF token on the page")
    return match.group(1)
