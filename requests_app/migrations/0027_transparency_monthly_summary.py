"""The transparency report's monthly summary (issue 13 item 6): the requests counted per month
of receipt (the provider's civil month) and per everything the report's figures read of them,
kept by database triggers on the requests themselves.

The report's grouped scan of every request of the period (1.6 s at 1M requests, plus 1.3 s of
hashing into ~8,000 groups) becomes a sum over the summary's rows of the period's whole months;
only the requests of the partial months at the period's ends are read one by one
(``reports.transparency_figures``). ``reports.summary_mismatches`` checks the summary against the
requests (``manage.py transparency_report --check-summary``).

Triggers (PostgreSQL):
- inserts and deletes: a statement trigger adds the statement's rows, grouped, in one UPSERT
  (a bulk import costs one statement, not one per row);
- updates: a row trigger that fires only WHEN a counted column changed (status, country,
  instrument, emergency, confidentiality, link, whether produced / preserved / extended, data
  categories, targets, time of receipt), one INSERT of two delta rows (-1 in the old group, +1
  in the new one). An update that changes nothing counted (an assignment, a deadline, the first
  acknowledgement) does not run it;
- a TRUNCATE of the requests (the test suite's flush) empties it.

The summary is APPEND-ONLY: a trigger never updates a row, it inserts deltas, so no writer ever
waits for another's commit on a hot group (this month, one country, one instrument, "received":
every submission of it). An UPSERT per group, the first version of this migration, made every
concurrent submission and status change of one group queue on one row until commit — the
single point of contention issue 9 item 6 removed from the audit chain. The report sums the
rows of a group (every figure is linear in n and n_targets); ``reports.compact_summary`` (a
periodic task, REPORT_SUMMARY_COMPACT_SECONDS) folds each group's rows into one, deleting only
the rows its snapshot sees, so deltas written meanwhile are kept.

Cost (issue 9 item 5), measured with the UPSERT version at 1M requests on PostgreSQL, 5,000
single-row updates in a loop: a status change cost 0.16-0.29 ms more (one read of the one-row
state, one write of two summary rows); an update changing nothing counted, within the noise.
A request's first production or preservation moves it once more (the audit trigger of 0025
sets ``first_produced_at`` / ``first_preserved_at``: a second insert in that transaction).

The month is the civil month in the provider's establishment zone at the time of this migration,
stored with the summary (``lrp_report_summary_state.time_zone``); the report uses the summary only
while the provider's zone is still that one, and reads the requests otherwise.

Backfill in batches of request ids after the triggers exist: the requests written before them
(ids up to the highest at that moment) are "pending", the triggers leave them alone, and each
batch (its own transaction, the requests locked against writes for its duration) counts its ids
and moves the pending range past them. So nothing is counted twice or missed, whoever writes
meanwhile.

SQLite (the embedded default, small data) has no time zones to compute a civil month in: there is
no summary there and the report reads the requests.
"""

import time

from django.db import migrations, transaction

BATCH = 200_000  # request ids per backfill transaction

TABLE = "lrp_report_summary"
KEY_COLUMNS = ("month", "country", "instrument", "status", "emergency", "confidential", "linked", "produced",
               "preserved", "extended", "data_categories")


def key_of(row: str, zone: str) -> str:
    """The summary's key of a request row ``row`` (an alias, OLD or NEW), ``zone`` an SQL
    expression giving the zone's name."""
    return (f"(date_trunc('month', {row}.received_at AT TIME ZONE {zone}))::date, {row}.country, {row}.instrument, "
            f"{row}.status, {row}.emergency, {row}.confidential, {row}.linked_request_id IS NOT NULL, "
            f"{row}.first_produced_at IS NOT NULL, {row}.first_preserved_at IS NOT NULL, "
            f"{row}.preservation_extended, {row}.data_categories")


COLUMNS = ", ".join(KEY_COLUMNS)
KEYS = ", ".join(f"k{i}" for i in range(len(KEY_COLUMNS)))
# Append-only: deltas, never an update of a row another transaction may be writing.
UPSERT = f"INSERT INTO {TABLE} ({COLUMNS}, n, n_targets) {{select}}"
# What an update must change for its request to move to another group (or its targets to count).
COUNTED_CHANGE = " OR ".join([
    *(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in ("received_at", "country", "instrument", "status", "emergency",
                                                    "confidential", "preservation_extended", "data_categories",
                                                    "target_count")),
    *(f"(OLD.{c} IS NULL) <> (NEW.{c} IS NULL)" for c in ("linked_request_id", "first_produced_at",
                                                          "first_preserved_at")),
])


def _grouped(relation: str, sign: str) -> str:
    return (f"SELECT {key_of('r', 'z.time_zone')}, {sign}COUNT(*), {sign}SUM(r.target_count) "
            f"FROM {relation} r, lrp_report_summary_state z "
            f"WHERE z.id = 1 AND NOT (r.id BETWEEN z.pending_from AND z.pending_to) "
            f"GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11")


POSTGRES_SCHEMA = f"""
CREATE TABLE {TABLE} (
    month date NOT NULL, country varchar(2) NOT NULL, instrument varchar(32) NOT NULL, status varchar(32) NOT NULL,
    emergency boolean NOT NULL, confidential boolean NOT NULL, linked boolean NOT NULL, produced boolean NOT NULL,
    preserved boolean NOT NULL, extended boolean NOT NULL, data_categories varchar(64) NOT NULL,
    n bigint NOT NULL, n_targets bigint NOT NULL);
CREATE INDEX lrp_report_summary_month ON {TABLE} (month);
CREATE TABLE lrp_report_summary_state (
    id integer PRIMARY KEY CHECK (id = 1), time_zone text NOT NULL,
    pending_from bigint NOT NULL, pending_to bigint NOT NULL);

CREATE FUNCTION lrp_report_summary_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {UPSERT.format(select=_grouped('new_requests', ''))};
    RETURN NULL;
END $$;
CREATE TRIGGER lrp_report_summary_inserted AFTER INSERT ON requests_app_legalrequest
    REFERENCING NEW TABLE AS new_requests FOR EACH STATEMENT EXECUTE FUNCTION lrp_report_summary_inserted();

CREATE FUNCTION lrp_report_summary_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {UPSERT.format(select=_grouped('old_requests', '-'))};
    RETURN NULL;
END $$;
CREATE TRIGGER lrp_report_summary_deleted AFTER DELETE ON requests_app_legalrequest
    REFERENCING OLD TABLE AS old_requests FOR EACH STATEMENT EXECUTE FUNCTION lrp_report_summary_deleted();

CREATE FUNCTION lrp_report_summary_updated() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    z lrp_report_summary_state;
BEGIN
    SELECT * INTO z FROM lrp_report_summary_state WHERE id = 1;
    IF NEW.id BETWEEN z.pending_from AND z.pending_to THEN
        RETURN NULL;  -- the backfill counts it as it is when its batch comes
    END IF;
    IF ROW({key_of('OLD', 'z.time_zone')}) IS NOT DISTINCT FROM ROW({key_of('NEW', 'z.time_zone')}) THEN
        -- the same group: only its targets moved
        {UPSERT.format(select=f"VALUES ({key_of('NEW', 'z.time_zone')}, 0, NEW.target_count - OLD.target_count)")};
    ELSE
        -- out of the old group, into the new one: two delta rows, no lock on either group
        {UPSERT.format(select=f"VALUES ({key_of('OLD', 'z.time_zone')}, -1, -OLD.target_count), "
                              f"({key_of('NEW', 'z.time_zone')}, 1, NEW.target_count)")};
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER lrp_report_summary_updated AFTER UPDATE ON requests_app_legalrequest
    FOR EACH ROW WHEN ({COUNTED_CHANGE}) EXECUTE FUNCTION lrp_report_summary_updated();

CREATE FUNCTION lrp_report_summary_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM {TABLE};
    RETURN NULL;
END $$;
CREATE TRIGGER lrp_report_summary_truncated AFTER TRUNCATE ON requests_app_legalrequest
    FOR EACH STATEMENT EXECUTE FUNCTION lrp_report_summary_truncated();
"""
POSTGRES_DROP = f"""
DROP TRIGGER IF EXISTS lrp_report_summary_inserted ON requests_app_legalrequest;
DROP TRIGGER IF EXISTS lrp_report_summary_deleted ON requests_app_legalrequest;
DROP TRIGGER IF EXISTS lrp_report_summary_updated ON requests_app_legalrequest;
DROP TRIGGER IF EXISTS lrp_report_summary_truncated ON requests_app_legalrequest;
DROP INDEX IF EXISTS lrp_report_summary_month;
DROP FUNCTION IF EXISTS lrp_report_summary_inserted(), lrp_report_summary_deleted(), lrp_report_summary_updated(),
    lrp_report_summary_truncated();
DROP TABLE IF EXISTS {TABLE}, lrp_report_summary_state;
"""
# One batch [lo, hi) of the pending requests: counted as they are now, then no longer pending.
POSTGRES_BACKFILL = (UPSERT.format(select=(
    f"SELECT {key_of('r', 'z.time_zone')}, COUNT(*), SUM(r.target_count) "
    "FROM requests_app_legalrequest r, lrp_report_summary_state z "
    "WHERE z.id = 1 AND r.id >= %(lo)s AND r.id < %(hi)s GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11")))
# Its own statement: with parameters bound by the server (portal/settings.py) one execute is
# one statement.
POSTGRES_BACKFILL_DONE = "UPDATE lrp_report_summary_state SET pending_from = %(hi)s WHERE id = 1"


# Fold each group's rows into one (the same statement as reports.compact_summary, frozen here as
# migrations are): only the rows this statement's snapshot sees are deleted and summed, so rows
# inserted meanwhile stay as they are.
COMPACT = (f"WITH moved AS (DELETE FROM {TABLE} RETURNING *) "
           f"INSERT INTO {TABLE} ({COLUMNS}, n, n_targets) SELECT {COLUMNS}, SUM(n), SUM(n_targets) FROM moved "
           f"GROUP BY {COLUMNS} HAVING SUM(n) <> 0 OR SUM(n_targets) <> 0")


def create_summary(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    from requests_app.provider import provider_config

    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        # No write between reading the highest id and the triggers' existence.
        cursor.execute("LOCK TABLE requests_app_legalrequest IN SHARE ROW EXCLUSIVE MODE")
        cursor.execute(POSTGRES_SCHEMA)
        cursor.execute("SELECT COALESCE(MIN(id), 1), COALESCE(MAX(id), 0) FROM requests_app_legalrequest")
        low, high = cursor.fetchone()
        cursor.execute("INSERT INTO lrp_report_summary_state VALUES (1, %s, %s, %s)",
                       [provider_config().establishment_time_zone, low, high])


def drop_summary(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_DROP)


def backfill(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pending_from, pending_to FROM lrp_report_summary_state WHERE id = 1")
        low, high = cursor.fetchone()
    started = time.monotonic()
    for lo in range(low, high + 1, BATCH):
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            cursor.execute("LOCK TABLE requests_app_legalrequest IN SHARE MODE")  # writers wait for the batch
            batch = {"lo": lo, "hi": min(lo + BATCH, high + 1)}
            cursor.execute(POSTGRES_BACKFILL, batch)
            cursor.execute(POSTGRES_BACKFILL_DONE, batch)
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        cursor.execute(COMPACT)  # one row per group again (the batches wrote a row per group each)
    if high - low >= BATCH:  # only worth a line on a big table
        print(f"\n  transparency summary backfilled for ids {low:,}–{high:,} in {time.monotonic() - started:.1f} s")


class Migration(migrations.Migration):
    atomic = False  # the backfill commits per batch

    dependencies = [
        ('requests_app', '0026_annex_iii_automatic_clarification'),
    ]

    operations = [
        migrations.RunPython(create_summary, drop_summary, elidable=False),
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=False),
    ]
