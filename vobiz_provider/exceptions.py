"""Typed errors raised by the provider; each says what was asked and what came back, never the token."""

from __future__ import annotations

from typing import Any


class VobizError(Exception):
    """Base of every error this provider raises about Vobiz.

    :param message: what was asked and what came back.
    :param status_code: the HTTP status Vobiz answered with, if any.
    :param api_id: Vobiz's request correlation id, if the answer carried one.
    :param detail: Vobiz's own words from the error body, if any (no request context around them).
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        api_id: str | None = None,
        detail: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.api_id = api_id
        self.detail = detail


class VobizConfigError(VobizError, ValueError):
    """The Airflow connection or an argument is unusable; raised before any request is sent."""


class TriggerArgumentError(VobizConfigError, TypeError):
    """A trigger's kwargs refused. Also a :class:`TypeError`: Airflow's triggerer fails only this
    trigger for one (``TriggerRunner.create_triggers`` catches nothing else), where any other error
    would stop every wait and watcher on the triggerer."""


class VobizAuthError(VobizError):
    """401/403: wrong credentials, an unscoped host, or a wrongly cased path (Vobiz answers 401 for those)."""


class VobizNotFoundError(VobizError):
    """404: the room, recording or file does not exist (or not yet)."""


class VobizClientError(VobizError):
    """Another 4xx that retrying cannot fix."""


class _RetryAfterError(VobizError):
    """An answer that may say how long to wait (``Retry-After``) before asking again."""

    def __init__(self, message: str, *, retry_after: float | None = None, **context: Any) -> None:
        super().__init__(message, **context)
        self.retry_after = retry_after


class VobizRateLimitError(_RetryAfterError):
    """429: the account's rate or concurrency limit.

    :param retry_after: seconds Vobiz asked us to wait, if it said.
    """


class VobizServerError(_RetryAfterError):
    """5xx from Vobiz (a 503 may carry ``retry_after``, seconds Vobiz asked us to wait)."""


class VobizUnavailableError(VobizServerError):
    """A 2xx that is not Vobiz's answer where JSON was expected: an HTML page (a proxy's or load
    balancer's maintenance page), or a body cut short or empty. Transient: retried like a 503."""


class VobizOutcomeUnknownError(VobizServerError):
    """A non-idempotent request may or may not have taken effect; it is not replayed blindly."""


class VobizConnectionError(VobizError):
    """The request could not be completed at the transport level.

    :param sent: whether the request may have reached Vobiz (a read timeout or reset after sending).
    """

    def __init__(self, message: str, *, sent: bool) -> None:
        super().__init__(message)
        self.sent = sent


class ConnectionLookupError(VobizError):
    """The Airflow connection could not be looked up (missing, or the secrets backend or API server
    did not answer). A trigger's poll counts it as a transient failure: the connection may be back soon."""


class VobizResponseError(VobizError):
    """Vobiz answered with something this provider cannot use (malformed JSON, missing fields)."""


class UnusableRecordingError(VobizResponseError):
    """A recording row this provider cannot use: a field it needs is missing or unreadable.

    A list skips such a row (docs/vobiz-api-quirks.md, "Rows the provider cannot use"); a wait for
    the recording by id waits while a field is missing and fails when one is unreadable.

    :param field: the field at fault, as Vobiz names it (``recording_url``, ``add_time``, ...).
    :param recording_id: the row's id, if it has one.
    :param missing: the field is missing (a row still being processed), not unreadable.
    """

    def __init__(self, message: str, *, field: str, recording_id: str | None = None, missing: bool = False) -> None:
        super().__init__(message)
        self.field = field
        self.recording_id = recording_id
        self.missing = missing


class VobizTransferError(VobizError):
    """A file transfer ended short or longer than announced."""


class VobizUnexpectedSizeError(VobizTransferError):
    """The server announced a file of another size than the caller said it must have.

    :param announced: the size the server announced, in bytes.
    """

    def __init__(self, message: str, *, announced: int) -> None:
        super().__init__(message)
        self.announced = announced


class RecordingGoneError(VobizNotFoundError):
    """A recording that had been seen answers 404: it was deleted, so waiting cannot help."""


class PollingGaveUpError(VobizError):
    """Too many polls in a row failed."""


class UnreadableEventError(VobizError, ValueError):
    """A trigger event this provider did not send (or of another version): refused, not guessed at."""


class AudioCheckError(VobizError):
    """A downloaded file is not the audio it should be: unknown bytes, unreadable, wrong length."""


class DestinationExistsError(VobizError, FileExistsError):
    """The destination holds a different file and ``overwrite`` is off."""
