"""Performance benchmarks of the Vobiz provider: ``python -m benchmarks`` (or ``make bench``).

Every benchmark reports ratios against a baseline measured in the same run (these machines are
shared and noisy), prints PASS/FAIL per target, and runs on loopback only. See docs/benchmarks.md.
"""
