"""The one form adapter: a service's refusal lands on the fields it names, the rest on the form."""

from django import forms

from common.errors import Conflict, Invalid
from common.forms import add_service_error


class SandboxForm(forms.Form):
    name = forms.CharField()
    nodes_worker = forms.IntegerField()


def _form() -> SandboxForm:
    form = SandboxForm({"name": "a", "nodes_worker": 2})
    assert form.is_valid()
    return form


def test_field_errors_go_on_their_fields_and_unknown_fields_on_the_form():
    form = _form()
    add_service_error(form, Invalid(fields={"name": ["Taken.", "Too short."], "owner": ["Gone."]}))
    assert form.errors["name"] == ["Taken.", "Too short."]
    assert form.non_field_errors() == ["Gone."]


def test_the_message_of_a_refusal_that_names_no_field_goes_on_the_form():
    form = _form()
    add_service_error(form, Conflict("Sandbox 'a' is stopping."))
    assert form.non_field_errors() == ["Sandbox 'a' is stopping."]
    assert set(form.errors) == {"__all__"}


def test_a_message_that_comes_with_fields_is_not_shown_twice():
    form = _form()
    add_service_error(form, Invalid("The name is taken.", fields={"name": ["Taken."]}))
    assert form.errors == {"name": ["Taken."]}


def test_service_fields_map_to_the_form_s_own_names():
    form = _form()
    add_service_error(
        form,
        Invalid(fields={"nodes": ["Role 'worker' takes 0 to 4 nodes."]}),
        field_names={"nodes": "nodes_worker"},
    )
    assert form.errors == {"nodes_worker": ["Role 'worker' takes 0 to 4 nodes."]}
