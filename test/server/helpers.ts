/**
 * Helpers of the server tests: an in-process server on a free 127.0.0.1 port, a raw gRPC client
 * built from the etcd3 npm package's protos (an independent declaration of etcd's API: what a
 * third-party client sends), and `metastore serve` as a child process, stopped by PID (also
 * when a test fails: an exit hook kills what is left).
 */

import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { MetaStore, type OpenOptions } from '../../ts/index.js';
import { serve, type MetaStoreServer, type ServeOptions } from '../../ts/server/serve.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CLI = path.join(ROOT, 'dist/cli.js');

/** A MetaStore served on a free loopback port. */
export interface Served {
  store: MetaStore;
  server: MetaStoreServer;
  /** host:port */
  endpoint: string;
  /** http://host:port */
  url: string;
  close(): Promise<void>;
}

export async function startServer(options: { store?: OpenOptions; serve?: ServeOptions } = {}): Promise<Served> {
  const store = await MetaStore.open(options.store);
  try {
    const server = await serve(store, { listen: 'http://127.0.0.1:0', ...options.serve });
    const url = server.address;
    return {
      store,
      server,
      url,
      endpoint: url.replace(/^https?:\/\//, ''),
      async close() {
        await server.close();
        await store.close();
      },
    };
  } catch (e) {
    await store.close();
    throw e;
  }
}

// ---------------------------------------------------------------------------------------------
// A raw client over the etcd3 package's protos.

const requireHere = createRequire(import.meta.url);
type Ctor = new (address: string, credentials: grpc.ChannelCredentials, options?: grpc.ChannelOptions) => grpc.Client;
let pkg: Record<string, Ctor> | undefined;

function etcd3Services(): Record<string, Ctor> {
  if (pkg) return pkg;
  const dir = path.join(path.dirname(requireHere.resolve('etcd3/package.json')), 'proto');
  const def = protoLoader.loadSync(path.join(dir, 'rpc.proto'), {
    keepCase: true,
    longs: String,
    enums: Number,
    defaults: true,
    oneofs: true,
    includeDirs: [dir],
  });
  pkg = (grpc.loadPackageDefinition(def) as unknown as { etcdserverpb: Record<string, Ctor> }).etcdserverpb;
  return pkg;
}

/** A gRPC status error as the tests see it. */
export class CallError extends Error {
  constructor(
    readonly code: number,
    readonly details: string,
  ) {
    super(`${code}: ${details}`);
  }
}

/** Unary calls to any etcd service by name; `stream()` opens a streaming call. */
export class RawClient {
  private readonly clients = new Map<string, grpc.Client>();

  constructor(
    readonly endpoint: string,
    private readonly credentials: grpc.ChannelCredentials = grpc.credentials.createInsecure(),
    private readonly channelOptions: grpc.ChannelOptions = { 'grpc.max_receive_message_length': 256 * 1024 * 1024 },
  ) {}

  client(service: string): grpc.Client {
    let c = this.clients.get(service);
    if (!c) {
      const Ctor = etcd3Services()[service];
      if (!Ctor) throw new Error(`no service ${service}`);
      c = new Ctor(this.endpoint, this.credentials, this.channelOptions);
      this.clients.set(service, c);
    }
    return c;
  }

  call<T = any>(service: string, method: string, req: unknown, timeoutMs = 10_000): Promise<T> {
    const c = this.client(service) as unknown as Record<
      string,
      (r: unknown, o: grpc.CallOptions, cb: (e: grpc.ServiceError | null, r?: unknown) => void) => void
    >;
    return new Promise((resolve, reject) => {
      c[method]!.call(c, req, { deadline: Date.now() + timeoutMs }, (err, res) => (err ? reject(new CallError(err.code, err.details)) : resolve(res as T)));
    });
  }

  stream(service: string, method: string): grpc.ClientDuplexStream<any, any> {
    const c = this.client(service) as unknown as Record<string, (o?: grpc.CallOptions) => grpc.ClientDuplexStream<any, any>>;
    return c[method]!.call(c);
  }

  serverStream(service: string, method: string, req: unknown): grpc.ClientReadableStream<any> {
    const c = this.client(service) as unknown as Record<string, (r: unknown) => grpc.ClientReadableStream<any>>;
    return c[method]!.call(c, req);
  }

  close(): void {
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }
}

/** Responses of a duplex stream, with a bounded wait. */
export class Responses<T = any> {
  private readonly queue: T[] = [];
  private waiter: (() => void) | undefined;
  error: grpc.ServiceError | undefined;
  ended = false;

  constructor(readonly call: grpc.ClientDuplexStream<any, any>) {
    call.on('data', (r: T) => {
      this.queue.push(r);
      this.waiter?.();
    });
    call.on('error', (e: grpc.ServiceError) => {
      this.error = e;
      this.waiter?.();
    });
    call.on('end', () => {
      this.ended = true;
      this.waiter?.();
    });
  }

  /** The next response, or undefined after `timeoutMs` (or when the stream ended). */
  async next(timeoutMs = 5_000): Promise<T | undefined> {
    const deadline = Date.now() + timeoutMs;
    while (this.queue.length === 0 && !this.error && !this.ended && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, deadline - Date.now());
        this.waiter = () => {
          clearTimeout(t);
          this.waiter = undefined;
          resolve();
        };
      });
    }
    return this.queue.shift();
  }

  /** Responses until `pred` holds for one (returned last), at most `timeoutMs`. */
  async until(pred: (r: T) => boolean, timeoutMs = 5_000): Promise<T[]> {
    const out: T[] = [];
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = await this.next(Math.max(0, deadline - Date.now()));
      if (r === undefined)
        throw new Error(
          `condition not met within ${timeoutMs} ms; got ${JSON.stringify(out).slice(0, 2000)}${this.error ? ` (stream error ${this.error.code}: ${this.error.details})` : ''}`,
        );
      out.push(r);
      if (pred(r)) return out;
    }
  }

  /** What is queued now, after waiting `ms` for more. */
  async drain(ms = 200): Promise<T[]> {
    await new Promise((r) => setTimeout(r, ms));
    return this.queue.splice(0);
  }
}

export const b = (s: string): Buffer => Buffer.from(s, 'latin1');

// ---------------------------------------------------------------------------------------------
// `metastore serve` as a child process.

const live = new Set<number>();
let hooked = false;

function hook(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', () => {
    for (const pid of live) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  });
}

/** A `metastore serve` process. */
export class ServeProcess {
  private exited = false;
  private readonly exit: Promise<number | null>;
  stderr = '';
  stdout = '';

  private constructor(
    readonly child: ChildProcess,
    readonly pid: number,
  ) {
    this.exit = new Promise((resolve) => {
      child.once('exit', (code) => {
        this.exited = true;
        live.delete(pid);
        resolve(code);
      });
    });
    child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    child.stdout!.on('data', (d: Buffer) => (this.stdout += d.toString()));
  }

  /** Starts `node dist/cli.js serve <args>` and waits for its "ready" line (its first address is `url`). */
  static async start(
    args: string[],
    options: { env?: NodeJS.ProcessEnv; readyTimeoutMs?: number } = {},
  ): Promise<{ proc: ServeProcess; url: string; endpoint: string }> {
    hook();
    if (!fs.existsSync(CLI)) throw new Error('dist/cli.js is missing: run `npm run build` first');
    const child = spawn(process.execPath, [CLI, 'serve', ...args], { env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    if (child.pid === undefined) throw new Error('could not spawn metastore serve');
    live.add(child.pid);
    const proc = new ServeProcess(child, child.pid);
    const deadline = Date.now() + (options.readyTimeoutMs ?? 20_000);
    while (Date.now() < deadline) {
      const line = proc.stderr.split('\n').find((l) => l.includes('"ready to serve client requests"'));
      if (line) {
        const url = (JSON.parse(line) as { addresses: string[] }).addresses[0]!;
        return { proc, url, endpoint: url.replace(/^https?:\/\//, '') };
      }
      if (proc.exited) throw new Error(`metastore serve exited before it was ready:\n${proc.stderr}`);
      await new Promise((r) => setTimeout(r, 25));
    }
    await proc.kill('SIGKILL');
    throw new Error(`metastore serve was not ready within the timeout:\n${proc.stderr}`);
  }

  get running(): boolean {
    return !this.exited;
  }

  /** Sends `signal` by PID and waits for the exit (SIGKILL after 5 s). Resolves with the exit code. */
  async kill(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (!this.exited) {
      try {
        process.kill(this.pid, signal);
      } catch {
        // gone
      }
      const done = await Promise.race([this.exit.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 5_000))]);
      if (!done) {
        try {
          process.kill(this.pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
    }
    return this.exit;
  }
}

/** A fresh temporary directory (removed by the caller). */
export function tempDir(prefix: string): string {
  let root = os.tmpdir();
  try {
    fs.accessSync('/dev/shm', fs.constants.W_OK);
    root = '/dev/shm';
  } catch {
    // the OS temp dir
  }
  return fs.mkdtempSync(path.join(root, prefix));
}
