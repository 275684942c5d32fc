# One name for the plain-language failure text of every model: explanation.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0003_imagebuild"),
    ]

    operations = [
        migrations.RenameField(model_name="imagebuild", old_name="error", new_name="explanation"),
        migrations.AlterField(
            model_name="imagebuild",
            name="explanation",
            field=models.TextField(blank=True, help_text="Why it failed, in plain language"),
        ),
        migrations.AlterField(
            model_name="imagebuild",
            name="status",
            field=models.CharField(
                choices=[
                    ("pending", "Waiting for a worker"),
                    ("running", "Building and pushing the image"),
                    ("succeeded", "Pushed to the registry and added to the catalog"),
                    ("failed", "Stopped; the explanation says why"),
                ],
                default="pending",
                max_length=20,
            ),
        ),
    ]
