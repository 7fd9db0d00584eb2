"""OpenLineage datasets for a download: the Vobiz recording in, the file written out.

Used by ``DownloadRecordingOperator.get_openlineage_facets_on_complete`` only when Airflow's
OpenLineage provider asks, so OpenLineage is imported inside :func:`download_lineage` and never
at DAG parse time.

Names follow OpenLineage's naming conventions: a local file is namespace ``file`` and its absolute
path; an object is namespace ``<scheme>://<bucket>`` (``s3://meetings``) and its key. A recording
is namespace ``vobiz://<API host>`` and ``<conference name>/<recording id>`` (the id alone for a
recording without a room).
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from airflow.providers.openlineage.extractors import OperatorLineage

    from vobiz_provider.models import Recording

VOBIZ_SCHEME = "vobiz"


def recording_dataset(api_base_url: str, recording: Recording) -> tuple[str, str]:
    """The (namespace, name) of a recording on the Vobiz API at ``api_base_url``."""
    host = urlsplit(api_base_url).netloc.lower()
    room = recording.conference_name
    return f"{VOBIZ_SCHEME}://{host}", f"{room}/{recording.recording_id}" if room else recording.recording_id


def file_dataset(path: str) -> tuple[str, str]:
    """The (namespace, name) of a downloaded file: a local absolute path or an object-store URL."""
    if "://" not in path:
        return "file", path
    from vobiz_provider.version_compat import ObjectStoragePath

    target = ObjectStoragePath(path)
    if target.protocol in ("file", "local"):
        return "file", "/" + target.path.lstrip("/")
    # The connection id in s3://conn@bucket/key is Airflow's, not part of the object's name (and Airflow 3.1's
    # universal_pathlib 0.2 keeps it in .bucket).
    return f"{target.protocol}://{target.bucket.rpartition('@')[2]}", target.key


def download_lineage(api_base_url: str, recording: Recording, path: str) -> OperatorLineage:
    """The recording as the input dataset and the file at ``path`` as the output."""
    from airflow.providers.common.compat.openlineage.facet import Dataset
    from airflow.providers.openlineage.extractors import OperatorLineage

    return OperatorLineage(
        inputs=[Dataset(*recording_dataset(api_base_url, recording))],
        outputs=[Dataset(*file_dataset(path))],
    )
