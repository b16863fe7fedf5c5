"""The debugger's HTTP and WebSocket routes without a browser: the token, the export
route, a careful local dev server's security, and serving from the command line."""

from __future__ import annotations

import csv
import io
import json
import threading

import pytest

pytest.importorskip("starlette")
from debugger_helpers import mm1, settle  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402

from happysimulator.observability.web.app import create_app  # noqa: E402
from happysimulator.observability.web.driver import Debugger  # noqa: E402
from happysimulator.observability.web.session import open_session  # noqa: E402

WS_URL = "ws://127.0.0.1:8765/ws"  # (the test client's WebSocket host is the URL's)


def test_http_routes_need_the_token_and_export_the_query() -> None:
    app, hub, token = create_app(lambda push: Debugger(open_session(mm1), push), port=8765)
    try:
        with TestClient(app, base_url="http://127.0.0.1:8765") as client:
            assert client.get("/static/vendor/uPlot.iife.min.js").status_code == 200
            assert client.post("/api/op", json={"op": "state"}).status_code == 403
            assert client.get("/api/export?format=summary").status_code == 403
            hdr = {"X-Token": token}
            assert client.post("/api/op", json={"op": "run", "until": 20.0},
                               headers=hdr).json()["ok"]
            settle(app.state.debugger)
            with client.websocket_connect(WS_URL, headers={
                    **hdr, "origin": "http://127.0.0.1:8765"}) as ws:
                snap = ws.receive_json()
                assert snap["type"] == "snapshot"
                assert snap["status"]["sim_time"] == pytest.approx(20.0)
            spec = {"kind": "metrics", "name": "latency", "entity": "Sink", "start": 0,
                    "end": 20, "window": 5, "aggregates": ["mean", "p99"]}
            r = client.get("/api/export", params={"format": "csv", "query": json.dumps(spec)},
                           headers=hdr)
            assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
            rows = list(csv.DictReader(io.StringIO(r.text)))
            ref = mm1()
            ref.run(until=20.0)
            want = ref.query.execute(spec).to_records()
            assert [float(x["p99"]) for x in rows] == [w["p99"] for w in want]
            # every row says the range it answers: its window's width
            assert [float(x["window_s"]) for x in rows] == [w["end"] - w["start"] for w in want]
            js = client.get("/api/export", params={"format": "json", "query": json.dumps(spec)},
                            headers=hdr).json()
            assert [r["p99"] for r in js["rows"]] == [w["p99"] for w in want]
            assert all(r["window_s"] == 5.0 for r in js["rows"])
            assert js["weighting"] == "sample" and js["exact"] is True
            summary = client.get("/api/export", params={"format": "summary"}, headers=hdr)
            assert summary.status_code == 200 and "series" in summary.json()
            # an export longer than one answer's budget is fetched in parts and joined
            raw = {"kind": "metrics", "name": "latency", "entity": "Sink", "end": 20.0}
            whole = client.get("/api/export", params={"format": "csv",
                                                      "query": json.dumps(raw)},
                               headers=hdr).text
            app.state.debugger.export_budget = 1024
            for fmt in ("csv", "json"):
                parts = client.get("/api/export", params={"format": fmt,
                                                          "query": json.dumps(raw)},
                                   headers=hdr)
                if fmt == "csv":
                    assert parts.text == whole and whole.count("\n") > 100
                else:
                    assert len(parts.json()["rows"]) == whole.count("\n") - 1
            bad = client.get("/api/export", params={"format": "xls"}, headers=hdr)
            assert bad.status_code == 400 and "csv" in bad.text
    finally:
        app.state.debugger.close()


def test_security_like_a_careful_local_dev_server() -> None:
    from starlette.websockets import WebSocketDisconnect

    app, hub, token = create_app(lambda push: Debugger(open_session(mm1), push), port=8765)
    base = "http://127.0.0.1:8765"
    try:
        with TestClient(app, base_url=base) as client:
            # the token is exchanged for an HttpOnly, SameSite=Strict cookie on the first load
            first = client.get(f"/?token={token}")
            assert first.status_code == 200 and "<script" in first.text
            cookie = first.headers["set-cookie"]
            assert f"happysim_rx_8765={token}" in cookie
            assert "httponly" in cookie.lower() and "samesite=strict" in cookie.lower()
            # ... which then authenticates the page, its requests and its downloads
            assert client.get("/").status_code == 200
            assert client.post("/api/op", json={"op": "state"}).json()["ok"]
            assert client.get("/api/export?format=summary").status_code == 200
            # every answer: a CSP, no referrer, no framing
            for r in (first, client.get("/static/app.js"),
                      client.post("/api/op", json={"op": "state"})):
                h = r.headers
                assert h["referrer-policy"] == "no-referrer" and h["x-frame-options"] == "DENY"
                csp = h["content-security-policy"]
                assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
                assert "unsafe-inline" not in csp
            with client.websocket_connect(WS_URL, headers={"origin": base}) as ws:
                assert ws.receive_json()["type"] == "snapshot"
            # a WebSocket from another origin, or without one, is refused
            for origin in ({"origin": "http://evil.example"}, {}):
                with pytest.raises(WebSocketDisconnect):
                    with client.websocket_connect(WS_URL, headers=origin) as ws:
                        ws.receive_json()
        for host in ("localhost:8765", "[::1]:8765"):  # the other loopback names: allowed
            with TestClient(app, base_url=f"http://{host}") as other:
                assert other.get(f"/?token={token}").status_code == 200
        # a foreign Host (DNS rebinding: evil.example resolved to 127.0.0.1) is refused,
        # even with the right token; so is the right name on another port
        for host in ("evil.example:8765", "127.0.0.1:9999", "127.0.0.1.evil.example:8765"):
            with TestClient(app, base_url=f"http://{host}") as evil:
                r = evil.get(f"/?token={token}")
                assert r.status_code == 421 and "Host" in r.text
                assert evil.post("/api/op", json={"op": "state"},
                                 headers={"X-Token": token}).status_code == 421
        # no or a wrong token: a plain page that says so (no UI, no script to retry)
        with TestClient(app, base_url=base) as stranger:
            for url in ("/", "/?token=wrong"):
                r = stranger.get(url)
                assert r.status_code == 403 and "wrong or missing token" in r.text.lower()
                assert "<script" not in r.text and "set-cookie" not in r.headers
            stranger.cookies.set("happysim_rx_8765", "wrong")
            assert stranger.post("/api/op", json={"op": "state"}).status_code == 403
            with pytest.raises(WebSocketDisconnect):
                with stranger.websocket_connect(WS_URL, headers={"origin": base}) as ws:
                    ws.receive_json()
    finally:
        app.state.debugger.close()


def test_serve_listens_on_loopback_and_prints_the_url(capsys) -> None:
    from happysimulator.observability import serve

    server = serve(mm1, port=0)
    try:
        assert server.url in capsys.readouterr().out
        assert server.url.startswith(f"http://127.0.0.1:{server.port}/?token=")
        import httpx

        assert httpx.get(server.url, timeout=10).status_code == 200
        assert threading.active_count() >= 3
        with pytest.raises(OSError, match="port=0"):
            serve(mm1, port=server.port, quiet=True)
    finally:
        server.stop()
    with pytest.raises(ValueError, match="port"):
        serve(mm1, port=-1)


def test_the_command_line_serves_a_model_file_until_ctrl_c(tmp_path) -> None:
    import os
    import signal
    import subprocess
    import sys
    from pathlib import Path

    import httpx

    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "happysimulator.observability.cli", "serve",
         "examples/metastable_failure.py:build", "--seed", "3", "--port", "0"],
        cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert line.startswith("happysim-rx debugger: http://127.0.0.1:"), line
        url = line.split(": ", 1)[1].strip()
        token = url.split("token=", 1)[1]
        base = url.split("/?", 1)[0]
        assert httpx.get(url, timeout=10).status_code == 200
        state = httpx.post(f"{base}/api/op", json={"op": "state"},
                           headers={"X-Token": token}, timeout=10).json()
        assert state["ok"] and state["model"]["seed"] == 3
        assert state["model"]["spec"] == "examples/metastable_failure.py:build"
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
