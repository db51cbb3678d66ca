// The benchmark's webhook endpoint, in its own process (forked by bench/run.mjs)
// so its CPU is not counted against the process that publishes and measures.
//
//   GET  …?challenge=…             verification handshake: answers the challenge
//   POST /<label>/…                answers 200 at once
//   POST /<label>/delay/<ms>/…     answers 200 after <ms> milliseconds
//   POST /hang-<label>/…           never answers (the dispatcher times out)
//
// Each POST is counted under its first path segment (the label) once per
// X-Webhook-Delivery; the latency is the arrival time minus `"sent_at":<ms>`
// that the publisher put in the event's data. The parent asks over IPC:
//   { type: 'wait', id, label, count }  → { type: 'reached', id, stats } once `count` distinct deliveries arrived
//   { type: 'stats', id, label }        → { type: 'stats', id, stats } now
//   { type: 'arrivals', id, label }     → { type: 'arrivals', id, stats } with the arrival time (ms) of each distinct delivery, in order
import { createServer } from 'node:http';

const labels = new Map();
const waiters = [];

function labelStats(label) {
  let s = labels.get(label);
  if (!s) {
    s = { ids: new Set(), requests: 0, duplicates: 0, traced: 0, latencies: [], arrivals: [], first: 0, last: 0 };
    labels.set(label, s);
  }
  return s;
}

function summary(label) {
  const s = labelStats(label);
  return {
    label,
    connections,
    unique: s.ids.size,
    requests: s.requests,
    duplicates: s.duplicates,
    traced: s.traced,
    first: s.first,
    last: s.last,
    latencies: s.latencies,
  };
}

function notify(label) {
  const s = labelStats(label);
  for (let i = waiters.length - 1; i >= 0; i--) {
    const w = waiters[i];
    if (w.label === label && s.ids.size >= w.count) {
      waiters.splice(i, 1);
      process.send({ type: 'reached', id: w.id, stats: summary(label) });
    }
  }
}

const SENT_AT = /"sent_at":(\d+)/;

const server = createServer((req, res) => {
  const url = req.url ?? '/';
  if (req.method === 'GET') {
    const challenge = new URL(url, 'http://x').searchParams.get('challenge');
    req.resume();
    res.writeHead(200, { 'content-type': 'text/plain' }).end(challenge ?? 'ok');
    return;
  }
  const parts = url.split('?')[0].split('/');
  const label = parts[1] ?? '';
  // `"sent_at":` is in the event's data, near the start of the body: the first chunk is enough.
  let head;
  req.on('data', (c) => (head ??= c));
  req.on('end', () => {
    const now = Date.now();
    const s = labelStats(label);
    s.requests++;
    // Requests that carried a W3C traceparent (the tracing scenario checks they all did, or none).
    if (req.headers.traceparent) s.traced++;
    const delivery = String(req.headers['x-webhook-delivery'] ?? `${s.requests}`);
    if (s.ids.has(delivery)) s.duplicates++;
    else {
      s.ids.add(delivery);
      const m = head && SENT_AT.exec(head.toString('latin1', 0, 512));
      if (m) s.latencies.push(now - Number(m[1]));
      s.arrivals.push(now);
      if (!s.first) s.first = now;
      s.last = now;
      notify(label);
    }
    if (label.startsWith('hang')) return; // never answers
    const delay = parts[2] === 'delay' ? Number(parts[3]) : 0;
    if (delay > 0) setTimeout(() => res.writeHead(200, { 'content-type': 'text/plain' }).end('ok'), delay);
    else res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
  });
});
let connections = 0;
server.on('connection', () => connections++);
server.keepAliveTimeout = 60_000;
server.headersTimeout = 65_000;
server.requestTimeout = 0;

process.on('message', (m) => {
  if (m.type === 'wait') {
    waiters.push({ id: m.id, label: m.label, count: m.count });
    notify(m.label);
  } else if (m.type === 'stats') {
    process.send({ type: 'stats', id: m.id, stats: summary(m.label) });
  } else if (m.type === 'arrivals') {
    process.send({ type: 'arrivals', id: m.id, stats: labelStats(m.label).arrivals });
  } else if (m.type === 'forget') {
    labels.delete(m.label);
  } else if (m.type === 'exit') {
    server.closeAllConnections();
    process.exit(0);
  }
});
process.on('disconnect', () => process.exit(0));

server.listen(0, '127.0.0.1', () => process.send({ type: 'listening', port: server.address().port }));
