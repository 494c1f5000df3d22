"""`make bench`: the load benchmark of Billing Center, from an empty database to one table.

1. (Re)creates its own PostgreSQL database (bc_bench_run: dropped and created again each run;
   a name that does not start with bc_bench is refused), migrates it, collects the static
   files and seeds it: the demo catalog (`seed_demo`) and the accounts of bench/factory.py.
2. Starts gunicorn (4 sync workers, 127.0.0.1, a free port) with bench/settings.py: the
   production settings with DEBUG off, plus a bare authenticated view to compare pages with.
3. Measures every page with wrk (bench/wrk.py), the bare view first and last: requests/s,
   latency, and the web server's CPU per request, whose ratio to the bare view's is the
   page's cost.
4. Runs Locust headless, one flow after the other, each bounded in time and in count: the
   purchase flow (A) and the seat-change flow (B), with the web CPU per placed order, also in
   bare-request equivalents.
5. Stops gunicorn, then times the worker: K service orders processed by `manage.py db_worker`
   with 1 process, then K more with 2; and the billing run (`run_billing`) the same way, then
   once more with the sandbox gateway answering each charge 0.3 s late.
6. Prints one table — with the issue's targets, met or not — and writes it with everything else
   to bench/results/<timestamp>.json. A step that fails is reported in the table; the others
   still run.

Every process it starts is stopped on exit, error or Ctrl-C. Traffic stays on 127.0.0.1.
"""

import argparse
import contextlib
import io
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
WORK = ROOT / "var" / "bench"  # logs, Locust configs and outputs, profiles (ignored by git)
DEFAULT_DATABASE_URL = "postgres://postgres:postgres@127.0.0.1:5432/bc_bench_run"
# The lifecycle issue adds this command; the billing-run row is measured as soon as it exists.
BILLING_RUN_COMMAND = "run_billing"
BILLING_RUN_ARGS: list[str] = []
# Batches of service orders with 1 and 2 worker processes, interleaved (1, 2, 2, 1, …) so that
# the machine's drift (other jobs) weighs on both alike: only the ratio is meaningful.
WORKER_ORDER = (1, 2, 2, 1)

SCENARIOS = {
    "purchase": "PurchaseUser",
    "seats": "SeatChangeUser",
}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m bench.run", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--duration", type=float, default=20, help="seconds per flow scenario")
    parser.add_argument("--clients", type=int, default=4, help="Locust users per flow scenario")
    parser.add_argument(
        "--max-flows", type=int, default=5000, help="count bound of each flow scenario"
    )
    parser.add_argument(
        "--accounts-per-client",
        type=int,
        default=5,
        help="purchase accounts per client (each buys the 6 products once; logged in first)",
    )
    parser.add_argument(
        "--page-seconds", type=float, default=4, help="seconds of wrk per page (bare view: twice)"
    )
    parser.add_argument(
        "--wrk-connections", type=int, default=4, help="wrk's open connections per page"
    )
    parser.add_argument(
        "--gateway-delay",
        type=float,
        default=0.3,
        help="seconds the sandbox gateway takes per charge in the billing run's last batch",
    )
    parser.add_argument(
        "--service-orders", type=int, default=50, help="service orders in each worker batch"
    )
    parser.add_argument(
        "--worker-rounds", type=int, default=1, help="rounds of 4 batches (1, 2, 2, 1 workers)"
    )
    parser.add_argument(
        "--renewals", type=int, default=500, help="due subscriptions in each billing-run batch"
    )
    parser.add_argument("--web-workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument(
        "--only",
        default="queries,pages,purchase,seats,worker,billing",
        help="comma-separated subset of queries,pages,purchase,seats,worker,billing",
    )
    parser.add_argument(
        "--profile",
        choices=sorted(SCENARIOS),  # the flows (the pages run under wrk)
        help="record the gunicorn workers with py-spy during this scenario (py-spy installed)",
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL),
        help="the bench's own PostgreSQL database (its name must start with bc_bench)",
    )
    return parser.parse_args(argv)


# -- processes ---------------------------------------------------------------------------------


class Processes:
    """Every child started here, in a session of its own, stopped by its own process group."""

    def __init__(self):
        self.children: list[subprocess.Popen] = []

    def start(self, command, *, log: Path, env: dict) -> subprocess.Popen:
        handle = log.open("ab")
        child = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        handle.close()
        self.children.append(child)
        return child

    def stop(self, child: subprocess.Popen, timeout: float = 10, how=signal.SIGTERM) -> None:
        if child.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, how)
            try:
                child.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(child.pid, signal.SIGKILL)
                child.wait(timeout=timeout)
        if child in self.children:
            self.children.remove(child)

    def stop_all(self) -> None:
        for child in list(self.children):
            self.stop(child)


def _raise_interrupt(signum, _frame):
    raise KeyboardInterrupt(f"signal {signum}")


def child_env(database_url: str, **extra) -> dict:
    """The environment of every child: bench settings and database, nothing of the caller's
    DEBUG, DATABASE_URL or settings module."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DEBUG", "DATABASE_URL", "DJANGO_SETTINGS_MODULE", "TASKS_BACKEND"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="bench.settings",
        BENCH_DATABASE_URL=database_url,
        PYTHONPATH=str(ROOT),
        PYTHONUNBUFFERED="1",
        **extra,
    )
    return env


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_up(url: str, child: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise RuntimeError(f"gunicorn exited ({child.returncode}): see var/bench/gunicorn.log")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"gunicorn did not answer {url} within {timeout:.0f} s")


# -- database ----------------------------------------------------------------------------------


def check_database_url(url: str) -> str:
    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    if parsed.scheme not in {"postgres", "postgresql"} or not name.startswith("bc_bench"):
        shown = f"{parsed.scheme}://{parsed.hostname}:{parsed.port or 5432}/{name}"
        raise SystemExit(
            f"The bench only runs on a PostgreSQL database of its own named bc_bench…, not {shown}."
        )
    return name


def recreate_database(url: str) -> str:
    import psycopg
    from psycopg import sql

    name = check_database_url(url)
    parsed = urlparse(url)
    maintenance = parsed._replace(path="/postgres").geturl()
    try:
        with psycopg.connect(maintenance, autocommit=True, connect_timeout=5) as connection:
            database = sql.Identifier(name)
            connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(database))
            connection.execute(sql.SQL("CREATE DATABASE {}").format(database))
            return connection.execute("SHOW server_version").fetchone()[0]
    except psycopg.OperationalError as error:
        raise SystemExit(
            f"PostgreSQL is not reachable at {parsed.hostname}:{parsed.port or 5432} ({error}).\n"
            "Start it (README 'Benchmarks') or pass --database-url / BENCH_DATABASE_URL."
        ) from error


def setup_django(url: str) -> None:
    os.environ.update(child_env(url))
    for key in ("DEBUG", "DATABASE_URL", "TASKS_BACKEND"):
        os.environ.pop(key, None)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


# -- statistics --------------------------------------------------------------------------------


def percentile(values: list[float], share: float) -> float | None:
    """Nearest-rank percentile."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, int(-(-share * len(ordered) // 1)))
    return ordered[min(rank, len(ordered)) - 1]


def summary(times: list[float]) -> dict:
    return {
        "count": len(times),
        "p50_ms": percentile(times, 0.50),
        "p95_ms": percentile(times, 0.95),
        "p99_ms": percentile(times, 0.99),
        "mean_ms": sum(times) / len(times) if times else None,
    }


def machine(server_version: str) -> dict:
    from importlib.metadata import version

    import django

    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    memory_kb = next(
        int(line.split()[1])
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal")
    )
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout.strip()
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "memory_gib": round(memory_kb / 1024 / 1024, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "postgresql": server_version,
        "django": django.get_version(),
        "gunicorn": version("gunicorn"),
        "locust": version("locust"),  # not imported here: importing it patches with gevent
        "commit": commit + ("+changes" if dirty else ""),
        "load_average_at_start": os.getloadavg(),
    }


# -- the web scenarios -------------------------------------------------------------------------


# -- where the CPU goes -----------------------------------------------------------------------

TICKS = os.sysconf("SC_CLK_TCK")


def process_ticks(pid: int) -> int:
    """User + system CPU ticks of one process (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])


def group_pids(pgid: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rpartition(")")[2].split()
            except OSError:
                continue
            if int(fields[2]) == pgid:
                pids.append(int(entry.name))
    return pids


def postgres_backend_pids() -> list[int]:
    """The PostgreSQL backends serving the bench's database (the server runs on this machine)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        pids = [row[0] for row in cursor.fetchall()]
    connection.close()
    return pids


def machine_ticks() -> tuple[int, int]:
    """(busy, total) CPU ticks of the whole machine, every job included."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


class CpuMeter:
    """CPU seconds the web server, its PostgreSQL backends and Locust spend in one window."""

    def __init__(self, *, web_pgid: int, locust_pid: int):
        self.web_pgid, self.locust_pid = web_pgid, locust_pid
        self.start = self.end = None

    def snapshot(self) -> dict:
        web = {pid: process_ticks(pid) for pid in group_pids(self.web_pgid)}
        database = {pid: process_ticks(pid) for pid in postgres_backend_pids()}
        return {
            "at": time.monotonic(),
            "web": web,
            "postgres": database,
            "locust": process_ticks(self.locust_pid),
            "machine": machine_ticks(),
        }

    def result(self) -> dict | None:
        if self.start is None or self.end is None:
            return None

        def used(kind):
            return (
                sum(ticks - self.start[kind].get(pid, 0) for pid, ticks in self.end[kind].items())
                / TICKS
            )

        busy = self.end["machine"][0] - self.start["machine"][0]
        total = self.end["machine"][1] - self.start["machine"][1]
        window = self.end["at"] - self.start["at"]
        return {
            "window_s": window,
            "web_cpu_s": used("web"),
            "postgres_cpu_s": used("postgres"),
            "locust_cpu_s": (self.end["locust"] - self.start["locust"]) / TICKS,
            "machine_busy_share": busy / total if total else None,
            "machine_busy_cpu_s": busy / TICKS,
        }


def run_scenario(args, processes, *, scenario, host, accounts, users, log_dir, web_pgid) -> dict:
    out = log_dir / f"locust-{scenario}.json"
    config = log_dir / f"locust-{scenario}-config.json"
    config.write_text(
        json.dumps(
            {
                "scenario": scenario,
                "accounts": accounts,
                "users": users,
                "duration": args.duration,
                "max_flows": args.max_flows,
                "accounts_per_user": args.accounts_per_client,
                "login_timeout": 30 + 3 * users * (args.accounts_per_client + 3),
                "out": str(out),
            }
        )
    )
    # The hard cap: logins, then the measured time, then some slack for the last flows.
    cap = int(60 + 3 * users * (args.accounts_per_client + 3) + args.duration * 3)
    command = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(ROOT / "bench" / "locustfile.py"),
        "--headless",
        "--host",
        host,
        "--users",
        str(users),
        "--spawn-rate",
        str(users),
        "--run-time",
        f"{cap}s",
        "--stop-timeout",
        "10",
        "--only-summary",
        "--loglevel",
        "WARNING",
        SCENARIOS[scenario],
    ]
    out.unlink(missing_ok=True)
    child = processes.start(
        command,
        log=log_dir / f"locust-{scenario}.log",
        env={**child_env(args.database_url), "BENCH_LOCUST_CONFIG": str(config)},
    )
    # Locust marks the measured window with two files; the CPU is read at each.
    meter = CpuMeter(web_pgid=web_pgid, locust_pid=child.pid)
    marks = {"start": Path(f"{out}.started"), "end": Path(f"{out}.ended")}
    for mark in marks.values():
        mark.unlink(missing_ok=True)
    deadline = time.monotonic() + cap + 60
    try:
        while child.poll() is None and time.monotonic() < deadline:
            if meter.start is None and marks["start"].exists():
                meter.start = meter.snapshot()
            if meter.start is not None and meter.end is None and marks["end"].exists():
                meter.end = meter.snapshot()
            time.sleep(0.05)
    finally:
        processes.stop(child)
    if not out.exists():
        raise RuntimeError(f"Locust wrote no result: see {log_dir / f'locust-{scenario}.log'}")
    result = json.loads(out.read_text())
    if not result["users_ready"]:
        raise RuntimeError(
            f"none of the {users} Locust users logged in: see {log_dir / f'locust-{scenario}.log'}"
        )
    result["cpu"] = meter.result()
    return result


def flow_row(result: dict) -> dict:
    flows = result["flows"]
    elapsed = result["elapsed"] or 1e-9
    requests = result["requests"]
    http_500 = sum(
        count
        for stats in requests.values()
        for status, count in stats["statuses"].items()
        if status.startswith("5")
    )
    return {
        "users": result["users_ready"],
        "users_without_login": result.get("users_without_login", 0),
        "seconds": elapsed,
        "flows": len(flows["times"]),
        "flow_errors": flows["failures"],
        "placed_orders": result["placed"],
        "orders_per_s": result["placed"] / elapsed,
        "request_errors": sum(stats["failures"] for stats in requests.values()),
        "requests": sum(len(stats["times"]) for stats in requests.values()),
        "http_500": http_500,
        "users_out_of_accounts": result.get("ran_out", 0),
        "flow_ms": summary(flows["times"]),
        "steps": {
            name: {**summary(stats["times"]), "errors": stats["failures"]}
            for name, stats in requests.items()
        },
        "error_samples": result["errors"][:10],
        "cpu": result.get("cpu"),
    }


def measure_pages(args, *, host: str, accounts: dict, web_pgid: int, say) -> dict:
    """Every page with wrk: the bare view first, each page, the bare view again. Per page its
    requests/s, latency and the web server's CPU per request (its ratio to the bare view's)."""
    import resource

    from bench import wrk

    if wrk.wrk_path() is None:
        raise RuntimeError("wrk is not installed: apt-get install wrk (README 'Benchmarks')")
    rows: dict[str, dict] = {}
    pages: list[tuple[str, str, str]] = []
    bare_cookie = None
    for kind, spec in accounts["pages"].items():
        path = "/admin/login/" if kind == "admin" else "/login/"
        try:
            cookie = wrk.login(
                host, spec["email"], spec.get("password", accounts["password"]), path=path
            )
        except wrk.LoginFailed as error:
            for name in spec["pages"]:
                rows[name] = {"error": f"login failed: {error}"}
            continue
        if bare_cookie is None and kind != "admin":
            bare_cookie = cookie
        pages.extend((name, url, cookie) for name, url in spec["pages"].items())
    if bare_cookie is None:
        raise RuntimeError("no customer login succeeded: nothing to compare the pages with")

    def measure(name: str, url: str, cookie: str, seconds: float) -> dict:
        status, _type = wrk.check_page(host, url, cookie)
        if status != 200:
            return {"error": f"GET {url} answered {status}"}
        meter = CpuMeter(web_pgid=web_pgid, locust_pid=0)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        meter.start = meter.snapshot()
        child = wrk.start(host, url, cookie, seconds=seconds, connections=args.wrk_connections)
        output, _ = child.communicate(timeout=seconds + 60)
        meter.end = meter.snapshot()
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if child.returncode:
            return {"error": f"wrk exited with {child.returncode}: {output[-300:]}"}
        result = wrk.parse(output)
        cpu = meter.result()
        done = result["requests"] or 1
        client = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
        return {
            **result,
            "per_s": result["requests"] / result["seconds"],
            "errors": result["non_2xx_3xx"] + result["socket_errors"],
            "web_cpu_ms": cpu["web_cpu_s"] * 1000 / done,
            "postgres_cpu_ms": cpu["postgres_cpu_s"] * 1000 / done,
            "client_cpu_ms": client * 1000 / done,
            "machine_busy_share": cpu["machine_busy_share"],
        }

    # One short round first: each worker's first request of a page pays for its imports
    # (WeasyPrint's alone takes a second or more) and template compilation.
    say(f"wrk: warming up {len(pages)} pages …")
    for _name, url, cookie in pages:
        if wrk.check_page(host, url, cookie)[0] == 200:
            child = wrk.start(host, url, cookie, seconds=1, connections=args.wrk_connections)
            child.communicate(timeout=60)
    say(f"wrk: the bare view and {len(pages)} pages, {args.page_seconds:.0f} s each …")
    first = measure("bare", "/bench/bare/", bare_cookie, args.page_seconds)
    for name, url, cookie in pages:
        rows[name] = measure(name, url, cookie, args.page_seconds)
    last = measure("bare", "/bench/bare/", bare_cookie, args.page_seconds)
    bare = _mean_row(first, last)
    for row in rows.values():
        if "web_cpu_ms" in row and bare.get("web_cpu_ms"):
            row["ratio"] = row["web_cpu_ms"] / bare["web_cpu_ms"]
    return {"bare": bare, "bare_first": first, "bare_last": last, "rows": rows}


def _mean_row(first: dict, last: dict) -> dict:
    if "error" in first or "error" in last:
        return first if "error" not in first else last
    keys = ("per_s", "p50_ms", "p99_ms", "web_cpu_ms", "postgres_cpu_ms", "client_cpu_ms")
    row = {key: (first[key] + last[key]) / 2 for key in keys if first.get(key) is not None}
    row["requests"] = first["requests"] + last["requests"]
    row["errors"] = first["errors"] + last["errors"]
    row["ratio"] = 1.0
    return row


# -- the worker and the billing run ----------------------------------------------------------


def run_workers(
    args, processes, *, count: int, command: list[str], log_dir, label, env_extra=None
) -> float:
    """Start `count` processes of one management command at once; seconds until all exit."""
    env = child_env(args.database_url, **(env_extra or {}))
    started = time.monotonic()
    children = [
        processes.start(
            [sys.executable, str(ROOT / "manage.py"), *command],
            log=log_dir / f"{label}-{number}.log",
            env=env,
        )
        for number in range(count)
    ]
    try:
        for child in children:
            child.wait(timeout=600)
    finally:
        for child in children:
            processes.stop(child)
    failed = [child.returncode for child in children if child.returncode]
    if failed:
        raise RuntimeError(f"{label} exited with {failed}: see {log_dir}/{label}-*.log")
    return time.monotonic() - started


def steady_window(tasks) -> tuple[float | None, int]:
    """The seconds during which every worker process was at work, and the service orders
    finished in them. Processes start a second or so apart (Django's start-up): counting from
    the first task of the first one would credit one worker with the others' share."""
    rows = list(
        tasks.filter(started_at__isnull=False).values_list(
            "worker_ids", "started_at", "finished_at", "task_path"
        )
    )
    by_worker: dict[str, list] = {}
    for worker_ids, started, finished, _path in rows:
        by_worker.setdefault(worker_ids[-1], []).append((started, finished))
    if not by_worker:
        return None, 0
    start = max(min(started for started, _ in runs) for runs in by_worker.values())
    end = min(max(finished for _, finished in runs) for runs in by_worker.values())
    if end <= start:  # one process did (nearly) everything: the whole span, then
        start = min(started for _ids, started, _f, _p in rows)
        end = max(finished for _ids, _s, finished, _p in rows)
    finished_in = sum(
        1
        for _ids, _started, finished, path in rows
        if path.endswith("process_service_order") and start <= finished <= end
    )
    return (end - start).total_seconds(), finished_in


def worker_rows(args, processes, log_dir, quote_batches) -> dict:
    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    from bench.factory import place_service_orders
    from checkout.models import Order
    from checkout.sandbox_gateway.models import SandboxCharge
    from corporate_portal.models import ServiceOrder, ServiceOrderStatus

    # The confirmation emails the web scenarios enqueued are not this workload.
    web_tasks = DBTaskResult.objects.ready().count()
    DBTaskResult.objects.ready().delete()
    rows = {"web_tasks_dropped": web_tasks, "runs": []}
    for workers, quotes in zip(WORKER_ORDER * args.worker_rounds, quote_batches, strict=True):
        enqueued_from = timezone.now()
        ids = place_service_orders(quotes)
        seconds = run_workers(
            args,
            processes,
            count=workers,
            log_dir=log_dir,
            label=f"db_worker-{workers}",
            command=["db_worker", "--batch", "--no-startup-delay", "--no-reload", "-v", "0"],
        )
        tasks = DBTaskResult.objects.filter(enqueued_at__gte=enqueued_from)
        busy, in_window = steady_window(tasks)
        done = ServiceOrder.objects.filter(pk__in=ids, status=ServiceOrderStatus.COMPLETED)
        # No double work: one charge and one invoiced order per service order, whatever the
        # number of workers.
        charges = SandboxCharge.objects.filter(
            idempotency_key__in=[f"service-order-{pk}" for pk in ids],
        ).count()
        orders = Order.objects.filter(idempotency_key__in=[f"service-order-{pk}" for pk in ids])
        rows["runs"].append(
            {
                "workers": workers,
                "service_orders": len(ids),
                "completed": done.count(),
                "failed": len(ids) - done.count(),
                "charges": charges,
                "invoiced_orders": orders.filter(invoice__isnull=False).count(),
                "tasks": tasks.count(),
                "tasks_failed": tasks.filter(status="FAILED").count(),
                "wall_seconds": seconds,
                "busy_seconds": busy,
                "completed_in_window": in_window,
                "per_s": in_window / busy if busy else None,
            }
        )
    rows["totals"] = []
    for workers in (1, 2):
        runs = [run for run in rows["runs"] if run["workers"] == workers]
        completed = sum(run["completed"] for run in runs)
        in_window = sum(run["completed_in_window"] for run in runs)
        busy = sum(run["busy_seconds"] or 0 for run in runs)
        rows["totals"].append(
            {
                "workers": workers,
                "batches": len(runs),
                "service_orders": sum(run["service_orders"] for run in runs),
                "completed": completed,
                "failed": sum(run["failed"] for run in runs),
                "charges": sum(run["charges"] for run in runs),
                "busy_seconds": busy,
                "per_s": in_window / busy if busy else None,
            }
        )
    one, two = rows["totals"]
    rows["speed_up"] = two["per_s"] / one["per_s"] if one["per_s"] and two["per_s"] else None
    return rows


def billing_rows(args, processes, log_dir) -> dict:
    """The billing run with 1 and 2 concurrent processes (interleaved batches of due
    subscriptions)."""
    from django.utils import timezone

    from bench.factory import seed_due_subscriptions
    from checkout.sandbox_gateway.models import SandboxCharge
    from subscriptions.models import Subscription

    rows = {"command": BILLING_RUN_COMMAND, "runs": [], "totals": []}
    batches = [(workers, 0.0) for workers in WORKER_ORDER * args.worker_rounds]
    if args.gateway_delay:
        batches.append((1, args.gateway_delay))  # a real gateway's latency per charge
    for batch, (workers, delay) in enumerate(batches):
        ids = seed_due_subscriptions(args.renewals)
        charges_before = SandboxCharge.objects.count()
        seconds = run_workers(
            args,
            processes,
            count=workers,
            log_dir=log_dir,
            label=f"billing-{batch}",
            command=[BILLING_RUN_COMMAND, *BILLING_RUN_ARGS],
            env_extra={"SANDBOX_GATEWAY_DELAY": str(delay)},
        )
        renewed = Subscription.objects.filter(
            pk__in=ids, current_period_end__gt=timezone.localdate()
        ).count()
        rows["runs"].append(
            {
                "processes": workers,
                "gateway_delay": delay,
                "due": len(ids),
                "renewed": renewed,
                "charges": SandboxCharge.objects.count() - charges_before,
                "seconds": seconds,
                "per_s": renewed / seconds if seconds else None,
            }
        )
    rows["delayed"] = [run for run in rows["runs"] if run["gateway_delay"]]
    rows["runs"] = [run for run in rows["runs"] if not run["gateway_delay"]]
    for workers in (1, 2):
        runs = [run for run in rows["runs"] if run["processes"] == workers]
        renewed = sum(run["renewed"] for run in runs)
        seconds = sum(run["seconds"] for run in runs)
        rows["totals"].append(
            {
                "processes": workers,
                "due": sum(run["due"] for run in runs),
                "renewed": renewed,
                "charges": sum(run["charges"] for run in runs),
                "seconds": seconds,
                "per_s": renewed / seconds if seconds else None,
            }
        )
    one, two = rows["totals"]
    rows["speed_up"] = two["per_s"] / one["per_s"] if one["per_s"] and two["per_s"] else None
    return rows


# -- output ------------------------------------------------------------------------------------


def fmt(value, digits=1, width=8) -> str:
    if value is None:
        return "—".rjust(width)
    return f"{value:,.{digits}f}".rjust(width)


def _failed(results: dict, section: str) -> str | None:
    return (results.get("failed") or {}).get(section)


def table(results: dict) -> str:
    m = results["machine"]
    config = results["config"]
    lines = [
        f"Billing Center bench · {results['started_at']} · commit {m['commit']}",
        f"{m['cores']} cores ({m['cpu']}), {m['memory_gib']} GiB, PostgreSQL {m['postgresql']}, "
        f"Python {m['python']}, Django {m['django']}, gunicorn {m['gunicorn']} "
        f"({config['web_workers']} sync workers), wrk, Locust {m['locust']}",
        f"load average at start {', '.join(f'{x:.2f}' for x in m['load_average_at_start'])}"
        f" · at end {', '.join(f'{x:.2f}' for x in results['load_average_at_end'])}",
        "",
    ]
    for section, reason in (results.get("failed") or {}).items():
        lines.append(f"!! {section}: FAILED — {reason}")
    if results.get("failed"):
        lines.append("")
    queries = results.get("queries", {})
    pages = results.get("pages")
    bare = (pages or {}).get("bare") or {}
    if pages:
        lines.append(
            f"{'page (wrk, ' + str(config['wrk_connections']) + ' connections)':<30}"
            f"{'req/s':>8}{'p50 ms':>8}{'p99 ms':>8}{'web CPU':>9}{'× bare':>8}{'PG CPU':>8}"
            f"{'queries':>8}{'errors':>7}"
        )
        lines.append(f"{'':<30}{'':>8}{'':>8}{'':>8}{'ms/req':>9}{'':>8}{'ms/req':>8}")
        for name, row in {"bare": bare, **pages["rows"]}.items():
            if "error" in row:
                lines.append(f"{name:<30}  failed: {row['error'][:80]}")
                continue
            lines.append(
                f"{name:<30}{fmt(row['per_s'], 0)}{fmt(row.get('p50_ms'))}{fmt(row.get('p99_ms'))}"
                f"{fmt(row['web_cpu_ms'], 2, 9)}{fmt(row.get('ratio'))}"
                f"{fmt(row['postgres_cpu_ms'], 2)}"
                f"{queries.get(name, {}).get('queries', '—'):>8}{row['errors']:>7}"
            )
        lines.append(
            f"  wrk's own CPU: {bare.get('client_cpu_ms', 0):.2f} ms per bare request "
            "(not the server's: it is not in the web CPU)"
        )
        lines.append("")
    flows = results.get("flows", {})
    if flows:
        lines.append(
            f"{'flow (Locust)':<30}{'clients':>8}{'orders/s':>10}{'orders':>8}{'errors':>8}"
            f"{'5xx':>5}{'p50 ms':>8}{'web CPU/order':>15}{'= bare req':>12}"
        )
        for key, label in (("purchase", "purchase flow (A)"), ("seats", "seat-change flow (B)")):
            row = flows.get(key)
            if row is None:
                continue
            cpu = row.get("cpu") or {}
            per_order = (
                cpu["web_cpu_s"] * 1000 / row["placed_orders"]
                if cpu and row["placed_orders"]
                else None
            )
            equivalents = (
                per_order / bare["web_cpu_ms"] if per_order and bare.get("web_cpu_ms") else None
            )
            row["web_cpu_ms_per_order"], row["bare_requests_per_order"] = per_order, equivalents
            lines.append(
                f"{label:<30}{row['users']:>8}{fmt(row['orders_per_s'], 2, 10)}"
                f"{row['placed_orders']:>8}{row['flow_errors']:>8}{row['http_500']:>5}"
                f"{fmt(row['flow_ms']['p50_ms'], 0)}{fmt(per_order, 0, 15)}"
                f"{fmt(equivalents, 1, 12)}"
            )
            if row.get("users_without_login"):
                lines.append(
                    f"  ({key}: {row['users_without_login']} clients could not log in after "
                    "their retries and did not run)"
                )
            if row["users_out_of_accounts"]:
                lines.append(
                    f"  ({key}: {row['users_out_of_accounts']} clients bought everything their "
                    "accounts could before the time was up: raise --accounts-per-client)"
                )
            if cpu and row["placed_orders"]:
                share = 1000 / row["placed_orders"]
                lines.append(
                    f"  {key}: per order also {cpu['postgres_cpu_s'] * share:.0f} ms PostgreSQL, "
                    f"{cpu['locust_cpu_s'] * share:.0f} ms Locust; machine busy "
                    f"{cpu['machine_busy_share']:.0%} of {m['cores']} cores"
                )
        lines += ["", f"{'step (ms)':<38}{'p50':>8}{'p95':>8}{'n':>6}{'errors':>8}{'queries':>9}"]
        for row in flows.values():
            for name, step in row["steps"].items():
                lines.append(
                    f"{name:<38}{fmt(step['p50_ms'])}{fmt(step['p95_ms'])}{step['count']:>6}"
                    f"{step['errors']:>8}{queries.get(name, {}).get('queries', '—'):>9}"
                )
        lines.append("")
    worker = results.get("worker")
    if worker:
        lines.append(
            f"{'worker: service orders':<30}{'workers':>8}{'orders':>8}{'failed':>8}"
            f"{'charges':>8}{'busy s':>8}{'per s':>8}{'speed-up':>10}"
        )
        for run in worker["totals"]:
            speed_up = worker["speed_up"] if run["workers"] == 2 else 1.0
            lines.append(
                f"{'db_worker --batch':<30}{run['workers']:>8}{run['completed']:>8}"
                f"{run['failed']:>8}{run['charges']:>8}{fmt(run['busy_seconds'])}"
                f"{fmt(run['per_s'])}{fmt(speed_up, 2, 10)}"
            )
    billing = results.get("billing")
    if billing:
        lines.append(
            f"{'billing run: renewals':<30}{'procs':>8}{'renewed':>8}{'left':>8}{'charges':>8}"
            f"{'wall s':>8}{'per s':>8}{'speed-up':>10}"
        )
        for run in billing["totals"]:
            speed_up = billing["speed_up"] if run["processes"] == 2 else 1.0
            lines.append(
                f"{BILLING_RUN_COMMAND:<30}{run['processes']:>8}{run['renewed']:>8}"
                f"{run['due'] - run['renewed']:>8}{run.get('charges', 0):>8}"
                f"{fmt(run['seconds'])}{fmt(run['per_s'])}{fmt(speed_up, 2, 10)}"
            )
        for run in billing.get("delayed", []):
            label = f"{BILLING_RUN_COMMAND}, gateway +{run['gateway_delay']:g} s"
            lines.append(
                f"{label:<30}{run['processes']:>8}{run['renewed']:>8}"
                f"{run['due'] - run['renewed']:>8}{run['charges']:>8}"
                f"{fmt(run['seconds'])}{fmt(run['per_s'])}{'':>10}"
            )
    lines += ["", *targets(results)]
    return "\n".join(lines)


def targets(results: dict) -> list[str]:
    """The issue's targets (issue 22), each met, missed, or not measured in this run."""
    pages = (results.get("pages") or {}).get("rows", {})
    bare = (results.get("pages") or {}).get("bare") or {}
    queries = results.get("queries", {})
    flows = results.get("flows", {})
    worker = results.get("worker") or {}
    billing = results.get("billing") or {}

    def ratio(name):
        return pages.get(name, {}).get("ratio")

    def total(key, processes):
        return next(
            (run["per_s"] for run in billing.get(key, []) if run["processes"] == processes), None
        )

    placed = [row["orders_per_s"] for row in flows.values()]
    one_worker = next(
        (run["per_s"] for run in worker.get("totals", []) if run["workers"] == 1), None
    )
    delayed = next((run["per_s"] for run in billing.get("delayed", [])), None)
    # Place Order's own statements: the sandbox processor's rows and BEGIN/COMMIT apart (a
    # real processor is an HTTP call), as tests/test_query_counts.py counts them.
    placing = queries.get("A · Place Order", {})
    place_order_queries = (
        placing["queries"] - placing.get("sandbox", 0) - placing.get("control", 0)
        if "queries" in placing
        else None
    )
    checks = [
        ("bare view web CPU ≤ 3 ms", bare.get("web_cpu_ms"), 3, "≤", "ms"),
        ("bare view ≤ 2 queries", queries.get("bare", {}).get("queries"), 2, "≤", ""),
        (
            "Place Order (A) ≤ 30 queries (own)",
            place_order_queries,
            30,
            "≤",
            "",
        ),
        ("cart, 1 item ≤ 3× bare", ratio("cart (1 item)"), 3, "≤", "×"),
        ("checkout, 1 item ≤ 3× bare", ratio("checkout (1 item)"), 3, "≤", "×"),
        ("cart, 11 items ≤ 6× bare", ratio("cart (11 items)"), 6, "≤", "×"),
        ("checkout, 11 items ≤ 6× bare", ratio("checkout (11 items)"), 6, "≤", "×"),
        ("placed orders ≥ 10/s (each flow)", min(placed) if placed else None, 10, "≥", "/s"),
        ("worker ≥ 8 service orders/s, 1 process", one_worker, 8, "≥", "/s"),
        ("billing run ≥ 100 renewals/s, 1 process", total("totals", 1), 100, "≥", "/s"),
        ("… ≥ 50/s with the gateway +0.3 s", delayed, 50, "≥", "/s"),
    ]
    lines = ["targets (issue 22)"]
    for label, value, bound, sense, unit in checks:
        if value is None:
            verdict = "not measured"
        else:
            met = value <= bound if sense == "≤" else value >= bound
            verdict = f"{value:,.2f}{unit}  {'met' if met else 'MISSED'}"
        lines.append(f"  {label:<44}{verdict}")
    return lines


# -- main --------------------------------------------------------------------------------------


def main(argv=None) -> int:
    args = parse_args(argv)
    only = {part.strip() for part in args.only.split(",") if part.strip()}
    check_database_url(args.database_url)
    signal.signal(signal.SIGTERM, _raise_interrupt)
    WORK.mkdir(parents=True, exist_ok=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    for stale in WORK.glob("*.log"):
        stale.unlink()
    started_at = datetime.now(UTC)
    processes = Processes()
    clock = time.monotonic()

    def say(message):
        print(f"bench [{time.monotonic() - clock:5.0f} s] {message}", flush=True)

    try:
        say(f"recreating {urlparse(args.database_url).path.lstrip('/')} …")
        server_version = recreate_database(args.database_url)
        # The stored invoice PDFs belonged to the database just dropped (bench/settings.py).
        shutil.rmtree(WORK / "media", ignore_errors=True)
        setup_django(args.database_url)
        from django.core.management import call_command
        from django.db import connections

        from bench import factory

        say("migrating, collecting static files, seeding …")
        call_command("migrate", verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        flow_users = args.clients
        accounts = factory.seed(
            purchase=flow_users * args.accounts_per_client + 1,
            seat_change=flow_users + 1,
            out=io.StringIO(),
        )
        # One account of each flow for the query count, the others for the load.
        probe = {"purchase": accounts.purchase.pop(), "seat_change": accounts.seat_change.pop()}
        quote_batches = []
        if "worker" in only:
            quote_batches = [
                factory.seed_quotes(args.service_orders)
                for _ in range(len(WORKER_ORDER) * args.worker_rounds)
            ]
        connections.close_all()
        results = {
            "started_at": started_at.strftime("%Y-%m-%d %H:%M UTC"),
            "machine": machine(server_version),
            "config": {key: value for key, value in vars(args).items() if key != "database_url"},
        }
        results["failed"] = {}

        def section(name, work):
            """Run one part of the bench; a failure is reported in the table, not fatal."""
            try:
                return work()
            except KeyboardInterrupt:
                raise
            except Exception as error:
                say(f"{name} FAILED: {error}")
                results["failed"][name] = f"{type(error).__name__}: {error}"[:300]
                return None
            finally:
                connections.close_all()

        if "queries" in only:
            from bench.queries import count_queries

            say("counting the queries of every page and step …")
            results["queries"] = (
                section("queries", lambda: count_queries(accounts.__dict__, **probe)) or {}
            )

        web = [name for name in ("pages", "purchase", "seats") if name in only]
        if web:
            results["flows"] = {}
            port = free_port()
            host = f"http://127.0.0.1:{port}"
            say(f"gunicorn with {args.web_workers} sync workers on {host} …")
            gunicorn = processes.start(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "billing_center.wsgi:application",
                    "--bind",
                    f"127.0.0.1:{port}",
                    "--workers",
                    str(args.web_workers),
                    "--worker-class",
                    "sync",
                    "--timeout",
                    "120",
                    "--log-level",
                    "warning",
                ],
                log=WORK / "gunicorn.log",
                env=child_env(args.database_url),
            )
            wait_until_up(f"{host}/login/", gunicorn)
            if "pages" in only:
                results["pages"] = section(
                    "pages",
                    lambda: measure_pages(
                        args, host=host, accounts=accounts.__dict__, web_pgid=gunicorn.pid, say=say
                    ),
                )
            for scenario in (name for name in web if name in SCENARIOS):
                users = flow_users
                say(f"Locust, {scenario} ({users} users) …")

                def flow(scenario=scenario, users=users):
                    profiler = start_profiler(args, processes, scenario, gunicorn)
                    try:
                        return flow_row(
                            run_scenario(
                                args,
                                processes,
                                scenario=scenario,
                                host=host,
                                accounts=accounts.__dict__,
                                users=users,
                                log_dir=WORK,
                                web_pgid=gunicorn.pid,
                            )
                        )
                    finally:
                        if profiler is not None:
                            processes.stop(profiler, timeout=60, how=signal.SIGINT)  # writes out

                row = section(scenario, flow)
                if row is not None:
                    results["flows"][scenario] = row
            processes.stop(gunicorn)

        if "worker" in only:
            say(
                f"{len(quote_batches)} batches of {args.service_orders} service orders, "
                f"with {', '.join(map(str, WORKER_ORDER * args.worker_rounds))} db_worker …"
            )
            results["worker"] = section(
                "worker", lambda: worker_rows(args, processes, WORK, quote_batches)
            )
        if "billing" in only:
            say("billing run …")
            results["billing"] = section("billing", lambda: billing_rows(args, processes, WORK))

        results["load_average_at_end"] = os.getloadavg()
        output = RESULTS / f"{started_at:%Y%m%d-%H%M%S}.json"
        output.write_text(json.dumps(results, indent=2, default=str) + "\n")
        print(f"\n{table(results)}\n")
        say(f"results in {output.relative_to(ROOT)}; logs in {WORK.relative_to(ROOT)}/")
        return 0
    except KeyboardInterrupt:
        print("\nbench: interrupted, stopping what it started …", file=sys.stderr)
        return 130
    finally:
        processes.stop_all()


def start_profiler(args, processes, scenario, gunicorn):
    """py-spy over the gunicorn master and its workers for the whole scenario (optional)."""
    if args.profile != scenario:
        return None
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(py_spy).exists():
        raise SystemExit("--profile needs py-spy: .venv/bin/pip install py-spy")
    output = WORK / f"profile-{scenario}"
    return processes.start(
        [
            py_spy,
            "record",
            "--pid",
            str(gunicorn.pid),
            "--subprocesses",
            "--idle",
            "--rate",
            "100",
            "--format",
            "raw",
            "--output",
            f"{output}.txt",
            "--nonblocking",
        ],
        log=WORK / f"py-spy-{scenario}.log",
        env=dict(os.environ),
    )


if __name__ == "__main__":
    sys.exit(main())
