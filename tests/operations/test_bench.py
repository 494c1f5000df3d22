"""The bench's own arithmetic (bench/wrk.py, bench/run.py): what wrk printed, and the table of
targets. The bench itself runs with `make bench`, not in the suite."""

import pytest

from bench import wrk
from bench.run import table, targets

WRK_OUTPUT = """Running 1s test @ http://127.0.0.1:8765/bench/bare/
  1 threads and 2 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     0.92ms  673.19us   7.77ms   94.21%
    Req/Sec     2.16k   194.38     2.44k    70.00%
  Latency Distribution
     50%  788.00us
     75%    1.02ms
     90%    1.33ms
     99%    1.20s
  2156 requests in 1.01s, 1.07MB read
  Socket errors: connect 0, read 1, write 0, timeout 2
  Non-2xx or 3xx responses: 7
Requests/sec:   2145.11
Transfer/sec:      1.06MB
"""


def test_wrk_output_is_read_with_its_units():
    result = wrk.parse(WRK_OUTPUT)
    assert result["requests"] == 2156
    assert result["seconds"] == pytest.approx(1.01)
    assert result["p50_ms"] == pytest.approx(0.788)
    assert result["p75_ms"] == pytest.approx(1.02)
    assert result["p99_ms"] == pytest.approx(1200)
    assert result["non_2xx_3xx"] == 7
    assert result["socket_errors"] == 3


def test_no_summary_is_an_error_not_a_zero():
    with pytest.raises(ValueError, match="no summary"):
        wrk.parse("unable to connect to 127.0.0.1:1 Connection refused\n")


def results(**parts):
    return {
        "started_at": "2026-12-04 04:00 UTC",
        "machine": {
            "commit": "abc",
            "cores": 2,
            "cpu": "x",
            "memory_gib": 1,
            "postgresql": "15",
            "python": "3.11",
            "django": "5.2",
            "gunicorn": "23",
            "locust": "2",
            "load_average_at_start": (0, 0, 0),
        },
        "config": {"web_workers": 4, "wrk_connections": 4},
        "load_average_at_end": (0, 0, 0),
        **parts,
    }


def page(web_cpu_ms, ratio=None):
    return {
        "per_s": 100.0,
        "p50_ms": 5.0,
        "p99_ms": 9.0,
        "web_cpu_ms": web_cpu_ms,
        "postgres_cpu_ms": 0.5,
        "client_cpu_ms": 0.1,
        "errors": 0,
        "requests": 400,
        "ratio": ratio,
    }


def test_targets_say_met_missed_or_not_measured():
    lines = targets(
        results(
            pages={
                "bare": page(2.5, 1.0),
                "rows": {"cart (1 item)": page(10.0, 4.0), "checkout (1 item)": page(5, 2.0)},
            },
            queries={
                "bare": {"queries": 2},
                "A · Place Order": {"queries": 38, "sandbox": 4, "control": 8},
            },
        )
    )
    text = "\n".join(lines)
    assert "bare view web CPU ≤ 3 ms" in text
    assert "2.50ms  met" in text
    assert "4.00×  MISSED" in text  # the cart
    assert "2.00×  met" in text  # the checkout
    assert "26.00  met" in text  # Place Order's own statements: 38 − 4 − 8
    assert text.count("not measured") == 6  # 11 items ×2, flows, worker, billing ×2


def test_a_failed_section_is_in_the_table_and_the_rest_still_printed():
    text = table(
        results(
            failed={"seats": "RuntimeError: none of the 4 Locust users logged in"},
            pages={"bare": page(2.5, 1.0), "rows": {"dashboard": {"error": "GET / answered 500"}}},
        )
    )
    assert "!! seats: FAILED — RuntimeError: none of the 4 Locust users logged in" in text
    assert "failed: GET / answered 500" in text
    assert "targets (issue 22)" in text
