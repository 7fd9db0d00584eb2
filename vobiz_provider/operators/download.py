"""The operator that downloads a Vobiz recording into the team's storage and verifies it.

Only ``airflow.sdk``, the standard library and the provider's light modules are imported here:
DAG files import this module at every parse. The hook, fsspec and mutagen load when a task runs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from vobiz_provider.constants import DEFAULT_CHUNK_SIZE, DEFAULT_CONN_ID
from vobiz_provider.exceptions import DestinationExistsError, VobizConfigError
from vobiz_provider.models import Recording
from vobiz_provider.validation import invalid_input_fails_task, parse_mapping_text, require_name, seconds_argument
from vobiz_provider.version_compat import AirflowFailException, Asset, BaseOperator

if TYPE_CHECKING:
    from airflow.providers.openlineage.extractors import OperatorLineage

    from vobiz_provider.download.delivery import DeliveredRecording
    from vobiz_provider.version_compat import Context

__all__ = ["DownloadRecordingOperator"]

# What a template renders for a null when native rendering is off.


class DownloadRecordingOperator(BaseOperator):
    """Download a Vobiz recording to a file in your storage, verify it, and report what it got.

    The file is streamed in chunks (memory stays flat whatever its size) into a temporary file,
    resumed with ``Range`` after a dropped connection, checked (bytes against
    ``Content-Length``, the format from the bytes, the duration with mutagen, and
    ``expected_duration`` if given), and only then moved to ``destination``. A failure leaves
    nothing at the destination, temporary files included.

    An existing destination is never replaced unless ``overwrite=True``. With ``overwrite``
    off, a file there of a different size is refused as soon as Vobiz announces the length;
    one of the same size is compared by sha256 with a fresh download (Vobiz publishes no
    checksum): the same bytes succeed without touching it, so retries and re-runs are
    idempotent; different bytes fail the task.

    Returns (XCom ``return_value``) ``{"recording_id", "path", "bytes", "sha256", "format",
    "duration_s"}``: ``path`` is the destination (an absolute path or the URL), ``format``
    ``"wav"`` or ``"mp3"`` as the bytes say. Each ``Asset`` in ``outlets`` gets an event whose
    ``extra`` holds the same values plus ``conference_name`` and ``add_time``. With Airflow's
    OpenLineage provider installed, the run reports the recording as its input dataset and the
    file as its output (:mod:`vobiz_provider.download.lineage`).

    :param recording: the recording: the dict :class:`~vobiz_provider.sensors.recording.ConferenceRecordingSensor`
        returns (or its JSON), or a recording id to look up (templated).
    :param destination: the file to write: an absolute local path, a ``file://`` URL, an
        object-storage URL such as ``s3://my_aws_conn@bucket/key.wav`` (any scheme Airflow's
        ``ObjectStoragePath`` knows), or an ``ObjectStoragePath`` (templated). Missing local
        folders are created. ``{format}`` in the file's name becomes ``wav`` or ``mp3`` as the
        downloaded bytes say (``standup.{format}`` -> ``standup.wav``), and ``{recording_id}``
        becomes the recording's id (``.../{recording_id}.{format}``: one file per part when the
        download is mapped over the sensor's ``collect="all"`` list); XCom ``path`` is the final
        name. Other braces are refused before any request. Object stores get one PUT of the
        verified file (docs/destinations.md).
    :param expected_duration: seconds the recording should last; None not to check (templated).
    :param duration_tolerance: seconds the duration may differ from ``expected_duration``;
        default 10% of it (templated).
    :param overwrite: replace a different file at the destination.
    :param chunk_size: bytes read and written per chunk; memory stays within a few chunks.
    :param vobiz_conn_id: the Airflow connection to Vobiz.
    """

    template_fields: Sequence[str] = ("recording", "destination", "expected_duration", "duration_tolerance")
    ui_color = "#d6e4f4"

    def __init__(
        self,
        *,
        recording: Mapping[str, Any] | str,
        destination: Any,
        expected_duration: float | str | None = None,
        duration_tolerance: float | str | None = None,
        overwrite: bool = False,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        vobiz_conn_id: str = DEFAULT_CONN_ID,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not isinstance(overwrite, bool):
            raise ValueError(f"overwrite must be True or False, got {overwrite!r}")
        if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
            raise ValueError(f"chunk_size must be a positive number of bytes, got {chunk_size!r}")
        self.recording = recording
        self.destination = destination
        self.expected_duration = expected_duration
        self.duration_tolerance = duration_tolerance
        self.overwrite = overwrite
        self.chunk_size = chunk_size
        self.vobiz_conn_id = vobiz_conn_id
        # (API base URL, recording, path written) of the last successful execute(), for lineage.
        self._lineage_source: tuple[str, Recording, str] | None = None

    def execute(self, context: Context) -> dict[str, Any]:
        from vobiz_provider.download.delivery import ExpectedDuration, deliver
        from vobiz_provider.download.storage import resolve_destination
        from vobiz_provider.hooks.vobiz import VobizHook

        with invalid_input_fails_task():
            wanted = recording_argument(self.recording)
            destination = resolve_destination(self.destination).for_recording(
                wanted.recording_id if isinstance(wanted, Recording) else wanted
            )
            expected = seconds_argument(self.expected_duration, "expected_duration", positive=True)
            tolerance = seconds_argument(self.duration_tolerance, "duration_tolerance")
            if tolerance is not None and expected is None:
                raise VobizConfigError("duration_tolerance is set but expected_duration is not: set both")
        hook = VobizHook(vobiz_conn_id=self.vobiz_conn_id)
        try:
            recording = wanted if isinstance(wanted, Recording) else hook.get_recording(wanted)
            self.log.info("Downloading recording %s to %s", recording.recording_id, destination.location)
            delivered = deliver(
                hook,
                recording,
                destination,
                overwrite=self.overwrite,
                expected=ExpectedDuration(expected, tolerance),
                chunk_size=self.chunk_size,
                log=self.log,
            )
            self._lineage_source = (hook.get_settings().base_url, recording, delivered.path)
        except DestinationExistsError as err:
            raise AirflowFailException(str(err)) from err
        finally:
            hook.close()
        self.log.info(
            "Recording %s is at %s: %s, %s bytes, %.1f s, sha256 %s",
            delivered.recording_id,
            delivered.path,
            delivered.format,
            f"{delivered.bytes:,}",
            delivered.duration_s,
            delivered.sha256,
        )
        self._announce(context, delivered, recording)
        return delivered.to_xcom()

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> OperatorLineage:
        """OpenLineage's view of the download: the Vobiz recording in, the file written out.

        Called by Airflow's OpenLineage provider, when installed, after a successful run; it is
        imported here, never when a DAG file is parsed.
        """
        if self._lineage_source is None:  # nothing was downloaded in this process
            from airflow.providers.openlineage.extractors import OperatorLineage

            return OperatorLineage()
        from vobiz_provider.download.lineage import download_lineage

        return download_lineage(*self._lineage_source)

    def _announce(self, context: Context, delivered: DeliveredRecording, recording: Recording) -> None:
        """Put the recording's id and file on each outlet Asset's event, for downstream DAGs."""
        extra = {
            **delivered.to_xcom(),
            "conference_name": recording.conference_name,
            "add_time": recording.add_time.isoformat(),
        }
        for outlet in self.outlets:
            if isinstance(outlet, Asset):
                context["outlet_events"][outlet].extra = dict(extra)


def recording_argument(value: Any) -> Recording | str:
    """The ``recording`` argument as a :class:`Recording`, or an id to look up.

    Accepts the sensor's dict, that dict as JSON or as Python's repr (what a template renders
    when native rendering is off), a dict with only ``recording_id``, or an id.
    """
    if isinstance(value, str) and value.strip().startswith("{"):
        value = parse_mapping_text(value.strip(), "recording")
    if value is None or isinstance(value, str):
        return require_name(value, "recording").strip()
    if not isinstance(value, Mapping):
        raise VobizConfigError(
            f"recording must be the sensor's recording dict or a recording id, got {type(value).__name__} {value!r}"
        )
    if value.get("recording_url") and value.get("add_time") and value.get("recording_id"):
        try:
            return Recording.from_dict(value)
        except (KeyError, TypeError, ValueError) as err:
            raise VobizConfigError(f"recording is not a usable recording dict: {err}") from None
    if value.get("recording_id"):
        return require_name(value["recording_id"], "recording['recording_id']").strip()
    raise VobizConfigError(f"recording dict has no recording_id (keys {sorted(map(str, value))})")
