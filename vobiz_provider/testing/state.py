"""The fake server's memory: rooms, recordings, queued faults and the request log.

Every method takes the lock, so the test thread and the server's event-loop thread can both
call them; none of them awaits while holding it.
"""

from __future__ import annotations

import itertools
import secrets
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from vobiz_provider.testing.audio import AudioFile
from vobiz_provider.testing.records import ActiveRecording, FakeRecording, Room
from vobiz_provider.testing.render import as_utc, host_port, recording_object, utcnow
from vobiz_provider.testing.settings import ROUTE_KEYS, FakeSettings
from vobiz_provider.validation import FILE_FORMATS

if TYPE_CHECKING:
    from vobiz_provider.testing.faults import Fault
    from vobiz_provider.testing.settings import LoggedRequest

LOG_SIZE = 1000
EVERY_ROUTE = "*"  # set_latency's key for every route
RECORDING_TYPES = ("conference", "call", "trunk", "extension")


class RecordingInProgressError(RuntimeError):
    """Start was asked for a room that is already recording."""


@dataclass
class FakeState:
    """All mutable state of one fake server."""

    auth_id: str
    auth_token: str
    hosts: tuple[str, ...]
    port: int = 0
    settings: FakeSettings = field(default_factory=FakeSettings)
    lock: threading.RLock = field(default_factory=threading.RLock)
    rooms: dict[str, Room] = field(default_factory=dict)
    recordings: dict[str, FakeRecording] = field(default_factory=dict)
    faults: dict[str, deque[Fault]] = field(default_factory=dict)
    latency: dict[str, float] = field(default_factory=dict)
    drops: deque[int] = field(default_factory=deque)
    overstated: deque[int] = field(default_factory=deque)
    log: deque[LoggedRequest] = field(default_factory=lambda: deque(maxlen=LOG_SIZE))
    storage_tokens: dict[str, str] = field(default_factory=dict)
    _seq: itertools.count[int] = field(default_factory=itertools.count)
    first_auth_token: str = field(init=False, default="")

    def __post_init__(self) -> None:
        self.first_auth_token = self.auth_token

    def reset(self) -> None:
        with self.lock:
            self.auth_token = self.first_auth_token
            self.settings.restore_defaults()
            for holder in (self.rooms, self.recordings, self.faults, self.latency, self.storage_tokens):
                holder.clear()
            self.drops.clear()
            self.overstated.clear()
            self.log.clear()

    # rooms ---------------------------------------------------------------------------------

    def add_room(
        self,
        name: str,
        members: int = 1,
        recording: bool = False,
        file_format: str = "mp3",
        duration_s: float | None = None,
    ) -> None:
        if not name:
            raise ValueError("a room needs a name")
        if members < 1:
            # Vobiz only knows rooms somebody has joined (docs/vobiz-api-quirks.md, row "Rooms").
            raise ValueError("a room has at least one member")
        if duration_s is not None and duration_s <= 0:
            raise ValueError("duration_s must be > 0")
        with self.lock:
            if name in self.rooms:
                raise ValueError(f"room {name!r} already exists")
            self.rooms[name] = Room(
                name=name,
                member_uuids=[str(uuid.uuid4()) for _ in range(members)],
                conference_uuid=str(uuid.uuid4()),
                created_mono=time.monotonic(),
                duration_s=duration_s,
            )
            if recording:
                self.start_recording(name, file_format)

    def start_recording(self, name: str, file_format: str = "mp3", callback_url: str | None = None) -> ActiveRecording:
        if file_format not in FILE_FORMATS:
            raise ValueError(f"file_format must be one of {FILE_FORMATS}, not {file_format!r}")
        with self.lock:
            room = self._room(name)
            if room.active is not None:
                raise RecordingInProgressError(f"room {name!r} is already recording")
            # The id is fixed now so legacy start answers can name the row that appears later.
            room.active = ActiveRecording(str(uuid.uuid4()), file_format, self.now(), callback_url)
            return room.active

    def now(self) -> datetime:
        """The time by the fake Vobiz's clock (``settings.clock_offset_s`` off the machine's)."""
        return utcnow() + timedelta(seconds=self.settings.clock_offset_s)

    def restart_recording(self, name: str, ago_s: float = 0.0) -> str:
        """The host stops the room's recording and starts it again: a finished part, and a new recording.

        ``ago_s``: the restart happened that many seconds ago (the part ended then; its row and
        file are as far along as they would be by now). Returns the finished part's id.
        """
        if ago_s < 0:
            raise ValueError("ago_s must be >= 0")
        with self.lock:
            room = self._room(name)
            if room.active is None:
                raise ValueError(f"room {name!r} is not recording: there is nothing to restart")
            file_format, callback_url = room.active.file_format, room.active.callback_url
            part = self.stop_recording(name, ago_s=ago_s)
            assert part is not None
            self.start_recording(name, file_format, callback_url)
            assert room.active is not None
            room.active.started_at -= timedelta(seconds=ago_s)
            return part

    def stop_recording(self, name: str, ago_s: float = 0.0) -> str | None:
        """Stop the room's recording (``ago_s`` seconds ago); the row appears after the processing delay."""
        with self.lock:
            room = self._room(name)
            active, room.active = room.active, None
            if active is None:
                return None
            delay = self.settings.processing_delay_s
            now, mono = self.now() - timedelta(seconds=ago_s), time.monotonic() - ago_s
            duration = room.duration_s or self.settings.recording_duration_s
            self.recordings[active.recording_id] = FakeRecording(
                recording_id=active.recording_id,
                conference_name=name,
                recording_type="conference",
                file_format=active.file_format,
                call_uuid=room.conference_uuid,
                duration_s=duration,
                # add_time is when the row is added, just after processing (as in wire examples).
                add_time=now + timedelta(seconds=delay),
                end_time=now,
                visible_at=mono + delay,
                file_at=mono + delay + self.settings.file_delay_s,
                seq=next(self._seq),
            )
            return active.recording_id

    def end_room(self, name: str) -> str | None:
        """All members leave: any recording stops (producing a row) and the room is gone."""
        with self.lock:
            recording_id = self.stop_recording(name)
            del self.rooms[name]
            return recording_id

    def end_all_rooms(self) -> list[str]:
        with self.lock:
            return [rid for rid in map(self.end_room, list(self.rooms)) if rid is not None]

    def _room(self, name: str) -> Room:
        try:
            return self.rooms[name]
        except KeyError:
            raise KeyError(f"no live room named {name!r}") from None

    # recordings ----------------------------------------------------------------------------

    def add_recording(
        self,
        *,
        conference_name: str | None,
        duration_s: float = 5.0,
        add_time: datetime | None = None,
        recording_type: str = "conference",
        file_format: str = "mp3",
        ready: bool = True,
        recording_id: str | None = None,
        call_uuid: str | None = None,
        wire: dict[str, Any] | None = None,
        file_status: int | None = None,
    ) -> str:
        if file_format not in FILE_FORMATS:
            raise ValueError(f"file_format must be one of {FILE_FORMATS}, not {file_format!r}")
        if recording_type not in RECORDING_TYPES:
            raise ValueError(f"recording_type must be one of {RECORDING_TYPES}, not {recording_type!r}")
        if duration_s <= 0:
            raise ValueError("duration_s must be > 0")
        with self.lock:
            recording_id = recording_id or str(uuid.uuid4())
            if recording_id in self.recordings:
                raise ValueError(f"recording {recording_id!r} already exists")
            mono = time.monotonic()
            # ready=False behaves like a recording just stopped: both delays still to run.
            delay = 0.0 if ready else self.settings.processing_delay_s
            file_delay = 0.0 if ready else self.settings.file_delay_s
            when = as_utc(add_time) if add_time else self.now() + timedelta(seconds=delay)
            self.recordings[recording_id] = FakeRecording(
                recording_id=recording_id,
                conference_name=conference_name,
                recording_type=recording_type,
                file_format=file_format,
                call_uuid=call_uuid or str(uuid.uuid4()),
                duration_s=duration_s,
                add_time=when,
                end_time=when,
                visible_at=mono + delay,
                file_at=mono + delay + file_delay,
                seq=next(self._seq),
                add_time_is_appearance=add_time is None,
                wire=dict(wire or {}),
                file_status=file_status,
            )
            return recording_id

    def finish_processing(self) -> list[str]:
        """Rows still processing appear now, their files as long after as they would have."""
        with self.lock:
            now, finished = time.monotonic(), []
            for rec in self.recordings.values():
                early = rec.visible_at - now
                if early <= 0:
                    continue
                rec.visible_at, rec.file_at = now, rec.file_at - early
                if rec.add_time_is_appearance:
                    rec.add_time -= timedelta(seconds=early)
                finished.append(rec.recording_id)
            return finished

    def visible_recordings(self) -> list[FakeRecording]:
        """Rows the list shows now, newest first by add_time (ties: newest inserted first)."""
        now = time.monotonic()
        with self.lock:
            rows = [rec for rec in self.recordings.values() if rec.visible_at <= now]
        return sorted(rows, key=lambda rec: (rec.add_time, rec.seq), reverse=True)

    def rendered_recordings(self) -> list[dict[str, Any]]:
        """The visible rows as the current API shape renders them, newest first."""
        return [
            recording_object(rec, self.settings, self.recording_url(rec), self.auth_id)
            for rec in self.visible_recordings()
        ]

    def visible_recording(self, recording_id: str) -> FakeRecording | None:
        with self.lock:
            rec = self.recordings.get(recording_id)
        return rec if rec is not None and rec.visible_at <= time.monotonic() else None

    def downloadable(self, recording_id: str) -> FakeRecording | None:
        rec = self.visible_recording(recording_id)
        return rec if rec is not None and rec.file_at <= time.monotonic() else None

    def delete_recording(self, recording_id: str) -> bool:
        with self.lock:
            if self.visible_recording(recording_id) is None:
                return False
            del self.recordings[recording_id]
            return True

    def get_recording(self, recording_id: str) -> FakeRecording:
        with self.lock:
            try:
                return self.recordings[recording_id]
            except KeyError:
                raise KeyError(f"no recording {recording_id!r}") from None

    def audio(self, rec: FakeRecording) -> AudioFile:
        kind = "mp3" if rec.file_format == "mp3" and self.settings.real_mp3 else "wav"
        return AudioFile(kind, rec.duration_s)

    def content_type(self, rec: FakeRecording, audio: AudioFile) -> str:
        # WAV bytes under a .mp3 URL: labelled audio/mpeg only in the documented-quirk mode.
        if audio.kind == "wav" and rec.file_format == "mp3" and self.settings.wav_as_mp3:
            return "audio/mpeg"
        return audio.content_type

    def media_path(self, recording_id: str, file_format: str) -> str:
        return f"/media/api/v1/Account/{self.auth_id}/Recording/{recording_id}.{file_format}"

    def media_url(self, recording_id: str, file_format: str) -> str:
        host = self.settings.media_host or self.hosts[0]
        return f"http://{host_port(host, self.port)}{self.media_path(recording_id, file_format)}"

    def recording_url(self, rec: FakeRecording) -> str:
        return self.media_url(rec.recording_id, rec.file_format)

    def storage_url(self, rec: FakeRecording) -> str:
        token = secrets.token_urlsafe(16)
        with self.lock:
            self.storage_tokens[token] = rec.recording_id
        host = self.settings.storage_host or self.hosts[0]
        port = self.settings.storage_port or self.port
        url = f"http://{host_port(host, port)}/storage/{token}/{rec.recording_id}.{rec.file_format}"
        return f"{url}?{presigned_query()}" if self.settings.storage_signed else url

    def storage_lookup(self, token: str) -> FakeRecording | None:
        with self.lock:
            recording_id = self.storage_tokens.get(token)
            return self.recordings.get(recording_id) if recording_id else None

    # faults and log ------------------------------------------------------------------------

    def inject(self, route: str, fault: Fault, times: int = 1) -> None:
        _check_route(route)
        if times < 1:
            raise ValueError("times must be >= 1")
        with self.lock:
            self.faults.setdefault(route, deque()).extend([fault] * times)

    def pop_fault(self, route: str | None) -> Fault | None:
        with self.lock:
            queue = self.faults.get(route) if route else None
            return queue.popleft() if queue else None

    def set_latency(self, route: str, seconds: float) -> None:
        """``route``: a route key, or ``"*"`` for every route without a latency of its own."""
        if route != EVERY_ROUTE:
            _check_route(route)
        if seconds < 0:
            raise ValueError("latency must be >= 0")
        with self.lock:
            self.latency[route] = float(seconds)

    def latency_for(self, route: str | None) -> float:
        with self.lock:
            return self.latency.get(route, self.latency.get(EVERY_ROUTE, 0.0)) if route else 0.0

    def set_auth_token(self, token: str) -> None:
        """Accept ``token`` from now on, and only it (a rotated token); ``reset()`` restores the first."""
        if not isinstance(token, str) or not token:
            raise ValueError("auth_token must be a non-empty string")
        with self.lock:
            self.auth_token = token

    def drop_file_after(self, n_bytes: int, times: int = 1) -> None:
        if n_bytes < 0 or times < 1:
            raise ValueError("n_bytes must be >= 0 and times >= 1")
        with self.lock:
            self.drops.extend([n_bytes] * times)

    def overstate_length(self, extra_bytes: int, times: int = 1) -> None:
        if extra_bytes <= 0:
            raise ValueError("extra_bytes must be > 0")
        with self.lock:
            self.overstated.extend([extra_bytes] * times)

    def pop_overstated(self) -> int:
        with self.lock:
            return self.overstated.popleft() if self.overstated else 0

    def pop_drop(self) -> int | None:
        with self.lock:
            return self.drops.popleft() if self.drops else None

    def log_request(self, entry: LoggedRequest) -> None:
        with self.lock:
            self.log.append(entry)

    def logged(self) -> list[LoggedRequest]:
        with self.lock:
            return list(self.log)

    def clear_log(self) -> None:
        with self.lock:
            self.log.clear()


def presigned_query() -> str:
    """An S3-style presigned query (fake values; the signature is what a log must never show)."""
    return urlencode(
        [
            ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
            ("X-Amz-Credential", "AKIAFAKE0001/20260101/us-east-1/s3/aws4_request"),
            ("X-Amz-Date", "20260101T000000Z"),
            ("X-Amz-Expires", "3600"),
            ("X-Amz-SignedHeaders", "host"),
            ("X-Amz-Signature", secrets.token_hex(32)),
        ]
    )


def _check_route(route: str) -> None:
    if route not in ROUTE_KEYS:
        raise ValueError(f"unknown route key {route!r}; known: {ROUTE_KEYS}")
