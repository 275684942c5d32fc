"""Presentation helpers of the portal's templates: Bootstrap form widgets, status colours,
optional links to pages that another app may or may not provide."""

from django import template
from django.forms import CheckboxInput, CheckboxSelectMultiple, RadioSelect, Select, SelectMultiple
from django.urls import NoReverseMatch, reverse
from django.utils.safestring import mark_safe

from frontend.presenters import plain
from provisioning.services.pools import POOL_MISS_NONE_READY
from tracking.extension import POOL_REFUSAL as TRACKING_REFUSAL

register = template.Library()

# Bootstrap 5 colour of each status word (sandboxes, nodes, operations, hosts, builds).
_STATUS_COLOURS = {
    "running": "success",
    "ready": "success",
    "building": "info",
    "succeeded": "success",
    "pending": "secondary",
    "queued": "secondary",
    "provisioning": "info",
    "starting": "info",
    "stopping": "warning",
    "deleting": "warning",
    "draining": "warning",
    "stopped": "dark",
    "deleted": "light",
    "disabled": "dark",
    "error": "danger",
    "failed": "danger",
    "unknown": "danger",
    "unreachable": "danger",
}


@register.filter
def status_colour(status: str) -> str:
    return _STATUS_COLOURS.get(str(status), "secondary")


# Why a launch of a pooled item and flavor started cold (PoolSetting.miss_reasons), in words.
_MISS_REASONS = {POOL_MISS_NONE_READY: "none ready", TRACKING_REFUSAL: "tenant's tracking on"}


@register.filter
def miss_reason(reason: str) -> str:
    return _MISS_REASONS.get(reason, reason.replace("_", " "))


@register.filter
def wait(seconds: float) -> str:
    """A rough wait in words: 40 seconds, 12 minutes, 3 hours."""
    seconds = max(0, round(seconds))
    if seconds < 90:
        return f"{seconds} seconds"
    if seconds < 90 * 60:
        return f"{round(seconds / 60)} minutes"
    return f"{round(seconds / 3600, 1):g} hours"


@register.filter
def figure(value) -> str:
    """A measured number at four significant digits (38.5, 2.068, 1e-05; whole above 10,000:
    41000, not 4.1e+04), or a dash when there is none."""
    if value is None or value == "":
        return "–"
    number = float(value)
    if 1e4 <= abs(number) < 1e15:
        return f"{number:.0f}"
    return f"{number:.4g}"


@register.filter
def bs_widget(field):
    """The field's widget with Bootstrap classes, marked invalid and tied to its help and error
    text by aria-describedby so screen readers announce them with the input."""
    widget = field.field.widget
    if isinstance(widget, CheckboxInput):
        css = "form-check-input"
    elif isinstance(widget, RadioSelect | CheckboxSelectMultiple):
        css = ""
    elif isinstance(widget, Select | SelectMultiple):
        css = "form-select"
    else:
        css = "form-control"
    attrs = {}
    if css:
        attrs["class"] = " ".join(filter(None, [widget.attrs.get("class", ""), css]))
    described = []
    if field.help_text:
        described.append(f"{field.auto_id}_help")
    if field.errors:
        attrs["class"] = attrs.get("class", "") + " is-invalid"
        attrs["aria-invalid"] = "true"
        described.append(f"{field.auto_id}_error")
    if described:
        attrs["aria-describedby"] = " ".join(described)
    return field.as_widget(attrs=attrs)


@register.simple_tag
def optional_url(name: str, *args) -> str:
    """The URL of a page that may not be installed: empty when the name does not resolve."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


@register.filter
def percent(used, limit) -> int:
    """How full, 0-100, for a progress bar; a zero limit that is used shows as full."""
    try:
        used, limit = float(used), float(limit)
    except (TypeError, ValueError):
        return 0
    if limit <= 0:
        return 100 if used > 0 else 0
    return max(0, min(100, round(used * 100 / limit)))


@register.simple_tag(takes_context=True)
def page_url(context, number) -> str:
    """The current URL's query string with another page number, keeping the filters."""
    query = context["request"].GET.copy()
    query["page"] = number
    return "?" + query.urlencode()


register.filter("plain", plain)


@register.simple_tag(takes_context=True)
def nav_current(context, prefix: str) -> str:
    """Marks the main navigation's link to the section the page is in, for sight and for
    screen readers: ` active" aria-current="page` is spliced into the link's class attribute."""
    request = context.get("request")
    if request is None:
        return ""
    path = request.path
    current = path == prefix if prefix == "/" else path.startswith(prefix)
    return mark_safe(' active" aria-current="page') if current else ""  # noqa: S308 - constant markup
