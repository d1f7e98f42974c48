"""The HTTP edge: the metrics server (`server.py`, TLS and basic auth), and the process of its own
the daemon runs it in (`process.py` in the daemon, `child.py` in the child, `frames.py` between).

Light on purpose: the child imports only this package, the standard library and bcrypt. Nothing
here imports prometheus_client, the config package, SQLite or the layers above.
"""
