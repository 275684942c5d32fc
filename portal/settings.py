"""Settings of the portal, read from the environment with working local defaults.

Every PORTAL_* variable below may be set in the environment; the defaults suit the local
services that deploy/setup.sh starts. Debug is off unless PORTAL_DEBUG turns it on; with it off,
PORTAL_SECRET_KEY must be set (`make run` keeps a generated one in var/secret_key). Production uses
portal/settings_production.py.
"""

import re
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from portal.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

# Off by default: debug pages show settings, stack frames and the URL map to anyone who asks.
DEBUG = env_bool("PORTAL_DEBUG", False)
SECRET_KEY = env_str("PORTAL_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("PORTAL_SECRET_KEY must be set when PORTAL_DEBUG is off")
    SECRET_KEY = "insecure-local-development-key-never-use-in-production"  # noqa: S105 - debug only

ALLOWED_HOSTS = env_list("PORTAL_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("PORTAL_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "tenants",
    "identity",
    "catalog",
    "provisioning",
    "tracking",
    "serving",
    "frontend",
]

MIDDLEWARE = [
    "portal.security.SecurityHeadersMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "common.api.middleware.ApiBodySizeLimitMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "tenants.refusal_audit.RefusalAuditMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
    "identity.middleware.PasswordChangeRequiredMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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

# How long each thread of the web and worker processes keeps its database connection. A new one
# costs PostgreSQL a backend process and a SCRAM exchange (about 6 ms of CPU on the 2-core
# machine of BENCHMARKS.md), and pages and scripts poll while launches run: with 0 a burst of 8
# launches made hundreds of them, CPU the booting notebooks waited for. Checked before reuse.
DB_CONN_MAX_AGE = env_int("PORTAL_DB_CONN_MAX_AGE", 60)

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": env_str("PORTAL_DB_NAME", "portal"),
        "USER": env_str("PORTAL_DB_USER", "portal"),
        "PASSWORD": env_str("PORTAL_DB_PASSWORD", "portal"),
        "HOST": env_str("PORTAL_DB_HOST", "127.0.0.1"),
        "PORT": env_int("PORTAL_DB_PORT", 5432),
        "CONN_MAX_AGE": DB_CONN_MAX_AGE,
        "CONN_HEALTH_CHECKS": True,
        "TEST": {"NAME": env_str("PORTAL_TEST_DB_NAME", "test_portal")},
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "tenants.User"

REDIS_URL = env_str("PORTAL_REDIS_URL", "redis://127.0.0.1:6379/0")

CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = REDIS_URL
CELERY_TASK_ACKS_LATE = True  # a worker killed mid-task leaves the task for the next worker
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env_int("PORTAL_TASK_VISIBILITY_S", 600)}
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BEAT_SCHEDULE = {
    "reconcile": {
        "task": "provisioning.tasks.reconcile",
        "schedule": env_int("PORTAL_RECONCILE_EVERY_S", 15),
    },
    "notebooks-idle-stop": {
        "task": "provisioning.tasks.notebooks_idle_stop",
        "schedule": env_int("PORTAL_NOTEBOOK_IDLE_CHECK_S", 60),
    },
    # Deactivates directory users the directory disabled or removed (nothing when LDAP is off).
    "directory-accounts-check": {
        "task": "identity.tasks.directory_accounts_check",
        "schedule": env_int("PORTAL_LDAP_CHECK_EVERY_S", 300),
    },
    # Replaces lost pooled nodes and refills pools a claim did not ask to refill (a host back).
    "pools-maintain": {
        "task": "provisioning.tasks.pools_maintain",
        "schedule": env_int("PORTAL_POOL_EVERY_S", 15),
    },
    # Endpoints: traffic counters, scaling, replacing dead replicas.
    "serving-reconcile": {
        "task": "serving.tasks.serving_reconcile",
        "schedule": env_int("PORTAL_SERVING_RECONCILE_EVERY_S", 10),
    },
    # Capacity that frees triggers a pass at once; this catches hosts that come back by
    # themselves and expires launches queued too long.
    "queue-admit": {
        "task": "provisioning.tasks.queue_admit",
        "schedule": env_int("PORTAL_QUEUE_ADMIT_EVERY_S", 30),
    },
    # Old catalog image versions no sandbox uses leave the registry and the engines; also run
    # after every publish (IMAGE_PUBLISHED_TASKS). This catches sandboxes deleted since.
    "images-prune": {
        "task": "provisioning.tasks.images_prune",
        "schedule": env_int("PORTAL_IMAGE_PRUNE_EVERY_S", 3600),
    },
    # Tracking servers whose worker died, or whose container is gone, are converged again.
    "tracking-reconcile": {
        "task": "tracking.tasks.tracking_reconcile",
        "schedule": env_int("PORTAL_TRACKING_RECONCILE_EVERY_S", 30),
    },
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# LDAP and OpenID Connect (portal/settings_identity.py) come after local accounts when enabled.
from portal.settings_identity import *  # noqa: E402, F403

AUTHENTICATION_BACKENDS = [
    "tenants.auth_backends.LockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
    *IDENTITY_BACKENDS,  # noqa: F405
]
# Database sessions whose keys are checked before any query (common/sessions.py).
SESSION_ENGINE = "common.sessions"
# Checks each app adds to the API's password login (tenants' token_obtain calls them in turn).
PORTAL_API_LOGIN_CHECKS = ["identity.services.users.api_login_check"]
# Lockout after repeated failed logins (django-axes): per username and client address, and per
# username whatever the address, so that guesses spread over many addresses (a botnet, or a
# forged X-Forwarded-For) are limited too. The price: anyone can lock an account for the
# cool-off time; the person keeps their open sessions and tokens.
AXES_FAILURE_LIMIT = env_int("PORTAL_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_int("PORTAL_LOGIN_COOLOFF_MINUTES", 15) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "username"]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "common.client_ip.client_ip"
# Proxies (addresses or networks) whose X-Forwarded-For is believed, for lockout, audit, metrics
# and throttling. None by default: the socket's peer is the client. Loopback is not trusted
# unless named, since every process on this machine (a sandbox's gateway route, a script) is on it.
TRUSTED_PROXIES = env_list("PORTAL_TRUSTED_PROXIES", [])
# Lifetime of the tokens POST /api/v1/auth/token/ hands out (personal tokens choose their own).
API_LOGIN_TOKEN_HOURS = env_int("PORTAL_API_LOGIN_TOKEN_HOURS", 24)
# The longest any token may live, in days: a token asked for without an expiry gets this one.
TOKEN_MAX_DAYS = env_int("PORTAL_TOKEN_MAX_DAYS", 365)
if TOKEN_MAX_DAYS < 1:
    raise ImproperlyConfigured("PORTAL_TOKEN_MAX_DAYS must be 1 or more.")
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "tenants.api.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": [
        "common.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "common.api.schema.PortalAutoSchema",
    "DEFAULT_THROTTLE_CLASSES": ["common.api.throttling.CreateRateThrottle"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "common.api.errors.exception_handler",
}
# Creates over the API (POSTs that make a sandbox, DataTap, tenant, member, token, host, job...)
# per token, or per user for session callers; over it answers 429 with Retry-After.
PORTAL_CREATE_RATE = env_str("PORTAL_CREATE_RATE", "60/min")
# How long an Idempotency-Key's first answer is kept for replay.
IDEMPOTENCY_KEY_TTL_HOURS = env_int("PORTAL_IDEMPOTENCY_KEY_TTL_HOURS", 24)
# Largest request body; the API answers 413 beyond it (common.api.middleware).
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("PORTAL_MAX_BODY_BYTES", 2 * 1024 * 1024)
# The cache (API throttle counts, shared by every web worker): its own Redis database, apart
# from Celery's broker.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": env_str("PORTAL_CACHE_URL", "redis://127.0.0.1:6379/1"),
        "KEY_PREFIX": "portal",
    }
}
SPECTACULAR_SETTINGS = {
    "TITLE": "AI Sandbox Portal API",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI from our static files: the Content-Security-Policy allows no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # Several models have a `kind`; each keeps its own enum name in the schema.
    "ENUM_NAME_OVERRIDES": {
        "DataTapKindEnum": "provisioning.models.DataTap.Kind",
        "OperationKindEnum": "provisioning.models.Operation.Kind",
        "DriftVerdictEnum": "serving.drift.DriftVerdict",
    },
}

# Containers and images.
# Names and labels every Docker object this portal makes; portals sharing an engine need distinct
# sites (the test run uses its own), as each one cleans up everything of its site it does not know.
SITE = env_str("PORTAL_SITE", "portal")
if not re.fullmatch(r"[a-z][a-z0-9]{0,19}", SITE):
    raise ImproperlyConfigured("PORTAL_SITE: 1-20 lowercase letters and digits, starting with a letter")
DOCKER_DEFAULT_URL = env_str("PORTAL_DOCKER_URL", "unix:///var/run/docker.sock")
# The deploy scripts' state folder (deploy/lib.sh: the hosts' TLS keys, their engines' data) and
# the engines' data roots: no DataTap may reach into them.
STATE_DIR = Path(env_str("PORTAL_STATE_DIR", "/var/lib/portal"))
DOCKER_DATA_ROOTS = env_list("PORTAL_DOCKER_DATA_ROOTS", ["/var/lib/docker"])
# Sandbox workspaces on engines of this machine: one size-limited file system image each.
WORKSPACE_DIR = env_str("PORTAL_WORKSPACE_DIR", str(BASE_DIR / "var" / "workspaces"))
IMAGE_REGISTRY = env_str("PORTAL_REGISTRY", "127.0.0.1:5000")
# Tasks sent by name after a catalog build pushed a new image (catalog imports no other app).
IMAGE_PUBLISHED_TASKS = ["provisioning.tasks.images_prune"]
BASE_IMAGE = env_str("PORTAL_BASE_IMAGE", "portal/base:bookworm")

# Experiment tracking (tracking/): each tenant that enables it gets an MLflow server of this image
# (tracking/image, `manage.py tracking_image_build`), with an artifact volume of
# TRACKING_STORAGE_GIB held against its storage quota, and a database on this PostgreSQL, reached
# through its socket folder (TRACKING_PG_SOCKET_DIR, bound read-only into the container).
TRACKING_IMAGE_SLUG = "mlflow"
TRACKING_IMAGE_VERSION = "3.17.2-1"
TRACKING_STORAGE_GIB = env_int("PORTAL_TRACKING_STORAGE_GIB", 5)
TRACKING_CPUS = float(env_str("PORTAL_TRACKING_CPUS", "1"))
TRACKING_MEMORY_MIB = env_int("PORTAL_TRACKING_MEMORY_MIB", 2048)
TRACKING_PG_SOCKET_DIR = env_str("PORTAL_TRACKING_PG_SOCKET_DIR", "/var/run/postgresql")
TRACKING_START_TIMEOUT_S = env_int("PORTAL_TRACKING_START_TIMEOUT_S", 300)
# Allocatable CPUs of a host = its cores x this ratio; memory and GPUs are never overcommitted.
CPU_OVERCOMMIT = env_str("PORTAL_CPU_OVERCOMMIT", "4")
# The launch queue: a launch waits at most this many seconds for a host, then ends in error;
# past use counts half as much in fair share after each half-life.
QUEUE_MAX_WAIT_S = env_int("PORTAL_QUEUE_MAX_WAIT", 24 * 3600)
FAIRSHARE_HALF_LIFE_DAYS = env_int("PORTAL_FAIRSHARE_HALF_LIFE_DAYS", 7)
# How long a node may take to pass its healthcheck before its operation fails.
NODE_READY_TIMEOUT_S = env_int("PORTAL_NODE_READY_TIMEOUT_S", 300)
# "<catalog item>=<size>": the warm pool a new site keeps of that item's default flavor, made
# once the item is in the catalog (the pool pass looks); a size set by a site admin, 0 too, wins.
DEFAULT_POOL = env_str("PORTAL_DEFAULT_POOL", "jupyter-pytorch=1")
# A host starts no pooled node this many seconds after a claim on it: a new node's Jupyter
# would boot (seconds of a core) while the claimer's browser loads JupyterLab from the host.
POOL_REFILL_AFTER_S = env_int("PORTAL_POOL_REFILL_AFTER_S", 10)
# An operation whose worker died is resumed by the reconciler after this long without progress.
OPERATION_STALE_S = env_int("PORTAL_OPERATION_STALE_S", 60)

# First site admin made by `manage.py portal_bootstrap`; a password is generated when unset.
BOOTSTRAP_ADMIN_USERNAME = env_str("PORTAL_ADMIN_USERNAME", "admin")
BOOTSTRAP_ADMIN_PASSWORD = env_str("PORTAL_ADMIN_PASSWORD", "")
BOOTSTRAP_ADMIN_EMAIL = env_str("PORTAL_ADMIN_EMAIL", "admin@localhost")

# The gateway (nginx, deploy/gateway/): browsers reach what runs in nodes only through it, at
# GATEWAY_URL/gateway/<node key>/<service>/; it asks /gateway/auth whether each request may pass,
# with GATEWAY_SECRET (empty: nothing passes), so that nobody else learns the upstreams' secrets.
GATEWAY_BIND = env_str("PORTAL_GATEWAY_BIND", "127.0.0.1:8002")
GATEWAY_URL = env_str("PORTAL_GATEWAY_URL", f"http://{GATEWAY_BIND}").rstrip("/")
GATEWAY_SECRET = env_str("PORTAL_GATEWAY_SECRET", "")
# The gateway's run folder (deploy/gateway/run.sh: $PORTAL_RUN_DIR/gateway): the portal writes each
# endpoint's upstream group there and reloads nginx through its pid file, so it runs on the
# gateway's machine.
GATEWAY_RUN_DIR = Path(env_str("PORTAL_RUN_DIR", str(BASE_DIR / "var" / "run"))) / "gateway"
# A node's last activity is written at most this often (every request asks the portal).
GATEWAY_ACTIVITY_EVERY_S = int(env_str("PORTAL_GATEWAY_ACTIVITY_EVERY_S", "60"))

# Model serving (serving/): how long a replica may take to load its model before its deploy
# fails (or its rollout is rolled back); requests per second one replica is sized for (the
# scaler adds replicas above it); idle seconds before an endpoint whose min is 0 scales to zero;
# how long the gateway's answer for a waking endpoint waits for its first replica.
SERVING_READY_TIMEOUT_S = env_int("PORTAL_SERVING_READY_TIMEOUT_S", 180)
SERVING_TARGET_RPS = float(env_str("PORTAL_SERVING_TARGET_RPS", "20"))
SERVING_IDLE_S = env_int("PORTAL_SERVING_IDLE_S", 300)
SERVING_WAKE_WAIT_S = env_int("PORTAL_SERVING_WAKE_WAIT_S", 120)
# Seconds a replica taken out of the gateway's rotation keeps running, for the requests the
# gateway's old workers still send it, before its container stops.
SERVING_DRAIN_S = float(env_str("PORTAL_SERVING_DRAIN_S", "3"))
SERVING_MODEL_DIR = env_str("PORTAL_SERVING_MODEL_DIR", "")
# The drift signal: each replica summarises its last INPUT_WINDOW_ROWS inference inputs; a
# feature has drifted when its recent mean is more than DRIFT_THRESHOLD training standard
# deviations from the training mean.
SERVING_INPUT_WINDOW_ROWS = env_int("PORTAL_SERVING_INPUT_WINDOW_ROWS", 1000)
SERVING_DRIFT_THRESHOLD = float(env_str("PORTAL_SERVING_DRIFT_THRESHOLD", "0.5"))

# /healthz answers within this budget (load balancers probe it often, with short timeouts): a
# dependency that has not answered by then is reported as not answering.
HEALTH_CHECK_BUDGET_S = float(env_str("PORTAL_HEALTH_BUDGET_S", "0.4"))
# How long each dependency's own probe may run; one still running when the budget is over goes
# on in the background until this timeout, so that a slow dependency never piles up probes.
HEALTH_CHECK_TIMEOUT_S = float(env_str("PORTAL_HEALTH_TIMEOUT_S", "3"))
# /metrics answers loopback clients, and others that send `Authorization: Bearer <this>`.
METRICS_TOKEN = env_str("PORTAL_METRICS_TOKEN", "")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("PORTAL_LOG_LEVEL", "INFO")},
}
