"""Settings for Billing Center, read from the environment.

Every variable is listed in the README. Production secrets have no default: with DEBUG off a
missing SECRET_KEY stops the process at start instead of running with a guessable key.
"""

import os
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG")

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "insecure-development-key-only-for-debug-mode-do-not-deploy"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "djmoney",
    "django_countries",
    "django_tasks",
    "django_tasks_db",
    "axes",
    "csp",
    "billing_center",
    "catalog",
    "subscriptions",
    "cart",
    "checkout",
    "corporate_portal",
    # The sandbox payment processor (/sandbox-gateway/): reached only through the gateway
    # interface, like a remote processor.
    "checkout.sandbox_gateway",
    # API keys, webhook endpoints and the outbox of events (other systems).
    "billing_center.integrations",
    # Prometheus metrics of requests and the database (/metrics, billing_center.metrics).
    "django_prometheus",
    # /health/ and /health/ready/ (billing_center.health): its pages' templates.
    "health_check",
    # django-ninja's own Swagger UI files (the API's docs for staff), served by us: no CDN.
    "ninja",
    # Stripe (/stripe/): its customers, card setups, authentication page and webhooks.
    "checkout.stripe_gateway",
]

MIDDLEWARE = [
    # First: the request id is set before anything logs (billing_center.request_ids).
    "billing_center.request_ids.RequestIdMiddleware",
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "subscriptions.middleware.AccountMiddleware",
    "billing_center.caching.PrivatePagesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Axes last, so that it sees the outcome of authentication in the views above it.
    "axes.middleware.AxesMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "billing_center.urls"
WSGI_APPLICATION = "billing_center.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "subscriptions.context_processors.account",
                "cart.context_processors.cart",
                "checkout.context_processors.invoices",
                "corporate_portal.context_processors.quotes",
            ],
        },
    },
]
# Django's renderer, with the plain widgets written out in Python (billing_center.forms_rendering).
FORM_RENDERER = "billing_center.forms_rendering.Renderer"

# An SQLite file for the demo; DATABASE_URL=postgres://… for everything else.
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "billing_center.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # ModelBackend whose user comes with its membership and account (one query, not three).
    "subscriptions.backends.MembershipBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Brute-force protection: five wrong passwords for one email from one address lock it for an hour.
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = 1
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
# The login form posts the email as "username"; case must not give an attacker five more tries.
AXES_USERNAME_CALLABLE = "billing_center.access.login_attempt_username"
AXES_LOCKOUT_TEMPLATE = "registration/lockout.html"


def client_address_settings(proxy_count: int) -> dict:
    """How django-axes (through django-ipware) finds the client's address behind `proxy_count`
    reverse proxies, each appending the address it got the request from to X-Forwarded-For.

    Without a proxy the header is the client's to forge: only REMOTE_ADDR counts. Behind N
    proxies the client is the N-th address from the right of the header (what a client wrote
    there itself comes before and is ignored); ipware counts the proxies listed in the header,
    which leaves out the last one, whose address is REMOTE_ADDR.
    """
    if proxy_count <= 0:
        return {
            "AXES_IPWARE_PROXY_COUNT": None,
            "AXES_IPWARE_META_PRECEDENCE_ORDER": ("REMOTE_ADDR",),
            "IPWARE_STRICT": True,
        }
    return {
        "AXES_IPWARE_PROXY_COUNT": proxy_count - 1,
        "AXES_IPWARE_META_PRECEDENCE_ORDER": ("HTTP_X_FORWARDED_FOR",),
        "AXES_IPWARE_PROXY_ORDER": "left-most",
        # Extra addresses a client sent ahead of the proxies' are no reason to give up.
        "IPWARE_STRICT": False,
    }


globals().update(client_address_settings(int(os.environ.get("AXES_PROXY_COUNT", "0"))))

# Languages: the user's choice sticks (User.language); otherwise the account's language.
LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", _("English")),
    ("fr", _("French")),
    ("it", _("Italian")),
    ("es", _("Spanish")),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Dates as each language writes them ("2 dicembre 2026"): billing_center/formats/<lang>/.
FORMAT_MODULE_PATH = ["billing_center.formats"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = os.environ.get("TIME_ZONE", "Europe/Dublin")
LANGUAGE_COOKIE_AGE = 60 * 60 * 24 * 365
# The language cookie like the others: HTTPS only in production, not sent by other sites'
# requests, out of reach of scripts (the switcher is a form; no script reads it).
LANGUAGE_COOKIE_SECURE = env_bool("LANGUAGE_COOKIE_SECURE", not DEBUG)
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_HTTPONLY = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Where the default storage keeps files: the PDFs of issued invoices and credit notes
# (checkout.invoices.documents). Never served by the web server: the PDF view checks the
# account first.
# Several hosts share one folder (or point STORAGES["default"] at a shared object storage).
MEDIA_ROOT = os.environ.get("MEDIA_ROOT", str(BASE_DIR / "var" / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_FILE_PATH = os.environ.get("EMAIL_FILE_PATH", str(BASE_DIR / "var" / "mail"))
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Billing Center <billing@vendor.test>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# The vendor's staff who are told what needs them (a VAT number VIES rejected, server errors).
ADMINS = [(address, address) for address in env_list("ADMINS")]

# Where people reach the site, for the links in emails sent outside a request (tasks).
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

# Django Tasks API: the immediate backend runs a task in the request (demo, tests); production
# sets TASKS_BACKEND=django_tasks_db.DatabaseBackend and runs `manage.py db_worker`.
# Each is used through its subclass in billing_center.task_backends (tasks carry the request id).
_TASK_BACKENDS = {
    "django_tasks.backends.immediate.ImmediateBackend": (
        "billing_center.task_backends.ImmediateBackend"
    ),
    "django_tasks_db.DatabaseBackend": "billing_center.task_backends.DatabaseBackend",
}
_task_backend = os.environ.get("TASKS_BACKEND", "django_tasks.backends.immediate.ImmediateBackend")
TASKS = {"default": {"BACKEND": _TASK_BACKENDS.get(_task_backend, _task_backend)}}
# /health/ready/ fails when the oldest task waiting for a worker has waited longer than this.
TASK_BACKLOG_MAX_AGE_SECONDS = int(os.environ.get("TASK_BACKLOG_MAX_AGE_SECONDS", "600"))
# /metrics: for these addresses (CIDR, comma-separated) or with `Authorization: Bearer <token>`.
METRICS_ALLOWED_IPS = env_list("METRICS_ALLOWED_IPS", "127.0.0.1/32,::1/128")
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")
# Errors to Sentry when set (billing_center.observability): ids only, no card or personal data.
SENTRY_DSN = os.environ.get("SENTRY_DSN", "")

# The vendor, printed on every invoice as issued: its country decides which VAT rule applies
# (SPEC "VAT"). The demo's vendor only with DEBUG on: a production that forgot them would issue
# legal invoices in someone else's name, so it refuses to start, like without SECRET_KEY.
DEMO_SELLER = {
    "SELLER_COUNTRY": "IE",
    "SELLER_NAME": "GoTo Software Ireland Ltd",
    "SELLER_VAT_NUMBER": "IE6388047V",
    "SELLER_ADDRESS": "70 Sir John Rogerson's Quay, Dublin 2, D02 R296",
}
_missing_seller = [name for name in DEMO_SELLER if not os.environ.get(name, "").strip()]
if _missing_seller and not DEBUG:
    raise ImproperlyConfigured(
        f"{', '.join(_missing_seller)} must be set when DEBUG is off: they are printed on every "
        "invoice as the seller."
    )
SELLER_COUNTRY = (os.environ.get("SELLER_COUNTRY") or DEMO_SELLER["SELLER_COUNTRY"]).upper()
SELLER_NAME = os.environ.get("SELLER_NAME") or DEMO_SELLER["SELLER_NAME"]
SELLER_VAT_NUMBER = os.environ.get("SELLER_VAT_NUMBER") or DEMO_SELLER["SELLER_VAT_NUMBER"]
SELLER_ADDRESS = os.environ.get("SELLER_ADDRESS") or DEMO_SELLER["SELLER_ADDRESS"]
# VIES (subscriptions.vies): the client, and how old a confirmation may be before the billing
# run asks again. The demo's sandbox answers without the network; production asks VIES.
VIES_CLIENT = os.environ.get(
    "VIES_CLIENT",
    "subscriptions.vies.SandboxVies" if DEBUG else "subscriptions.vies.StdnumVies",
)
VIES_CONFIRMATION_MAX_AGE_DAYS = int(os.environ.get("VIES_CONFIRMATION_MAX_AGE_DAYS", "30"))
# The payment gateway, by dotted path to a class implementing
# checkout.payments.gateway.PaymentGateway.
PAYMENT_GATEWAY = os.environ.get(
    "PAYMENT_GATEWAY", "checkout.sandbox_gateway.client.SandboxGateway"
)
# Stripe (PAYMENT_GATEWAY=checkout.stripe_gateway.client.StripeGateway): the keys of the
# account (test or live), the webhook endpoint's signing secret, and STRIPE_API_BASE to talk
# to another server than Stripe's (localstripe: the demo and the tests). The process refuses
# to start with Stripe as the gateway and a key missing.
STRIPE_SECRET_KEY = os.environ.get("STRIPE_SECRET_KEY", "")
STRIPE_PUBLISHABLE_KEY = os.environ.get("STRIPE_PUBLISHABLE_KEY", "")
STRIPE_WEBHOOK_SECRET = os.environ.get("STRIPE_WEBHOOK_SECRET", "")
STRIPE_API_BASE = os.environ.get("STRIPE_API_BASE", "").rstrip("/")
STRIPE_TIMEOUT_SECONDS = float(os.environ.get("STRIPE_TIMEOUT_SECONDS", "20"))
STRIPE_MAX_NETWORK_RETRIES = int(os.environ.get("STRIPE_MAX_NETWORK_RETRIES", "2"))
STRIPE_WEBHOOK_TOLERANCE_SECONDS = int(os.environ.get("STRIPE_WEBHOOK_TOLERANCE_SECONDS", "300"))
STRIPE_GATEWAY = PAYMENT_GATEWAY.startswith("checkout.stripe_gateway.")
if STRIPE_GATEWAY:
    _missing = [
        name
        for name in ("STRIPE_SECRET_KEY", "STRIPE_PUBLISHABLE_KEY", "STRIPE_WEBHOOK_SECRET")
        if not globals()[name]
    ]
    if _missing:
        raise ImproperlyConfigured(
            f'PAYMENT_GATEWAY is Stripe: set {", ".join(_missing)} (README "Stripe").'
        )
# Integrations (billing_center.integrations, checkout.api): webhooks are sent to https:// URLs
# only unless WEBHOOKS_ALLOW_HTTP (the demo and tests, on loopback); a receiver has this long
# to answer; failed deliveries are tried again after these delays (seconds: 1 min, 5 min,
# 30 min, 2 h, 6 h, 12 h), then failed. The API allows each key this many requests a minute.
WEBHOOKS_ALLOW_HTTP = env_bool("WEBHOOKS_ALLOW_HTTP", DEBUG)
WEBHOOK_TIMEOUT_SECONDS = float(os.environ.get("WEBHOOK_TIMEOUT_SECONDS", "5"))
WEBHOOK_RETRY_DELAYS = [
    int(delay) for delay in env_list("WEBHOOK_RETRY_DELAYS", "60,300,1800,7200,21600,43200")
]
API_RATE_LIMIT_PER_MINUTE = int(os.environ.get("API_RATE_LIMIT_PER_MINUTE", "600"))
# How long a payment attempt is taken to be in the hands of the request that opened it; after
# that its outcome is settled by asking the gateway (checkout.payments, reconcile_payments).
PAYMENT_IN_FLIGHT_SECONDS = int(os.environ.get("PAYMENT_IN_FLIGHT_SECONDS", "120"))
# How long a second submit of the same payment waits for the first one's answer.
PAYMENT_WAIT_SECONDS = float(os.environ.get("PAYMENT_WAIT_SECONDS", "5"))
# How long a billing run waits for rows another run holds (leases of a run that died run out
# within billing_center.claims.DEFAULT_LEASE) before it reports them and exits non-zero.
BILLING_RUN_WAIT_SECONDS = int(os.environ.get("BILLING_RUN_WAIT_SECONDS", "360"))
# Pieces of renewals a billing run takes at once in one process (threads, each with its own
# database connection). A piece (at most BILLING_RUN_CHUNK renewals, one per account) is
# locked, read and written in one transaction per step of the money path.
BILLING_RUN_CONCURRENCY = int(os.environ.get("BILLING_RUN_CONCURRENCY", "4"))
BILLING_RUN_CHUNK = int(os.environ.get("BILLING_RUN_CHUNK", "25"))
# A batch's charges (checkout.payments.money_path) are made one after the other while the
# processor answers within PAYMENT_SLOW_CHARGE_SECONDS; after a slower answer (a real processor
# takes 200–500 ms) the rest go this many at once, each thread with its own connection.
PAYMENT_CHARGES_AT_ONCE = int(os.environ.get("PAYMENT_CHARGES_AT_ONCE", "12"))
PAYMENT_SLOW_CHARGE_SECONDS = float(os.environ.get("PAYMENT_SLOW_CHARGE_SECONDS", "0.05"))
# The billing lifecycle (checkout.billing_run.run): a declined renewal is retried this many days
# after the first failure, then the subscription is suspended; trials are reminded this many
# days before they end.
DUNNING_RETRY_DAYS = [int(day) for day in env_list("DUNNING_RETRY_DAYS", "3,5,7")]
TRIAL_REMINDER_DAYS = int(os.environ.get("TRIAL_REMINDER_DAYS", "3"))
# Faults of the sandbox gateway, for drills and tests (off by default): a comma-separated list
# of fail_before_capture, timeout_after_capture, fail_refund, lookup_unavailable; and a delay.
SANDBOX_GATEWAY_FAULTS = env_list("SANDBOX_GATEWAY_FAULTS")
SANDBOX_GATEWAY_DELAY = float(os.environ.get("SANDBOX_GATEWAY_DELAY", "0"))
# How long the sandbox waits for a customer's 3-D Secure authentication before it fails the
# payment (the processors' abandoned authentication).
SANDBOX_AUTHENTICATION_SECONDS = int(os.environ.get("SANDBOX_AUTHENTICATION_SECONDS", "900"))
CORPORATE_ACCOUNT_SERVICES_EMAIL = os.environ.get(
    "CORPORATE_ACCOUNT_SERVICES_EMAIL", "corporate-services@vendor.test"
)

CURRENCIES = ("EUR", "USD", "GBP")
CURRENCY_CHOICES = [("EUR", "EUR"), ("USD", "USD"), ("GBP", "GBP")]

# Content Security Policy: no inline script or style, nothing from another origin.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
if STRIPE_GATEWAY:
    # Stripe.js, its card element's frames and its API (or the local server standing in).
    _stripe_script = STRIPE_API_BASE if STRIPE_API_BASE else "https://js.stripe.com"
    _stripe_api = STRIPE_API_BASE or "https://api.stripe.com"
    _directives = CONTENT_SECURITY_POLICY["DIRECTIVES"]
    _directives["script-src"] = [SELF, _stripe_script]
    _directives["frame-src"] = ["https://js.stripe.com", "https://hooks.stripe.com"]
    _directives["connect-src"] = [SELF, _stripe_api]

# Hardening that `manage.py check --deploy` asks for; on by default whenever DEBUG is off.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
# Probes and the metrics scraper speak plain HTTP to the process behind the proxy.
SECURE_REDIRECT_EXEMPT = [r"^health/", r"^metrics$"]
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "0" if DEBUG else "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        # A refused request (403, 404…) is one line, not a traceback: nothing is broken.
        "client_errors_one_line": {"()": "billing_center.logs.ClientErrorsOneLine"},
        # The request id (billing_center.request_ids) on every line, in tasks too.
        "request_id": {"()": "billing_center.request_ids.RequestIdFilter"},
    },
    "formatters": {
        # One JSON object per line (LOG_FORMAT=json, the default with DEBUG off).
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id", "client_errors_one_line"],
            "formatter": os.environ.get("LOG_FORMAT", "text" if DEBUG else "json"),
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        # Django's own console handler would print every django.* record a second time (it
        # propagates to the root handler above); server errors still go through the root.
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.db.backends": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
        # Seven "Step n" lines for every PDF rendered; its warnings and errors still show.
        "weasyprint.progress": {"level": "WARNING"},
        # Stripe's library logs every request at INFO; its errors reach us as exceptions.
        "stripe": {"level": "WARNING"},
    },
}
