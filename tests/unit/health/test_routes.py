import json

from hypothesis import given, settings
from hypothesis import strategies as st

from supervisor.core.checks import APP_PROBE, CheckState, Role, record_failure, record_success
from supervisor.core.readiness import ChildInfo, ChildStatus, Phase, Snapshot
from supervisor.health.routes import respond

RUNNING = ChildInfo(ChildStatus.RUNNING, pid=42)


def snap(phase: Phase = Phase.RUNNING, *, cache_ok: bool = True, child: ChildInfo = RUNNING) -> Snapshot:
    db = record_success(CheckState("database", "postgresql", "postgresql://u:***@db/app"), now=1000.0, duration=0.012)
    cache = CheckState("cache", "redis", "redis://cache")
    cache = (
        record_success(cache, now=1000.0, duration=0.003)
        if cache_ok
        else record_failure(cache, now=1000.0, duration=5.0, error="timed out after 5s")
    )
    return Snapshot(phase, (cache, db), child, now=1001.0)


def call(path: str, s: Snapshot | None = None, method: str = "GET", accept: str = "") -> tuple[int, str, str]:
    r = respond(method, path, accept, lambda: s or snap(), lambda _accept: (b"m 1\n", "text/plain; version=0.0.4"))
    return r.status, r.body.decode(), r.content_type


def test_liveness_never_looks_at_gates() -> None:
    def boom() -> Snapshot:
        raise AssertionError("liveness must not read the state")

    for path in ("/healthz", "/livez", "/healthz/"):
        r = respond("GET", path, "", boom, None)
        assert (r.status, r.body) == (200, b"ok")


def test_readyz_ok_and_failure_lists_reasons() -> None:
    assert call("/readyz")[:2] == (200, "ok")
    status, body, _ = call("/readyz", snap(cache_ok=False))
    assert status == 503
    assert "[-]cache failed: timed out after 5s" in body and "[+]database ok" in body
    assert body.endswith("readyz check failed\n")


def test_verbose_lines_in_kubernetes_style() -> None:
    status, body, _ = call("/readyz?verbose")
    assert status == 200
    assert body.splitlines() == ["[+]cache ok", "[+]database ok", "[+]app-process ok", "readyz check passed"]


def test_exclude_is_repeatable() -> None:
    status, body, _ = call("/readyz?verbose&exclude=cache&exclude=database", snap(cache_ok=False))
    assert status == 200 and "cache" not in body and "database" not in body


def test_json_by_accept_or_format() -> None:
    for path, accept in (
        ("/readyz", "application/json"),
        ("/readyz?format=json", ""),
        ("/readyz", "text/html, application/health+json;q=0.9"),
    ):
        status, body, ctype = call(path, snap(cache_ok=False), accept=accept)
        assert status == 503 and ctype == "application/health+json"
        doc = json.loads(body)
        assert doc["status"] == "fail" and doc["phase"] == "running"
        cache = doc["checks"]["cache"][0]
        assert cache["status"] == "fail" and cache["output"] == "timed out after 5s"
        assert cache["observedValue"] == 5000.0 and cache["observedUnit"] == "ms" and cache["attempts"] == 1
        assert cache["time"].startswith("1970-01-01T00:16:40")
        db = doc["checks"]["database"][0]
        assert db["status"] == "pass" and "output" not in db and db["observedValue"] == 12.0
        assert doc["child"] == {"pid": 42, "state": "running", "restarts": 0, "exitCode": None}


def test_one_gate_endpoint() -> None:
    assert call("/readyz/database", snap(cache_ok=False))[:2] == (200, "ok")
    status, body, _ = call("/readyz/cache", snap(cache_ok=False))
    assert status == 503 and body == "[-]cache failed: timed out after 5s\n"
    assert call("/readyz/nope")[0] == 404
    assert call("/readyz/app-process", snap(Phase.GATING, child=ChildInfo()))[0] == 503


def test_app_probe_appears_when_configured() -> None:
    base = snap()
    probe = CheckState(APP_PROBE, "tcp", "tcp://127.0.0.1:8000", role=Role.APP_PROBE)
    probe = record_failure(probe, now=1, duration=0, error="refused")
    s = Snapshot(Phase.STARTING, (*base.gates, probe), RUNNING, now=2.0)
    status, body, _ = call("/readyz?verbose", s)
    assert status == 503 and "[-]app-probe failed: refused" in body
    assert json.loads(call("/readyz?format=json", s)[1])["checks"][APP_PROBE][0]["status"] == "fail"


def test_gating_phase_is_not_ready() -> None:
    status, body, _ = call("/readyz", snap(Phase.GATING, child=ChildInfo()))
    assert status == 503 and "not started yet: phase gating" in body


def test_methods_and_unknown_paths() -> None:
    assert call("/nope")[0] == 404
    r = respond("POST", "/readyz", "", snap, None)
    assert r.status == 405 and ("Allow", "GET, HEAD") in r.headers
    assert call("/healthz", method="HEAD")[0] == 200


def test_metrics_before_and_after_loading() -> None:
    assert respond("GET", "/metrics", "", snap, None).status == 503
    assert call("/metrics")[:2] == (200, "m 1\n")


# h11 hands over any visible-ASCII target; nothing in that space may reach a 5xx
_targets = st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=300)


@settings(max_examples=2000, deadline=None)
@given(
    target=st.one_of(_targets, _targets.map(lambda t: "/" + t), _targets.map(lambda t: "http://" + t)),
    method=st.sampled_from(["GET", "HEAD", "POST", "OPTIONS"]),
    accept=st.text(max_size=80),
)
def test_no_request_shape_reaches_a_5xx(target: str, method: str, accept: str) -> None:
    from supervisor.health.metrics import Metrics

    metrics = Metrics()
    current = snap()
    metrics.observe(current, current)
    r = respond(method, target, accept, lambda: current, metrics.render)
    assert r.status < 500 or (r.status == 503 and target.split("?")[0].rstrip("/").endswith(("readyz", "metrics")))


def test_withheld_reasons_say_that_a_check_fails_not_why() -> None:
    s = snap(cache_ok=False)
    r = respond("GET", "/readyz?verbose", "", lambda: s, None, withhold=True)
    assert r.status == 503
    assert r.body.decode().splitlines() == [
        "[-]cache failed: reason withheld",
        "[+]database ok",
        "[+]app-process ok",
        "readyz check failed",
    ]
    doc = json.loads(respond("GET", "/readyz?format=json", "", lambda: s, None, withhold=True).body)
    cache = doc["checks"]["cache"][0]
    assert cache["output"] == cache["target"] == doc["output"] == "reason withheld"
    assert "redis://" not in json.dumps(doc) and "timed out" not in json.dumps(doc)
    one = respond("GET", "/readyz/cache", "", lambda: s, None, withhold=True)
    assert (one.status, one.body) == (503, b"[-]cache failed: reason withheld\n")
    told = respond("GET", "/readyz/cache", "", lambda: s, None)
    assert b"timed out after 5s" in told.body  # the same state, reasons not withheld
