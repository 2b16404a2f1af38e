// A Docker Engine API stand-in on 127.0.0.1: enough of the real endpoints (create, attach with hijack, wait, start,
// kill, inspect, exec, pull) for dockerode to drive it, recording every request so tests can check what was sent.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface EngineRequest {
  method: string;
  /** Path without the /v1.xx prefix. */
  path: string;
  query: URLSearchParams;
  body: unknown;
}

/** What the container's command does with its stdin; "hang" never finishes. */
export type Program = (stdin: string, env: string[]) => { stdout?: string; stderr?: string; exitCode: number } | 'hang';

interface FakeContainer {
  id: string;
  name: string;
  config: Record<string, unknown>;
  running: boolean;
  exitCode?: number;
  waiters: ServerResponse[];
  sockets: Socket[];
}

interface FakeExec {
  id: string;
  container: FakeContainer;
  config: Record<string, unknown>;
  exitCode?: number;
}

export interface FakeDocker {
  host: string;
  port: number;
  requests: EngineRequest[];
  missingImages: Set<string>;
  containers: Map<string, FakeContainer>;
  close(): Promise<void>;
}

function frame(kind: 1 | 2, text: string): Buffer {
  const payload = Buffer.from(text, 'utf8');
  const header = Buffer.alloc(8);
  header[0] = kind;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

function send(res: ServerResponse, status: number, body?: unknown) {
  if (body === undefined) {
    res.writeHead(status).end();
    return;
  }
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

export async function startFakeDocker(program: Program): Promise<FakeDocker> {
  const requests: EngineRequest[] = [];
  const containers = new Map<string, FakeContainer>();
  const execs = new Map<string, FakeExec>();
  const missingImages = new Set<string>();
  const upgraded = new Set<Socket>();

  const find = (idOrName: string) =>
    containers.get(idOrName) ?? [...containers.values()].find((container) => container.name === idOrName);

  function exit(container: FakeContainer, code: number) {
    container.running = false;
    container.exitCode = code;
    for (const socket of container.sockets.splice(0)) socket.end();
    for (const res of container.waiters.splice(0)) send(res, 200, { StatusCode: code, Error: null });
    const hostConfig = container.config['HostConfig'] as { AutoRemove?: boolean } | undefined;
    if (hostConfig?.AutoRemove) containers.delete(container.id);
  }

  function parse(req: IncomingMessage, raw: Buffer): EngineRequest {
    const url = new URL(req.url ?? '/', 'http://engine');
    const path = url.pathname.replace(/^\/v\d+\.\d+/, '');
    let body: unknown;
    try {
      body = raw.length ? (JSON.parse(raw.toString('utf8')) as unknown) : undefined;
    } catch {
      body = raw.toString('utf8');
    }
    const recorded = { method: req.method ?? 'GET', path, query: url.searchParams, body };
    requests.push(recorded);
    return recorded;
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const { method, path, query, body } = parse(req, Buffer.concat(chunks));
      const config = (body ?? {}) as Record<string, unknown>;
      let match: RegExpExecArray | null;
      if (method === 'GET' && path === '/_ping') {
        res.writeHead(200, { 'content-type': 'text/plain' }).end('OK');
      } else if (method === 'POST' && path === '/containers/create') {
        const image = String(config['Image']);
        if (missingImages.has(image)) return send(res, 404, { message: `No such image: ${image}` });
        const id = randomBytes(32).toString('hex');
        containers.set(id, {
          id,
          name: query.get('name') ?? id.slice(0, 12),
          config,
          running: false,
          waiters: [],
          sockets: [],
        });
        send(res, 201, { Id: id, Warnings: [] });
      } else if (method === 'POST' && path === '/images/create') {
        const image = `${query.get('fromImage') ?? ''}:${query.get('tag') ?? 'latest'}`;
        missingImages.delete(image);
        missingImages.delete(query.get('fromImage') ?? '');
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          `{"status":"Pulling from library/${image}"}\n{"status":"Status: Downloaded newer image for ${image}"}\n`,
        );
      } else if ((match = /^\/containers\/([^/]+)\/(start|wait|kill|json)$/.exec(path))) {
        const container = find(match[1]!);
        if (!container) return send(res, 404, { message: `No such container: ${match[1]!}` });
        const action = match[2];
        if (action === 'start') {
          const cmd = container.config['Cmd'] as string[] | undefined;
          if (cmd?.[0] === 'no-such-binary') {
            return send(res, 400, {
              message: `failed to create task for container: OCI runtime create failed: exec: "${cmd[0]}": executable file not found in $PATH: unknown`,
            });
          }
          container.running = true;
          send(res, 204);
        } else if (action === 'wait') {
          if (container.exitCode !== undefined && !container.running)
            send(res, 200, { StatusCode: container.exitCode, Error: null });
          else container.waiters.push(res);
        } else if (action === 'kill') {
          send(res, 204);
          exit(container, 137);
        } else {
          send(res, 200, {
            Id: container.id,
            Name: `/${container.name}`,
            State: { Status: container.running ? 'running' : 'exited', Running: container.running },
          });
        }
      } else if (method === 'DELETE' && (match = /^\/containers\/([^/]+)$/.exec(path))) {
        const container = find(match[1]!);
        if (!container) return send(res, 404, { message: `No such container: ${match[1]!}` });
        containers.delete(container.id);
        send(res, 204);
        if (container.running || container.exitCode === undefined) exit(container, 137);
      } else if (method === 'POST' && (match = /^\/containers\/([^/]+)\/exec$/.exec(path))) {
        const container = find(match[1]!);
        if (!container) return send(res, 404, { message: `No such container: ${match[1]!}` });
        if (!container.running) return send(res, 409, { message: `Container ${container.id} is not running` });
        const id = randomBytes(32).toString('hex');
        execs.set(id, { id, container, config });
        send(res, 201, { Id: id });
      } else if (method === 'GET' && (match = /^\/exec\/([^/]+)\/json$/.exec(path))) {
        const exec = execs.get(match[1]!);
        if (!exec) return send(res, 404, { message: 'No such exec instance' });
        send(res, 200, { ID: exec.id, Running: exec.exitCode === undefined, ExitCode: exec.exitCode ?? null });
      } else {
        send(res, 404, { message: `page not found: ${method} ${path}` });
      }
    });
  });

  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    let skip = Number(req.headers['content-length'] ?? 0);
    let received = Buffer.alloc(0);
    let body = Buffer.alloc(0);
    const take = (chunk: Buffer) => {
      const bodyPart = chunk.subarray(0, skip);
      body = Buffer.concat([body, bodyPart]);
      received = Buffer.concat([received, chunk.subarray(bodyPart.length)]);
      skip -= bodyPart.length;
    };
    take(head);
    parse(req, body);
    const url = new URL(req.url ?? '/', 'http://engine');
    const path = url.pathname.replace(/^\/v\d+\.\d+/, '');
    const attach = /^\/containers\/([^/]+)\/attach$/.exec(path);
    const execStart = /^\/exec\/([^/]+)\/start$/.exec(path);
    const container = attach ? find(attach[1]!) : undefined;
    const exec = execStart ? execs.get(execStart[1]!) : undefined;
    if (!container && !exec) {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\n\r\n{"message":"No such container"}');
      return;
    }
    socket.write(
      'HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n',
    );
    upgraded.add(socket);
    socket.on('close', () => upgraded.delete(socket));
    const owner = container ?? exec!.container;
    owner.sockets.push(socket);
    socket.on('data', take);
    socket.on('error', () => undefined);
    socket.on('end', () => {
      const run = () => {
        const env = ((exec?.config ?? owner.config)['Env'] as string[] | undefined) ?? [];
        const outcome = program(received.toString('utf8'), env);
        if (outcome === 'hang') return;
        if (outcome.stderr) socket.write(frame(2, outcome.stderr));
        if (outcome.stdout) socket.write(frame(1, outcome.stdout));
        socket.end();
        if (exec) exec.exitCode = outcome.exitCode;
        else exit(owner, outcome.exitCode);
      };
      // The command runs once the container started and its stdin closed.
      if (owner.running) run();
      else {
        const timer = setInterval(() => {
          if (owner.running) {
            clearInterval(timer);
            run();
          }
        }, 5);
        socket.on('close', () => clearInterval(timer));
      }
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: '127.0.0.1',
    port,
    requests,
    missingImages,
    containers,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of upgraded) socket.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
