"""The one DRF exception handler: any ServiceError answers its status with `detail`, `code`,
its field errors and its extra facts, exactly as the API answered before there was one base."""

from decimal import Decimal

from django.core.exceptions import ValidationError as DjangoValidationError

from catalog.manifest import ManifestError
from catalog.services.flavors import FlavorInUse
from common.api.errors import exception_handler
from common.errors import Conflict, Invalid, ServiceError
from provisioning.errors import InUse, InvalidRequest, NoCapacity, NotFound, StateConflict
from tenants.resources import QuotaExceeded


def _answer(error: Exception) -> tuple[int, dict]:
    response = exception_handler(error, {})
    return response.status_code, response.data


def test_invalid_answers_400_with_its_first_problem_and_the_field_errors():
    assert _answer(InvalidRequest({"name": ["Taken."], "nodes": ["Too many."]})) == (
        400,
        {"detail": "Taken.", "code": "invalid", "name": ["Taken."], "nodes": ["Too many."]},
    )


def test_a_message_given_as_a_string_is_a_list_of_one_like_drf_s():
    assert _answer(Invalid(fields={"slug": "taken"}))[1] == {
        "detail": "taken",
        "code": "invalid",
        "slug": ["taken"],
    }


def test_errors_about_no_one_field_use_drf_s_key():
    error = Invalid.from_validation_error(DjangoValidationError("Both or neither."))
    assert _answer(error)[1] == {
        "detail": "Both or neither.",
        "code": "invalid",
        "non_field_errors": ["Both or neither."],
    }


def test_manifest_errors_are_field_errors_of_the_manifest():
    status, body = _answer(ManifestError(["slug: missing field", "version: missing field"]))
    assert status == 400
    assert body == {
        "detail": "slug: missing field",
        "code": "invalid",
        "manifest": ["slug: missing field", "version: missing field"],
    }


def test_not_found_says_its_message_and_names_the_field():
    error = NotFound("No DataTap 'x' in tenant 'acme'.", fields={"datataps": ["No DataTap 'x'."]})
    assert _answer(error) == (
        404,
        {"detail": "No DataTap 'x' in tenant 'acme'.", "code": "not_found", "datataps": ["No DataTap 'x'."]},
    )


def test_conflicts_keep_their_codes_and_facts():
    assert _answer(StateConflict("Sandbox 'a' is stopping.")) == (
        409,
        {"detail": "Sandbox 'a' is stopping.", "code": "state_conflict"},
    )
    assert _answer(NoCapacity("No host fits."))[1]["code"] == "no_capacity"
    assert _answer(FlavorInUse("flavor 'small' is still used"))[1] == {
        "detail": "flavor 'small' is still used",
        "code": "in_use",
    }
    assert _answer(InUse("Used by a, b.", sandboxes=["a", "b"])) == (
        409,
        {"detail": "Used by a, b.", "code": "in_use", "sandboxes": ["a", "b"]},
    )


def test_quota_exceeded_is_a_conflict_naming_what_was_hit():
    error = QuotaExceeded(tenant="acme", dimension="gpus", limit=1, in_use=1, requested=Decimal("2"))
    assert isinstance(error, Conflict)
    status, body = _answer(error)
    assert status == 409
    assert body == {
        "detail": str(error),
        "code": "quota_exceeded",
        "tenant": "acme",
        "dimension": "gpus",
        "limit": 1,
        "in_use": 1,
        "requested": Decimal("2"),
    }


def test_a_new_service_error_needs_no_handler_of_its_own():
    class Teapot(ServiceError):
        code = "teapot"
        status = 418

    assert _answer(Teapot("Short and stout.", spout=True)) == (
        418,
        {"detail": "Short and stout.", "code": "teapot", "spout": True},
    )
