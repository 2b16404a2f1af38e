// Daemon command stand-in: reads the batch from stdin and answers with one line per message.
// With a path argument it fails (exit 3) until that file exists, creating it on the first run: "fails once".
import { existsSync, writeFileSync } from 'node:fs';

const marker = process.argv[2];
if (marker !== undefined && !existsSync(marker)) {
  writeFileSync(marker, 'failed once\n');
  process.stderr.write('not ready yet\n');
  process.exit(3);
}
let input = '';
process.stdin.setEncoding('utf8');
for await (const chunk of process.stdin) input += chunk;
const batch = JSON.parse(input);
const lines = batch.messages.map((m) => `${batch.agent} got ${m.kind} from ${m.from}: ${m.body}`);
process.stdout.write(`${lines.join('\n')}\n`);
