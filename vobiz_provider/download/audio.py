"""What a recording file really is: its format from the first bytes, its duration from mutagen.

Vobiz may serve WAV bytes under a ``.mp3`` URL with ``Content-Type: audio/mpeg``, so neither the
name nor the header is trusted: the bytes decide. mutagen is imported when a duration is read.
"""

from __future__ import annotations

import os
from enum import Enum

from vobiz_provider.exceptions import AudioCheckError

# Enough for every signature below (RIFF/WAVE needs 12 bytes, an MPEG frame header 2).
HEADER_SIZE = 12


class AudioFormat(str, Enum):
    """The containers Vobiz records in, as the XCom ``format`` reports them."""

    WAV = "wav"
    MP3 = "mp3"


def detect_format(header: bytes) -> AudioFormat:
    """The format of a file from its first bytes (at least :data:`HEADER_SIZE` where the file has them).

    ``RIFF....WAVE`` is WAV; an ``ID3`` tag or an MPEG audio frame header (11 sync bits, a
    version and a layer that are not reserved: MPEG-1, -2 and -2.5, e.g. ``FF FB``, ``FF F3``,
    ``FF E3``) is MP3. Anything else raises :class:`AudioCheckError` showing the first bytes.
    """
    if header[:4] == b"RIFF" and header[8:12] == b"WAVE":
        return AudioFormat.WAV
    if header[:3] == b"ID3" or _mpeg_frame_header(header):
        return AudioFormat.MP3
    if not header:
        raise AudioCheckError("the downloaded file is empty")
    shown = header[:HEADER_SIZE]
    raise AudioCheckError(
        f"the downloaded file is neither WAV nor MP3: it starts with {shown.hex(' ')} "
        f"({shown.decode('latin-1')!r}); Vobiz may have served an error page"
    )


def _mpeg_frame_header(header: bytes) -> bool:
    if len(header) < 2 or header[0] != 0xFF or header[1] & 0xE0 != 0xE0:
        return False
    version = (header[1] >> 3) & 0b11  # 01 is reserved
    layer = (header[1] >> 1) & 0b11  # 00 is reserved (and is what AAC's ADTS sync looks like)
    return version != 0b01 and layer != 0b00


def sniff_file(path: str | os.PathLike[str]) -> AudioFormat:
    """:func:`detect_format` of a local file."""
    with open(path, "rb") as handle:
        return detect_format(handle.read(HEADER_SIZE))


def read_duration(path: str | os.PathLike[str], audio_format: AudioFormat) -> float:
    """The audio's length in seconds, read by mutagen from a local file of a known format."""
    import mutagen
    from mutagen.mp3 import MP3
    from mutagen.wave import WAVE

    reader = WAVE if audio_format is AudioFormat.WAV else MP3
    try:
        info = reader(os.fspath(path)).info
    except (mutagen.MutagenError, OSError, ValueError) as err:
        raise AudioCheckError(f"could not read the duration of the {audio_format.value} file: {err}") from None
    length = getattr(info, "length", None)
    if not length or length <= 0:
        raise AudioCheckError(f"the {audio_format.value} file holds no audio (duration {length!r})")
    return float(length)


def check_duration(actual_s: float, expected_s: float | None, tolerance_s: float | None) -> None:
    """Raise when ``actual_s`` is further than the tolerance (default 10% of expected) from ``expected_s``."""
    if expected_s is None:
        return
    allowed = expected_s * 0.1 if tolerance_s is None else tolerance_s
    if abs(actual_s - expected_s) > allowed:
        raise AudioCheckError(
            f"the recording lasts {actual_s:.2f} s but expected_duration is {expected_s:g} s "
            f"(difference {abs(actual_s - expected_s):.2f} s, duration_tolerance {allowed:g} s)"
        )
