from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("provisioning", "0014_pool"),
    ]

    operations = [
        migrations.AddField(
            model_name="poolsetting",
            name="miss_reasons",
            field=models.JSONField(blank=True, default=dict, help_text="reason -> misses"),
        ),
        # Every miss before reasons were kept found no pooled node ready.
        migrations.RunSQL(
            "UPDATE provisioning_poolsetting SET miss_reasons = jsonb_build_object('none_ready', misses) "
            "WHERE misses > 0",
            reverse_sql=migrations.RunSQL.noop,
        ),
    ]
