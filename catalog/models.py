from django.conf import settings
from django.db import models

from catalog.manifest import Manifest
from catalog.querysets import CatalogItemQuerySet, ImageBuildQuerySet
from catalog.states import ImageBuildStatus


class Flavor(models.Model):
    """A size preset for one node. Its API name is `name`."""

    name = models.SlugField(max_length=50, unique=True)
    description = models.CharField(max_length=200, blank=True)
    cpus = models.DecimalField(max_digits=6, decimal_places=2)
    memory_mib = models.PositiveIntegerField()
    gpus = models.PositiveIntegerField(default=0)
    disk_gib = models.PositiveIntegerField(default=10, help_text="Size of the sandbox workspace")

    class Meta:
        ordering = ["cpus", "memory_mib", "name"]

    def __str__(self) -> str:
        return self.name


class CatalogItem(models.Model):
    """An app of the App Store: a versioned image and its validated manifest."""

    class Category(models.TextChoices):
        NOTEBOOK = "notebook", "Notebook"
        TRAINING = "training", "Training cluster"
        BATCH = "batch", "Batch"

    slug = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=200)
    version = models.CharField(max_length=50)
    description = models.TextField(blank=True)
    category = models.CharField(max_length=20, choices=Category.choices)
    icon = models.TextField(blank=True, help_text="SVG markup")
    gpu_capable = models.BooleanField(default=False)
    default_flavor = models.ForeignKey(
        Flavor, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    manifest = models.JSONField(help_text="The validated manifest, as catalog.manifest normalises it")
    enabled = models.BooleanField(default=True, help_text="Disabled items take no new sandboxes")
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    objects = CatalogItemQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.slug}:{self.version}"

    @property
    def image(self) -> str:
        """Where hosts pull the image from."""
        return f"{settings.IMAGE_REGISTRY}/{self.slug}:{self.version}"

    @property
    def spec(self) -> Manifest:
        """The stored manifest as a typed Manifest, parsed once per stored dict: assigning
        a new `manifest` is seen at the next read."""
        cached = self.__dict__.get("_spec")
        if cached is None or cached[0] is not self.manifest:
            cached = self.__dict__["_spec"] = (self.manifest, Manifest.from_json(self.manifest))
        return cached[1]


class ImageBuild(models.Model):
    """A site admin's request to build an image from an uploaded manifest and Dockerfile, or
    `make run`'s of a shipped image (catalog/images, no Dockerfile stored), then add it to the
    catalog. Built by a Celery task; the row is its progress report."""

    Status = ImageBuildStatus

    slug = models.SlugField(max_length=50)
    version = models.CharField(max_length=50)
    manifest = models.JSONField(help_text="The validated manifest")
    dockerfile = models.TextField()
    icon = models.TextField(blank=True, help_text="SVG markup")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    log = models.TextField(blank=True, help_text="The last lines the engine printed")
    explanation = models.TextField(blank=True, help_text="Why it failed, in plain language")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    catalog_item = models.ForeignKey(
        CatalogItem, null=True, blank=True, on_delete=models.SET_NULL, related_name="builds"
    )
    created = models.DateTimeField(auto_now_add=True)
    finished = models.DateTimeField(null=True, blank=True)

    objects = ImageBuildQuerySet.as_manager()

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"build of {self.slug}:{self.version} ({self.status})"

    @property
    def shipped(self) -> bool:
        """Built from the folder of catalog/images named by its slug (ImageBuildQuerySet.shipped)."""
        return not self.dockerfile
