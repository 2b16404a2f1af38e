// meshcode_remember: this agent's persistent memory (survives restarts; 100 keys, 10 KB per value, enforced by the hub).
import { z } from 'zod';
import { defineTool, text } from '../tool';

export default defineTool({
  name: 'meshcode_remember',
  description: 'Save a note in your persistent memory (survives restarts; max 100 keys, 10 KB each).',
  input: {
    key: z.string().min(1).describe('Short name'),
    value: z.string().describe('What to remember'),
  },
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
  target: (a) => a.key,
  async run(a, ctx) {
    const res = await ctx.client.remember(ctx.meshwork, ctx.agent, a.key, a.value);
    return text(`Remembered "${res.key}" (${res.keys}/100 keys used).`);
  },
});
