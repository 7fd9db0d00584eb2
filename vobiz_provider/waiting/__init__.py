"""Waiting for a recording file: the poll decision, its pacing and the trigger's event contract.

Light (the standard library and the provider's light modules): the sensor, which DAG files
import at every parse, and the trigger both use it. ``lookup`` decides what one poll finds,
``pacing`` how long to wait after it and when to give up, ``events`` what the trigger sends back.
"""
