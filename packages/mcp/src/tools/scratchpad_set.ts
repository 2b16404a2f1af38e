// meshcode_scratchpad_set: the meshwork's shared key/value notes, visible to every agent.
import { z } from 'zod';
import { defineTool, text } from '../tool';

export default defineTool({
  name: 'meshcode_scratchpad_set',
  description: 'Write a shared note every agent of the team can read (max 10 KB).',
  input: {
    key: z.string().min(1).describe('Short name'),
    value: z.string().describe('Content'),
  },
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
  target: (a) => a.key,
  async run(a, ctx) {
    await ctx.client.scratchpadSet(ctx.meshwork, a.key, a.value, ctx.agent);
    return text(`Scratchpad "${a.key}" saved.`);
  },
});
