"""Serves one Django project on 127.0.0.1 for client_throughput.py, until it is stopped.

    python _django_server.py SETTINGS_MODULE PORT [EXTRA_SYS_PATH ...]

Run by the Python of whichever library is measured: this repository's virtualenv (test_app,
with the repository root as an extra path) or 1.1.0's (legacy_app, found beside this file).
It depends on Django alone, so it imports under either. The store and the database come from
the environment, as each project's settings read them.
"""

from __future__ import annotations

import os
import sys
from typing import Any


def main(argv: list[str]) -> int:
    settings_module, port, *paths = argv
    sys.path[:0] = paths
    os.environ["DJANGO_SETTINGS_MODULE"] = settings_module

    import django
    from django.conf import settings
    from django.core.management import call_command
    from django.core.servers.basehttp import run
    from django.core.wsgi import get_wsgi_application

    # legacy_app allows only the test client's host; both projects run as in production.
    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    settings.DEBUG = False
    django.setup()
    call_command("migrate", run_syncdb=True, verbosity=0, interactive=False)
    application = get_wsgi_application()
    if os.environ.get("S3FF_BENCH_SERVE_STATIC") == "1":
        # For a browser: the widget's script and style, as runserver would serve them.
        from django.contrib.staticfiles.handlers import StaticFilesHandler

        application = StaticFilesHandler(application)
    run("127.0.0.1", int(port), application, server_cls=pooled_server())
    return 0


def pooled_server() -> type:
    """Django's development server, but with a pool of threads kept across connections.

    The development server starts a thread per connection, and django-storages builds a boto3
    client per thread (about 100 ms here): every upload by a fresh Node process would pay it,
    where a production server (gunicorn's threads, say) pays it once per thread. The same
    server serves both libraries.
    """
    from concurrent.futures import ThreadPoolExecutor

    from django.core.servers.basehttp import WSGIServer

    class PooledWSGIServer(WSGIServer):
        pool = ThreadPoolExecutor(max_workers=16, thread_name_prefix="wsgi")

        def process_request(self, request: Any, client_address: Any) -> None:
            self.pool.submit(self._serve, request, client_address)

        def _serve(self, request: Any, client_address: Any) -> None:
            # As socketserver.ThreadingMixIn.process_request_thread does.
            try:
                self.finish_request(request, client_address)
            except Exception:
                self.handle_error(request, client_address)
            finally:
                self.shutdown_request(request)

    return PooledWSGIServer


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
