"""Drive the running demo service like a person: log in as each demo role, in it and en.

Usage: smoke.py BASE_URL LOG_FILE. The logins are read from what `flask demo`
printed into LOG_FILE. Exits non-zero with a message on the first problem.
"""

import http.cookiejar
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

# A phrase each role's home page shows, in Italian and in English.
HOME_MARKERS = {
    "teacher": ("Ultime richieste", "Latest requests"),
    "lead": ("Ultime richieste", "Latest requests"),
    "mediator": ("La mia agenda", "My agenda"),
    "coordinator": ("Richieste in attesa di un mediatore", "Requests waiting for a mediator"),
    "admin": ("Quadro regionale", "Regional overview"),
}


def fail(message: str) -> None:
    print(f"smoke: {message}", file=sys.stderr)
    sys.exit(1)


def wait_for(base: str, log_file: str, seconds: int = 300) -> list[tuple[str, str]]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(base + "/login", timeout=5)
            break
        except (urllib.error.URLError, ConnectionError):
            time.sleep(1)
    else:
        fail(f"{base} did not answer within {seconds} s")
    with open(log_file, encoding="utf-8") as f:
        log = f.read()
    password = re.search(r"Demo logins \(password: (\S+)\):", log)
    if not password:
        fail("`flask demo` did not print the demo logins")
    logins = re.findall(r"^\s+(teacher|lead|mediator|coordinator|admin)\s+(\S+@\S+)", log, re.M)
    return password.group(1), logins


class Browser:
    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def get(self, path: str) -> str:
        with self.opener.open(self.base + path, timeout=30) as response:
            return response.read().decode()

    def post(self, path: str, data: dict, csrf_from: str) -> str:
        page = self.get(csrf_from)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
        if not token:
            fail(f"no CSRF token on {csrf_from}")
        body = urllib.parse.urlencode({**data, "csrf_token": token.group(1)}).encode()
        with self.opener.open(self.base + path, body, timeout=30) as response:
            return response.read().decode()


def main() -> None:
    base, log_file = sys.argv[1], sys.argv[2]
    password, logins = wait_for(base, log_file)
    seen = {role for role, _ in logins}
    if seen != set(HOME_MARKERS):
        fail(f"demo logins cover {sorted(seen)}, expected every role")
    for role, email in logins:
        browser = Browser(base)
        home = browser.post("/login", {"email": email, "password": password}, "/login")
        markers = dict(zip(("it", "en"), HOME_MARKERS[role], strict=True))
        # Italian by default; the demo has one teacher who chose English on her account.
        first = "en" if '<html lang="en"' in home else "it"
        if f'<html lang="{first}"' not in home or markers[first] not in home:
            fail(f"{role} {email}: the home page is not the {role} page")
        other = "it" if first == "en" else "en"
        home = browser.post("/locale", {"locale": other, "next": "/"}, "/")
        if f'<html lang="{other}"' not in home or markers[other] not in home:
            fail(f"{role} {email}: the home page did not switch to {other}")
        print(f"smoke: {role:<12} {email:<45} home page ok in {first}, then {other}")
    print(f"smoke: {len(logins)} demo logins checked")


if __name__ == "__main__":
    main()
