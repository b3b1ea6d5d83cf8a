"""Reading the load generator's output: the numbers every ratio is built from."""

import pytest

from bench.loadgen import LoadError, parse_wrk_output, run_wrk

# Real wrk 4.1.0 output (--latency, no script) against this site's gunicorn.
WRK_TEXT_404 = """\
Running 1s test @ http://127.0.0.1:8402/nope
  2 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     9.15ms    2.35ms  20.38ms   73.68%
    Req/Sec   434.25     74.85   535.00     65.00%
  Latency Distribution
     50%    8.60ms
     75%   10.51ms
     90%   12.23ms
     99%   17.64ms
  868 requests in 1.01s, 396.14KB read
  Non-2xx or 3xx responses: 868
Requests/sec:    863.28
Transfer/sec:    393.98KB
"""

WRK_TEXT_MIXED_UNITS = """\
Running 10s test @ http://127.0.0.1:8401/healthz
  2 threads and 8 connections
  Latency Distribution
     50%  812.00us
     75%    1.10ms
     90%    1.52ms
     99%    1.03s
  41208 requests in 10.00s, 11.32MB read
  Socket errors: connect 0, read 3, write 1, timeout 2
Requests/sec:   4120.55
Transfer/sec:      1.13MB
"""

# Real output with the benchmark's Lua script: wrk's text, then the script's summary.
WRK_WITH_SCRIPT = """\
Running 3s test @ http://127.0.0.1:8401/healthz
  2 threads and 8 connections
  Latency Distribution
     50%    3.14ms
     99%    5.92ms
  7171 requests in 3.00s, 1.95MB read
Requests/sec:   2388.38
Transfer/sec:    665.20KB
BENCH_RESULT {"requests": 7171, "duration_us": 3002448, "not_ok": 12, "bad_status": 302, \
"p50_us": 3137, "p99_us": 5915, "socket_errors": 0}
"""


def test_script_summary_gives_exact_requests_rate_and_percentiles():
    result = parse_wrk_output(WRK_WITH_SCRIPT)
    assert result.requests == 7171
    assert result.rps == pytest.approx(7171 / 3.002448)
    assert result.p50_ms == pytest.approx(3.137)
    assert result.p99_ms == pytest.approx(5.915)


def test_script_summary_reports_redirects_that_wrk_itself_counts_as_success():
    result = parse_wrk_output(WRK_WITH_SCRIPT)
    assert result.not_ok == 12
    assert result.bad_status == 302


def test_plain_wrk_text_is_read_when_there_is_no_script_summary():
    result = parse_wrk_output(WRK_TEXT_404)
    assert result.requests == 868
    assert result.rps == pytest.approx(863.28)
    assert result.p50_ms == pytest.approx(8.60)
    assert result.p99_ms == pytest.approx(17.64)
    assert result.not_ok == 868


def test_latency_units_are_converted_to_milliseconds():
    result = parse_wrk_output(WRK_TEXT_MIXED_UNITS)
    assert result.p50_ms == pytest.approx(0.812)
    assert result.p99_ms == pytest.approx(1030.0)
    assert result.duration_s == pytest.approx(10.0)


def test_socket_errors_are_added_up():
    assert parse_wrk_output(WRK_TEXT_MIXED_UNITS).socket_errors == 6


def test_output_without_numbers_is_an_error_not_zero_throughput():
    with pytest.raises(LoadError, match="could not read wrk's output"):
        parse_wrk_output("unable to connect to 127.0.0.1:8401 Connection refused\n")


def test_load_is_refused_for_an_address_outside_loopback():
    with pytest.raises(LoadError, match="non-loopback"):
        run_wrk("http://192.0.2.10/healthz", duration_s=1, connections=1, threads=1)
