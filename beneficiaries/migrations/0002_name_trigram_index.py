from django.db import migrations

INDEX_SQL = (
    "CREATE INDEX IF NOT EXISTS name_trigram_index "
    "ON beneficiaries_beneficiary USING gin (UPPER(name::text) gin_trgm_ops)"
)


def create_trigram_index(apps, schema_editor):
    # Name searches use icontains, i.e. UPPER(name) LIKE UPPER('%…%'); the index matches that expression.
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(INDEX_SQL)


def drop_trigram_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS name_trigram_index")


class Migration(migrations.Migration):
    dependencies = [("beneficiaries", "0001_initial")]

    operations = [migrations.RunPython(create_trigram_index, drop_trigram_index)]
