"""Vobiz triggers: ``recording`` (the deferred wait of ``ConferenceRecordingSensor``).

Import from the module (``from vobiz_provider.triggers.recording import ConferenceRecordingTrigger``).
"""
