"""Values every layer shares, defined once."""

from __future__ import annotations

# The Airflow connection every hook, operator, sensor and trigger uses unless told otherwise.
DEFAULT_CONN_ID = "vobiz_default"
# The formats Vobiz records in (the start request's ``file_format``).
FILE_FORMATS = ("mp3", "wav")
# Bytes read and written per chunk of a download; memory stays within a few chunks.
DEFAULT_CHUNK_SIZE = 1024 * 1024
