from django.apps import AppConfig


class ServingConfig(AppConfig):
    name = "serving"
    verbose_name = "Model serving"

    def ready(self) -> None:
        # Replicas share the hosts with sandbox nodes: provisioning's placement counts what they
        # hold, and its reconciler leaves their containers and networks to serving's.
        from provisioning.services.capacity import register_host_usage
        from provisioning.services.reconciler import register_foreign_names
        from serving.selectors import replica_usage_by_host, serving_owns_name

        register_host_usage(replica_usage_by_host)
        register_foreign_names(serving_owns_name)
