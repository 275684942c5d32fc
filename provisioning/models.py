from django.db import models


class Host(models.Model):
    """A Docker engine the platform places nodes on."""

    class State(models.TextChoices):
        READY = "ready", "Takes new nodes"
        UNREACHABLE = "unreachable", "The engine did not answer the last inventory"
        DRAINING = "draining", "Keeps its nodes, takes no new ones"
        DISABLED = "disabled", "Out of service"

    name = models.CharField(max_length=100, unique=True)
    url = models.CharField(max_length=300, help_text="unix:///var/run/docker.sock or tcp://host:2376")
    tls_ca_cert = models.TextField(blank=True)
    tls_client_cert = models.TextField(blank=True)
    tls_client_key = models.TextField(blank=True)
    state = models.CharField(max_length=20, choices=State.choices, default=State.READY)
    labels = models.JSONField(default=dict, blank=True)
    cpus = models.PositiveIntegerField(default=0)
    memory_mib = models.PositiveBigIntegerField(default=0)
    gpus = models.JSONField(
        default=list, blank=True, help_text="NVML inventory: index, uuid, model, memory_mib"
    )
    engine_version = models.CharField(max_length=50, blank=True)
    last_seen = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
