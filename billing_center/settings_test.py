"""Test settings: the real settings with fast hashing, in-memory mail and no HTTPS redirect."""

import os

os.environ.setdefault("SECRET_KEY", "test-secret-key-not-used-anywhere-else-0123456789abcdef")
# The demo's seller (billing_center.settings.DEMO_SELLER), as a production sets its own.
os.environ.setdefault("SELLER_COUNTRY", "IE")
os.environ.setdefault("VIES_CLIENT", "subscriptions.vies.SandboxVies")  # never the network
os.environ.setdefault("SELLER_NAME", "GoTo Software Ireland Ltd")
os.environ.setdefault("SELLER_VAT_NUMBER", "IE6388047V")
os.environ.setdefault("SELLER_ADDRESS", "70 Sir John Rogerson's Quay, Dublin 2, D02 R296")

from billing_center.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
TASKS = {"default": {"BACKEND": "billing_center.task_backends.ImmediateBackend"}}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
LANGUAGE_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0
AXES_FAILURE_LIMIT = 5
LANGUAGE_CODE = "en"
# Serve static files from the app folders: tests never run collectstatic.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
BILLING_RUN_WAIT_SECONDS = 0  # tests that wait for another run say so
