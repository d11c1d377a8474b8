// The pusher-js side of `scripts/bench-swarm`: N pusher-js clients in one Node process, each
// subscribed to one public channel, opened in batches like the reference script
// (../shared/bench/pusherjs/mem.js); once all are subscribed and settled it samples memory
// (before and after a full GC), then runs the same sender the Rust swarm uses
// (`pusher swarm --devices 0`, stamps from CLOCK_MONOTONIC, which process.hrtime reads too)
// and records trigger-to-receive latency for every delivery. Prints one JSON line with the
// swarm's summary keys.
//
// env: N, HOST, PORT, EVENTS, INTERVAL_MS, PUSHER_BIN, [BATCH=100] [SETTLE_MS=1000]
'use strict';
const { spawn } = require('child_process');
const Pusher = require('pusher-js');

const N = +process.env.N;
const HOST = process.env.HOST || '127.0.0.1';
const PORT = +process.env.PORT;
const EVENTS = +process.env.EVENTS;
const INTERVAL_MS = +process.env.INTERVAL_MS;
const BATCH = +(process.env.BATCH || 100);
const SETTLE_MS = +(process.env.SETTLE_MS || 1000);
const CHANNEL = 'swarm';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const gc2 = async () => { global.gc(); await sleep(50); global.gc(); await sleep(1000); };
const q = (s, p) => (s.length ? s[Math.min(s.length, Math.max(1, Math.ceil(p * s.length))) - 1] : 0);
const r3 = (v) => Math.round(v * 1000) / 1000;

(async () => {
  await gc2();
  const baseline = process.memoryUsage().rss;
  const latencies = [];
  const seen = new Set();
  let duplicates = 0, failures = 0, sending = false, strays = 0;
  const clients = [];
  const t0 = Date.now();
  for (let start = 0; start < N; start += BATCH) {
    const n = Math.min(BATCH, N - start);
    await new Promise((resolve, reject) => {
      let left = n;
      const timer = setTimeout(() => reject(new Error(`batch at ${start} timed out, ${left} left`)), 60000);
      for (let k = 0; k < n; k++) {
        const id = start + k;
        const p = new Pusher('app-key', { wsHost: HOST, wsPort: PORT, forceTLS: false,
          enabledTransports: ['ws'], cluster: 'mt1', disableStats: true });
        p.connection.bind('error', () => { failures++; });
        const ch = p.subscribe(CHANNEL);
        ch.bind('pusher:subscription_succeeded', () => { if (--left === 0) { clearTimeout(timer); resolve(); } });
        ch.bind('stamp', (d) => {
          const now = process.hrtime.bigint();
          if (!sending) { strays++; return; }
          const key = id * EVENTS + d.i;
          if (seen.has(key)) { duplicates++; return; }
          seen.add(key);
          latencies.push(Number(now - BigInt(d.t)) / 1e6);
        });
        clients.push(p);
      }
    });
  }
  const connectSeconds = (Date.now() - t0) / 1000;
  await sleep(SETTLE_MS);
  const settled = process.memoryUsage().rss;
  await gc2();
  const afterGc = process.memoryUsage().rss;
  const connected = clients.filter((p) => p.connection.state === 'connected').length;

  sending = true;
  const sender = spawn(process.env.PUSHER_BIN, ['swarm', '--host', HOST, '--port', String(PORT), '--insecure',
    '--app-id', '123456', '--key', 'app-key', '--secret', 'app-secret', '--devices', '0',
    '--events', String(EVENTS), '--interval-ms', String(INTERVAL_MS), '--out', process.env.SENDER_OUT || '/tmp/swarm-sender'],
    { stdio: ['ignore', 'pipe', 'inherit'] });
  let senderOut = '';
  sender.stdout.on('data', (b) => { senderOut += b; });
  const code = await new Promise((r) => sender.on('exit', r));
  const expected = connected * EVENTS;
  for (let waited = 0; latencies.length < expected && waited < 3000; waited += 50) await sleep(50);
  const s = latencies.slice().sort((a, b) => a - b);
  let accepted = null;
  try { accepted = JSON.parse(senderOut).events.accepted; } catch (e) { /* reported below */ }
  console.log(JSON.stringify({
    client: `pusher-js ${require('pusher-js/package.json').version} (Node ${process.version})`,
    devices: N, connected, failures, sender_exit: code,
    all_subscribed_seconds: connectSeconds, connect_rate_per_second: N / connectSeconds,
    events: { asked: EVENTS, accepted },
    deliveries: { expected: connected * (accepted ?? EVENTS), received: latencies.length, duplicates, strays,
      ratio: latencies.length / Math.max(1, connected * (accepted ?? EVENTS)) },
    latency_ms: { p50: r3(q(s, 0.5)), p90: r3(q(s, 0.9)), p99: r3(q(s, 0.99)), p999: r3(q(s, 0.999)), max: r3(s.length ? s[s.length - 1] : 0) },
    rss_bytes: { baseline, settled, after_gc: afterGc },
    rss_per_connection_bytes: Math.round((settled - baseline) / N),
    rss_per_connection_after_gc_bytes: Math.round((afterGc - baseline) / N),
  }));
  for (const p of clients) p.disconnect();
  await sleep(200);
  process.exit(0);
})().catch((e) => { console.error('FAILED', e.message); process.exit(1); });
