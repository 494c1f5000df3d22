"""Development settings, the default of manage.py: DEBUG on unless the environment says otherwise.

Production runs with DJANGO_SETTINGS_MODULE=billing_center.settings (wsgi.py and asgi.py default
to it), where a missing SECRET_KEY stops the process.
"""

import os

os.environ.setdefault("DEBUG", "1")

from billing_center.settings import *  # noqa: F403
