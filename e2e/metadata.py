"""Read-only looks into Airflow's metadata database, for what the REST API does not show.

The asset state store (the watcher's watermark) and which triggerer runs an asset watcher's
trigger are not in the public API; the suite reads them with plain SQL.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy


class Metadata:
    """Airflow's metadata database of a deployment.

    :param url: its SQLAlchemy URL (the deployment's ``AIRFLOW__DATABASE__SQL_ALCHEMY_CONN``).
    """

    def __init__(self, url: str) -> None:
        self.engine = sqlalchemy.create_engine(url, poolclass=sqlalchemy.pool.NullPool)

    def _rows(self, sql: str) -> list[Any]:
        with self.engine.connect() as conn:
            return list(conn.execute(sqlalchemy.text(sql)))

    def state_keys(self) -> list[str]:
        """Every key saved in the asset state store."""
        return [row[0] for row in self._rows("SELECT key FROM asset_state_store")]

    def watcher_triggerers(self) -> list[int | None]:
        """The triggerer job id running each asset watcher's trigger (None: nobody yet)."""
        sql = "SELECT t.triggerer_id FROM trigger t JOIN asset_watcher w ON w.trigger_id = t.id"
        return [row[0] for row in self._rows(sql)]

    def asset_event_payloads(self) -> list[dict[str, Any]]:
        """Every asset event's ``extra["payload"]`` (the recording, for the Vobiz watcher's events)."""
        return [_payload(extra) for (extra,) in self._rows("SELECT extra FROM asset_event")]

    def queued_runs(self) -> int:
        """Asset-triggered runs the scheduler has still to create (rows of its queue)."""
        return int(self._rows("SELECT count(*) FROM asset_dag_run_queue")[0][0])

    def unconsumed_payloads(self) -> list[dict[str, Any]]:
        """The payloads of asset events no DAG run has consumed (yet)."""
        sql = "SELECT extra FROM asset_event WHERE id NOT IN (SELECT event_id FROM dagrun_asset_event)"
        return [_payload(extra) for (extra,) in self._rows(sql)]

    def close(self) -> None:
        self.engine.dispose()


def _payload(extra: Any) -> dict[str, Any]:
    value = json.loads(extra) if isinstance(extra, str) else extra
    return dict((value or {}).get("payload") or {})
