"""Grant the application's PostgreSQL role what it needs, and no more on the audit table."""

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from psycopg import sql

AUDIT_TABLES = ["requests_app_auditevent", "audit_seal"]
# The chain heads are read, advanced and created; never deleted.
CHAIN_HEAD_TABLE = "audit_chain"


def grant_statements(role: str) -> list[sql.Composed]:
    r = sql.Identifier(role)
    statements = [
        sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(r),
        sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {}").format(r),
        sql.SQL("GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {}").format(r),
    ]
    for table in AUDIT_TABLES:
        t = sql.Identifier(table)
        statements += [
            sql.SQL("REVOKE ALL ON {} FROM {}").format(t, r),
            sql.SQL("GRANT SELECT, INSERT ON {} TO {}").format(t, r),
        ]
    head = sql.Identifier(CHAIN_HEAD_TABLE)
    statements += [
        sql.SQL("REVOKE ALL ON {} FROM {}").format(head, r),
        sql.SQL("GRANT SELECT, INSERT, UPDATE ON {} TO {}").format(head, r),
    ]
    return statements


class Command(BaseCommand):
    help = (
        "Run as the owner role after every migrate: grants the application role DML on all tables "
        "and sequences, but only SELECT and INSERT on the audit trail (no UPDATE, DELETE, TRUNCATE)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--role", required=True, help="the application's login role, e.g. portal_app")

    def handle(self, *args, **opts):
        if connection.vendor != "postgresql":
            raise CommandError("Roles exist only on PostgreSQL; the embedded SQLite mode has one user.")
        with connection.cursor() as cursor:
            for statement in grant_statements(opts["role"]):
                cursor.execute(statement)
        self.stdout.write(f"granted {opts['role']}: DML on tables, INSERT/SELECT only on the audit trail")
