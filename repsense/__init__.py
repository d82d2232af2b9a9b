"""repsense: a sensor-driven rep counter and form monitor for strength training.

The package has three rooms around a shared vocabulary:

- ``repsense.samples`` and ``repsense.events``: the values that cross room boundaries;
- ``repsense.firmware_bridge``: bytes and files <-> ``SampleBlock`` (recordings, simulator, links);
- ``repsense.signal``: ``SampleBlock`` -> rep events (pure, streaming, no I/O);
- ``repsense.core``: set control, plans and the command line.
"""

__version__ = "0.1.0"
