"""Downloading a recording into the team's storage: ``delivery`` (the steps, in order), ``storage``
(where the file goes, whole or not at all), ``audio`` (what the bytes are) and ``progress``
(log lines for long downloads). The bytes themselves come through ``VobizHook.download_recording_file``.
"""
