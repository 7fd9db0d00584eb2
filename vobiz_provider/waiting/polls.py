"""One poll of a wait: the sync one (the sensor, on the worker) and the async one (the trigger),
side by side. Each asks what :class:`~vobiz_provider.waiting.wait.RecordingWait` wants to know,
with the matching hook call, and hands the answer back; the hooks are imported only for types.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from vobiz_provider.exceptions import UnusableRecordingError, VobizNotFoundError
from vobiz_provider.waiting.wait import RecordingWait, RowById, RowInRoom

if TYPE_CHECKING:
    from vobiz_provider.hooks.listing import RecordingSearch
    from vobiz_provider.hooks.vobiz import VobizAsyncHook, VobizHook
    from vobiz_provider.models import Recording


class SharedSearch(Protocol):
    """Answers a wait's search of a room from a list read shared with other waits (the triggerer's)."""

    async def search(self, question: RowInRoom) -> RecordingSearch: ...


def poll(hook: VobizHook, wait: RecordingWait) -> Recording | None:
    """Find the row unless known, then probe the files not ready yet: the ready recording
    (with ``collect="all"``, every part ready: :meth:`RecordingWait.collected`), or None."""
    question = wait.next_question()
    if isinstance(question, RowById):
        try:
            wait.read_row(hook.get_recording(question.recording_id))
        except VobizNotFoundError as missing:
            wait.read_missing_row(missing)
        except UnusableRecordingError as unusable:
            wait.read_unusable_row(unusable)
    elif isinstance(question, RowInRoom):
        wait.read_search(hook.find_conference_recording(question.conference_name, question.since, question.until))
    for recording in wait.files_to_probe():
        wait.read_file(recording, hook.recording_file_ready(recording))
    return wait.ready()


async def poll_async(hook: VobizAsyncHook, wait: RecordingWait, shared: SharedSearch | None = None) -> Recording | None:
    """The same poll with the async hook; a room is searched in ``shared``'s list when given."""
    question = wait.next_question()
    if isinstance(question, RowById):
        try:
            wait.read_row(await hook.get_recording(question.recording_id))
        except VobizNotFoundError as missing:
            wait.read_missing_row(missing)
        except UnusableRecordingError as unusable:
            wait.read_unusable_row(unusable)
    elif isinstance(question, RowInRoom):
        if shared is None:
            search = await hook.find_conference_recording(question.conference_name, question.since, question.until)
        else:
            search = await shared.search(question)
        wait.read_search(search)
    for recording in wait.files_to_probe():
        wait.read_file(recording, await hook.recording_file_ready(recording))
    return wait.ready()
