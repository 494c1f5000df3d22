"""Locust users of `make bench`: run headless by bench/run.py against its own gunicorn.

The two flows (the pages alone are measured with wrk: bench/wrk.py). Each scenario logs its users
in through /login/ first (outside the measurement: a login is a deliberately slow password hash,
retried when a busy machine times one out; a user that cannot log in is left out and the table
says so), then every user drives its own account through the pages as a person would — reading
each form from the page it was served and posting it back — until the scenario's time or count
bound is reached. Raw response times go to the JSON file the driver reads (Locust's own table
rounds them).

Configuration: the JSON file named by BENCH_LOCUST_CONFIG, written by the driver.
"""

import itertools
import json
import os
import re
import time
from collections import Counter, defaultdict
from pathlib import Path
from urllib.parse import urlencode, urlparse

import gevent
from gevent.event import Event
from locust import User, events, task
from locust.contrib.fasthttp import FastHttpSession
from locust.exception import StopUser

from bench.forms import post_form

CONFIG = json.loads(Path(os.environ["BENCH_LOCUST_CONFIG"]).read_text())
ACCOUNTS = CONFIG["accounts"]
FORM_ERRORS = re.compile(r'class="(?:errorlist|form-errors)[^"]*"[^>]*>(.*?)</', re.S)


class Recorder:
    """Everything measured between the moment every user is logged in and the end."""

    def __init__(self):
        self.expected_users = CONFIG["users"]
        self.ready_users = 0
        self.finished_users = 0
        self.gave_up_users = 0
        self.all_ready = Event()
        self.measuring = False
        self.started = self.ended = None
        self.times = defaultdict(list)
        self.failures = Counter()
        self.statuses = defaultdict(Counter)
        self.flow_times = []
        self.flow_failures = 0
        self.placed = 0
        self.ran_out = 0  # purchase users that bought everything their accounts could
        self.errors = []
        self.written = False

    def user_ready(self):
        self.ready_users += 1
        self._start_when_all_ready()
        self.all_ready.wait(timeout=CONFIG["login_timeout"])

    def user_gave_up(self, environment):
        """A user that could not log in after its retries: the others run without it (the
        table says how many clients ran)."""
        self.expected_users -= 1
        self.gave_up_users += 1
        self._start_when_all_ready()
        self.user_finished(environment)

    def _start_when_all_ready(self):
        if self.ready_users == self.expected_users and self.expected_users and not self.started:
            self.measuring, self.started = True, time.monotonic()
            Path(f"{CONFIG['out']}.started").touch()  # the driver reads the CPU counters now
            self.all_ready.set()

    def done(self) -> bool:
        if not self.measuring:
            return True
        over_time = time.monotonic() - self.started >= CONFIG["duration"]
        return over_time or len(self.flow_times) + self.flow_failures >= CONFIG["max_flows"]

    def user_finished(self, environment):
        self.finished_users += 1
        if self.finished_users == self.expected_users + self.gave_up_users:
            self.stop()
            gevent.spawn_later(0.1, environment.runner.quit)

    def stop(self):
        if self.measuring:
            self.measuring, self.ended = False, time.monotonic()
            Path(f"{CONFIG['out']}.ended").touch()

    def on_request(self, request_type, name, response_time, response, exception, **_kwargs):
        if not self.measuring:
            return
        self.times[name].append(response_time)
        status = getattr(response, "status_code", None) or 0
        self.statuses[name][str(status)] += 1
        if exception is not None:
            self.failures[name] += 1
            if len(self.errors) < 50:
                self.errors.append({"request": name, "status": status, "error": str(exception)})

    def flow(self, seconds: float | None):
        if not self.measuring:
            return
        if seconds is None:
            self.flow_failures += 1
        else:
            self.flow_times.append(seconds * 1000)

    def write(self):
        if self.written:
            return
        self.stop()
        self.written = True
        elapsed = (self.ended or time.monotonic()) - (self.started or time.monotonic())
        result = {
            "scenario": CONFIG["scenario"],
            "users": self.expected_users,
            "users_ready": self.ready_users,
            "users_without_login": self.gave_up_users,
            "elapsed": elapsed,
            "requests": {
                name: {
                    "times": times,
                    "failures": self.failures[name],
                    "statuses": dict(self.statuses[name]),
                }
                for name, times in self.times.items()
            },
            "flows": {"times": self.flow_times, "failures": self.flow_failures},
            "placed": self.placed,
            "ran_out": self.ran_out,
            "errors": self.errors,
        }
        Path(CONFIG["out"]).write_text(json.dumps(result))


RECORDER = Recorder()
events.request.add_listener(RECORDER.on_request)
events.test_stop.add_listener(lambda **_kwargs: RECORDER.write())


class FlowFailed(Exception):
    pass


def _why(response) -> str:
    """Status, redirect, the form's own error messages, or the connection error."""
    if not response.headers:  # no answer at all (refused, reset, timed out)
        return f"{response.status_code} {getattr(response, 'error', '')}"
    errors = " | ".join(
        re.sub(r"<[^>]+>", " ", error).strip() for error in FORM_ERRORS.findall(response.text)[:3]
    )
    return f"{response.status_code} {response.headers.get('Location', '')} {errors}".strip()


class BenchUser(User):
    """A person with a browser: sessions (cookies) of their own, forms read from the pages."""

    abstract = True

    def session(self) -> FastHttpSession:
        return FastHttpSession(
            base_url=self.host, request_event=self.environment.events.request, user=self
        )

    def get(self, session, url, name) -> str:
        with session.get(url, name=name, catch_response=True, allow_redirects=False) as response:
            if response.status_code != 200:
                response.failure(_why(response))
                raise FlowFailed(name)
            response.success()
            if response.headers.get("Content-Type", "").startswith("text/html"):
                return response.text
            return ""

    def post(self, session, url, data, name, expect: str = "/") -> str:
        """POST a form; a person's browser follows the redirect, which is measured apart."""
        with session.post(
            url,
            data=urlencode(data),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Referer": f"{self.host}{url}",
            },
            name=name,
            catch_response=True,
            allow_redirects=False,
        ) as response:
            location = (response.headers or {}).get("Location", "")
            if response.status_code != 302 or not urlparse(location).path.startswith(expect):
                response.failure(_why(response))
                raise FlowFailed(name)
            response.success()
            return urlparse(location).path + (
                f"?{urlparse(location).query}" if urlparse(location).query else ""
            )

    def login(self, email: str, password: str, tries: int = 4) -> FastHttpSession:
        """A signed-in session; a login that fails or times out on a busy machine is tried
        again after a pause (it is not measured: the password hash is slow by design)."""
        for attempt in range(tries):
            if attempt:
                gevent.sleep(2 * attempt)
            session = self.session()
            try:
                form = post_form(self.get(session, "/login/", "login page"), containing="username")
                self.post(
                    session, "/login/", form.values(username=email, password=password), "login", "/"
                )
            except FlowFailed:
                continue
            return session
        raise FlowFailed(f"login of {email}")

    def on_start(self):
        try:
            self.log_in()
            self.login_failed = False
        except FlowFailed:
            self.login_failed = True

    def log_in(self):
        pass

    @task
    def drive(self):
        """Wait until every user is logged in, work until the bound, and stop for good."""
        if self.login_failed:
            RECORDER.user_gave_up(self.environment)
            raise StopUser
        RECORDER.user_ready()
        try:
            self.work()
        finally:
            RECORDER.user_finished(self.environment)
        raise StopUser

    def work(self):
        raise NotImplementedError

    def place(self, session, prefix):
        form = post_form(
            self.get(session, "/billing/checkout/", f"{prefix} · checkout"),
            containing="cart_version",
        )
        confirmation = self.post(
            session,
            "/billing/checkout/",
            form.values(),
            f"{prefix} · Place Order",
            "/billing/orders/",
        )
        RECORDER.placed += 1
        self.get(session, confirmation, f"{prefix} · confirmation")

    def timed_flow(self, flow) -> bool:
        started = time.monotonic()
        try:
            flow()
        except FlowFailed:
            RECORDER.flow(None)
            return False
        RECORDER.flow(time.monotonic() - started)
        return True


_purchase_accounts = iter(ACCOUNTS["purchase"])
_seat_accounts = iter(ACCOUNTS["seat_change"])


class PurchaseUser(BenchUser):
    """Flow A on accounts of its own: Add New Subscription → product → plan and seats → Annual
    → checkout → Place Order with the saved card → confirmation; one product after another."""

    def log_in(self):
        taken = list(itertools.islice(_purchase_accounts, CONFIG["accounts_per_user"]))
        # Log in to every account first: the slow password check stays out of the measure. An
        # account whose login fails after its retries is left out.
        self.purchases = []
        for account in taken:
            try:
                session = self.login(account["email"], ACCOUNTS["password"])
            except FlowFailed:
                continue
            self.purchases.extend((session, slug) for slug in account["products"])
        if not self.purchases:
            raise FlowFailed("no account of this user could log in")

    def work(self):
        for session, slug in self.purchases:
            if RECORDER.done():
                return
            self.timed_flow(lambda s=session, p=slug: self.purchase(s, p))
        RECORDER.ran_out += 1

    def purchase(self, session, slug):
        self.get(session, "/billing/add/", "A · add new subscription")
        configure = f"/billing/add/{slug}/buy/"
        form = post_form(
            self.get(session, configure, "A · plan and seats"), containing="seat_count"
        )
        cycle = self.post(
            session,
            configure,
            form.values(seat_count=5),
            "A · plan and seats: Next",
            f"/billing/add/{slug}/buy/cycle/",
        )
        form = post_form(self.get(session, cycle, "A · monthly or annual"), containing="cycle")
        self.post(session, cycle, form.values(cycle="annual"), "A · Checkout", "/billing/checkout/")
        self.place(session, prefix="A")


class SeatChangeUser(BenchUser):
    """Flow B on an account of its own (all on one plan): Add Organizers → one more seat
    (the live preview's request) → Add to Cart → checkout → Place Order → confirmation."""

    def log_in(self):
        self.account = next(_seat_accounts)
        self.web = self.login(self.account["email"], ACCOUNTS["password"])

    def work(self):
        while not RECORDER.done():
            self.timed_flow(self.change_seats)

    def change_seats(self):
        page = f"/billing/subscriptions/{self.account['subscription']}/change/"
        form = post_form(self.get(self.web, page, "B · add organizers"), containing="seat_count")
        seats = int(form.fields["seat_count"]) + 1
        if seats > self.account["max_seats"]:
            seats -= 2  # at the plan's maximum: one fewer instead
        preview = f"{page}?{urlencode(form.values(seat_count=seats))}"
        form = post_form(self.get(self.web, preview, "B · preview"), containing="seat_count")
        self.post(
            self.web, page, form.values(seat_count=seats), "B · Add to Cart", "/billing/checkout/"
        )
        self.place(self.web, prefix="B")
