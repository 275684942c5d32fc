from django.db import models


class CatalogItemQuerySet(models.QuerySet):
    def launchable(self) -> "CatalogItemQuerySet":
        """Items new sandboxes may be created from."""
        return self.filter(enabled=True)

    def visible_to(self, user) -> "CatalogItemQuerySet":
        """Members browse what they can launch; site admins curate every item."""
        if user is None or not user.is_authenticated:
            return self.none()
        if user.is_site_admin:
            return self
        return self.launchable()


class ImageBuildQuerySet(models.QuerySet):
    """A shipped build (of a folder of catalog/images, requested by `make run`) has no uploaded
    Dockerfile: its Dockerfile is in the folder; an uploaded build always has one."""

    def shipped(self) -> "ImageBuildQuerySet":
        return self.filter(dockerfile="")

    def uploaded(self) -> "ImageBuildQuerySet":
        return self.exclude(dockerfile="")

    def visible_to(self, user) -> "ImageBuildQuerySet":
        """Site admins see every build; others the shipped ones, whose logs show only what the
        shipped Dockerfiles do (the App Store links them)."""
        if user is None or not user.is_authenticated:
            return self.none()
        if user.is_site_admin:
            return self
        return self.shipped()
