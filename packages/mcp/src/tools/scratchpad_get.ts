// meshcode_scratchpad_get: read one shared note, or all of them.
import { z } from 'zod';
import { defineTool, json } from '../tool';

export default defineTool({
  name: 'meshcode_scratchpad_get',
  description: 'Read the team scratchpad: one key, or everything when no key is given.',
  input: {
    key: z.string().min(1).optional().describe('Key to read (omit for all)'),
  },
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  target: (a) => a.key,
  async run(a, ctx) {
    const res = await ctx.client.scratchpadGet(ctx.meshwork, a.key);
    if (a.key !== undefined) return json({ key: a.key, found: res.found ?? false, value: res.value ?? null });
    return json({ entries: (res.entries ?? []).map((e) => ({ key: e.key, value: e.value, by: e.updated_by })) });
  },
});
