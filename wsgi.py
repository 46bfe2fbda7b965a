"""WSGI entry point: ``gunicorn wsgi:app``."""

import gc

from mediation import create_app

app = create_app()
# What is loaded at start-up lives as long as the process: keep it out of the garbage
# collector's full passes, which otherwise walk it all and stall requests now and then
# (measured with bench/matching.py: p95 twice the median without this).
gc.freeze()
