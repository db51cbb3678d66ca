// The benchmark's OpenTelemetry collector stand-in, in its own process (forked by bench/run.mjs for the
// tracing scenario): it takes OTLP/HTTP protobuf exports (POST /v1/traces), counts the spans in them
// and answers 200 with an empty ExportTraceServiceResponse, as a collector does. The parent asks over IPC:
//   { type: 'stats', id } → { type: 'stats', id, stats: { requests, bytes, spans, names } }
import { createServer } from 'node:http';
import { gunzipSync } from 'node:zlib';

const stats = { requests: 0, bytes: 0, spans: 0, names: {} };

/** Reads a protobuf varint at `pos`; returns [value, next position]. */
function varint(buf, pos) {
  let value = 0;
  let shift = 0;
  for (;;) {
    const b = buf[pos++];
    value += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) return [value, pos];
    shift += 7;
  }
}

/** Calls `onField(field, start, end)` for each length-delimited field of the message in buf[start, end). */
function fields(buf, start, end, onField) {
  let pos = start;
  while (pos < end) {
    let key;
    [key, pos] = varint(buf, pos);
    const field = Math.floor(key / 8);
    const wire = key & 7;
    if (wire === 0) [, pos] = varint(buf, pos);
    else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else if (wire === 2) {
      let len;
      [len, pos] = varint(buf, pos);
      onField(field, pos, pos + len);
      pos += len;
    } else throw new Error(`unexpected wire type ${wire}`);
  }
}

const decoder = new TextDecoder();

/** ExportTraceServiceRequest → ResourceSpans (1) → ScopeSpans (2) → Span (2), whose name is field 5. */
function countSpans(buf) {
  fields(buf, 0, buf.length, (f, s, e) => {
    if (f !== 1) return;
    fields(buf, s, e, (f2, s2, e2) => {
      if (f2 !== 2) return;
      fields(buf, s2, e2, (f3, s3, e3) => {
        if (f3 !== 2) return;
        stats.spans++;
        fields(buf, s3, e3, (f4, s4, e4) => {
          if (f4 !== 5) return;
          const name = decoder.decode(buf.subarray(s4, e4));
          stats.names[name] = (stats.names[name] ?? 0) + 1;
        });
      });
    });
  });
}

const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const raw = Buffer.concat(chunks);
    const body = req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
    stats.requests++;
    stats.bytes += raw.length;
    if (req.url === '/v1/traces' && String(req.headers['content-type']).startsWith('application/x-protobuf')) {
      try {
        countSpans(body);
      } catch (err) {
        process.stderr.write(`[otlp-sink] could not read an export: ${err.message}\n`);
      }
    }
    res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
  });
});
server.keepAliveTimeout = 60_000;

process.on('message', (m) => {
  if (m.type === 'stats') process.send({ type: 'stats', id: m.id, stats });
  else if (m.type === 'exit') {
    server.closeAllConnections();
    process.exit(0);
  }
});
process.on('disconnect', () => process.exit(0));

server.listen(0, '127.0.0.1', () => process.send({ type: 'listening', port: server.address().port }));
