"""The session store: Django's database sessions, with keys checked before any query.

Django makes session keys of lowercase letters and digits, and only checks a key's length before
looking it up; a cookie a client forged with a NUL byte then reached PostgreSQL, which refuses
it, and every such request answered 500. Any other key is simply no session."""

from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore


class SessionStore(DatabaseSessionStore):
    def _validate_session_key(self, key):
        return super()._validate_session_key(key) and key.isascii() and key.isalnum()
