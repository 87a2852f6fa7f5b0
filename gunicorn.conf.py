"""gunicorn's settings for this app. gunicorn reads this file from the directory it starts in:
`make run`, the benchmarks, and the production command of the README run from here."""

import gc


def post_worker_init(worker):
    # What a worker has loaded by now (the modules, the app and its registry) lives as long as the
    # worker. Frozen, the garbage collector no longer walks it on every full collection: those then
    # see only what requests made (steps 3, 6 and 9 at 1,000 codes: 4-10% less time in-process).
    gc.collect()  # what start-up left behind is freed first, not kept for the worker's life
    gc.freeze()


# gunicorn itself takes X-Forwarded-Proto (and -Ssl) from 127.0.0.1 by default, so a client on this
# machine could make a plain request pass as HTTPS. Which proxies to trust is AANSLUITEN_PROXIES's
# to say (werkzeug's ProxyFix, in app.py), and only its.
forwarded_allow_ips = ""
