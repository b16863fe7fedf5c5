"""Opt-in logging for the ``happysimulator`` logger tree (silent until enabled).

``enable_console_logging``, ``enable_file_logging``, ``enable_timed_file_logging``,
``enable_json_logging``, ``enable_json_file_logging`` each add one handler to the
``happysimulator`` logger and return it; ``configure_from_env`` reads ``HS_LOGGING``
(level), ``HS_LOG_FILE`` (path) and ``HS_LOG_JSON`` (``"1"``); ``set_level``,
``set_module_level`` and ``disable_logging`` adjust or silence it.
"""

from __future__ import annotations

import json
import logging
import os
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:  # (both imported when a file handler is made, not by `import happysimulator`)
    import logging.handlers
    from pathlib import Path

LOGGER_NAME = "happysimulator"
DEFAULT_FORMAT = "%(asctime)s - %(name)s - %(levelname)s - %(message)s"
DEFAULT_DATE_FORMAT = "%Y-%m-%d %H:%M:%S"
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
DEFAULT_BACKUP_COUNT = 5

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
_LEVELS = {"DEBUG": logging.DEBUG, "INFO": logging.INFO, "WARNING": logging.WARNING,
           "ERROR": logging.ERROR, "CRITICAL": logging.CRITICAL}


class JsonFormatter(logging.Formatter):
    """One JSON object per record: ``timestamp`` (UTC ISO 8601), ``level``, ``logger``,
    ``message``, and ``exception`` when the record carries one."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, object] = {
            "timestamp": datetime.fromtimestamp(record.created, tz=UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out)


def _get_level(level: str | int) -> int:
    """A logging level from a name (any case) or a number; unknown names are an error."""
    if isinstance(level, int):
        return level
    try:
        return _LEVELS[str(level).upper()]
    except KeyError:
        raise ValueError(
            f"unknown log level {level!r}; valid: {', '.join(_LEVELS)} or an int"
        ) from None


def _get_logger() -> logging.Logger:
    return logging.getLogger(LOGGER_NAME)


def _clear_handlers() -> None:
    """Remove (and close) every handler but the NullHandler."""
    logger = _get_logger()
    for h in list(logger.handlers):
        if not isinstance(h, logging.NullHandler):
            logger.removeHandler(h)
            h.close()
    if not any(isinstance(h, logging.NullHandler) for h in logger.handlers):
        logger.addHandler(logging.NullHandler())


def _install(handler: logging.Handler, level: str | int,
             formatter: logging.Formatter) -> None:
    lvl = _get_level(level)
    logger = _get_logger()
    logger.setLevel(lvl)
    handler.setLevel(lvl)
    handler.setFormatter(formatter)
    logger.addHandler(handler)


def _file(path: str | Path) -> Path:
    from pathlib import Path

    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    return p


def _handlers() -> Any:
    import logging.handlers

    return logging.handlers


def enable_console_logging(
    level: LogLevel | int = "INFO",
    format: str = DEFAULT_FORMAT,  # noqa: A002 (happysim 0.2.5 keyword)
    date_format: str = DEFAULT_DATE_FORMAT,
) -> logging.StreamHandler:
    """Log to stderr."""
    h = logging.StreamHandler()
    _install(h, level, logging.Formatter(format, date_format))
    return h


def enable_file_logging(
    path: str | Path,
    level: LogLevel | int = "INFO",
    max_bytes: int = DEFAULT_MAX_BYTES,
    backup_count: int = DEFAULT_BACKUP_COUNT,
    format: str = DEFAULT_FORMAT,  # noqa: A002
    date_format: str = DEFAULT_DATE_FORMAT,
) -> logging.handlers.RotatingFileHandler:
    """Log to ``path``, rotated at ``max_bytes`` keeping ``backup_count`` old files."""
    h = _handlers().RotatingFileHandler(
        _file(path), maxBytes=max_bytes, backupCount=backup_count)
    _install(h, level, logging.Formatter(format, date_format))
    return h


def enable_timed_file_logging(
    path: str | Path,
    level: LogLevel | int = "INFO",
    when: str = "midnight",
    interval: int = 1,
    backup_count: int = DEFAULT_BACKUP_COUNT,
    format: str = DEFAULT_FORMAT,  # noqa: A002
    date_format: str = DEFAULT_DATE_FORMAT,
) -> logging.handlers.TimedRotatingFileHandler:
    """Log to ``path``, rotated by time (``when``/``interval`` as in the stdlib)."""
    h = _handlers().TimedRotatingFileHandler(
        _file(path), when=when, interval=interval, backupCount=backup_count)
    _install(h, level, logging.Formatter(format, date_format))
    return h


def enable_json_logging(level: LogLevel | int = "INFO") -> logging.StreamHandler:
    """Log JSON lines to stderr."""
    h = logging.StreamHandler()
    _install(h, level, JsonFormatter())
    return h


def enable_json_file_logging(
    path: str | Path,
    level: LogLevel | int = "INFO",
    max_bytes: int = DEFAULT_MAX_BYTES,
    backup_count: int = DEFAULT_BACKUP_COUNT,
) -> logging.handlers.RotatingFileHandler:
    """Log JSON lines to a rotating file."""
    h = _handlers().RotatingFileHandler(
        _file(path), maxBytes=max_bytes, backupCount=backup_count)
    _install(h, level, JsonFormatter())
    return h


def configure_from_env() -> None:
    """Enable logging from ``HS_LOGGING``, ``HS_LOG_FILE``, ``HS_LOG_JSON``; no-op if unset."""
    level = os.environ.get("HS_LOGGING", "")
    path = os.environ.get("HS_LOG_FILE", "")
    as_json = os.environ.get("HS_LOG_JSON", "") == "1"
    if not level and not path:
        return
    level = level or "INFO"
    if path:
        (enable_json_file_logging if as_json else enable_file_logging)(path, level=level)
    else:
        (enable_json_logging if as_json else enable_console_logging)(level=level)


def set_level(level: LogLevel | int) -> None:
    _get_logger().setLevel(_get_level(level))


def set_module_level(module: str, level: LogLevel | int) -> None:
    """Level of ``happysimulator.<module>`` (e.g. ``"core.simulation"``)."""
    logging.getLogger(f"{LOGGER_NAME}.{module}").setLevel(_get_level(level))


def disable_logging() -> None:
    """Remove all handlers and silence the logger."""
    _clear_handlers()
    _get_logger().setLevel(logging.CRITICAL + 1)


# Silent by default: a library must not print unless asked to.
if not any(isinstance(h, logging.NullHandler) for h in _get_logger().handlers):
    _get_logger().addHandler(logging.NullHandler())

__all__ = [
    "JsonFormatter",
    "LOGGER_NAME",
    "configure_from_env",
    "disable_logging",
    "enable_console_logging",
    "enable_file_logging",
    "enable_json_file_logging",
    "enable_json_logging",
    "enable_timed_file_logging",
    "set_level",
    "set_module_level",
]
