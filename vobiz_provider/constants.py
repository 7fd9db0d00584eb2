"""Values every layer shares, defined once."""

from __future__ import annotations

# The Airflow connection every hook, operator, sensor and trigger uses unless told otherwise.
DEFAULT_CONN_ID = "vobiz_default"
# The formats Vobiz records in (the start request's ``file_format``).
FILE_FORMATS = ("mp3", "wav")
# Bytes read and written per chunk of a download; memory stays within a few chunks.
DEFAULT_CHUNK_SIZE = 1024 * 1024
# The longest Retry-After a request waits out within its retries (docs/vobiz-api-quirks.md,
# "Retry-After"); a longer one fails the request at once, naming the wait Vobiz asked for.
MAX_RETRY_AFTER_S = 300.0
# The longest a connection test waits for its one request: the UI's Test button must answer.
TEST_CONNECTION_TIMEOUT_S = 10.0
# Pages of the recording list read by one search before giving up (100 per page: 100,000 rows).
MAX_LIST_PAGES = 1000
# How much earlier than a stop's ``stopped_at`` the recording it ended may say it ended (its
# ``end_ms``, else ``add_time``): Vobiz stamps the end by its own clock before it answers, the
# worker stamps ``stopped_at`` by its clock when the answer arrives (docs/meeting-window.md).
STOP_CLOCK_ALLOWANCE_S = 30.0
