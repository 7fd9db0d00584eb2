"""``make dist``, last step: the installed wheel runs the stand-up pipeline, as a user's Airflow would.

Run with the Python of a fresh virtual environment that has the wheel and Airflow installed; it
must not import the provider from the checkout. Starts the packaged fake Vobiz server on
127.0.0.1, runs ``dags_examples/standup_pipeline.py`` once with ``dag.test()`` in a temporary
Airflow home and checks the downloaded file. Exit code 0 only on success.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
from pathlib import Path

EXAMPLE_DAGS = Path(__file__).resolve().parent.parent / "dags_examples"
MINUTES = 1


def _prepare_airflow(home: Path) -> None:
    os.environ.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_FOLDER": str(EXAMPLE_DAGS),
            "AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST": json.dumps(
                [
                    {
                        "name": "examples",
                        "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle",
                        "kwargs": {"path": str(EXAMPLE_DAGS)},
                    }
                ]
            ),
        }
    )
    sys.path.insert(0, str(EXAMPLE_DAGS))


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="vobiz-dist-"))
    _prepare_airflow(work / "airflow_home")

    import vobiz_provider
    from vobiz_provider.testing import FakeVobizServer

    installed = Path(vobiz_provider.__file__).resolve()
    if Path(sys.prefix).resolve() not in installed.parents:
        raise SystemExit(f"vobiz_provider was imported from {installed}, not from the installed wheel")

    from airflow.utils import db

    db.initdb()
    server = FakeVobizServer().start()
    try:
        server.configure(processing_delay_s=0.5, file_delay_s=0.5)
        server.add_room("Daily Standup", members=3, recording=True, file_format="wav", duration_s=MINUTES * 60)
        os.environ["AIRFLOW_CONN_VOBIZ_DEFAULT"] = server.connection_json()
        import standup_pipeline

        run = standup_pipeline.dag.test(run_conf={"storage_root": str(work / "recordings"), "meeting_minutes": MINUTES})
        state = str(getattr(run.state, "value", run.state))
        if state != "success":
            raise SystemExit(f"the stand-up pipeline finished {state}")
        files = [path for path in (work / "recordings").rglob("*") if path.is_file()]
        served = [server.recording_bytes(str(row["recording_id"])) for row in server.recordings]
        if len(files) != 1 or [files[0].read_bytes()] != served:
            raise SystemExit(f"expected one file with the one recording's bytes, found {files}")
        data = served[0]
    finally:
        server.stop()
    print(
        f"vobiz_provider {vobiz_provider.__version__} from {installed.parent}: stand-up pipeline succeeded, "
        f"{files[0].name} {len(data):,} bytes sha256 {hashlib.sha256(data).hexdigest()[:16]}..."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
