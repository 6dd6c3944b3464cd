from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    operations = [
        migrations.CreateModel(
            name="UploadClaim",
            fields=[
                (
                    "digest",
                    models.CharField(max_length=64, primary_key=True, serialize=False),
                ),
                ("claimed_at", models.DateTimeField(auto_now_add=True, db_index=True)),
            ],
            options={"verbose_name": "attached upload"},
        ),
    ]
