-- Slack and Telegram write-back: a worker's comment on a Slack message or a Telegram update is posted back as a reply
-- (Slack: in the message's thread, with chat.postMessage; Telegram: to the chat, replying to the message, with
-- sendMessage). Their bot tokens are set, encrypted by the hub, like GitHub's and GitLab's.

alter table mesh.effects drop constraint effects_provider_check,
  add constraint effects_provider_check check (provider in ('github', 'gitlab', 'slack', 'telegram'));

create or replace function public.mc_set_source_token(p_meshwork text, p_source text, p_token text, p_api_url text default null)
returns jsonb
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  v_mw uuid := mesh.resolve_meshwork(p_meshwork);
  v_settings jsonb;
begin
  perform mesh.require_role(v_mw, 'owner');
  perform mesh.check_source(p_source);
  if p_source not in ('github', 'gitlab', 'slack', 'telegram') then
    perform mesh.fail(400, 'write-back tokens exist for github, gitlab, slack and telegram only',
      'pass p_source: github, gitlab, slack or telegram');
  end if;
  perform mesh.check_envelope('token', nullif(p_token, ''));
  if p_api_url is not null and p_api_url !~ '^https?://[^\s/?#]+(/[^\s?#]*)?$' then
    perform mesh.fail(400, 'api url must be an http(s) URL', 'pass p_api_url: https://api.github.com, or leave it out');
  end if;
  update mesh.meshworks m set settings = pg_catalog.jsonb_set(
      case when pg_catalog.jsonb_typeof(m.settings -> 'webhooks') = 'object' then m.settings
           else m.settings || '{"webhooks": {}}'::jsonb end,
      array['webhooks', p_source],
      coalesce(m.settings -> 'webhooks' -> p_source, '{}'::jsonb)
        || pg_catalog.jsonb_build_object('token', nullif(p_token, ''), 'api_url', nullif(pg_catalog.rtrim(p_api_url, '/'), ''),
             'updated_at', pg_catalog.now()))
   where m.id = v_mw returning m.settings -> 'webhooks' -> p_source into v_settings;
  perform mesh.log(v_mw, null, 'settings', pg_catalog.format('%s write-back token %s', p_source, case when nullif(p_token, '') is null then 'removed' else 'set' end),
    pg_catalog.jsonb_build_object('source', p_source, 'api_url', p_api_url));
  return mesh.webhook_json(v_mw, p_source, v_settings);
end
$$;
comment on function public.mc_set_source_token(text, text, text, text) is 'Owner: set (or clear) the encrypted write-back token and API base URL of github, gitlab, slack (a bot token) or telegram (a bot token).';
