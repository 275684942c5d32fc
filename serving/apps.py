from django.apps import AppConfig


class ServingConfig(AppConfig):
    name = "serving"
    verbose_name = "Model serving"

    def ready(self) -> None:
        # Replicas share the hosts with sandbox nodes: provisioning's placement counts what they
        # hold. (Its reconciler leaves alone what carries no sandbox label or name; serving's
        # reconciler converges replicas.)
        from provisioning.services.capacity import register_host_usage
        from serving.selectors import replica_usage_by_host

        register_host_usage(replica_usage_by_host)

        # The model server's image is built with the catalog's platform images (`make run`).
        from catalog.services.platform_images import platform_image_register
        from serving.image_build import PLATFORM_IMAGE, model_server_platform_image

        platform_image_register(PLATFORM_IMAGE, model_server_platform_image)
