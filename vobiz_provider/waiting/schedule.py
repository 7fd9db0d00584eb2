"""How long to wait between polls, which failures are waited out, and when to give up.

Every outcome of a poll leads to a wait of at least the poll interval (never a tight loop);
``Retry-After`` stretches it. Failures that waiting cannot fix (401/403, a deleted recording,
bad input, another 4xx, a recording asked for by id with a field that does not parse) end the
wait at once; 429 is waited out without counting as a failure; 5xx, transport failures and
malformed answers count against a budget of failures in a row.
Pure (no clock, no sleep): any poll loop, sync or async, one wait or many, can use it.
"""

from __future__ import annotations

from enum import Enum

from vobiz_provider.exceptions import (
    PollingGaveUpError,
    RecordingGoneError,
    UnusableRecordingError,
    VobizAuthError,
    VobizClientError,
    VobizConfigError,
    VobizError,
    VobizRateLimitError,
)

# The cap of an exponentially growing interval when none is given: ten minutes, or the interval itself.
DEFAULT_MAX_POLL_INTERVAL = 600.0


class FailureKind(str, Enum):
    """What a failed poll means for the wait."""

    FATAL = "fatal"
    """Waiting cannot fix it: stop now."""
    RATE_LIMITED = "rate_limited"
    """Vobiz asked us to slow down: wait (as long as it asked), not a failure."""
    TRANSIENT = "transient"
    """May pass: wait and count it against the budget."""


def classify(error: VobizError) -> FailureKind:
    """The kind of a poll's failure (see the module's docstring)."""
    if isinstance(error, VobizRateLimitError):
        return FailureKind.RATE_LIMITED
    # RecordingGoneError is a 404 for a row that had been seen; other 404s (a list) may pass.
    if isinstance(error, (VobizAuthError, VobizClientError, VobizConfigError, RecordingGoneError)):
        return FailureKind.FATAL
    if isinstance(error, UnusableRecordingError) and not error.missing:
        return FailureKind.FATAL  # the recording waited for by id has a field that does not parse
    return FailureKind.TRANSIENT


def asked_wait(error: VobizError) -> float:
    """Seconds Vobiz asked to wait (``Retry-After``) with this error; 0 when it did not say."""
    return float(getattr(error, "retry_after", None) or 0.0)


class PollSchedule:
    """The waits of one poll loop: the interval (growing by ``backoff`` per poll up to ``max_interval``),
    stretched by ``Retry-After``, the budget of failed polls in a row, and the deadline.

    :param interval: seconds between polls.
    :param backoff: factor the interval grows by after each poll; 1 keeps it constant.
    :param max_interval: the longest interval; default ten minutes (or ``interval`` if longer).
    :param max_failures: failed polls in a row after which the loop gives up.
    :param deadline: seconds since the epoch after which no poll is made but a last one at the
        deadline itself; None for a loop without an end.
    """

    def __init__(
        self,
        interval: float,
        *,
        backoff: float = 1.0,
        max_interval: float | None = None,
        max_failures: int = 5,
        deadline: float | None = None,
    ) -> None:
        check_pacing(interval, backoff, max_interval, max_failures)
        self.interval = float(interval)
        self.backoff = float(backoff)
        self.max_interval = max(self.interval, DEFAULT_MAX_POLL_INTERVAL if max_interval is None else max_interval)
        self.max_failures = max_failures
        self.deadline = deadline
        self.failures = 0
        self._upcoming = self.interval
        self._last_poll_made = False

    def _next(self) -> float:
        wait = self._upcoming
        self._upcoming = min(wait * self.backoff, self.max_interval)
        return wait

    def after_answer(self) -> float:
        """The wait after a poll that got its answers (ready or not): the failure count starts again."""
        self.failures = 0
        return self._next()

    def after_failure(self, error: VobizError) -> float:
        """The wait after a failed poll.

        :raises VobizError: ``error`` itself when it is fatal, :class:`PollingGaveUpError` when the budget is spent.
        """
        kind = classify(error)
        if kind is FailureKind.FATAL:
            raise error
        if kind is FailureKind.TRANSIENT:
            self.failures += 1
            if self.failures >= self.max_failures:
                raise PollingGaveUpError(
                    f"gave up after {self.failures} failed polls in a row; the last: {error}",
                    status_code=error.status_code,
                    api_id=error.api_id,
                ) from error
        return max(self._next(), asked_wait(error))

    def sleep_before_next_poll(self, wait: float, now: float) -> float | None:
        """How long to sleep before the next poll, or None when the wait is over (the last poll,
        at the deadline, has been made). A wait that reaches past the deadline is cut to end there."""
        if self.deadline is None:
            return wait
        remaining = self.deadline - now
        if self._last_poll_made or remaining <= 0:
            return None
        self._last_poll_made = wait >= remaining
        return min(wait, remaining)


def check_pacing(
    interval: float,
    backoff: float,
    max_interval: float | None,
    max_failures: int,
    *,
    interval_param: str = "poll_interval",
    max_interval_param: str = "max_poll_interval",
) -> None:
    """Refuse pacing values that would poll in a tight loop or never give up, naming the parameter
    as the caller's author wrote it (a sensor's ``poke_interval`` and ``max_wait``)."""
    if isinstance(interval, bool) or not isinstance(interval, (int, float)) or not interval > 0:
        raise VobizConfigError(f"{interval_param} must be a number of seconds > 0, got {interval!r}")
    if isinstance(backoff, bool) or not isinstance(backoff, (int, float)) or not backoff >= 1:
        raise VobizConfigError(f"poll_backoff must be a factor >= 1, got {backoff!r}")
    if max_interval is not None and (
        isinstance(max_interval, bool) or not isinstance(max_interval, (int, float)) or not max_interval > 0
    ):
        raise VobizConfigError(f"{max_interval_param} must be a number of seconds > 0 or None, got {max_interval!r}")
    if isinstance(max_failures, bool) or not isinstance(max_failures, int) or max_failures < 1:
        raise VobizConfigError(f"max_consecutive_failures must be an integer >= 1, got {max_failures!r}")
