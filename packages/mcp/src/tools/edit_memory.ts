// meshcode_edit_memory: write or delete a key in another agent's memory (owners and members only, by the hub).
import { z } from 'zod';
import { defineTool, text } from '../tool';

export default defineTool({
  name: 'meshcode_edit_memory',
  description: "Write (or, without value, delete) a key in another agent's persistent memory.",
  input: {
    agent: z.string().min(1).describe('Agent whose memory to edit'),
    key: z.string().min(1).describe('Memory key'),
    value: z.string().optional().describe('New value; omit to delete the key'),
  },
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
  target: (a) => `${a.agent}/${a.key}`,
  async run(a, ctx) {
    if (a.value === undefined) {
      const res = await ctx.client.forget(ctx.meshwork, a.agent, a.key);
      return text(
        res.deleted ? `Deleted "${a.key}" from ${a.agent}'s memory.` : `${a.agent} had no memory "${a.key}".`,
      );
    }
    const res = await ctx.client.remember(ctx.meshwork, a.agent, a.key, a.value);
    return text(`Saved "${res.key}" in ${a.agent}'s memory (${res.keys}/100 keys used).`);
  },
});
