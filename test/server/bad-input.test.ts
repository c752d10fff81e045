/**
 * Bad input on the wire and resource bounds: malformed protobufs, oversized requests
 * (--max-request-bytes: "request is too large", and past the gRPC limit RESOURCE_EXHAUSTED),
 * unknown methods (UNIMPLEMENTED), a client that opens thousands of streams, more connections
 * than allowed, and a client that never reads its watch stream (a `metastore serve` process
 * whose memory is measured). Each time: a clear status for the offender, and the server keeps
 * serving others.
 */

import * as fs from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { b, CallError, RawClient, Responses, ServeProcess, startServer, type Served } from './helpers.js';

let s: Served;
let c: RawClient;

beforeAll(async () => {
  s = await startServer({ serve: { maxRequestBytes: 64 * 1024 } });
  c = new RawClient(s.endpoint);
});
afterAll(async () => {
  c.close();
  await s.close();
});

const err = async (p: Promise<unknown>): Promise<{ code: number; details: string }> => {
  try {
    await p;
  } catch (e) {
    if (e instanceof CallError) return { code: e.code, details: e.details };
    throw e;
  }
  throw new Error('expected the call to fail');
};

/** A unary call with raw request bytes (no protobuf encoding on our side). */
function rawUnary(endpoint: string, path: string, body: Buffer): Promise<{ code: number; details: string; response?: Buffer }> {
  const client = new grpc.Client(endpoint, grpc.credentials.createInsecure());
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      path,
      (x: Buffer) => x,
      (x: Buffer) => x,
      body,
      { deadline: Date.now() + 10_000 },
      (e, res) => {
        client.close();
        resolve(e ? { code: e.code, details: e.details } : { code: 0, details: '', response: res });
      },
    );
  });
}

const stillServing = async (): Promise<void> => {
  const fresh = new RawClient(s.endpoint, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 });
  try {
    await fresh.call('KV', 'Put', { key: b('alive'), value: b('yes') });
    expect((await fresh.call('KV', 'Range', { key: b('alive') })).kvs[0].value.toString()).toBe('yes');
  } finally {
    fresh.close();
  }
};

describe('malformed and unknown', () => {
  it('malformed protobufs: INTERNAL for that call, the server keeps serving', async () => {
    // Bytes no decoder can read: a tag whose varint never ends, a field cut inside its varint,
    // wire type 7, a length running past the end. (The decoder is lenient with a wire type
    // that does not match the field's: it reads the field as declared, as many do.)
    const bodies = [Buffer.alloc(11, 0xff), Buffer.from([0x08, 0xff]), Buffer.from([0x0f]), Buffer.from([0x0a, 0x7f, 0x61]), Buffer.from([0x1a, 0x05, 0x61])];
    for (const body of bodies) {
      for (const path of ['/etcdserverpb.KV/Range', '/etcdserverpb.KV/Put', '/etcdserverpb.KV/Txn']) {
        const r = await rawUnary(s.endpoint, path, body);
        expect([path, body.toString('hex'), r.code]).toEqual([path, body.toString('hex'), 13]);
      }
    }
    await stillServing();
  });

  it('a malformed message on a watch stream ends that stream only', async () => {
    const client = new grpc.Client(s.endpoint, grpc.credentials.createInsecure());
    const bad = client.makeBidiStreamRequest(
      '/etcdserverpb.Watch/Watch',
      (x: Buffer) => x,
      (x: Buffer) => x,
    );
    const good = new Responses(c.stream('Watch', 'Watch'));
    good.call.write({ create_request: { key: b('mw/a') } });
    await good.until((r) => r.created);
    const failed = new Promise<grpc.ServiceError>((resolve) => bad.on('error', resolve));
    bad.on('data', () => undefined);
    bad.write(Buffer.from([0x0a, 0xff, 0xff]));
    expect((await failed).code).toBe(13);
    client.close();
    await c.call('KV', 'Put', { key: b('mw/a'), value: b('1') });
    expect((await good.until((r) => r.events.length > 0))[0]!.events.length).toBeGreaterThan(0);
    good.call.cancel();
  });

  it('unknown methods and services: UNIMPLEMENTED', async () => {
    expect((await rawUnary(s.endpoint, '/etcdserverpb.KV/Nope', Buffer.alloc(0))).code).toBe(12);
    expect((await rawUnary(s.endpoint, '/etcdserverpb.Nope/Range', Buffer.alloc(0))).code).toBe(12);
    expect((await rawUnary(s.endpoint, '/v3electionpb.Election/Campaign', Buffer.alloc(0))).code).toBe(12);
    await stillServing();
  });
});

describe('sizes', () => {
  it('a write over --max-request-bytes: "etcdserver: request is too large"; past it + 512 KiB: RESOURCE_EXHAUSTED', async () => {
    expect(await err(c.call('KV', 'Put', { key: b('big'), value: Buffer.alloc(100 * 1024) }))).toEqual({
      code: 3,
      details: 'etcdserver: request is too large',
    });
    const txn = { success: [{ request_put: { key: b('big'), value: Buffer.alloc(70 * 1024) } }] };
    expect(await err(c.call('KV', 'Txn', txn))).toEqual({ code: 3, details: 'etcdserver: request is too large' });
    const huge = await err(c.call('KV', 'Put', { key: b('big'), value: Buffer.alloc(700 * 1024) }));
    expect(huge.code).toBe(8);
    expect(huge.details).toMatch(/larger than max/i);
    expect((await err(c.call('KV', 'Range', { key: Buffer.alloc(700 * 1024, 1) }))).code).toBe(8);
    // Just under the limit is fine.
    await c.call('KV', 'Put', { key: b('big'), value: Buffer.alloc(60 * 1024) });
    expect(s.store.get('big')?.value.length).toBe(60 * 1024);
  });
});

describe('many streams and connections', () => {
  it('a connection that opens 2000 streams gets 1000, the rest RESOURCE_EXHAUSTED; its unary calls and other clients go on', { timeout: 60_000 }, async () => {
    const t = await startServer();
    const greedy = new RawClient(t.endpoint, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 });
    try {
      const streams: Responses[] = [];
      for (let i = 0; i < 2000; i++) {
        const w = new Responses(greedy.stream('Watch', 'Watch'));
        w.call.write({ create_request: { key: b(`many/${i}`) } });
        streams.push(w);
      }
      let created = 0;
      const refused: Record<string, number> = {};
      const deadline = Date.now() + 30_000;
      while (created + Object.values(refused).reduce((x, y) => x + y, 0) < 2000 && Date.now() < deadline) {
        created = 0;
        for (const k of Object.keys(refused)) delete refused[k];
        for (const w of streams) {
          if (w.error) refused[`${w.error.code}: ${w.error.details}`] = (refused[`${w.error.code}: ${w.error.details}`] ?? 0) + 1;
          else if ((await w.next(0))?.created || (w as unknown as { seen?: boolean }).seen) {
            (w as unknown as { seen?: boolean }).seen = true;
            created++;
          }
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(created).toBe(1000);
      expect(refused).toEqual({ '8: etcdserver: too many requests (metastore: at most 1000 streams per connection)': 1000 });
      // The same connection still makes unary calls; another client is served.
      await greedy.call('KV', 'Put', { key: b('many/unary'), value: b('1') });
      const other = new RawClient(t.endpoint, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 });
      await other.call('KV', 'Range', { key: b('many/unary') });
      other.close();
      // Closing streams frees their slots.
      for (const w of streams) w.call.cancel();
      await new Promise((r) => setTimeout(r, 300));
      const again = new Responses(greedy.stream('Watch', 'Watch'));
      again.call.write({ create_request: { key: b('many/again') } });
      expect((await again.next())?.created).toBe(true);
      again.call.cancel();
    } finally {
      greedy.close();
      await t.close();
    }
  });

  it('connections beyond maxConnections are closed at accept; those inside keep working', async () => {
    const t = await startServer({ serve: { maxConnections: 8 } });
    const clients = Array.from({ length: 12 }, () => new RawClient(t.endpoint, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 }));
    try {
      const results = await Promise.all(
        clients.map((cl) =>
          cl.call('KV', 'Range', { key: b('x') }, 2_000).then(
            () => 'ok',
            (e: CallError) => String(e.code),
          ),
        ),
      );
      expect(results.filter((r) => r === 'ok').length).toBe(8);
      expect(results.filter((r) => r !== 'ok').every((r) => r === '14')).toBe(true);
      const firstOk = clients[results.indexOf('ok')]!;
      await firstOk.call('KV', 'Put', { key: b('x'), value: b('y') });
    } finally {
      for (const cl of clients) cl.close();
      await t.close();
    }
  });
});

describe('a client that never reads its watch stream', () => {
  it('memory stays bounded (its watches pause), everyone else is served, the watch resumes or is cancelled as compacted', { timeout: 120_000 }, async () => {
    const { proc, endpoint } = await ServeProcess.start([
      '--listen-client-urls',
      'http://127.0.0.1:0',
      '--auto-compaction-mode',
      'revision',
      '--auto-compaction-retention',
      '200',
    ]);
    const rss = (): number => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${proc.pid}/status`, 'utf8'))![1]) * 1024;
    const sleeper = new RawClient(endpoint, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 });
    const writer = new RawClient(endpoint, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 });
    try {
      const call = sleeper.stream('Watch', 'Watch');
      const w = new Responses(call);
      call.write({ create_request: { key: b('nr/'), range_end: b('nr0') } });
      await w.until((r) => r.created);
      call.pause(); // never reads again (until the end of the test)
      const value = Buffer.alloc(16 * 1024, 'v');
      // Rounds of 250 puts of 16 KiB (4 MB) each: 20 to warm the heap up, then 60 measured.
      const round = () => Promise.all(Array.from({ length: 250 }, (_, i) => writer.call('KV', 'Put', { key: b(`nr/${i % 50}`), value })));
      for (let r = 0; r < 20; r++) await round();
      const before = rss();
      const started = Date.now();
      let worst = 0;
      for (let r = 0; r < 60; r++) {
        await round();
        // Others are served meanwhile, promptly.
        const t0 = Date.now();
        await writer.call('KV', 'Range', { key: b('nr/0') });
        worst = Math.max(worst, Date.now() - t0);
      }
      const grown = rss() - before;
      const metrics = await (await fetch(`http://${endpoint}/metrics`)).text();
      const pending = Number(/metastore_watch_pending_bytes (\d+)/.exec(metrics)![1]);
      const mib = (n: number) => (n / 1048576).toFixed(1);
      console.log(
        `[never-reading watcher] 240 MB of events unread (after 80 MB of warm-up) in ${Date.now() - started} ms; server RSS ${grown >= 0 ? '+' : ''}${mib(grown)} MiB; pending ${pending} bytes; worst Range ${worst} ms`,
      );
      expect(pending).toBeLessThanOrEqual(4 * 1024 * 1024 + 2 * 1024 * 1024); // the stream's bound + one response
      expect(grown).toBeLessThan(100 * 1024 * 1024); // buffering them would take 240 MB and more
      expect(worst).toBeLessThan(2_000);
      // Reading again: the history it missed is compacted, so etcd's answer is a compaction cancel.
      call.resume();
      const rs = await w.until((r) => r.canceled, 30_000);
      expect(Number(rs[rs.length - 1].compact_revision)).toBeGreaterThan(0);
      call.cancel();
    } finally {
      sleeper.close();
      writer.close();
      await proc.kill();
    }
  });
});
