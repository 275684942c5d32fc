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
