"""Streaming DSP: ``SampleBlock`` -> rep events. Pure and causal; no I/O.

Never imports ``repsense.firmware_bridge`` or ``repsense.core``.
"""
