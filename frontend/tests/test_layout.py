"""The layout every page shares: assets served by the portal itself, landmarks, the current
section marked in the navigation, numbers shown plainly."""

import re
from decimal import Decimal

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse

from frontend.templatetags.portal_ui import percent, plain

pytestmark = pytest.mark.django_db


def test_every_script_and_stylesheet_is_served_from_the_portal(client, member):
    client.force_login(member)

    page = client.get(reverse("dashboard")).content.decode()

    assets = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', page)
    assert len(assets) == 4
    for asset in assets:
        assert asset.startswith("/static/"), asset
        assert finders.find(asset.removeprefix("/static/")), asset


def test_the_page_has_landmarks_and_marks_its_section(client, member):
    client.force_login(member)

    page = client.get(reverse("sandbox-list")).content.decode()

    for landmark in ("<header>", '<nav class="navbar', '<main id="main"', 'href="#main"'):
        assert landmark in page
    current = re.findall(r'<a class="nav-link active" aria-current="page" href="([^"]+)"', page)
    assert current == [reverse("sandbox-list")]


@pytest.mark.parametrize(
    ("value", "shown"),
    [(Decimal("8.00"), "8"), (Decimal("0.50"), "0.5"), (Decimal("1E+2"), "100"), (3, 3)],
)
def test_decimals_are_shown_plainly(value, shown):
    assert plain(value) == shown


@pytest.mark.parametrize(
    ("used", "limit", "full"), [(1, 4, 25), (5, 4, 100), (0, 0, 0), (1, 0, 100), ("x", 1, 0)]
)
def test_bars_are_filled_within_bounds(used, limit, full):
    assert percent(used, limit) == full
