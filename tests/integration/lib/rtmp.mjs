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

// Reads the server's chunk stream from a socket made by rtmpSession and calls
// onMessage({ type, streamId, ts, payload }) for every complete message. It
// follows Set Chunk Size, formats 0-3 and extended timestamps; enough to
// watch what a player receives.
export function readMessages(s, onMessage) {
  let buf = Buffer.alloc(0);
  let chunkSize = 128;
  const streams = new Map();
  s.on('data', (d) => {
    buf = Buffer.concat([buf, d]);
    for (;;) {
      if (buf.length < 1) return;
      const fmt = buf[0] >> 6;
      let csid = buf[0] & 0x3f, p = 1;
      if (csid === 0) { if (buf.length < 2) return; csid = 64 + buf[1]; p = 2; }
      else if (csid === 1) { if (buf.length < 3) return; csid = 64 + buf[1] + buf[2] * 256; p = 3; }
      const hlen = [11, 7, 3, 0][fmt];
      if (buf.length < p + hlen) return;
      const st = streams.get(csid) || { ts: 0, delta: 0, len: 0, type: 0, streamId: 0, ext: false, parts: [], got: 0 };
      let tsf = st.ext ? 0xffffff : 0;
      if (fmt < 3) tsf = buf.readUIntBE(p, 3);
      const len = fmt < 2 ? buf.readUIntBE(p + 3, 3) : st.len;
      const ext = fmt < 3 ? tsf === 0xffffff : st.ext;
      if (buf.length < p + hlen + (ext ? 4 : 0)) return;
      if (ext) tsf = buf.readUInt32BE(p + hlen);
      const start = st.got === 0;
      const take = Math.min(chunkSize, len - st.got);
      const body = p + hlen + (ext ? 4 : 0);
      if (buf.length < body + take) return;
      if (fmt < 2) { st.len = len; st.type = buf[p + 6]; }
      if (fmt === 0) st.streamId = buf.readUInt32LE(p + 7);
      st.ext = ext;
      if (start) {
        if (fmt === 0) { st.ts = tsf; st.delta = tsf; } else { if (fmt < 3 || ext) st.delta = tsf; st.ts += st.delta; }
      }
      st.parts.push(buf.subarray(body, body + take));
      st.got += take;
      buf = buf.subarray(body + take);
      streams.set(csid, st);
      if (st.got === st.len) {
        const payload = Buffer.concat(st.parts);
        st.parts = []; st.got = 0;
        if (st.type === 1) chunkSize = payload.readUInt32BE(0) & 0x7fffffff;
        onMessage({ type: st.type, streamId: st.streamId, ts: st.ts, payload });
      }
    }
  });
}
