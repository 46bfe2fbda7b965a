"""The live tests' clock for the service's processes (on their PYTHONPATH, imported by Python
at start-up): ``datetime.now()`` and ``time.time()`` run ahead of the real clock by the
seconds written in the file ``MEDIATION_LIVE_CLOCK_FILE`` (re-read at most every 0.2 s), so
that a test can let an appointment pass. ``time.monotonic()`` and sleeping are untouched.

libfaketime would do this from outside, but on these machines its ``clock_nanosleep``
breaks ``time.sleep`` (EINVAL), which gunicorn's arbiter calls. Like freezegun, this swaps
``datetime.datetime`` for a subclass before the application is imported.
"""

import datetime as _datetime
import os
import time as _time

_PATH = os.environ.get("MEDIATION_LIVE_CLOCK_FILE")

if _PATH:
    _real_time = _time.time
    _real_monotonic = _time.monotonic
    _cache = {"read": -1.0, "offset": 0.0}

    def _offset() -> float:
        now = _real_monotonic()
        if now - _cache["read"] > 0.2:
            try:
                with open(_PATH, encoding="ascii") as f:
                    _cache["offset"] = float(f.read().strip() or 0)
            except (OSError, ValueError):
                pass
            _cache["read"] = now
        return _cache["offset"]

    def _time_now() -> float:
        return _real_time() + _offset()

    class _ShiftedDatetime(_datetime.datetime):
        __slots__ = ()  # the size C extensions check when they import datetime

        @classmethod
        def now(cls, tz=None):
            return _datetime.datetime.fromtimestamp(_time_now(), tz)

        @classmethod
        def utcnow(cls):
            return _datetime.datetime.fromtimestamp(_time_now(), _datetime.UTC).replace(
                tzinfo=None)

        @classmethod
        def today(cls):
            return cls.now()

    class _ShiftedDate(_datetime.date):
        __slots__ = ()

        @classmethod
        def today(cls):
            return _datetime.date.fromtimestamp(_time_now())

    _time.time = _time_now
    _time.time_ns = lambda: int(_time_now() * 1e9)
    _datetime.datetime = _ShiftedDatetime
    _datetime.date = _ShiftedDate
