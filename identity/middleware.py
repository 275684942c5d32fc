from django.shortcuts import redirect
from django.urls import reverse

# Set in the session by the login page when the account holds a temporary password.
MUST_CHANGE_PASSWORD = "identity.must_change_password"  # noqa: S105 - a session key


class PasswordChangeRequiredMiddleware:
    """A user who signed in with a temporary password sees only the page that changes it (and
    may log out) until they have chosen their own. The session flag spares every other request a
    query. The API is left alone: its clients send tokens, and the session is not theirs to load."""

    ALLOWED = ("password-change", "logout")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith("/api/"):
            return self.get_response(request)
        if request.session.get(MUST_CHANGE_PASSWORD) and request.user.is_authenticated:
            allowed = {reverse(name) for name in self.ALLOWED}
            if request.path not in allowed and not request.path.startswith("/static/"):
                return redirect("password-change")
        return self.get_response(request)
