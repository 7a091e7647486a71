/**
 * The store's schema, one migration per entry, applied in order by `migrate` to PGlite and
 * PostgreSQL alike. Never edit an applied migration: add the next one.
 * The store holds counts, categories, masked examples and keyed hashes only (DESIGN.md invariant 3);
 * `probe_target` is the one exception the user makes by naming credentials in a target, which
 * workers on other machines need to probe it.
 */
export interface Migration {
  id: number;
  name: string;
  sql: string;
}

export const migrations: readonly Migration[] = [
  {
    id: 1,
    name: 'scans, watched stores, timeline, alerts',
    sql: `
create table scan_run (
  id bigint generated always as identity primary key,
  started_at timestamptz not null,
  finished_at timestamptz not null,
  tool_version text not null,
  report jsonb not null
);

create table scan_target (
  run_id bigint not null references scan_run (id) on delete cascade,
  position integer not null,
  target text not null,
  protocol text not null,
  status text not null,
  severity text not null,
  fingerprint text not null,
  records bigint,
  subjects bigint not null,
  primary key (run_id, position)
);
create index scan_target_by_target on scan_target (target, run_id);

create table watched_store (
  id bigint generated always as identity primary key,
  name text not null unique,
  target text not null,
  probe_target text not null,
  protocol text not null,
  owner text,
  tags jsonb not null default '[]',
  interval_ms integer not null,
  active boolean not null default true,
  created_at timestamptz not null default now(),
  state text not null default 'unknown',
  state_since timestamptz,
  detail text not null default '',
  last_probe_at timestamptz,
  last_success_at timestamptz,
  last_protected_at timestamptz,
  last_open_at timestamptz,
  probe_ms integer,
  server jsonb,
  records bigint,
  classified_at timestamptz,
  -- the latest classification, as a sanitized TargetReport (masked examples, counts)
  exposure jsonb
);

create table exposure_window (
  id bigint generated always as identity primary key,
  store_id bigint not null references watched_store (id) on delete cascade,
  opened_at timestamptz not null,
  opened_after timestamptz,
  last_open_at timestamptz not null,
  closed_at timestamptz
);
create index exposure_window_by_store on exposure_window (store_id, opened_at);
-- at most one open window per store, whatever process records it
create unique index exposure_window_one_open on exposure_window (store_id) where closed_at is null;

create table watch_event (
  id bigint generated always as identity primary key,
  store_id bigint not null references watched_store (id) on delete cascade,
  at timestamptz not null,
  kind text not null,
  from_state text not null,
  to_state text not null,
  window_id bigint references exposure_window (id),
  payload jsonb not null
);
create index watch_event_by_store on watch_event (store_id, id);

create table alert (
  id bigint generated always as identity primary key,
  event_id bigint not null references watch_event (id) on delete cascade,
  channel text not null,
  status text not null default 'pending',
  attempts integer not null default 0,
  next_attempt_at timestamptz not null default now(),
  lease_until timestamptz,
  last_error text,
  sent_at timestamptz,
  unique (event_id, channel)
);
create index alert_due on alert (next_attempt_at) where status = 'pending';
`,
  },
  {
    id: 2,
    name: 'incidents, affected people, notification outbox, revocations, lookups',
    sql: `
create table incident (
  id bigint generated always as identity primary key,
  store_id bigint not null references watched_store (id),
  window_id bigint references exposure_window (id),
  status text not null default 'open',
  opened_at timestamptz not null default now(),
  aware_at timestamptz not null,
  contained_at timestamptz,
  closed_at timestamptz,
  jurisdictions jsonb not null,
  -- IncidentRecord fields that are measured once: categories, counts, fields, window snapshot
  measured jsonb not null,
  facts jsonb not null default '{}'
);
create unique index incident_one_open_per_window on incident (window_id) where status = 'open';

-- append-only: the trigger below refuses updates and deletes
create table incident_timeline (
  id bigint generated always as identity primary key,
  incident_id bigint not null references incident (id),
  at timestamptz not null,
  kind text not null,
  detail text not null,
  deadline text
);
create index incident_timeline_by_incident on incident_timeline (incident_id, id);

create table incident_decision (
  id bigint generated always as identity primary key,
  incident_id bigint not null references incident (id),
  at timestamptz not null default now(),
  decision text not null,
  rationale text not null,
  decided_by text
);

create function leakwatch_append_only() returns trigger language plpgsql as $$
begin
  raise exception 'the incident timeline and decision log are append-only';
end $$;
create trigger incident_timeline_append_only before update or delete on incident_timeline
  for each row execute function leakwatch_append_only();
create trigger incident_decision_append_only before update or delete on incident_decision
  for each row execute function leakwatch_append_only();

-- one row per distinct person; contact and identifier sealed (AES-256-GCM), purged on close
create table affected_person (
  id bigint generated always as identity primary key,
  incident_id bigint not null references incident (id),
  subject_hash text not null,
  identifier_kind text not null,
  categories jsonb not null,
  contact_hash text,
  contact text,
  identifier text,
  unique (incident_id, subject_hash)
);
create index affected_person_by_contact on affected_person (contact_hash) where contact_hash is not null;

create table notification (
  id bigint generated always as identity primary key,
  incident_id bigint not null references incident (id),
  person_id bigint not null references affected_person (id),
  status text not null default 'pending',
  attempts integer not null default 0,
  next_attempt_at timestamptz not null default now(),
  lease_until timestamptz,
  lease_owner text,
  message_id text not null unique,
  last_error text,
  sent_at timestamptz,
  unique (incident_id, person_id)
);
create index notification_due on notification (incident_id, id) where status = 'pending';

create table revocation_batch (
  id bigint generated always as identity primary key,
  incident_id bigint not null references incident (id),
  action text not null,
  batch_no integer not null,
  first_person_id bigint not null,
  last_person_id bigint not null,
  size integer not null,
  status text not null default 'pending',
  attempts integer not null default 0,
  next_attempt_at timestamptz not null default now(),
  lease_until timestamptz,
  last_error text,
  receipt jsonb,
  sent_at timestamptz,
  unique (incident_id, action, batch_no)
);

create table lookup_token (
  id bigint generated always as identity primary key,
  token_hash text not null unique,
  contact_hash text not null,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  used_at timestamptz
);
create index lookup_token_by_contact on lookup_token (contact_hash, created_at);
`,
  },
  {
    id: 3,
    name: 'outbox: no separate unique index on message_id',
    // A Message-ID is made from (incident_id, person_id), already unique together, so its own
    // unique index only cost time: a quarter of writing a 2.4-million-row outbox.
    sql: `
alter table notification drop constraint notification_message_id_key;
`,
  },
];
