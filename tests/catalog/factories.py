"""factory_boy factories of the catalog. Each makes one object."""

import copy

import factory

from catalog.models import CatalogItem, Flavor

MANIFEST = {
    "slug": "demo-notebook",
    "name": "Demo notebook",
    "version": "1.0.0",
    "description": "A notebook for tests.",
    "category": "notebook",
    "icon": "icon.svg",
    "gpu": False,
    "default_flavor": "small",
    "user": {"name": "scientist", "uid": 1000, "gid": 1000},
    "workspace": "/workspace",
    "capabilities": [],
    "environment": {},
    "host_labels": {},
    "frameworks": ["torch"],
    "roles": {
        "head": {
            "min_nodes": 1,
            "max_nodes": 1,
            "default_nodes": 1,
            "services": [{"name": "jupyter", "port": 8888, "protocol": "http", "path": "/lab", "main": True}],
            "healthcheck": {
                "test": ["CMD", "/usr/local/bin/sandbox-healthcheck"],
                "interval_s": 2,
                "timeout_s": 5,
                "retries": 30,
                "start_period_s": 60,
            },
        }
    },
}


def manifest(**changes) -> dict:
    """A valid normalised manifest with top-level `changes`."""
    return {**copy.deepcopy(MANIFEST), **changes}


class FlavorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Flavor
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"flavor-{n}")
    cpus = 1
    memory_mib = 1024


class CatalogItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CatalogItem
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"app-{n}")
    name = factory.LazyAttribute(lambda item: item.slug.replace("-", " ").title())
    version = "1.0.0"
    category = CatalogItem.Category.NOTEBOOK
    icon = '<svg xmlns="http://www.w3.org/2000/svg"/>'
    manifest = factory.LazyAttribute(lambda item: manifest(slug=item.slug, name=item.name))
