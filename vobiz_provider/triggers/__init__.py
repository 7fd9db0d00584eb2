"""Vobiz triggers: ``recording`` (the deferred wait of ``ConferenceRecordingSensor``, and
``VobizRecordingEventTrigger`` for asset watchers); ``watermark`` (what that watcher has emitted).

Import from the module (``from vobiz_provider.triggers.recording import ConferenceRecordingTrigger``).
"""
