"""``make e2e``: the provider on real Airflow deployments (single machine and Celery), end to end.

Run with ``python -m e2e`` (see ``--help``); ``docs/deployment.md`` says what it proves.
"""
