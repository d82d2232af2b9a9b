"""Bytes and files <-> ``SampleBlock``: recordings, the simulator, and (later) serial and BLE links.

Never imports ``repsense.signal`` or ``repsense.core``.
"""
