"""The jobs' floors: the same work as each of the portal's jobs in hand-written SQL, without the
portal's layers, for the jobs' times to be read against (the pages' floors are views, in
bench/floors.py)."""

from __future__ import annotations

from datetime import datetime


def retention_floor(now: datetime) -> None:
    from django.db import connection

    from consumers.services.retention import retention_cutoff

    cutoff = retention_cutoff(now)
    with connection.cursor() as cursor:
        cursor.execute(
            """UPDATE consumers_callrecord cr SET remote_address = '', remote_display_name = '',
                      remote_ip = NULL, anonymized_at = %s
               FROM consumers_endpointsettings ep
               WHERE ep.consumer_id = cr.consumer_id AND ep.usage_model = 'shared'
                 AND cr.anonymized_at IS NULL AND cr.started_at < %s""",
            [now, cutoff],
        )
        cursor.execute(
            """DELETE FROM consumers_callrecord cr USING consumers_endpointsettings ep
               WHERE ep.consumer_id = cr.consumer_id AND ep.usage_model = 'personal'
                 AND cr.started_at < %s""",
            [cutoff],
        )


def delete_floor(ids: list[int]) -> None:
    """The same delete in SQL: the consumers with their rows, and their audit events (and the
    endpoints twinned with a deleted user let go of it, and a user's emails leave the outbox
    with the invitee's other personal data, as the portal must)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """INSERT INTO portal_auditevent (partner_id, company_id, actor_id, action,
                   object_type, object_id, data, created_at)
               SELECT co.partner_id, c.company_id, NULL, c.kind || '.delete', 'consumer',
                      c.public_id::text, '{}'::jsonb, now()
               FROM consumers_consumer c JOIN portal_company co ON co.id = c.company_id
               WHERE c.id = ANY(%s)""",
            [ids],
        )
        cursor.execute(
            "UPDATE consumers_endpointsettings SET personal_user_id = NULL "
            "WHERE personal_user_id = ANY(%s)",
            [ids],
        )
        for table in (
            "consumers_address",
            "consumers_invitation",
            "consumers_teamvmrsettings",
            "consumers_endpointsettings",
            "consumers_callrecord",
        ):
            cursor.execute(f"DELETE FROM {table} WHERE consumer_id = ANY(%s)", [ids])
        cursor.execute("DELETE FROM consumers_consumer WHERE id = ANY(%s)", [ids])
        cursor.execute(
            "DELETE FROM portal_outboxmessage WHERE about = ANY(%s)",
            [[f"consumer:{pk}" for pk in ids]],
        )


def preview_floor(company_id: int, public_ids: list[object]) -> None:
    """The batch tool's plan for a delete in SQL: one item per listed consumer, in the order
    given, with what will happen to it."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """INSERT INTO consumers_batchjob (public_id, company_id, kind, action, status,
                   total, processed, succeeded, failed, created_at, heartbeat_at, attempts)
               VALUES (gen_random_uuid(), %s, 'user', 'delete', 'preview', %s, 0, 0, 0, now(),
                       now(), 0)
               RETURNING id""",
            [company_id, len(public_ids)],
        )
        batch_id = cursor.fetchone()[0]
        cursor.execute(
            """INSERT INTO consumers_batchitem (batch_id, position, label, consumer_id, will_run,
                   outcome, message)
               SELECT %s, u.n - 1, coalesce(c.alias || '@' || c.domain, u.id::text), c.id,
                      c.id IS NOT NULL, 'pending',
                      CASE WHEN c.id IS NULL THEN 'not found' ELSE 'will be deleted' END
               FROM unnest(%s::uuid[]) WITH ORDINALITY AS u(id, n)
               LEFT JOIN consumers_consumer c
                 ON c.public_id = u.id AND c.company_id = %s AND c.kind = 'user'""",
            [batch_id, [str(p) for p in public_ids], company_id],
        )


def purge_floor(cutoff: datetime) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT c.id FROM consumers_consumer c JOIN consumers_invitation i
               ON i.consumer_id = c.id WHERE i.accepted_at IS NULL AND i.sent_at <= %s""",
            [cutoff],
        )
        delete_floor([r[0] for r in cursor.fetchall()])
