"""One settings module, driven by the environment (django-environ).

Two modes share one code path (DESIGN.md §4.7):

* **embedded** (no environment variables): SQLite in WAL mode, Celery on kombu's
  ``filesystem://`` broker, the database cache, e-mail to the console. ``make run`` uses it.
* **production** (``DJANGO_ENV=production``): ``DATABASE_URL=postgres://...``,
  ``CELERY_BROKER_URL=redis://...``, ``CACHE_URL=redis://...``, SMTP through ``EMAIL_URL``.
  It refuses to start without ``SECRET_KEY``, ``ALLOWED_HOSTS`` and ``DATABASE_URL``.

Every variable is listed in docs/operations.md.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import environ
import structlog
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()

DJANGO_ENV = env.str("DJANGO_ENV", default="development")
if DJANGO_ENV not in {"development", "production", "test"}:
    raise ImproperlyConfigured(f"DJANGO_ENV must be development, production or test, not {DJANGO_ENV!r}")
PRODUCTION = DJANGO_ENV == "production"

if PRODUCTION:
    missing = [name for name in ("SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL") if not env.str(name, "")]
    if missing:
        raise ImproperlyConfigured(
            "DJANGO_ENV=production needs these environment variables: " + ", ".join(missing)
        )

# Where the embedded mode keeps its database, broker folders and private files.
VAR_DIR = Path(env.str("PORTAL_VAR_DIR", default=str(BASE_DIR / "var")))

SECRET_KEY = env.str("SECRET_KEY", default="embedded-development-key-not-for-production-use-0123456789")
# Off unless asked for, in the embedded mode too: Django's debug pages list the URL patterns,
# settings and tracebacks (issue 13 item 9). ``DEBUG=1`` turns it on for development.
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
CSRF_FAILURE_VIEW = "portal.errors.csrf_failure"  # branded, says what to do (issue 13 item 9)
PORTAL_BASE_URL = env.str("PORTAL_BASE_URL", default="http://127.0.0.1:8000")

INSTALLED_APPS = [
    "portal.apps.PortalAdminConfig",  # django.contrib.admin with the portal's site (portal/apps.py)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "csp",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "axes",
    "django_htmx",
    "audit",
    "outbox",
    "accounts",
    "requests_app",
]

MIDDLEWARE = [
    "portal.request_id.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "portal.csp.CSPMiddleware",  # django-csp's, its policy text built once (portal/csp.py)
    "allauth.account.middleware.AccountMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "accounts.middleware.SessionPolicyMiddleware",
    # Last, as django-axes requires: it turns a lockout into a response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"
AUTH_USER_MODEL = "accounts.User"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'portal.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web process read while the worker writes; IMMEDIATE takes the write lock
    # at BEGIN so two writers queue instead of failing with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
else:
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # Django's backend, its health check sending nothing to a quiet connection (portal/postgresql).
        DATABASES["default"]["ENGINE"] = "portal.postgresql"
    # CONN_MAX_AGE=0 costs 71% of the create rate here (reference/performance.md §8).
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # A kept connection used within these seconds is checked by its socket alone, no SELECT 1
    # (portal/postgresql/base.py); one idle for longer is asked as Django asks.
    DB_QUIET_CHECK_SECONDS = env.float("DB_QUIET_CHECK_SECONDS", default=5.0)
    # Parameters bound by the server and repeated statements prepared once per connection
    # (psycopg's prepare_threshold: prepared from that many executions on): Django's default
    # (values quoted into the SQL text, nothing prepared) makes PostgreSQL parse and plan each
    # of a submission's 27 statements anew; prepared, its backend CPU falls ~8.5 -> ~5.5 ms
    # (bench/perf_notes.md, stop 24). Off (DB_SERVER_SIDE_BINDING=false) behind a pooler that
    # cannot keep a session's prepared statements (PgBouncer in transaction mode before 1.21).
    if env.bool("DB_SERVER_SIDE_BINDING", default=True):
        DATABASES["default"].setdefault("OPTIONS", {}).update(
            {"server_side_binding": True, "prepare_threshold": env.int("DB_PREPARE_THRESHOLD", default=2)})
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (throttling and rate limits need one shared by every process) ---------------------
_redis_url = env.str("REDIS_URL", default="")
CACHES = {
    "default": env.cache_url(
        "CACHE_URL",
        default=_redis_url or "dbcache://portal_cache_table",
    )
}
if CACHES["default"]["BACKEND"].endswith("RedisCache"):
    CACHES["default"]["BACKEND"] = "django.core.cache.backends.redis.RedisCache"
    # A dead Redis must cost a web request a fraction of a second, not a hang.
    CACHES["default"].setdefault("OPTIONS", {}).update({"socket_connect_timeout": 0.5, "socket_timeout": 0.5})
# Rate limits when the shared cache is unreachable (requests_app/api/throttling.py): each
# process counts alone against limit / THROTTLE_LOCAL_DIVISOR (the number of web processes),
# and asks the cache again after THROTTLE_CACHE_RETRY_SECONDS.
THROTTLE_LOCAL_DIVISOR = env.int("THROTTLE_LOCAL_DIVISOR", default=env.int("WEB_CONCURRENCY", default=2))
THROTTLE_CACHE_RETRY_SECONDS = env.float("THROTTLE_CACHE_RETRY_SECONDS", default=5.0)

# --- Passwords and sessions -------------------------------------------------------------------
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
if DJANGO_ENV == "test":
    # Argon2 stays first in real use; the tests create many users and need a fast hasher.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Absolute session lifetime from sign-in (not extended by activity) and idle timeout.
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 3600)
SESSION_SAVE_EVERY_REQUEST = False
SESSION_IDLE_TIMEOUT = env.int("SESSION_IDLE_TIMEOUT", default=30 * 60)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True

# --- Accounts: django-allauth (e-mail verification, MFA, re-authentication) + django-axes -------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses locked-out credentials
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "portal:home"
ACCOUNT_ADAPTER = "accounts.adapter.PortalAccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = False
ACCOUNT_REAUTHENTICATION_TIMEOUT = 300  # seconds before a sensitive action asks again
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": "10/m/ip,5/5m/key",
    "signup": "5/m/ip",
    "confirm_email": "3/m/key",
    "reset_password": "5/m/ip,3/m/key",
}
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Lawful Request Portal] "
MFA_SUPPORTED_TYPES = ["totp", "webauthn", "recovery_codes"]
MFA_PASSKEY_LOGIN_ENABLED = True
MFA_TOTP_ISSUER = "Lawful Request Portal"
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = DJANGO_ENV != "production"
# Everyone signed in must enrol a second factor before seeing anything (accounts.middleware).
REQUIRE_MFA = env.bool("REQUIRE_MFA", default=True)
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_CALLABLE = "accounts.axes.attempted_username"
AXES_RESET_ON_SUCCESS = True
# Reverse proxies in front of the portal that append to X-Forwarded-For (0: none). One setting,
# one helper (accounts.client_ip) for the audit trail, the API throttles, allauth and axes.
PORTAL_TRUSTED_PROXY_COUNT = env.int("PORTAL_TRUSTED_PROXY_COUNT", default=0)
ALLAUTH_TRUSTED_PROXY_COUNT = PORTAL_TRUSTED_PROXY_COUNT
AXES_CLIENT_IP_CALLABLE = "accounts.client_ip.client_ip"

# --- Security headers ---------------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=PRODUCTION)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=PRODUCTION)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=PRODUCTION)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=63072000 if PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = PRODUCTION
SECURE_HSTS_PRELOAD = PRODUCTION
if env.bool("BEHIND_TLS_PROXY", default=PRODUCTION):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# /healthz answers the load balancer over plain HTTP inside the private network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

# Strict CSP: no inline script or style anywhere (django-csp 4).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}

# --- Internationalisation -----------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("fr", "Français"), ("de", "Deutsch")]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
LOCALE_PATHS = [BASE_DIR / "locale"]

# --- Static and private files -----------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "static")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# Uploaded orders and delivered packages live here, outside any web root, under generated names.
PRIVATE_STORAGE_ROOT = Path(env.str("PRIVATE_STORAGE_ROOT", default=str(VAR_DIR / "private")))
UPLOAD_MAX_BYTES = env.int("UPLOAD_MAX_BYTES", default=50 * 1024 * 1024)  # real scans
# Budget of the PDF check, which runs in a subprocess (requests_app/uploads.py, pdf_sandbox.py).
UPLOAD_SANDBOX_MAX_OBJECTS = env.int("UPLOAD_SANDBOX_MAX_OBJECTS", default=200_000)
UPLOAD_SANDBOX_MAX_DECODED_BYTES = env.int("UPLOAD_SANDBOX_MAX_DECODED_BYTES", default=1024 * 1024 * 1024)
UPLOAD_SANDBOX_MEMORY_BYTES = env.int("UPLOAD_SANDBOX_MEMORY_BYTES", default=1536 * 1024 * 1024)
UPLOAD_SANDBOX_CPU_SECONDS = env.int("UPLOAD_SANDBOX_CPU_SECONDS", default=20)
UPLOAD_SANDBOX_WALL_SECONDS = env.float("UPLOAD_SANDBOX_WALL_SECONDS", default=60.0)
# Certificates (PEM or DER, one file) that a PAdES signer's chain must reach to be recorded as
# trusted: the roots behind the issuing authorities' qualified certificates (EU trusted lists).
PADES_TRUST_ROOTS_FILE = env.str("PADES_TRUST_ROOTS_FILE", default="")
# Serve document downloads from a separate, cookieless origin (e.g. "https://files.example"),
# through a signed link valid for ATTACHMENT_LINK_SECONDS; empty: serve from the portal itself.
ATTACHMENT_DOWNLOAD_ORIGIN = env.str("ATTACHMENT_DOWNLOAD_ORIGIN", default="")
ATTACHMENT_LINK_SECONDS = env.int("ATTACHMENT_LINK_SECONDS", default=60)
# Signs external anchors of the audit chain (manage.py audit_anchor); never stored in the DB.
AUDIT_ANCHOR_KEY = env.str("AUDIT_ANCHOR_KEY", default="")
# Where beat appends an anchor every AUDIT_ANCHOR_INTERVAL_SECONDS (off while either is unset).
AUDIT_ANCHOR_FILE = env.str("AUDIT_ANCHOR_FILE", default="")
AUDIT_ANCHOR_INTERVAL_SECONDS = env.int("AUDIT_ANCHOR_INTERVAL_SECONDS", default=3600)
# How far one host's clock may lag another's before a step back in time along the audit chain
# counts as a backdated or inserted event (verify_audit).
AUDIT_CLOCK_SKEW_SECONDS = env.float("AUDIT_CLOCK_SKEW_SECONDS", default=1.0)
# Events that belong to no request are spread over this many chains (each process and thread
# writes to one); the events of a request form a chain of their own.
AUDIT_GLOBAL_CHAINS = env.int("AUDIT_GLOBAL_CHAINS", default=16)
# Beat seals the chain heads that moved into the seal chain this often.
AUDIT_SEAL_INTERVAL_SECONDS = env.float("AUDIT_SEAL_INTERVAL_SECONDS", default=60.0)
# Response packages: Fernet keys, newest first (requests_app/crypto.py); how long an authority
# may download a released package, and when the encrypted payload is deleted.
RESPONSE_ENCRYPTION_KEYS = env.list("RESPONSE_ENCRYPTION_KEYS", default=[])
RESPONSE_AVAILABLE_DAYS = env.int("RESPONSE_AVAILABLE_DAYS", default=30)
RESPONSE_RETENTION_DAYS = env.int("RESPONSE_RETENTION_DAYS", default=90)
RESPONSE_MAX_BYTES = env.int("RESPONSE_MAX_BYTES", default=200 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
# API JSON bodies: the largest accepted (413 beyond) and the deepest nesting (400 beyond).
API_MAX_JSON_BYTES = env.int("API_MAX_JSON_BYTES", default=DATA_UPLOAD_MAX_MEMORY_SIZE)
API_MAX_JSON_DEPTH = env.int("API_MAX_JSON_DEPTH", default=12)
# Misses (unknown or another authority's references) one account may make per window before
# it is throttled and no longer audited miss by miss (requests_app/access.py).
API_PROBE_LIMIT = env.int("API_PROBE_LIMIT", default=30)
API_PROBE_WINDOW_SECONDS = env.int("API_PROBE_WINDOW_SECONDS", default=600)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# --- E-mail -----------------------------------------------------------------------------------
_email = env.email_url("EMAIL_URL", default="consolemail://")
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST = _email.get("EMAIL_HOST", "")
EMAIL_PORT = _email.get("EMAIL_PORT", 25)
EMAIL_HOST_USER = _email.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = _email.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = _email.get("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = _email.get("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Lawful Request Portal <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- REST API -----------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["accounts.authentication.BearerTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["requests_app.api.permissions.IsVettedOfficer"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "requests_app.api.parsers.BoundedJSONParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_CLASSES": ["requests_app.api.throttling.AuthorityRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "authority": env.str("API_THROTTLE_RATE", default="600/minute"),
        "authority_submit": env.str("API_SUBMIT_THROTTLE_RATE", default="120/minute"),
    },
    "EXCEPTION_HANDLER": "requests_app.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": None,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Lawful Request Portal API",
    "DESCRIPTION": "Submission and tracking of legal requests by verified authorities.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "StatusEnum": "requests_app.states.Status",
        "InstrumentEnum": "requests_app.states.Instrument",
        "DataCategoryEnum": "requests_app.states.DataCategory",
        "AnnexIIIReasonEnum": "requests_app.models.review.AnnexIIIReason",
    },
}
API_TOKEN_DEFAULT_DAYS = env.int("API_TOKEN_DEFAULT_DAYS", default=90)
API_TOKEN_MAX_DAYS = env.int("API_TOKEN_MAX_DAYS", default=365)

# --- The provider -------------------------------------------------------------------------------
# URLs in requests must point at the provider's own service (structural check).
PROVIDER_DOMAINS = env.list("PROVIDER_DOMAINS", default=["t.me", "telegram.me", "telegram.org"])
# The provider's configuration for the jurisdiction rules (requests_app/provider.py,
# docs/rules.md): where its EU establishment or legal representative is, which languages it
# accepts orders in, which member states are bound (default: all but Denmark), per-basis
# day-counting rules, and the policy for authorities no binding instrument covers.
PROVIDER_RULES = {
    "ESTABLISHMENT_COUNTRY": env.str("PROVIDER_ESTABLISHMENT_COUNTRY", default="BE"),
    "DECLARED_LANGUAGES": env.list("PROVIDER_DECLARED_LANGUAGES", default=["en", "fr", "de"]),
    "BOUND_MEMBER_STATES": env.list("PROVIDER_BOUND_MEMBER_STATES", default=[]),  # empty: the law's default
    "DAY_RULES": env.json("PROVIDER_DAY_RULES", default={}),
    "NON_EU_POLICY": env.json("PROVIDER_NON_EU_POLICY", default={}),
    # Day periods in civil time zones (domain.md §13.2): our establishment's zone; extra zones
    # per country ({"PT": ["Europe/Lisbon", "Atlantic/Azores"]}); holiday calendars besides the
    # establishment's (Belgian holidays by default) and whether the issuing state's count.
    "ESTABLISHMENT_TIME_ZONE": env.str("PROVIDER_ESTABLISHMENT_TIME_ZONE", default="Europe/Brussels"),
    "COUNTRY_TIME_ZONES": env.json("PROVIDER_COUNTRY_TIME_ZONES", default={}),
    "HOLIDAY_COUNTRIES": env.list("PROVIDER_HOLIDAY_COUNTRIES", default=[]),
    "ISSUER_HOLIDAYS": env.bool("PROVIDER_ISSUER_HOLIDAYS", default=True),
    # Regional public holidays (Reg. 1182/71 Art. 2(1), 3(4) [A]): the authority's region's, or
    # every region's where it is not known; our establishment's region ("" = every region's).
    "REGIONAL_HOLIDAYS": env.bool("PROVIDER_REGIONAL_HOLIDAYS", default=True),
    "ESTABLISHMENT_REGION": env.str("PROVIDER_ESTABLISHMENT_REGION", default=""),
    # Whether the SCA binds us (a provider subject to US jurisdiction) [A]: off by default.
    "US_SCA_APPLIES": env.bool("PROVIDER_US_SCA_APPLIES", default=False),
    # 18 U.S.C. § 2523 executive agreements in force (domain.md §13.7): UK 2022, Australia 2024.
    "SCA_2523_AGREEMENTS": env.list("PROVIDER_SCA_2523_AGREEMENTS", default=["GB", "AU"]),
}
# Deadline badges in the legal team's queue: the share of each period after which a request
# shows "warn" and "breach" (overdue once due_at has passed). Per lifecycle.
DEADLINE_LEVELS = {
    "production": {"warn": 0.7, "breach": 0.9},
    "preservation": {"warn": 0.8, "breach": 0.95},
    "dsa": {"warn": 0.7, "breach": 0.9},
    "us_process": {"warn": 0.7, "breach": 0.9},
    "emergency": {"warn": 0.5, "breach": 0.75},
}
# The legal team's non-urgent e-mails: gathered into a digest every N minutes (0: off) and
# held during quiet hours (local time of NOTIFY_TIME_ZONE, "HH:MM-HH:MM", empty: none).
# Never applied to emergencies, deadline breaches or suspected fraud.
NOTIFY_DIGEST_MINUTES = env.int("NOTIFY_DIGEST_MINUTES", default=0)
NOTIFY_QUIET_HOURS = env.str("NOTIFY_QUIET_HOURS", default="")
NOTIFY_TIME_ZONE = env.str("NOTIFY_TIME_ZONE", default="Europe/Brussels")
# Transparency report for publication: counts from 1 to this minus one are shown as a band.
TRANSPARENCY_SMALL_COUNT = env.int("TRANSPARENCY_SMALL_COUNT", default=10)
# A timer whose handler raises is retried after TIMER_RETRY_SECONDS * 2**(attempts - 1)
# (at most TIMER_RETRY_MAX_SECONDS) and parked as a dead letter after TIMER_MAX_ATTEMPTS tries.
TIMER_MAX_ATTEMPTS = env.int("TIMER_MAX_ATTEMPTS", default=5)
TIMER_RETRY_SECONDS = env.int("TIMER_RETRY_SECONDS", default=60)
TIMER_RETRY_MAX_SECONDS = env.int("TIMER_RETRY_MAX_SECONDS", default=3600)
# How many days before a preservation ends the authority is told (Art. 11(1): 60 and 90 days).
PRESERVATION_NOTICE_DAYS = env.int("PRESERVATION_NOTICE_DAYS", default=7)
# Who is alerted at once of every emergency request (the on-call list).
ON_CALL_EMAILS = env.list("ON_CALL_EMAILS", default=[])
# A request stuck in received/validating for longer than this is re-enqueued by the sweeper.
STUCK_REQUEST_AFTER = timedelta(seconds=env.int("STUCK_REQUEST_AFTER_SECONDS", default=120))
# Emergencies: a shorter bound and a sweep every STUCK_EMERGENCY_SWEEP_SECONDS, so that a lost
# in-flight message is re-sent within bound + period (30 + 15 s by default, under a minute).
STUCK_EMERGENCY_AFTER = timedelta(seconds=env.int("STUCK_EMERGENCY_AFTER_SECONDS", default=30))
STUCK_EMERGENCY_SWEEP_SECONDS = env.float("STUCK_EMERGENCY_SWEEP_SECONDS", default=15.0)

# A notification still pending after this is tried once more by the sweeper, then parked as a
# dead letter (failed). It must exceed send_notification's whole retry chain (about 5 min).
NOTIFY_STUCK_AFTER = timedelta(seconds=env.int("NOTIFY_STUCK_AFTER_SECONDS", default=900))
# The emergency alert (on-call e-mail of an emergency request, 8 hours) is never parked while
# its request is open: it is retried by the sweeper, the wait doubling from 5 s up to this.
NOTIFY_EMERGENCY_RETRY_MAX_SECONDS = env.int("NOTIFY_EMERGENCY_RETRY_MAX_SECONDS", default=300)
# The validation drain sends the e-mails its decisions plan together (notifications.sent_together):
# when this many are held, when the first has waited this long, when its queue is empty and when it
# ends; an urgent event and anything about an emergency go at once. NOTIFY_BATCH_SIZE=1: each alone.
NOTIFY_BATCH_SIZE = env.int("NOTIFY_BATCH_SIZE", default=10)
NOTIFY_BATCH_MAX_WAIT_SECONDS = env.float("NOTIFY_BATCH_MAX_WAIT_SECONDS", default=0.5)

# --- The public mailbox (issue 12 items 3, 4; docs/operations.md "The public mailbox") -------
# smtp: an SMTP receiver the provider's mail server forwards to; lmtp: the same over LMTP;
# imap: polling an IMAP mailbox (not built yet: run_mailbox refuses it with a clear error).
MAILBOX_MODE = env.str("MAILBOX_MODE", default="smtp")
MAILBOX_LISTEN_HOST = env.str("MAILBOX_LISTEN_HOST", default="127.0.0.1")
MAILBOX_LISTEN_PORT = env.int("MAILBOX_LISTEN_PORT", default=8025)
# Recipients accepted (lower case); empty: any recipient the forwarding server hands over.
MAILBOX_ADDRESSES = [a.lower() for a in env.list("MAILBOX_ADDRESSES", default=[])]
# Where an authority without a portal account (an enforcing authority receiving an Annex III)
# writes to the legal team; defaults to the first address of the legal representative's mailbox.
PROVIDER_LEGAL_CONTACT_EMAIL = env.str("PROVIDER_LEGAL_CONTACT_EMAIL", default="")
# What the e-mail copy of an Annex III to the enforcing authority notified under Art. 8 carries
# (Reg. (EU) 2023/1543 Art. 10(5)-(8), 11(4)-(5); security.md R6, "notifications carry no personal
# data"; docs/law.md "Annex III copy to the enforcing authority"): "redacted" (default) the form
# with every personal identifier withheld, the complete form on request through a secure channel;
# "notice_only" no attachment, the kind and reasons in the e-mail; "full" the signed form itself,
# byte for byte, ONLY where an encrypted channel to the enforcing authority has been agreed.
ANNEX_III_EA_EMAIL_CHOICES = ("redacted", "notice_only", "full")
ANNEX_III_EA_EMAIL = env.str("ANNEX_III_EA_EMAIL", default="redacted")
if ANNEX_III_EA_EMAIL not in ANNEX_III_EA_EMAIL_CHOICES:
    raise ImproperlyConfigured(f"ANNEX_III_EA_EMAIL must be one of {', '.join(ANNEX_III_EA_EMAIL_CHOICES)}, "
                               f"not {ANNEX_III_EA_EMAIL!r}")
# Above MAILBOX_MAX_BYTES a message is stored and flagged too_large (not parsed further); above
# MAILBOX_REFUSE_BYTES the SMTP session refuses it (552), so the sending server keeps it and bounces.
MAILBOX_MAX_BYTES = env.int("MAILBOX_MAX_BYTES", default=25 * 1024 * 1024)
MAILBOX_REFUSE_BYTES = env.int("MAILBOX_REFUSE_BYTES", default=100 * 1024 * 1024)
MAILBOX_MAX_ATTACHMENTS = env.int("MAILBOX_MAX_ATTACHMENTS", default=10)
# The authserv-id (RFC 8601) of the provider's receiving server: only its topmost
# Authentication-Results header is believed for SPF, DMARC and ARC.
MAILBOX_AUTHSERV_ID = env.str("MAILBOX_AUTHSERV_ID", default="")
# Per sender: more than this many messages within the window are stored, flagged and not acknowledged.
MAILBOX_RATE_LIMIT = env.int("MAILBOX_RATE_LIMIT", default=10)
MAILBOX_RATE_WINDOW = timedelta(seconds=env.int("MAILBOX_RATE_WINDOW_SECONDS", default=3600))
# Where the public mailbox's messages come from: "receiver" (the SMTP/LMTP receiver, run_mailbox)
# or "imap" (poll_mailbox fetches unseen messages of MAILBOX_IMAP_FOLDER and marks them seen once stored).
MAILBOX_SOURCE = env.str("MAILBOX_SOURCE", default="receiver")
MAILBOX_IMAP_HOST = env.str("MAILBOX_IMAP_HOST", default="")
MAILBOX_IMAP_PORT = env.int("MAILBOX_IMAP_PORT", default=993)
MAILBOX_IMAP_SSL = env.bool("MAILBOX_IMAP_SSL", default=True)
MAILBOX_IMAP_USER = env.str("MAILBOX_IMAP_USER", default="")
MAILBOX_IMAP_PASSWORD = env.str("MAILBOX_IMAP_PASSWORD", default="")
MAILBOX_IMAP_FOLDER = env.str("MAILBOX_IMAP_FOLDER", default="INBOX")
MAILBOX_IMAP_INTERVAL_SECONDS = env.int("MAILBOX_IMAP_INTERVAL_SECONDS", default=30)
MAILBOX_IMAP_BATCH = env.int("MAILBOX_IMAP_BATCH", default=50)

# A request registered by the legal team with a receipt time older than this is flagged late
# (shown in the queue and on the request page); its deadlines still run from the stated time.
REGISTRATION_LATE_MARGIN = timedelta(hours=env.int("REGISTRATION_LATE_MARGIN_HOURS", default=24))

# --- Celery (DESIGN.md §4.4) ------------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=_redis_url or "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker = VAR_DIR / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {
        "data_folder_in": str(_broker / "queue"),
        "data_folder_out": str(_broker / "queue"),
        "processed_folder": str(_broker / "processed"),
        "store_processed": False,
        "control_folder": str(_broker / "control"),
    }
    # kombu's filesystem transport expects its folders to exist.
    for _folder in ("queue", "processed", "control"):
        (_broker / _folder).mkdir(parents=True, exist_ok=True)
else:
    # Redis re-delivers unacknowledged messages after this; it must exceed the longest task.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
    if CELERY_BROKER_URL.startswith("redis://"):
        # kombu's Redis transport with one redis-py client per pool instead of one per publish
        # and per QoS step (issue 9 item 5; portal/broker.py). CELERY_BROKER_TRANSPORT=redis: kombu's own.
        CELERY_BROKER_TRANSPORT = env.str("CELERY_BROKER_TRANSPORT", default="portal.broker:Transport")
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_TASK_TIME_LIMIT = 120
CELERY_TASK_SOFT_TIME_LIMIT = 100
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_TIMEOUT = 3
# A publish must never hang a web request when the broker is down: the outbox row stays
# pending and the beat sweeper sends it later.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2}
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = "UTC"
# Without this Celery's Django fixup closes the DB connection around every task (3.1x slower;
# reference/performance.md §8). Connections are still health-checked by Django.
CELERY_DB_REUSE_MAX = env.int("CELERY_DB_REUSE_MAX", default=1000)
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE = {
    "sweep-outbox": {"task": "requests_app.tasks.sweep_outbox", "schedule": 5.0},
    "ring-for-waiting-requests": {"task": "requests_app.tasks.ring_for_waiting_requests",
                                  "schedule": env.float("VALIDATION_RING_SWEEP_SECONDS", default=5.0)},
    "sweep-stuck-requests": {"task": "requests_app.tasks.sweep_stuck_requests",
                             "schedule": env.float("STUCK_REQUEST_SWEEP_SECONDS", default=60.0)},
    "sweep-stuck-emergencies": {"task": "requests_app.tasks.sweep_stuck_requests",
                                "schedule": STUCK_EMERGENCY_SWEEP_SECONDS, "kwargs": {"emergency_only": True}},
    "fire-due-timers": {"task": "requests_app.tasks.fire_due_timers", "schedule": 60.0},
    "sweep-notifications": {"task": "requests_app.tasks.sweep_notifications",
                            "schedule": env.float("NOTIFY_SWEEP_SECONDS", default=60.0)},
    "send-digests": {"task": "requests_app.tasks.send_digests", "schedule": 60.0},
    # The transparency summary's triggers append deltas (no lock on a hot group); this folds them.
    "compact-report-summary": {"task": "requests_app.tasks.compact_report_summary",
                               "schedule": env.float("REPORT_SUMMARY_COMPACT_SECONDS", default=300.0)},
    "recompute-deadlines": {"task": "requests_app.tasks.recompute_deadlines", "schedule": 3600.0},
    "seal-audit": {"task": "audit.tasks.seal_audit", "schedule": AUDIT_SEAL_INTERVAL_SECONDS},
    "write-audit-anchor": {"task": "audit.tasks.write_audit_anchor",
                           "schedule": float(AUDIT_ANCHOR_INTERVAL_SECONDS)},
}
# Outbox rows not yet sent after this delay are re-published by the sweeper (and a request
# waiting in received this long gets its validation drain rung for: requests_app/validation_queue.py).
OUTBOX_RESEND_AFTER = timedelta(seconds=env.int("OUTBOX_RESEND_AFTER_SECONDS", default=10))
# The validation queue (requests_app/validation_queue.py): how many drains may run at once (one
# per worker child), how many requests one drain validates before it hands over to a new task at
# the end of the queue, and how long a rung bell whose drain never ran blocks the next ring.
VALIDATION_DRAINERS = env.int("VALIDATION_DRAINERS", default=2)  # the Procfile worker's --concurrency
VALIDATION_DRAIN_BATCH = env.int("VALIDATION_DRAIN_BATCH", default=50)
# How long a drain that found the queue empty waits, its bell still rung, for the next submission
# before it releases the bell (0: no wait). Under load it serves a stream of submissions as one task.
VALIDATION_DRAIN_LINGER_SECONDS = env.float("VALIDATION_DRAIN_LINGER_SECONDS", default=0.02)
VALIDATION_BELL_TTL_SECONDS = env.int("VALIDATION_BELL_TTL_SECONDS", default=10)

# --- Logging ------------------------------------------------------------------------------------
# One line per event: JSON in production (LOG_FORMAT=json, the default there), plain text
# elsewhere; either way each line of an HTTP request carries its request_id
# (portal/request_id.py) through structlog's context variables.
LOG_FORMAT = env.str("LOG_FORMAT", default="json" if PRODUCTION else "plain")
_log_chain: list[Any] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]
structlog.configure(
    processors=[*_log_chain, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
    logger_factory=structlog.stdlib.LoggerFactory(),
    cache_logger_on_first_use=True,
)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {
            "()": structlog.stdlib.ProcessorFormatter,
            "foreign_pre_chain": _log_chain,
            "processors": [structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                           structlog.dev.ConsoleRenderer(colors=False)],
        },
        "json": {
            "()": structlog.stdlib.ProcessorFormatter,
            "foreign_pre_chain": _log_chain,
            "processors": [structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                           structlog.processors.format_exc_info, structlog.processors.JSONRenderer()],
        },
    },
    "handlers": {"console": {"class": "logging.StreamHandler",
                             "formatter": "json" if LOG_FORMAT == "json" else "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- Production refuses to start half-configured (issue 14 item 8; security.md §1.3) ----------
# Checked at import, like SECRET_KEY above, so no process (web, worker, beat, manage.py) runs
# with a key derived from SECRET_KEY, e-mail that goes nowhere, links over http or nobody on call.
_EMAIL_BACKENDS_THAT_DELIVER = {
    "django.core.mail.backends.smtp.EmailBackend",
}
if PRODUCTION:
    _problems: list[str] = []
    if not RESPONSE_ENCRYPTION_KEYS:
        _problems.append("RESPONSE_ENCRYPTION_KEYS (Fernet keys, newest first; no key is derived from "
                         "SECRET_KEY in production, see docs/operations.md for migrating from one)")
    else:
        from cryptography.fernet import Fernet as _Fernet

        for _position, _key in enumerate(RESPONSE_ENCRYPTION_KEYS, start=1):
            try:
                _Fernet(_key.encode())
            except ValueError:
                _problems.append(f"RESPONSE_ENCRYPTION_KEYS entry {_position} is not a Fernet key")
    if EMAIL_BACKEND not in _EMAIL_BACKENDS_THAT_DELIVER:
        _problems.append(f"EMAIL_URL (smtp:// or smtp+tls://; the backend {EMAIL_BACKEND} delivers nothing)")
    if not PORTAL_BASE_URL.startswith("https://"):
        _problems.append("PORTAL_BASE_URL with https:// (links in e-mails and the portal's own origin)")
    if not ON_CALL_EMAILS:
        _problems.append("ON_CALL_EMAILS (who is alerted at once of every emergency request)")
    if _problems:
        raise ImproperlyConfigured("DJANGO_ENV=production is not fully configured: " + "; ".join(_problems))
