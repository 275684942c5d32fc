# One name for the plain-language failure text of every model: explanation.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("provisioning", "0007_jobs"),
    ]

    operations = [
        migrations.RenameField(model_name="host", old_name="last_error", new_name="explanation"),
        migrations.AlterField(
            model_name="host",
            name="explanation",
            field=models.TextField(blank=True, help_text="Why the engine did not answer, in plain language"),
        ),
        migrations.RenameField(model_name="sandbox", old_name="status_detail", new_name="explanation"),
        migrations.RenameField(model_name="node", old_name="status_detail", new_name="explanation"),
        migrations.RenameField(model_name="jobnode", old_name="detail", new_name="explanation"),
    ]
