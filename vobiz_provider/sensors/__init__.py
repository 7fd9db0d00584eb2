"""Vobiz sensors: ``recording`` (wait until a conference recording's file can be downloaded).

Import from the module (``from vobiz_provider.sensors.recording import ConferenceRecordingSensor``);
nothing is imported here, so a DAG file loads only what it uses.
"""
