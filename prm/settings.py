"""Settings for the PRM, read from the environment.

With nothing set the app runs locally on a SQLite file and a Celery broker on the file system,
so a newcomer needs no services. ``DATABASE_URL`` switches to PostgreSQL and ``REDIS_URL`` to
Redis (broker, results and cache). ``PRM_ENV=production`` demands real secrets and turns on
every deployment safeguard that ``manage.py check --deploy`` looks for.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name, default=None):
    value = os.environ.get(name, "")
    return value if value != "" else default


def env_bool(name, default=False):
    value = env(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name, default=""):
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


PRM_ENV = env("PRM_ENV", "development")
PRODUCTION = PRM_ENV == "production"

# Where local state lives: the SQLite file, the file-system broker, uploaded files.
DATA_DIR = Path(env("PRM_DATA_DIR", BASE_DIR / ".run"))

if PRODUCTION:
    missing = [name for name in ("SECRET_KEY", "ALLOWED_HOSTS") if not env(name)]
    if missing:
        raise ImproperlyConfigured("PRM_ENV=production needs these environment variables: " + ", ".join(missing))
    SECRET_KEY = env("SECRET_KEY")
    DEBUG = False
else:
    SECRET_KEY = env("SECRET_KEY", "dev-only-insecure-key-do-not-use-in-production-0123456789")
    DEBUG = env_bool("DEBUG", default=PRM_ENV == "development")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "" if PRODUCTION else "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "axes",
    "bootstrap",
    "fontawesome",
    "prm",
    "partners",
    "sales",
    "agreements",
    "training",
    "incentives",
    "performance",
    "integrations",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "prm.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "prm.middleware.AuditActorMiddleware",
    # Last, as django-axes asks: it turns a lockout raised during sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "prm.urls"

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
                "prm.notifications.unread_count",
            ],
        },
    },
]

WSGI_APPLICATION = "prm.wsgi.application"

# Database: SQLite file by default, anything dj-database-url understands via DATABASE_URL.
DATABASE_URL = env("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "db.sqlite3",
            # A transaction takes the write lock when it begins, so concurrent writers (web threads,
            # the worker) wait their turn for up to `timeout` seconds instead of failing at once
            # with "database is locked" when a read turns into a write.
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
            # A file (not memory) so that a real Celery worker started by the tests sees the data;
            # one per test process, so that two test runs never share a database.
            "TEST": {"NAME": str(DATA_DIR / f"test-db-{os.getpid()}.sqlite3")},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "prm.User"
# django-axes checks every sign-in first and refuses it while the account is locked out.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "prm.auth.UsernameOrEmailBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"

# Sign-in lockout (django-axes): after PRM_LOGIN_FAILURE_LIMIT failed attempts for one account
# from one address, that account is locked for that address for PRM_LOGIN_COOLOFF_MINUTES.
# Locking by username and address together stops password guessing without letting a stranger
# lock a colleague out from elsewhere.
AXES_FAILURE_LIMIT = int(env("PRM_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(env("PRM_LOGIN_COOLOFF_MINUTES", "30")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_CALLABLE = "prm.auth.canonical_username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_HTTP_RESPONSE_CODE = 429
AXES_VERBOSE = False
AXES_ENABLE_ACCESS_FAILURE_LOG = False
# A sign-in lasts PRM_SESSION_HOURS; cookies are never readable by scripts nor sent cross-site.
SESSION_COOKIE_AGE = int(env("PRM_SESSION_HOURS", "12")) * 60 * 60
SESSION_SAVE_EVERY_REQUEST = False
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Languages: English and Simplified Chinese, chosen by the user's preference or the browser.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["prm.formats"]
USE_I18N = True
TIME_ZONE = env("TIME_ZONE", "Asia/Shanghai")
USE_TZ = True

# The currency money amounts are held in unless a row says otherwise.
PRM_CURRENCY = env("PRM_CURRENCY", "CNY")

# The partner portal: where partner users land after signing in (a URL name), and how long the
# link in an invitation to the portal stays valid.
PRM_PORTAL_HOME = "portal:dashboard"
PRM_INVITATION_TTL_HOURS = int(env("PRM_INVITATION_TTL_HOURS", "72"))

# Agreements: whether the channel manager who owns an agreement may approve it (by default only a
# channel admin approves), and the largest file an upload (an agreement's documents) may be.
PRM_AGREEMENT_OWNER_MAY_APPROVE = env_bool("PRM_AGREEMENT_OWNER_MAY_APPROVE", default=False)
PRM_MAX_UPLOAD_MB = int(env("PRM_MAX_UPLOAD_MB", "10"))
# An imported file of more rows than this is imported in the background, with a progress bar.
PRM_IMPORT_BACKGROUND_ROWS = int(env("PRM_IMPORT_BACKGROUND_ROWS", "2000"))
# A month of performance figures is read per sales area in parallel (a Celery group and chord)
# from this many regions up (performance.tasks).
PRM_PERFORMANCE_SPLIT_REGIONS = int(env("PRM_PERFORMANCE_SPLIT_REGIONS", "100"))
# The length of the MDF budgets allocated from tier allowances: month, quarter or year.
PRM_MDF_PERIOD = env("PRM_MDF_PERIOD", "quarter")

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", DATA_DIR / "media"))
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

# Cache: Redis when REDIS_URL is set, process memory otherwise.
REDIS_URL = env("REDIS_URL")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

EMAIL_BACKEND = env("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env("EMAIL_HOST", "localhost")
EMAIL_PORT = int(env("EMAIL_PORT", "25"))
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "prm@localhost")
# Where people reach the app, for links in emails sent by background jobs (no request to ask).
PRM_SITE_URL = env("PRM_SITE_URL", "http://127.0.0.1:8000")

# Celery: Redis when REDIS_URL is set; otherwise a broker on the file system, which needs no
# server, so `make run` starts a real worker and beat on a fresh machine.
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
else:
    _broker_dir = DATA_DIR / "broker"
    for _sub in ("queue", "processed", "results", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
    CELERY_RESULT_BACKEND = "file://" + str(_broker_dir / "results")
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Default schedule; installed into the database by beat, where staff can edit it.
CELERY_BEAT_SCHEDULE = {
    "partners-region-paths-rebuild": {
        "task": "partners.tasks.region_paths_rebuild",
        "schedule": 24 * 60 * 60,
    },
    "agreements-expiry-run": {
        "task": "agreements.tasks.agreements_expiry_run",
        "schedule": 24 * 60 * 60,
    },
    "training-certifications-expiry-run": {
        "task": "training.tasks.certifications_expiry_run",
        "schedule": 24 * 60 * 60,
    },
    "incentives-rebate-statements-period-close": {
        "task": "incentives.tasks.rebate_statements_period_close",
        "schedule": 24 * 60 * 60,
    },
    "incentives-mdf-budgets-allocate": {
        "task": "incentives.tasks.mdf_budgets_allocate",
        "schedule": 24 * 60 * 60,
    },
    # Every night at 01:30 (the project's time zone): refresh the current month; on the 1st
    # also close the month that ended.
    "performance-kpi-snapshots-compute": {
        "task": "performance.tasks.kpi_snapshots_compute",
        "schedule": crontab(hour=1, minute=30),
    },
    # Every night: forget the tombstones of deleted rows once they are older than the retention.
    "prm-tombstones-purge": {
        "task": "prm.tasks.tombstones_purge",
        "schedule": crontab(hour=3, minute=15),
    },
    # Every hour: forget the answers kept for Idempotency-Key retries once they are too old.
    "prm-idempotency-records-purge": {
        "task": "prm.tasks.idempotency_records_purge",
        "schedule": 60 * 60,
    },
    # Every minute: send the webhook deliveries that are due (retries, and any whose task was lost).
    "integrations-deliveries-send-due": {
        "task": "integrations.tasks.deliveries_send_due",
        "schedule": 60,
    },
}

# API keys for integrations (prm.api.authentication): the model that holds them, and how many
# requests one key may make ("1000/hour", "50/minute"; empty for no limit). Staff users calling
# the API with a session or a token get a more generous limit.
PRM_API_KEY_MODEL = "partners.ApiKey"
PRM_API_KEY_RATE = env("PRM_API_KEY_RATE", "1000/hour")
PRM_API_USER_RATE = env("PRM_API_USER_RATE", "10000/hour")
# Incremental sync (prm.api.pagination): a round's `next_updated_since` is when its pass started
# minus this margin, so the next round also catches rows whose transactions committed late.
PRM_SYNC_OVERLAP_SECONDS = int(env("PRM_SYNC_OVERLAP_SECONDS", "300"))
# How long the tombstones of deleted rows (GET /api/v1/deletions/) are kept (prm.sync).
PRM_TOMBSTONE_RETENTION_DAYS = int(env("PRM_TOMBSTONE_RETENTION_DAYS", "90"))
# How many rows one call of a bulk endpoint (POST /api/v1/sales-lines/bulk/) may send.
PRM_API_BULK_MAX_ROWS = int(env("PRM_API_BULK_MAX_ROWS", "1000"))
# How long the first answer to a write sent with an Idempotency-Key is kept and replayed to its
# retries (prm.api.idempotency).
PRM_IDEMPOTENCY_TTL_HOURS = int(env("PRM_IDEMPOTENCY_TTL_HOURS", "24"))

# Outbound webhooks (integrations): how long one delivery attempt may take, how many attempts a
# delivery gets (waiting base × 2^(attempt − 1) seconds between them, at most the cap), after how
# many failed attempts in a row an endpoint is disabled, and the hosts webhooks may reach although
# they are private or loopback (comma-separated host names, addresses or networks: "crm.lan,
# 10.20.0.0/16").
PRM_WEBHOOK_TIMEOUT_SECONDS = int(env("PRM_WEBHOOK_TIMEOUT_SECONDS", "10"))
PRM_WEBHOOK_MAX_ATTEMPTS = int(env("PRM_WEBHOOK_MAX_ATTEMPTS", "10"))
PRM_WEBHOOK_RETRY_BASE_SECONDS = int(env("PRM_WEBHOOK_RETRY_BASE_SECONDS", "60"))
PRM_WEBHOOK_RETRY_CAP_SECONDS = int(env("PRM_WEBHOOK_RETRY_CAP_SECONDS", str(6 * 60 * 60)))
PRM_WEBHOOK_DISABLE_AFTER = int(env("PRM_WEBHOOK_DISABLE_AFTER", "20"))
PRM_WEBHOOK_ALLOWED_HOSTS = env_list("PRM_WEBHOOK_ALLOWED_HOSTS")

REST_FRAMEWORK = {
    # Token first, so that a request without credentials gets 401 with a WWW-Authenticate header.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "prm.api.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["prm.api.permissions.IsStaffUser"],
    "DEFAULT_THROTTLE_CLASSES": [
        "prm.api.throttling.ApiKeyRateThrottle",
        "prm.api.throttling.StaffUserRateThrottle",
    ],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
        "prm.api.filters.UpdatedSinceFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "prm.api.pagination.Pagination",
    "DEFAULT_METADATA_CLASS": "prm.api.metadata.Metadata",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "prm.api.exceptions.exception_handler",
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "PRM API",
    "DESCRIPTION": "Partner relationship management: partners, regions, tiers and contacts; the product "
    "catalogue; agreements with their targets and documents; training; incentives: rebate policies and "
    "statements, override commission, MDF budgets and requests.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "prm.api.schema.error_responses_hook",
        "prm.api.idempotency.idempotency_schema_hook",
    ],
    # Choice sets that share a field name across apps ("status", "kind") get names of their own.
    "ENUM_NAME_OVERRIDES": {
        "PartnerStatusEnum": "partners.choices.PartnerStatus",
        "RegionKindEnum": "partners.choices.RegionKind",
        "AgreementStatusEnum": "agreements.choices.AgreementStatus",
        "DocumentKindEnum": "agreements.choices.DocumentKind",
        "FlagStatusEnum": "performance.choices.FlagStatus",
        "JobRunStatusEnum": "prm.models.JobRun.Status",
        "EventTypeEnum": "integrations.choices.EventType",
        "WebhookEventTypeEnum": "integrations.choices.EVENT_TYPE_CHOICES",
        "DeliveryStatusEnum": "integrations.choices.DeliveryStatus",
    },
}

if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS = int(env("SECURE_HSTS_SECONDS", str(60 * 60 * 24 * 365)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    X_FRAME_OPTIONS = "DENY"
    SECURE_REFERRER_POLICY = "same-origin"
    SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
    # The session outlives nothing it should not: no JavaScript access to the CSRF cookie either.
    CSRF_COOKIE_HTTPONLY = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # Sign-ins are in the security log; the lockout library's own lines would only repeat them.
        "axes": {"level": "WARNING"},
    },
}
