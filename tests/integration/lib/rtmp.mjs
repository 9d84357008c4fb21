// A minimal RTMP client for hostile and slow-player tests: simple handshake,
// AMF0 commands, chunked messages. Not a player: it only speaks enough to
// connect, publish or play, and lets the test decide what to do with the socket.
import net from 'node:net';
import { randomBytes } from 'node:crypto';

export function amf(...values) {
  const parts = [];
  const enc = (v) => {
    if (v === null) parts.push(Buffer.from([5]));
    else if (typeof v === 'number') { const b = Buffer.alloc(9); b[0] = 0; b.writeDoubleBE(v, 1); parts.push(b); }
    else if (typeof v === 'boolean') parts.push(Buffer.from([1, v ? 1 : 0]));
    else if (typeof v === 'string') { const s = Buffer.from(v); const h = Buffer.alloc(3); h[0] = 2; h.writeUInt16BE(s.length, 1); parts.push(h, s); }
    else if (typeof v === 'object') {
      parts.push(Buffer.from([3]));
      for (const [k, val] of Object.entries(v)) { const kb = Buffer.from(k); const h = Buffer.alloc(2); h.writeUInt16BE(kb.length); parts.push(h, kb); enc(val); }
      parts.push(Buffer.from([0, 0, 9]));
    }
  };
  values.forEach(enc);
  return Buffer.concat(parts);
}

// One message as a format-0 chunk plus format-3 continuations (chunk size 128).
export function chunk(csid, type, streamId, payload, ts = 0, chunkSize = 128) {
  const out = [];
  const h = Buffer.alloc(12);
  h[0] = csid & 0x3f;
  h.writeUIntBE(Math.min(ts, 0xffffff), 1, 3);
  h.writeUIntBE(payload.length, 4, 3);
  h[7] = type;
  h.writeUInt32LE(streamId, 8);
  out.push(h);
  for (let i = 0; i < payload.length; i += chunkSize) {
    if (i > 0) out.push(Buffer.from([0xc0 | (csid & 0x3f)]));
    out.push(payload.subarray(i, i + chunkSize));
  }
  return Buffer.concat(out);
}

export function connectRaw(port) {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => resolve(s));
    s.on('error', reject);
  });
}

// Handshake, connect(app), createStream; returns the socket (paused unless keepReading).
export async function rtmpSession(port, app = 'live', { keepReading = true } = {}) {
  const s = await connectRaw(port);
  s.on('error', () => {});
  let buf = Buffer.alloc(0);
  const waitBytes = (n) => new Promise((resolve) => {
    const check = () => { if (buf.length >= n) { s.off('data', onData); resolve(); } };
    const onData = (d) => { buf = Buffer.concat([buf, d]); check(); };
    s.on('data', onData); check();
  });
  const c1 = Buffer.concat([Buffer.from([3]), Buffer.alloc(8), randomBytes(1528)]);
  s.write(c1);
  await waitBytes(1 + 3072);
  const s1 = buf.subarray(1, 1537);
  s.write(s1); // C2 = echo of S1
  buf = buf.subarray(3073);
  s.write(chunk(3, 20, 0, amf('connect', 1, { app, tcUrl: `rtmp://127.0.0.1:${port}/${app}`, flashVer: 'LNX 9,0,124,2' })));
  s.write(chunk(3, 20, 0, amf('createStream', 2, null)));
  if (keepReading) s.on('data', () => {});
  return s;
}
