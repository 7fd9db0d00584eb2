"""Vobiz operators: ``recording`` (stop and start a conference recording) and ``download``.

Import from the modules (``from vobiz_provider.operators.recording import
StopConferenceRecordingOperator``); nothing is imported here, so a DAG file loads only what it uses.
"""
