"""Deterministic recording files, generated lazily so a 1 GiB file costs no memory.

A file is an optional fixed prefix (the WAV header) followed by a short byte pattern repeated
to the file's length, so any byte range can be computed directly and sha256 is stable.
WAV: 8000 Hz mono 16-bit PCM holding a 400 Hz tone. MP3 (only with ``real_mp3``): silent
MPEG-1 Layer III frames, 32 kbps, 32 kHz, mono; each frame is a header and zeroed side info,
which decoders play as silence, so no encoder is needed.
"""

from __future__ import annotations

import io
import math
import struct
import wave
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property

SAMPLE_RATE = 8000
SAMPLE_WIDTH = 2
TONE_HZ = 400
CHUNK_SIZE = 64 * 1024

# One period of the tone: SAMPLE_RATE / TONE_HZ = 20 samples, so the pattern tiles seamlessly.
_TONE = b"".join(
    struct.pack("<h", round(8000 * math.sin(2 * math.pi * i * TONE_HZ / SAMPLE_RATE)))
    for i in range(SAMPLE_RATE // TONE_HZ)
)

_MP3_FRAME_HEADER = bytes((0xFF, 0xFB, 0x18, 0xC4))  # MPEG-1 L3, 32 kbps, 32 kHz, mono, original
_MP3_FRAME_SIZE = 144 * 32000 // 32000  # 144 * bitrate / sample rate, no padding
_MP3_FRAME = _MP3_FRAME_HEADER + bytes(_MP3_FRAME_SIZE - len(_MP3_FRAME_HEADER))
_MP3_FRAME_SECONDS = 1152 / 32000

CONTENT_TYPES = {"wav": "audio/wav", "mp3": "audio/mpeg"}


def _wav_header(n_frames: int) -> bytes:
    # The header the wave module writes for this many frames, taken before any data is written.
    buf = io.BytesIO()
    with wave.open(buf, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(SAMPLE_WIDTH)
        writer.setframerate(SAMPLE_RATE)
        writer.setnframes(n_frames)
        writer.writeframesraw(b"")
        # Read now: closing patches the header to the 0 frames actually written.
        header = buf.getvalue()
    return header


@dataclass(frozen=True)
class AudioFile:
    """A generated recording file.

    :param kind: ``"wav"`` or ``"mp3"``: the container the bytes really are.
    :param duration_s: the audio's length in seconds.
    """

    kind: str
    duration_s: float

    @cached_property
    def _prefix(self) -> bytes:
        return _wav_header(self._units) if self.kind == "wav" else b""

    @property
    def _pattern(self) -> bytes:
        return _TONE if self.kind == "wav" else _MP3_FRAME

    @property
    def _units(self) -> int:
        # WAV: sample frames; MP3: whole MPEG frames (at least one, so the file is never empty).
        if self.kind == "wav":
            return max(1, round(self.duration_s * SAMPLE_RATE))
        return max(1, round(self.duration_s / _MP3_FRAME_SECONDS))

    @property
    def size(self) -> int:
        unit = SAMPLE_WIDTH if self.kind == "wav" else _MP3_FRAME_SIZE
        return len(self._prefix) + self._units * unit

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.kind]

    def iter_range(self, start: int, end: int, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
        """Yield bytes ``[start, end)`` of the file in chunks of at most ``chunk_size``."""
        prefix, pattern = self._prefix, self._pattern
        end = min(end, self.size)
        # Build one chunk-sized block once and slice it: the pattern repeats every len(pattern).
        block = pattern * (chunk_size // len(pattern) + 2)
        pos = start
        while pos < end:
            stop = min(end, pos + chunk_size)
            if pos < len(prefix):
                stop = min(stop, len(prefix))
                yield prefix[pos:stop]
            else:
                offset = (pos - len(prefix)) % len(pattern)
                yield block[offset : offset + stop - pos]
            pos = stop

    def read(self, start: int = 0, end: int | None = None) -> bytes:
        """Bytes ``[start, end)`` at once; for small files and tests."""
        return b"".join(self.iter_range(start, self.size if end is None else end))
