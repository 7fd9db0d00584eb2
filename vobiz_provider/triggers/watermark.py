"""The event trigger's watermark, kept in Airflow's asset state store, else in memory (docs/event-driven.md)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from vobiz_provider.log import Log
from vobiz_provider.models import Recording
from vobiz_provider.validation import isoformat_utc, parse_instant

STATE_VERSION = 1


@dataclass(frozen=True)
class Watermark:
    """Everything up to ``add_time`` is done: recordings added before it, and ``ids`` added at it.

    :param add_time: aware UTC; the newest instant up to which every recording was emitted.
    :param ids: the recordings added exactly at ``add_time`` that were emitted.
    :param ahead: recordings added after ``add_time`` that were emitted (an older one holds the watermark).
    """

    add_time: datetime
    ids: frozenset[str] = frozenset()
    ahead: frozenset[str] = frozenset()

    @classmethod
    def starting_at(cls, instant: datetime) -> Watermark:
        """A first start: recordings added at or after ``instant`` (floored to Vobiz's whole seconds) are new."""
        return cls(instant.astimezone(timezone.utc).replace(microsecond=0))

    def covers(self, recording: Recording) -> bool:
        """Whether ``recording`` is at or before the watermark: emitted, or older than the watch."""
        return recording.add_time < self.add_time or (
            recording.add_time == self.add_time and recording.recording_id in self.ids
        )

    def is_new(self, recording: Recording) -> bool:
        """Whether ``recording`` has not been emitted yet."""
        return not self.covers(recording) and recording.recording_id not in self.ahead

    def advance(self, listed: Sequence[Recording], stored: Iterable[str]) -> Watermark:
        """The watermark once ``stored`` (ids) are stored by Airflow; ``listed``: the last poll's, oldest first."""
        done = set(stored) | self.ahead
        add_time, ids = self.add_time, set(self.ids)
        rest = list(listed)
        while rest and rest[0].recording_id in done:
            recording = rest.pop(0)
            if recording.add_time > add_time:
                add_time, ids = recording.add_time, set()
            ids.add(recording.recording_id)
        # The first recording not done holds the watermark; what is done after it is remembered.
        ahead = frozenset(r.recording_id for r in rest if r.recording_id in done)
        return Watermark(add_time, frozenset(ids), ahead)

    def to_json(self) -> dict[str, Any]:
        return {
            "version": STATE_VERSION,
            "add_time": isoformat_utc(self.add_time),
            "ids": sorted(self.ids),
            "ahead": sorted(self.ahead),
        }

    @classmethod
    def from_json(cls, data: Any) -> Watermark:
        """Read a stored watermark; :class:`ValueError` for anything else."""
        if not isinstance(data, dict) or data.get("version") != STATE_VERSION:
            raise ValueError(f"not a watermark of version {STATE_VERSION}: {data!r:.200}")
        ids, ahead = data.get("ids"), data.get("ahead")
        if not isinstance(ids, list) or not isinstance(ahead, list):
            raise ValueError(f"a watermark's ids and ahead must be lists: {data!r:.200}")
        return cls(
            parse_instant(data["add_time"], field="add_time"), frozenset(map(str, ids)), frozenset(map(str, ahead))
        )


class WatermarkStore:
    """Loads and saves one watermark under ``key`` in the asset state store, or in memory without one.

    :param state_store: the trigger's ``asset_state_store``, or None.
    :param key: the state store key.
    :param log: the trigger's logger.
    """

    def __init__(self, state_store: Any, key: str, log: Log) -> None:
        self.key = key
        self._store = state_store
        self._memory: Watermark | None = None
        self._log = log
        if state_store is None:
            log.warning(
                "No asset state store (Airflow before 3.3, or not run by a triggerer): the watermark %r is kept "
                "in memory only, so after a restart only recordings added from then on are emitted",
                key,
            )

    async def load(self) -> Watermark | None:
        """The saved watermark, or None on a first start."""
        if self._store is None:
            return self._memory
        try:
            data = await self._store.aget(self.key)
        except ValueError as err:  # several assets share this trigger: no single accessor
            self._give_up_store(err)
            return self._memory
        if data is None:
            return None
        try:
            return Watermark.from_json(data)
        except (KeyError, ValueError) as err:
            self._log.warning("Ignoring the stored watermark %r (%s); starting from now", self.key, err)
            return None

    async def save(self, mark: Watermark) -> None:
        self._memory = mark
        if self._store is None:
            return
        try:
            await self._store.aset(self.key, mark.to_json())
        except ValueError as err:
            self._give_up_store(err)

    def _give_up_store(self, err: ValueError) -> None:
        self._log.warning(
            "The asset state store cannot be used (%s): give this trigger to exactly one asset; "
            "keeping the watermark %r in memory",
            err,
            self.key,
        )
        self._store = None
