"""The SQL of ``seed_demo --scale`` (``approvals.demo.scale``): one ``INSERT … SELECT
generate_series`` per table, in the order the rows hang on each other, each reading the
parameters of ``scale._world`` by name (``%(aurora)s``)."""

OPEN_SHARE = 0.2  # the newest fifth of the requests is open
BASALT_EVERY = 10  # one request in ten is Basalt's


def statements(n, world):
    world.update(
        n=n, customers=max(40, n // 25), open_from=int(n * (1 - OPEN_SHARE)), basalt_every=BASALT_EVERY
    )
    return [
        (
            "partner customers",
            """
            INSERT INTO vendors_partnercustomer (legal_name, normalised_name, country, sector,
                registration_id, intended_use, ownership, security_contact_name, security_contact_email,
                attestation, attested_at, identity_frozen_at, created_at, updated_at,
                attested_by_id, created_by_id, vendor_id)
            SELECT 'Scale Customer ' || %(year)s || '-' || c || ' Ltd',
                'scale customer ' || %(year)s || ' ' || c || ' ltd',
                (ARRAY['US','US','US','US','US','US','US','GB'])[1 + c %% 8],
                CASE WHEN c %% 2 = 0 THEN 'other'
                     ELSE (%(sectors)s::text[])[1 + c %% cardinality(%(sectors)s::text[])] END,
                'SC-' || %(year)s || '-' || c, 'Enterprise agents for internal engineering.', '',
                'Security Desk',
                'security' || c || '@customer.example', true, now(), now(), now(), now(),
                CASE WHEN c %% %(basalt_every)s = 0 THEN %(basalt_admin)s ELSE %(aurora_admin)s END,
                CASE WHEN c %% %(basalt_every)s = 0 THEN %(basalt_admin)s ELSE %(aurora_admin)s END,
                CASE WHEN c %% %(basalt_every)s = 0 THEN %(basalt)s ELSE %(aurora)s END
            FROM generate_series(1, %(customers)s) AS c
            """,
        ),
        (
            "customer permissions",
            """
            INSERT INTO vendors_partnercustomergroupobjectpermission
                (content_object_id, group_id, permission_id)
            SELECT p.id, g.group_id, g.permission_id
            FROM vendors_partnercustomer p
            JOIN (VALUES (%(aurora)s, %(aurora_members)s, %(view_customer)s),
                         (%(aurora)s, %(aurora_editors)s, %(view_customer)s),
                         (%(aurora)s, %(aurora_editors)s, %(change_customer)s),
                         (%(basalt)s, %(basalt_members)s, %(view_customer)s),
                         (%(basalt)s, %(basalt_editors)s, %(view_customer)s),
                         (%(basalt)s, %(basalt_editors)s, %(change_customer)s))
                AS g (vendor_id, group_id, permission_id) ON g.vendor_id = p.vendor_id
            WHERE p.registration_id LIKE 'SC-' || %(year)s || '-%%'
            """,
        ),
        # one row per request, with everything derived from its index: vendor, customer, age, fate
        ("fresh plan", "DROP TABLE IF EXISTS scale_plan"),
        (
            "plan",
            """
            CREATE TEMP TABLE scale_plan ON COMMIT DROP AS
            WITH idx AS (
                SELECT i, (i::bigint * 2654435761) %% 1000 AS h FROM generate_series(1, %(n)s) AS i
            ), customers AS (
                SELECT id, vendor_id, sector, country,
                       row_number() OVER (PARTITION BY vendor_id ORDER BY id) - 1 AS k
                FROM vendors_partnercustomer WHERE registration_id LIKE 'SC-' || %(year)s || '-%%'
            ), planned AS (
                SELECT i, h,
                    CASE WHEN i %% %(basalt_every)s = 0 THEN %(basalt)s ELSE %(aurora)s END AS vendor_id,
                    CASE WHEN i %% %(basalt_every)s = 0 THEN %(pebble)s
                         WHEN i %% 5 = 1 AND i <= %(open_from)s THEN %(cirrus)s
                         ELSE %(atlas)s END AS model_id,
                    CASE WHEN i %% %(basalt_every)s = 0 THEN %(basalt_admin)s
                         ELSE %(aurora_admin)s END AS author,
                    now() - make_interval(days => 400) + (i::float / %(n)s) * interval '398 days' AS created,
                    CASE
                        WHEN i > %(open_from)s THEN
                            CASE WHEN h < 60 THEN 'draft' WHEN h < 200 THEN 'submitted'
                                 WHEN h < 320 THEN 'info_requested' ELSE 'in_review' END
                        ELSE
                            CASE WHEN h < 700 THEN 'approved' WHEN h < 780 THEN 'denied'
                                 WHEN h < 900 THEN 'withdrawn' ELSE 'returned' END
                    END AS status
                FROM idx
            )
            , totals AS (SELECT vendor_id, count(*) AS total FROM customers GROUP BY vendor_id)
            SELECT p.*, c.id AS customer_id, c.sector, c.country,
                   (SELECT coalesce(max(id), 0) FROM approvals_accessrequest) + p.i AS id
            FROM planned p
            JOIN totals t ON t.vendor_id = p.vendor_id
            JOIN customers c ON c.vendor_id = p.vendor_id AND c.k = (p.i / %(basalt_every)s) %% t.total
            """,
        ),
        # temporary tables are never analysed by autovacuum: without statistics every join below
        # on the plan is guessed, and guessed badly
        ("plan statistics", "ANALYZE scale_plan"),
        (
            "access requests",
            """
            INSERT INTO approvals_accessrequest (id, tracking_number, status, use_case, scope,
                requested_duration_days, on_hold, created_at, submitted_at, decided_at, closed_reason,
                created_by_id, frontier_model_id, partner_customer_id, vendor_id, version)
            SELECT id,
                CASE WHEN status = 'draft' THEN NULL
                     ELSE 'FAR-' || %(year)s || '-' || lpad(i::text, 6, '0') END,
                status, 'Code review assistance for the security engineering team.',
                'Up to 200 seats, U.S. regions, no customer data leaves the tenant.', 365, false,
                created,
                CASE WHEN status = 'draft' THEN NULL ELSE created + interval '1 day' END,
                CASE WHEN status IN ('approved', 'denied') THEN created + interval '25 days' END,
                CASE WHEN status = 'withdrawn' THEN 'The customer chose another model.'
                     WHEN status = 'returned' THEN 'Returned without action: the information request lapsed.'
                     ELSE '' END,
                author, model_id, customer_id, vendor_id, 3
            FROM scale_plan
            """,
        ),
        (
            "referrals",
            """
            INSERT INTO approvals_referral (required, routing_reason, status, referred_at, due_date,
                clock_stopped_at, paused_days, access_request_id, agency_id)
            SELECT true, r.reason,
                CASE WHEN p.status IN ('approved', 'denied') THEN 'signed'
                     WHEN p.status IN ('withdrawn', 'returned') THEN 'closed'
                     WHEN p.status = 'in_review' AND (p.h + r.agency_id) %% 3 = 0 THEN 'signed'
                     WHEN p.status = 'in_review' AND (p.h + r.agency_id) %% 3 = 1 THEN 'drafted'
                     ELSE 'open' END,
                p.created + interval '1 day', (p.created + interval '31 days')::date,
                CASE WHEN p.status = 'info_requested' THEN p.created + interval '5 days' END,
                0, p.id, r.agency_id
            FROM scale_plan p
            JOIN LATERAL (
                SELECT %(agency_doc)s AS agency_id, 'Always referred' AS reason
                UNION ALL SELECT %(agency_oncd)s, 'Always referred'
                UNION ALL SELECT %(agency_ostp)s, 'Always referred'
                UNION ALL SELECT %(agency_cisa)s, 'Customer in a critical-infrastructure sector'
                    WHERE p.sector = ANY(%(ci_sectors)s::text[])
                UNION ALL SELECT %(agency_state)s, 'Customer outside the United States'
                    WHERE p.country <> 'US'
            ) r ON true
            WHERE p.status <> 'draft'
            """,
        ),
        (
            "next due dates",
            """
            UPDATE approvals_accessrequest a SET next_due = d.due
            FROM (SELECT r.access_request_id, min(r.due_date) AS due FROM approvals_referral r
                  JOIN scale_plan p ON p.id = r.access_request_id
                  WHERE r.status IN ('open', 'drafted') AND r.clock_stopped_at IS NULL
                  GROUP BY r.access_request_id) d
            WHERE a.id = d.access_request_id
            """,
        ),
        (
            "positions",
            """
            INSERT INTO approvals_position (stance, rationale, drafted_at, signed_at, drafted_by_id,
                signed_by_id, referral_id)
            SELECT CASE WHEN p.status = 'denied' AND r.agency_id = %(agency_oncd)s THEN 'non_concur'
                        WHEN p.h %% 4 = 0 THEN 'concur_with_conditions' ELSE 'concur' END,
                   CASE WHEN p.status = 'denied' AND r.agency_id = %(agency_oncd)s
                        THEN 'The stated use gives uplift we cannot accept.' ELSE '' END,
                   r.referred_at + interval '10 days',
                   CASE WHEN r.status = 'signed' THEN r.referred_at + interval '12 days' END,
                   %(approver)s, CASE WHEN r.status = 'signed' THEN %(approver)s END, r.id
            FROM approvals_referral r JOIN scale_plan p ON p.id = r.access_request_id
            WHERE r.status IN ('signed', 'drafted')
            """,
        ),
        (
            "decisions",
            """
            INSERT INTO approvals_decision (outcome, rationale, decided_at, snapshot, snapshot_sha256,
                letter_text, access_request_id, decided_by_id)
            SELECT p.status,
                CASE WHEN p.status = 'denied' THEN 'Risk outweighs the stated benefit.' ELSE '' END,
                p.created + interval '25 days',
                jsonb_build_object('request', jsonb_build_object('id', p.id, 'status', p.status),
                                   'customer', p.customer_id, 'model', p.model_id),
                md5(p.id::text) || md5(p.status), 'Decision letter for request ' || p.id || '.',
                p.id, %(approver)s
            FROM scale_plan p WHERE p.status IN ('approved', 'denied')
            """,
        ),
        (
            "grants",
            """
            INSERT INTO approvals_grant (valid_from, valid_to, status, status_changed_at, status_reason,
                access_request_id, decision_id, frontier_model_id, partner_customer_id, vendor_id)
            SELECT d.decided_at::date, d.decided_at::date + 365,
                CASE WHEN d.decided_at::date + 365 < current_date THEN 'expired' ELSE 'active' END,
                d.decided_at, '', p.id, d.id, p.model_id, p.customer_id, p.vendor_id
            FROM scale_plan p JOIN approvals_decision d ON d.access_request_id = p.id
            WHERE p.status = 'approved'
            """,
        ),
        (
            "request permissions",
            """
            INSERT INTO approvals_accessrequestgroupobjectpermission
                (content_object_id, group_id, permission_id)
            SELECT p.id, g.group_id, g.permission_id FROM scale_plan p
            JOIN (VALUES (%(aurora)s, %(aurora_members)s, %(view_request)s),
                         (%(aurora)s, %(aurora_editors)s, %(view_request)s),
                         (%(aurora)s, %(aurora_editors)s, %(change_request)s),
                         (%(basalt)s, %(basalt_members)s, %(view_request)s),
                         (%(basalt)s, %(basalt_editors)s, %(view_request)s),
                         (%(basalt)s, %(basalt_editors)s, %(change_request)s))
                AS g (vendor_id, group_id, permission_id) ON g.vendor_id = p.vendor_id
            UNION ALL
            SELECT r.access_request_id, a.officials_group_id, %(view_request)s
            FROM approvals_referral r JOIN scale_plan p ON p.id = r.access_request_id
            JOIN approvals_agency a ON a.id = r.agency_id
            """,
        ),
        (
            "shared with the agencies",
            """
            INSERT INTO vendors_partnercustomergroupobjectpermission
                (content_object_id, group_id, permission_id)
            SELECT DISTINCT p.customer_id, a.officials_group_id, %(view_customer)s
            FROM approvals_referral r JOIN scale_plan p ON p.id = r.access_request_id
            JOIN approvals_agency a ON a.id = r.agency_id
            ON CONFLICT DO NOTHING
            """,
        ),
        (
            "models shared with the agencies",
            """
            INSERT INTO vendors_frontiermodelgroupobjectpermission
                (content_object_id, group_id, permission_id)
            SELECT m.id, a.officials_group_id, %(view_model)s
            FROM vendors_frontiermodel m CROSS JOIN approvals_agency a
            WHERE m.id IN (%(atlas)s, %(cirrus)s, %(pebble)s)
            ON CONFLICT DO NOTHING
            """,
        ),
        (
            "referral permissions",
            """
            INSERT INTO approvals_referralgroupobjectpermission (content_object_id, group_id, permission_id)
            SELECT r.id, a.officials_group_id, %(view_referral)s
            FROM approvals_referral r JOIN scale_plan p ON p.id = r.access_request_id
            JOIN approvals_agency a ON a.id = r.agency_id
            """,
        ),
        (
            "grant permissions",
            """
            INSERT INTO approvals_grantgroupobjectpermission (content_object_id, group_id, permission_id)
            SELECT g.id,
                   CASE WHEN p.vendor_id = %(aurora)s THEN %(aurora_members)s ELSE %(basalt_members)s END,
                   %(view_grant)s
            FROM approvals_grant g JOIN scale_plan p ON p.id = g.access_request_id
            UNION ALL
            SELECT g.id, a.officials_group_id, %(view_grant)s
            FROM approvals_grant g JOIN scale_plan p ON p.id = g.access_request_id
            JOIN approvals_referral r ON r.access_request_id = g.access_request_id
            JOIN approvals_agency a ON a.id = r.agency_id
            """,
        ),
        (
            "request history",
            """
            INSERT INTO approvals_historicalaccessrequest (id, tracking_number, status, use_case, scope,
                requested_duration_days, on_hold, created_at, submitted_at, decided_at, closed_reason,
                history_date, history_change_reason, history_type, created_by_id, frontier_model_id,
                history_user_id, partner_customer_id, vendor_id, version, history_request_id,
                history_prev_hash, history_hash)
            SELECT a.id, CASE WHEN s.step = 0 THEN NULL ELSE a.tracking_number END,
                CASE s.step WHEN 0 THEN 'draft' WHEN 1 THEN 'submitted' WHEN 2 THEN 'in_review'
                     ELSE a.status END,
                a.use_case, a.scope, a.requested_duration_days, false, a.created_at,
                CASE WHEN s.step = 0 THEN NULL ELSE a.submitted_at END,
                CASE WHEN s.step = 3 THEN a.decided_at END,
                CASE WHEN s.step = 3 THEN a.closed_reason ELSE '' END,
                a.created_at + s.step * interval '8 days',
                CASE s.step WHEN 0 THEN NULL WHEN 1 THEN 'Submitted; referred to the agencies.'
                     WHEN 2 THEN 'Review started.' ELSE 'Closed: ' || a.status || '.' END,
                CASE WHEN s.step = 0 THEN '+' ELSE '~' END,
                a.created_by_id, a.frontier_model_id,
                CASE WHEN s.step = 3 AND a.status IN ('approved', 'denied') THEN %(approver)s
                     WHEN s.step = 2 THEN %(system)s ELSE a.created_by_id END,
                a.partner_customer_id, a.vendor_id, s.step, '', '', ''
            FROM scale_plan p JOIN approvals_accessrequest a ON a.id = p.id
            JOIN generate_series(0, 3) AS s (step) ON
                s.step = 0 OR (a.status <> 'draft' AND s.step = 1)
                OR (a.status NOT IN ('draft', 'submitted') AND s.step = 2)
                OR (a.status IN ('approved', 'denied', 'withdrawn', 'returned') AND s.step = 3)
            """,
        ),
        (
            "referral history",
            """
            INSERT INTO approvals_historicalreferral (id, required, routing_reason, status, referred_at,
                due_date, clock_stopped_at, paused_days, history_date, history_change_reason, history_type,
                access_request_id, agency_id, history_user_id, history_request_id,
                history_prev_hash, history_hash)
            SELECT r.id, r.required, r.routing_reason, CASE WHEN s.step = 0 THEN 'open' ELSE r.status END,
                r.referred_at, r.due_date, CASE WHEN s.step = 1 THEN r.clock_stopped_at END, 0,
                r.referred_at + s.step * interval '12 days',
                CASE WHEN s.step = 0 THEN 'Referred by routing.' ELSE 'Position ' || r.status || '.' END,
                CASE WHEN s.step = 0 THEN '+' ELSE '~' END,
                r.access_request_id, r.agency_id,
                CASE WHEN s.step = 0 THEN %(system)s ELSE %(approver)s END, '', '', ''
            FROM approvals_referral r JOIN scale_plan p ON p.id = r.access_request_id
            JOIN generate_series(0, 1) AS s (step) ON s.step = 0 OR r.status <> 'open'
            """,
        ),
        (
            "position history",
            """
            INSERT INTO approvals_historicalposition (id, stance, rationale, drafted_at, signed_at,
                history_date, history_change_reason, history_type, drafted_by_id, history_user_id,
                signed_by_id, referral_id, history_request_id,
                history_prev_hash, history_hash)
            SELECT o.id, o.stance, o.rationale, o.drafted_at, o.signed_at,
                coalesce(o.signed_at, o.drafted_at),
                'Position recorded.', '+', o.drafted_by_id, %(approver)s, o.signed_by_id, o.referral_id,
                '', '', ''
            FROM approvals_position o JOIN approvals_referral r ON r.id = o.referral_id
            JOIN scale_plan p ON p.id = r.access_request_id
            """,
        ),
        (
            "decision history",
            """
            INSERT INTO approvals_historicaldecision (id, outcome, rationale, decided_at, snapshot,
                snapshot_sha256, letter_text, history_date, history_change_reason, history_type,
                access_request_id, decided_by_id, history_user_id, history_request_id,
                history_prev_hash, history_hash)
            SELECT d.id, d.outcome, d.rationale, d.decided_at, d.snapshot, d.snapshot_sha256, d.letter_text,
                d.decided_at, 'Decision recorded.', '+', d.access_request_id, d.decided_by_id,
                %(approver)s, '', '', ''
            FROM approvals_decision d JOIN scale_plan p ON p.id = d.access_request_id
            """,
        ),
        (
            "grant history",
            """
            INSERT INTO approvals_historicalgrant (id, valid_from, valid_to, status, status_changed_at,
                status_reason, history_date, history_change_reason, history_type, access_request_id,
                decision_id, frontier_model_id, history_user_id, partner_customer_id, vendor_id,
                history_request_id,
                history_prev_hash, history_hash)
            SELECT g.id, g.valid_from, g.valid_to, g.status, g.status_changed_at, g.status_reason,
                g.status_changed_at, 'Granted by the decision.', '+', g.access_request_id, g.decision_id,
                g.frontier_model_id, %(approver)s, g.partner_customer_id, g.vendor_id, '', '', ''
            FROM approvals_grant g JOIN scale_plan p ON p.id = g.access_request_id
            """,
        ),
        (
            "request counts",
            """
            INSERT INTO approvals_requestcount (vendor_id, status, count)
            SELECT vendor_id, status, count(*) FROM scale_plan GROUP BY vendor_id, status
            ON CONFLICT (vendor_id, status) DO UPDATE
                SET count = approvals_requestcount.count + excluded.count
            """,
        ),
        (
            "identity sequences",
            """
            SELECT setval(pg_get_serial_sequence('approvals_accessrequest', 'id'),
                          (SELECT max(id) FROM approvals_accessrequest))
            """,
        ),
    ]
