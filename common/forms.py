"""The one form adapter: a service's refusal shown on the form that asked for it."""

from django import forms

from common.errors import ServiceError


def add_service_error(
    form: forms.Form, error: ServiceError, *, field_names: dict[str, str | None] | None = None
) -> None:
    """Put `error.fields` on the form's fields; a field the form lacks goes on the form as a
    whole, and so does the message of a refusal that names no field (a message that comes with
    fields says what they say, and would show it twice). `field_names` maps a service's field to
    the form's where they differ (a sandbox's `nodes` are number fields per role)."""
    field_names = field_names or {}
    for field, messages in error.fields.items():
        name = field_names.get(field, field)
        for message in messages if isinstance(messages, list) else [messages]:
            form.add_error(name if name in form.fields else None, message)
    if not error.fields:
        form.add_error(None, error.message)
