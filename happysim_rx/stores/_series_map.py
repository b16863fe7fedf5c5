"""What the exact and the streaming metric stores share: a map of (source, name) ->
series, the bus seam (appender / extender / declare) and the catalog."""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any


class SeriesMap:
    """Base of the metric stores; subclasses build their own series in `_new_series`."""

    def __init__(self) -> None:
        self._series: dict[tuple[str, str], Any] = {}

    def _new_series(self, source: str, name: str, series_kind: str | None) -> Any:
        raise NotImplementedError

    # -- bus seam ---------------------------------------------------------------------
    def appender(self, info: Any) -> Any:
        return self.series_for(info.source, info.name, info.series_kind).append

    def extender(self, info: Any) -> Any:
        """Batch form of `appender`: ``extend(times, values)`` with numpy arrays."""
        return self.series_for(info.source, info.name, info.series_kind).extend

    def declare(self, info: Any) -> None:
        s = self._series.get((info.source, info.name))
        if s is not None:
            s.series_kind = info.series_kind

    def series_for(self, source: str, name: str, series_kind: str | None = None) -> Any:
        key = (source, name)
        s = self._series.get(key)
        if s is None:
            s = self._series[key] = self._new_series(source, name, series_kind)
        elif series_kind is not None and s.series_kind is None:
            s.series_kind = series_kind
        return s

    def add(
        self, source: str, name: str, t: float, v: float, series_kind: str | None = None
    ) -> None:
        """Record without a bus (tests, imports)."""
        self.series_for(source, name, series_kind).append(t, v)

    # -- catalog ----------------------------------------------------------------------
    def select(self, name: str = "*", source: str = "*") -> list[Any]:
        return [
            s
            for (src, nm), s in self._series.items()
            if fnmatchcase(nm, name) and fnmatchcase(src, source)
        ]

    def catalog(self) -> list[tuple[str, str, str | None]]:
        return [(s.source, s.name, s.series_kind) for s in self._series.values()]
