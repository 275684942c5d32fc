import base64

from django import template

register = template.Library()


@register.filter
def svg_data_uri(svg: str) -> str:
    """An icon as an <img> source: an SVG shown through <img> runs no script, so an uploaded
    icon cannot attack the page that shows it (inline markup could)."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()
