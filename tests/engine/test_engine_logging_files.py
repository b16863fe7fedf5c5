"""File logging (imported on first use, not by `import happysimulator`): each file
handler is made, creates its directory and receives the library's records."""

from __future__ import annotations

import json
import logging
import logging.handlers

import pytest

import happysimulator as hs


@pytest.fixture(autouse=True)
def _silence_afterwards():
    yield
    hs.disable_logging()


@pytest.mark.parametrize("enable, cls, as_json", [
    (hs.enable_file_logging, logging.handlers.RotatingFileHandler, False),
    (hs.logging_config.enable_timed_file_logging,
     logging.handlers.TimedRotatingFileHandler, False),
    (hs.logging_config.enable_json_file_logging, logging.handlers.RotatingFileHandler, True),
])
def test_file_handlers_write_the_library_records(tmp_path, enable, cls, as_json):
    path = tmp_path / "new" / "dir" / "sim.log"
    handler = enable(str(path), level="INFO")
    assert type(handler) is cls
    logging.getLogger("happysimulator.test").info("hello %s", "there")
    handler.flush()
    line = path.read_text().strip().splitlines()[-1]
    if as_json:
        assert json.loads(line)["message"] == "hello there"
    else:
        assert "hello there" in line
