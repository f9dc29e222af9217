"""Read a form page as a browser would, so that a test can post back what the user saw."""

from django import forms


def _posted_value(value):
    if isinstance(value, list | tuple):
        return [_posted_value(item) for item in value]
    value = getattr(value, "pk", value)
    return "" if value is None else value


def form_as_loaded(response, **changes):
    """The POST data of the page's form (and its formsets) as loaded, with `changes` applied."""
    assert response.status_code == 200
    forms_on_page = [response.context["form"]]
    for formset in (response.context.get("formsets") or {}).values():
        forms_on_page += [formset.management_form, *formset.forms]
    html = response.content.decode()
    data = {}
    for form in forms_on_page:
        for bound in form:
            if isinstance(bound.field, forms.FileField):
                continue
            if bound.is_hidden:
                assert f'name="{bound.html_name}"' in html, f"{bound.html_name} is not on the page"
            data[bound.html_name] = _posted_value(bound.value())
    return {**data, **changes}
