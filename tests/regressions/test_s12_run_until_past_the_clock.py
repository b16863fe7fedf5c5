"""``run_until {time}`` (or ``run {until}``) past the engine clock's range was accepted
(``ok``) and then faulted the background run (``run_until(time) must be a finite
simulated time in [0, 9.223e+09] s``), leaving a session that only ``reset`` recovers.
Found by tests/protocol/test_protocol_fuzz.py (session 12, fix4). Now a ``bad_request``
up front; the run is untouched."""

from __future__ import annotations

import pytest

from happysimulator.observability.protocol import SessionProtocol
from tests.protocol.proto_testkit import mm1


@pytest.mark.parametrize("request_", [{"op": "run_until", "time": 6.1e16},
                                      {"op": "run", "until": 6.1e16}])
def test_a_time_past_the_clock_is_bad_request_and_the_run_is_untouched(request_) -> None:
    session = SessionProtocol(mm1, params={"customers": 20}, default_wait_s=0.0)
    try:
        answer = session.handle(request_)
        assert not answer["ok"] and answer["error"]["kind"] == "bad_request", answer
        assert "9.223e+09" in answer["error"]["message"]
        assert session.handle({"op": "state"})["state"]["status"] == "not_started"
    finally:
        session.close()
