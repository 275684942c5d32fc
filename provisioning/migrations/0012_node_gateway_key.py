import secrets

from django.db import migrations, models

import provisioning.models


def fill_gateway_keys(apps, schema_editor):
    Node = apps.get_model("provisioning", "Node")
    for node in Node.objects.filter(gateway_key="").only("pk"):
        Node.objects.filter(pk=node.pk).update(gateway_key=secrets.token_urlsafe(16))


class Migration(migrations.Migration):
    dependencies = [("provisioning", "0011_sandbox_queue")]

    operations = [
        migrations.AddField(
            model_name="node",
            name="gateway_key",
            field=models.CharField(default="", editable=False, max_length=32),
            preserve_default=False,
        ),
        migrations.RunPython(fill_gateway_keys, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="node",
            name="gateway_key",
            field=models.CharField(
                default=provisioning.models._new_gateway_key, editable=False, max_length=32, unique=True
            ),
        ),
        migrations.AddField(
            model_name="node",
            name="gateway_activity",
            field=models.DateTimeField(blank=True, null=True),
        ),
        # JupyterHub's servers, gone with the Hub: the gateway opens the server the node runs.
        migrations.DeleteModel(name="Notebook"),
    ]
