from axes.backends import AxesStandaloneBackend


class LockoutBackend(AxesStandaloneBackend):
    """django-axes' lockout check, skipped for authentication without a request.

    Every login a person or script can reach (login page, admin, POST /api/v1/auth/token/)
    passes its request; only in-process callers such as the test client's `login()` do not,
    and there is no client address to lock out then.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
