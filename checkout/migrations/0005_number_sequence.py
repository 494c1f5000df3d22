"""Invoice numbering becomes one series of a general number sequence, so quotes share it."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("checkout", "0004_flow_b_changes_and_credit")]

    operations = [
        migrations.RenameModel("InvoiceSequence", "NumberSequence"),
        migrations.AlterModelOptions(
            name="numbersequence",
            options={"verbose_name": "number sequence", "verbose_name_plural": "number sequences"},
        ),
        migrations.AddField(
            model_name="numbersequence",
            name="series",
            field=models.CharField(default="INV", max_length=10, verbose_name="series"),
        ),
        migrations.AlterField(
            model_name="numbersequence",
            name="year",
            field=models.PositiveSmallIntegerField(verbose_name="year"),
        ),
        migrations.AddConstraint(
            model_name="numbersequence",
            constraint=models.UniqueConstraint(fields=("series", "year"), name="number_sequence_unique"),
        ),
    ]
