-- mc_ack of a seq the inbox has not reached is refused, as mc_wait's p_after_seq already is. It used to acknowledge up
-- to the inbox's last seq instead: a mistyped seq, or the page's last_seq taken for the last message handled, or an
-- old cursor of an agent removed and added again under the same name (whose new inbox starts at 1), acknowledged
-- messages nobody had read. The definition is that of 20261122000300_bus.sql with that check.

create or replace function public.mc_ack(p_meshwork text, p_agent text, p_seq bigint)
returns jsonb
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  v_mw uuid := mesh.resolve_meshwork(p_meshwork);
  v_id uuid := mesh.resolve_agent(v_mw, p_agent);
  v_acked bigint;
  v_last bigint;
begin
  -- Acks and presence are not the message: a crash losing the last few ms of them only means redelivery.
  perform pg_catalog.set_config('synchronous_commit', 'off', true);
  if p_seq is null or p_seq < 0 then
    perform mesh.fail(400, 'seq must be 0 or more', 'pass the seq of the last message you handled');
  end if;
  update mesh.agents a set acked_seq = greatest(a.acked_seq, p_seq) where a.id = v_id and p_seq <= a.inbox_seq
    returning a.acked_seq into v_acked;
  if v_acked is null then
    select a.inbox_seq into v_last from mesh.agents a where a.id = v_id;
    perform mesh.fail(400, pg_catalog.format('seq %s is ahead of the inbox (last seq %s)', p_seq, v_last),
      'pass the seq of the last message you handled (a message''s seq), not a larger one; nothing was acknowledged');
  end if;
  return pg_catalog.jsonb_build_object('cursor', v_acked);
end
$$;
comment on function public.mc_ack(text, text, bigint) is 'Acknowledge the inbox up to p_seq without reading; a seq past the inbox''s last is refused.';
