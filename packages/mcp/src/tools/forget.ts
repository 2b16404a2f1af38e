// meshcode_forget: delete one of this agent's memories.
import { z } from 'zod';
import { defineTool, text } from '../tool';

export default defineTool({
  name: 'meshcode_forget',
  description: 'Delete a key from your persistent memory.',
  input: {
    key: z.string().min(1).describe('Key to delete'),
  },
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
  target: (a) => a.key,
  async run(a, ctx) {
    const res = await ctx.client.forget(ctx.meshwork, ctx.agent, a.key);
    return text(res.deleted ? `Forgot "${a.key}".` : `There was no memory "${a.key}".`);
  },
});
