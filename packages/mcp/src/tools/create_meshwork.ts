// meshcode_create_meshwork: a new project (team) owned by the user's account.
import { z } from 'zod';
import { defineTool, text } from '../tool';

export default defineTool({
  name: 'meshcode_create_meshwork',
  description: "Create a new meshwork (team project) in the user's account.",
  input: {
    name: z.string().min(1).describe('Name: lowercase letters, digits, . _ -'),
  },
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  target: (a) => a.name,
  async run(a, ctx) {
    const mw = await ctx.client.createMeshwork(a.name);
    return text(`Meshwork "${mw.name}" created. Add agents with meshcode_add_agent(name=…, meshwork="${mw.name}").`);
  },
});
