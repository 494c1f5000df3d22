"""Production settings for the benchmark's own gunicorn and workers.

The real settings (`billing_center.settings`) with DEBUG off, a fixed SECRET_KEY, plain HTTP on
the loopback interface (no SSL redirect, no secure-only cookies), the database task backend that
production uses, and the bench's own database, which must be named bc_bench…: the bench never
touches another one (not db.sqlite3, not DATABASE_URL).
"""

import os

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

os.environ["DEBUG"] = ""
os.environ.setdefault("SECRET_KEY", "bench-only-fixed-secret-key-never-deployed-0123456789abcdefgh")
# The demo's seller (billing_center.settings.DEMO_SELLER), as a production sets its own.
os.environ.setdefault("SELLER_COUNTRY", "IE")
os.environ.setdefault("VIES_CLIENT", "subscriptions.vies.SandboxVies")  # never the network
os.environ.setdefault("SELLER_NAME", "GoTo Software Ireland Ltd")
os.environ.setdefault("SELLER_VAT_NUMBER", "IE6388047V")
os.environ.setdefault("SELLER_ADDRESS", "70 Sir John Rogerson's Quay, Dublin 2, D02 R296")

from billing_center.settings import *  # noqa: F403
from billing_center.settings import BASE_DIR

DEBUG = False
BENCH_DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres:postgres@127.0.0.1:5432/bc_bench_run"
)
DATABASES = {
    "default": dj_database_url.parse(
        BENCH_DATABASE_URL, conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60"))
    )
}
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql" or not str(
    DATABASES["default"]["NAME"]
).startswith("bc_bench"):
    raise ImproperlyConfigured("The bench runs on a PostgreSQL database of its own: bc_bench….")

ROOT_URLCONF = "bench.urls"
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0
# Production's task backend: a page enqueues a row, `manage.py db_worker` runs it.
TASKS = {"default": {"BACKEND": "billing_center.task_backends.DatabaseBackend"}}
# Emails are rendered as in production, then dropped: there is no mail server on the loopback.
EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
# collectstatic writes here (var/ is ignored by git), not into the project's staticfiles/.
STATIC_ROOT = BASE_DIR / "var" / "bench" / "staticfiles"
# Invoice PDFs of the bench's own database, emptied with it (bench/run.py), never var/media.
MEDIA_ROOT = str(BASE_DIR / "var" / "bench" / "media")
# One line per request would cost the server more than some pages do.
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
