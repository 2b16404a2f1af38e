-- Live feeds must not skip a row that commits late. Activity ids are handed out when a row is inserted, not when its
-- transaction commits, so a row can become visible after one with a higher id; a feed that had already moved its
-- cursor past it never sent it (seen as a dashboard stuck at "2 of 3 written" while the event said completed).
-- A feed now asks for a mark before each read: the newest id handed out so far, then the transaction horizon of a
-- snapshot taken after it. Once every transaction below that snapshot's xmax has ended, every id up to the mark is
-- final: committed (and read by the next refresh) or never to be seen. The hub keeps a feed's rows above that floor
-- in memory and sends each once.

create or replace function mesh.activity_mark()
returns jsonb
language plpgsql volatile
set search_path = ''
as $$
declare
  v_upto bigint;
  v_snap pg_catalog.pg_snapshot;
begin
  -- The sequence first: the snapshot below is taken by a later statement, so every id up to v_upto went to a
  -- transaction that had committed by then, was running then (its xid is below xmax), or never commits.
  select case when s.is_called then s.last_value else s.last_value - 1 end into v_upto from mesh.activity_id_seq s;
  v_snap := pg_catalog.pg_current_snapshot();
  return pg_catalog.jsonb_build_object('upto', v_upto, 'xmin', pg_catalog.pg_snapshot_xmin(v_snap)::text,
    'xmax', pg_catalog.pg_snapshot_xmax(v_snap)::text);
end
$$;
comment on function mesh.activity_mark() is 'Hub: the newest activity id handed out, and the horizon (xmin, xmax) of a snapshot taken after it; ids up to it are final once xmin reaches that xmax.';
revoke all on function mesh.activity_mark() from public;
