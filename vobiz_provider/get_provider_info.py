"""Provider metadata that Airflow reads through the ``apache_airflow_provider`` entry point."""

from __future__ import annotations

from typing import Any

from vobiz_provider import __version__


def get_provider_info() -> dict[str, Any]:
    """Describe the provider, its modules and the ``vobiz`` connection type to Airflow."""
    return {
        "package-name": "airflow-provider-vobiz",
        "name": "Vobiz",
        "description": "Stop Vobiz conference recordings, wait for the file, download and verify it.",
        "versions": [__version__],
        "integrations": [
            {
                "integration-name": "Vobiz",
                "external-doc-url": "https://vobiz.ai/docs",
                "tags": ["service"],
            }
        ],
        "operators": [
            {
                "integration-name": "Vobiz",
                "python-modules": [
                    "vobiz_provider.operators.recording",
                    "vobiz_provider.operators.download",
                ],
            }
        ],
        "sensors": [{"integration-name": "Vobiz", "python-modules": ["vobiz_provider.sensors.recording"]}],
        "triggers": [{"integration-name": "Vobiz", "python-modules": ["vobiz_provider.triggers.recording"]}],
        "hooks": [{"integration-name": "Vobiz", "python-modules": ["vobiz_provider.hooks.vobiz"]}],
        "connection-types": [
            {
                "hook-class-name": "vobiz_provider.hooks.vobiz.VobizHook",
                "hook-name": "Vobiz",
                "connection-type": "vobiz",
                "conn-fields": {
                    "timeout": {
                        "label": "Timeout (seconds)",
                        "description": "Connect and read timeout of each request.",
                        "schema": {"type": ["number", "null"], "default": 30},
                    },
                    "max_retries": {
                        "label": "Max retries",
                        "description": "Retries for rate limits, transient 5xx and connection errors.",
                        "schema": {"type": ["integer", "null"], "default": 5, "minimum": 0},
                    },
                    "auth_hosts": {
                        "label": "Credential hosts",
                        "description": "Further hosts (patterns like *.example.com allowed) that may "
                        "receive the Auth ID and Token, e.g. the media host of recording files.",
                        "schema": {
                            "type": ["array", "null"],
                            "items": {"type": "string"},
                            "default": ["*.vobiz.ai"],
                        },
                    },
                    "proxy": {
                        "label": "Proxy",
                        "description": "HTTP(S) proxy URL for every request (API, media, storage); "
                        "empty: the environment's HTTPS_PROXY, HTTP_PROXY and NO_PROXY.",
                        "schema": {"type": ["string", "null"]},
                    },
                },
                # The port stays visible: Airflow 3.3.2's Test button refuses a connection without one
                # (apache/airflow#73298); the hook honours it when the URL has none.
                "ui-field-behaviour": {
                    "hidden-fields": ["schema"],
                    "relabeling": {"login": "Auth ID", "password": "Auth Token", "host": "API base URL"},
                    "placeholders": {
                        "host": "https://api.vobiz.ai",
                        "port": "443 (optional; or in the URL)",
                        "login": "MA_XXXXXXXX",
                        "password": "Auth Token",
                    },
                },
            }
        ],
    }
