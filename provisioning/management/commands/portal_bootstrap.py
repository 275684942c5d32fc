from django.conf import settings
from django.core.management.base import BaseCommand

from catalog.services.builds import image_builds_shipped_request
from catalog.services.platform_images import platform_images_request
from provisioning.services.hosts import host_ensure_default, host_inventory_refresh
from provisioning.services.pools import pool_default_ensure
from tenants.services.bootstrap import default_tenant_ensure, site_admin_ensure


class Command(BaseCommand):
    help = (
        "Create the first site admin, the default tenant, register the local Docker engine and have "
        "the shipped catalog images and the platform's own (MLflow, the model server) that are "
        "missing or out of date built in the background."
    )

    def handle(self, *args, **options):
        admin, generated_password = site_admin_ensure(
            username=settings.BOOTSTRAP_ADMIN_USERNAME,
            email=settings.BOOTSTRAP_ADMIN_EMAIL,
            password=settings.BOOTSTRAP_ADMIN_PASSWORD,
        )
        if generated_password:
            self.stdout.write(
                f"Site admin created: username {admin.username!r}, password {generated_password!r} "
                "(shown once; set PORTAL_ADMIN_PASSWORD to choose it)"
            )
        default_tenant_ensure(admin=admin)
        host = host_inventory_refresh(host=host_ensure_default(url=settings.DOCKER_DEFAULT_URL))
        self.stdout.write(f"Docker host {host.name}: {host.state}, {host.cpus} CPUs, {host.memory_mib} MiB")
        if pool := pool_default_ensure():
            self.stdout.write(
                f"Warm pool: each host keeps {pool.size} {pool.catalog_item.slug} ({pool.flavor.name})"
            )
        # The worker on the `long` queue takes them once supervisord starts it: each is checked
        # against the registry (a second or so) and built only when missing or changed.
        builds = image_builds_shipped_request()
        self.stdout.write(
            f"Shipped images: {len(builds)} to check or build in the background, one at a time "
            "(the App Store shows each one's progress)"
        )
        # Not catalog items, so not in the App Store: tracking servers and endpoints run them,
        # and wait for them, saying so, when they are needed before they are built.
        platform = platform_images_request()
        self.stdout.write(
            f"Platform images: {', '.join(platform)} to check or build in the background "
            "(the `long` worker's log says how it went)"
        )
