"""Make the audit table append-only in the database itself, so that raw SQL, a shell or a
future code path cannot rewrite history either. TRUNCATE stays possible: it is a table owner's
operation (the test runner empties tables with it), not a row edit."""

from django.db import migrations

FORWARD = """
CREATE FUNCTION tenants_auditevent_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER tenants_auditevent_append_only
    BEFORE UPDATE OR DELETE ON tenants_auditevent
    FOR EACH ROW EXECUTE FUNCTION tenants_auditevent_refuse_change();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS tenants_auditevent_append_only ON tenants_auditevent;
DROP FUNCTION IF EXISTS tenants_auditevent_refuse_change();
"""


class Migration(migrations.Migration):
    dependencies = [("tenants", "0002_tokens_audit")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
