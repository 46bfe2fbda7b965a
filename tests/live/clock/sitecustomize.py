"""The live tests' clock for the service's processes (on their PYTHONPATH, imported by Python
at start-up): the application's ``datetime.now()`` runs ahead of the real clock by the
seconds written in the file ``MEDIATION_LIVE_CLOCK_FILE`` (re-read at most every 0.2 s), so
that a test can let an appointment pass.

Only the application's own modules (``mediation.*``) see the moved clock: once each has been
imported, its global ``datetime`` (the class, imported with ``from datetime import
datetime``) is swapped for a subclass whose ``now()`` adds the offset; an ``isinstance``
check still accepts any real datetime. Libraries keep the real clock and the real classes
(openpyxl, for one, looks formats up by ``type(value)``), and so do ``time.time()``,
``time.monotonic()`` and sleeping.

libfaketime would move the clock from outside, but on these machines its
``clock_nanosleep`` makes every ``time.sleep`` fail (EINVAL), and gunicorn's arbiter sleeps.
"""

import datetime as _datetime
import os
import sys
import time as _time

_PATH = os.environ.get("MEDIATION_LIVE_CLOCK_FILE")

if _PATH:
    _real_datetime = _datetime.datetime
    _cache = {"read": -1.0, "offset": 0.0}

    def _offset() -> float:
        now = _time.monotonic()
        if now - _cache["read"] > 0.2:
            try:
                with open(_PATH, encoding="ascii") as f:
                    _cache["offset"] = float(f.read().strip() or 0)
            except (OSError, ValueError):
                pass
            _cache["read"] = now
        return _cache["offset"]

    class _DatetimeMeta(type):
        def __instancecheck__(cls, obj):
            return isinstance(obj, _real_datetime)

        def __subclasscheck__(cls, sub):
            return issubclass(sub, _real_datetime)

    class _ShiftedDatetime(_real_datetime, metaclass=_DatetimeMeta):
        __slots__ = ()

        @classmethod
        def now(cls, tz=None):
            return _real_datetime.fromtimestamp(_time.time() + _offset(), tz)

    class _ShiftClock:
        """Swaps ``datetime`` in each ``mediation.*`` module once it has been executed."""

        def find_spec(self, name, path, target=None):
            if name != "mediation" and not name.startswith("mediation."):
                return None
            for finder in sys.meta_path:
                if finder is self or not hasattr(finder, "find_spec"):
                    continue
                spec = finder.find_spec(name, path, target)
                if spec is not None:
                    break
            else:
                return None
            loader = spec.loader
            if loader is None or not hasattr(loader, "exec_module"):
                return spec
            execute = loader.exec_module

            def exec_module(module):
                execute(module)
                if module.__dict__.get("datetime") is _real_datetime:
                    module.datetime = _ShiftedDatetime

            loader.exec_module = exec_module
            return spec

    sys.meta_path.insert(0, _ShiftClock())
