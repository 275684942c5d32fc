"""Settings for the test run: the same real services, on separate Redis databases so that a
portal running beside the tests (`make run`) never takes their tasks."""

import os

# Debug is off by default, and then a secret key is required: the test run has one of its own.
# (`make test` exports the variable empty in a checkout that never ran `make run`.)
if not os.environ.get("PORTAL_SECRET_KEY"):
    os.environ["PORTAL_SECRET_KEY"] = "test-run-key-not-a-secret"  # noqa: S105 - tests only

from portal.env import env_int, env_str  # noqa: E402
from portal.settings import *  # noqa: E402, F403

REDIS_URL = env_str("PORTAL_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = REDIS_URL
# The test run's one Redis database serves the cache too, its keys apart by prefix.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "test-cache",
    }
}
# Tests create many objects quickly as the same user; the throttle's own tests lower it.
PORTAL_CREATE_RATE = "100000/min"
# The tests' Docker objects are apart from those of a portal running on the same engine.
SITE = env_str("PORTAL_TEST_SITE", "test")
DEFAULT_POOL = ""  # a test that wants a pool sets it
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast logins in tests
# The test run shares the machine's registry with a running portal: no test build may prune
# that portal's images. The prune's own tests call it for their own items.
IMAGE_PUBLISHED_TASKS: list[str] = []
# Connections close after each request and task (Django's default) so that no idle connection
# holds the test database when a test flushes it or the run drops it. The bench asks for the
# deployed value (DB_CONN_MAX_AGE) for the portal processes it runs as `make run` does.
DATABASES["default"]["CONN_MAX_AGE"] = env_int("PORTAL_TEST_DB_CONN_MAX_AGE", 0)  # noqa: F405
