from django.db import migrations


def copy_sequences(apps, schema_editor):
    """Number sequences now live in billing_center (the shared kernel): carry every series'
    last number over, so invoice and quote numbers go on without a gap or a repeat."""
    Old = apps.get_model("checkout", "NumberSequence")
    New = apps.get_model("billing_center", "NumberSequence")
    for sequence in Old.objects.all():
        New.objects.update_or_create(
            series=sequence.series,
            year=sequence.year,
            defaults={"last_number": sequence.last_number},
        )


class Migration(migrations.Migration):
    dependencies = [
        ("checkout", "0006_added_seats_lines"),
        ("billing_center", "0004_number_sequence"),
    ]

    operations = [
        migrations.RunPython(copy_sequences, migrations.RunPython.noop),
        migrations.DeleteModel(name="NumberSequence"),
    ]
