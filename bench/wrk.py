"""The pages of `make bench`, measured with wrk (Debian's `wrk`, a C load generator).

Locust, in Python, spends about as much CPU per request as a cheap page, on the same two cores
as the server: a page's time measured through it divides by its own overhead and queueing. wrk
costs a few per cent of that, and the driver reads the CPU the server's processes spent while
it ran: a page's cost is the web CPU per request, and its ratio the same for the bare view.

Logging in is done here, with the standard library (a login is a deliberately slow password
hash: it is retried, not measured); wrk then sends the session cookie with every request.
"""

import http.cookiejar
import re
import shutil
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request

from bench.forms import post_form


class LoginFailed(Exception):
    pass


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def login(host: str, email: str, password: str, *, path="/login/", tries=4) -> str:
    """The Cookie header of a signed-in session; retried with a growing pause (a busy server
    may time out one login), LoginFailed after the last try."""
    problem = ""
    for attempt in range(tries):
        if attempt:
            time.sleep(2 * attempt)
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), _NoRedirect())
        try:
            with opener.open(f"{host}{path}", timeout=30) as response:
                form = post_form(response.read().decode(), containing="username")
            body = urllib.parse.urlencode(form.values(username=email, password=password))
            request = urllib.request.Request(
                f"{host}{path}",
                data=body.encode(),
                headers={
                    "Content-Type": "application/x-www-form-urlencoded",
                    "Referer": f"{host}{path}",
                },
            )
            try:
                opener.open(request, timeout=30)
                problem = "the login page answered 200: wrong password?"
                continue
            except urllib.error.HTTPError as answer:
                if answer.code != 302:
                    problem = f"login answered {answer.code}"
                    continue
        except (OSError, ValueError) as error:
            problem = str(error)
            continue
        cookies = {cookie.name: cookie.value for cookie in jar}
        if "sessionid" in cookies:
            return "; ".join(f"{name}={value}" for name, value in cookies.items())
        problem = "no session cookie after the login"
    raise LoginFailed(f"{email}: {problem} ({tries} tries)")


def check_page(host: str, url: str, cookie: str) -> tuple[int, str]:
    """One request as wrk will send it: (status, content type). A page that redirects (to the
    login, say) would be measured as the redirect: the driver refuses it instead."""
    opener = urllib.request.build_opener(_NoRedirect())
    request = urllib.request.Request(f"{host}{url}", headers={"Cookie": cookie})
    try:
        with opener.open(request, timeout=60) as response:
            return response.status, response.headers.get("Content-Type", "")
    except urllib.error.HTTPError as answer:
        return answer.code, ""


def wrk_path() -> str | None:
    return shutil.which("wrk")


def start(host: str, url: str, cookie: str, *, seconds: float, connections: int):
    command = [
        wrk_path() or "wrk",
        "--threads",
        "1",
        "--connections",
        str(connections),
        "--duration",
        f"{max(1, round(seconds))}s",
        "--timeout",
        "30s",
        "--latency",
        "--header",
        f"Cookie: {cookie}",
        f"{host}{url}",
    ]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60_000.0}
_DURATION = r"([\d.]+)(us|ms|s|m)"


def _ms(value: str, unit: str) -> float:
    return float(value) * _UNITS[unit]


def parse(output: str) -> dict:
    """wrk's summary: requests, seconds, errors (non-2xx/3xx answers and socket errors), the
    latency percentiles it prints with --latency."""
    done = re.search(r"(\d+) requests in " + _DURATION, output)
    if done is None:
        raise ValueError(f"wrk printed no summary:\n{output}")
    result = {
        "requests": int(done.group(1)),
        "seconds": _ms(done.group(2), done.group(3)) / 1000,
        "non_2xx_3xx": 0,
        "socket_errors": 0,
    }
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if bad:
        result["non_2xx_3xx"] = int(bad.group(1))
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    if sockets:
        result["socket_errors"] = sum(int(n) for n in sockets.groups())
    for share in ("50", "75", "90", "99"):
        found = re.search(rf"^\s+{share}%\s+" + _DURATION, output, re.MULTILINE)
        result[f"p{share}_ms"] = _ms(found.group(1), found.group(2)) if found else None
    return result
