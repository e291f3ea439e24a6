"""Benchmarks of kaoping at province scale: data generators and timed runs, not tests.

`kaoping bench close | import | web` (kaoping.core.management.commands.bench) runs them against
a database of their own (config.bench_settings), never the demo or production one, and writes
a markdown table and JSON per run. docs/performance.md holds the last numbers and the machine.
"""
