"""Waiting for a recording file, below the sensor and the trigger that both use it.

``wait`` decides (pure: what to ask next, what an answer means), ``polls`` asks (one poll with
the sync hook, one with the async hook), ``schedule`` paces the polls and keeps the failure
budget, ``events`` is the trigger's event contract. Light: the standard library and the
provider's light modules, so DAG files may import it at parse time.
"""
