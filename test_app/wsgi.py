"""WSGI entry point, for running the test project under gunicorn (the load tests do)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "test_app.settings")
application = get_wsgi_application()
