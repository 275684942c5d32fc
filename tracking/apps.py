from django.apps import AppConfig


class TrackingConfig(AppConfig):
    name = "tracking"
    verbose_name = "Experiment tracking"

    def ready(self):
        # Sandboxes learn of the tenant's tracking server through provisioning's extension
        # registry: provisioning never imports this app.
        from provisioning.extensions import register_sandbox_extension
        from tracking.extension import TrackingSandboxExtension

        register_sandbox_extension(TrackingSandboxExtension())

        # Its image is built with the catalog's platform images (`make run`, in the background).
        from catalog.services.platform_images import platform_image_register
        from tracking.image_build import PLATFORM_IMAGE, tracking_platform_image

        platform_image_register(PLATFORM_IMAGE, tracking_platform_image)
