// Every byte from the network is hostile: random and truncated input on the
// RTMP and HTTP ports closes only that connection, with one log line, and the
// server keeps publishing and playing for everyone else.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { startServer, sleep } from './lib/server.mjs';
import { publish, probe, streamsOf } from './lib/media.mjs';
import { rtmpSession, chunk, amf, connectRaw } from './lib/rtmp.mjs';

let srv;
before(async () => { srv = await startServer(); });
after(async () => { await srv.stop(); });

// Sends bytes, then waits until the server closes the socket (or a timeout).
async function sendAndWaitClose(port, bytes, { timeoutMs = 3000, end = false } = {}) {
  const s = await connectRaw(port);
  s.on('error', () => {});
  s.on('data', () => {});
  const closed = new Promise((resolve) => s.on('close', () => resolve(true)));
  s.write(bytes);
  if (end) s.end();
  const r = await Promise.race([closed, sleep(timeoutMs).then(() => false)]);
  s.destroy();
  return r;
}

async function stillServes(name) {
  const pub = publish(`${srv.rtmp}/live/${name}`, { seconds: 4 });
  await sleep(1500);
  const p = await probe(`${srv.rtmp}/live/${name}`, { extra: ['-read_intervals', '%+#5'] });
  assert.equal(streamsOf(p).v.codec_name, 'h264');
  const q = await probe(`${srv.http}/live/${name}.flv`, { extra: ['-read_intervals', '%+#5'] });
  assert.equal(streamsOf(q).a.codec_name, 'aac');
  assert.equal((await pub.done).code, 0);
  assert.ok(srv.alive());
}

test('random bytes on the RTMP port close only that connection', async () => {
  const pub = publish(`${srv.rtmp}/live/bystander`, { seconds: 10 });
  await sleep(1000);
  // A wrong C0 is refused at once; random bytes after a valid C0 hit the chunk parser.
  assert.ok(await sendAndWaitClose(srv.rtmpPort, Buffer.concat([Buffer.from([0x47]), randomBytes(4000)])));
  for (let i = 0; i < 30; i++) {
    const n = 1 + Math.floor(Math.random() * 20000);
    await sendAndWaitClose(srv.rtmpPort, Buffer.concat([Buffer.from([3]), randomBytes(n)]), { timeoutMs: 300, end: true });
  }
  // The bystander stream survived all of it.
  const p = await probe(`${srv.http}/live/bystander.flv`, { extra: ['-read_intervals', '%+#5'] });
  assert.equal(streamsOf(p).v.codec_name, 'h264');
  await pub.done;
  await stillServes('after-random');
});

test('clients that reset the socket during the handshake harm nobody', async () => {
  const pub = publish(`${srv.rtmp}/live/rst-bystander`, { seconds: 8 });
  await sleep(1000);
  const c0c1 = () => Buffer.concat([Buffer.from([3]), Buffer.alloc(8), randomBytes(1528)]);
  const connect = chunk(3, 20, 0, amf('connect', 1, { app: 'live', tcUrl: `${srv.rtmp}/live` }));
  for (let i = 0; i < 60; i++) {
    const s = await connectRaw(srv.rtmpPort);
    s.on('error', () => {});
    if (i % 2) {
      // Everything at once, then RST: the server reads it all and its reply fails.
      s.write(Buffer.concat([c0c1(), randomBytes(1536), connect]));
    } else {
      // C0C1, the server's reply, then C2 + connect and RST straight after.
      s.write(c0c1());
      await new Promise((resolve) => { s.once('data', resolve); setTimeout(resolve, 500); });
      s.write(Buffer.concat([randomBytes(1536), connect]));
    }
    s.resetAndDestroy();
  }
  await sleep(300);
  assert.ok(srv.alive());
  const p = await probe(`${srv.http}/live/rst-bystander.flv`, { extra: ['-read_intervals', '%+#5'] });
  assert.equal(streamsOf(p).v.codec_name, 'h264');
  await pub.done;
  await stillServes('after-reset');
});

test('truncated handshakes and silent clients time out without harm', async () => {
  const socks = [];
  for (const n of [0, 1, 100, 1536, 1537, 1537 + 1000]) {
    const s = await connectRaw(srv.rtmpPort);
    s.on('error', () => {});
    s.write(Buffer.concat([Buffer.from([3]), randomBytes(n)]).subarray(0, n));
    socks.push(s);
  }
  await sleep(300);
  await stillServes('after-truncated');
  socks.forEach((s) => s.destroy());
});

test('malformed chunk streams and AMF are refused with a log line', async () => {
  // Valid handshake and connect, then a chunk claiming an oversized message.
  const a = await rtmpSession(srv.rtmpPort);
  const closedA = new Promise((r) => a.on('close', r));
  const big = Buffer.alloc(12);
  big[0] = 4; big.writeUIntBE(0, 1, 3); big.writeUIntBE(0xffffff, 4, 3); big[7] = 9; big.writeUInt32LE(1, 8);
  a.write(Buffer.concat([chunk(2, 1, 0, Buffer.from([0, 0, 0x10, 0])), big, randomBytes(5000)]));
  // Set Chunk Size of 0 is illegal.
  const b = await rtmpSession(srv.rtmpPort);
  const closedB = new Promise((r) => b.on('close', r));
  b.write(chunk(2, 1, 0, Buffer.from([0, 0, 0, 0])));
  // A command whose AMF is garbage.
  const c = await rtmpSession(srv.rtmpPort);
  const closedC = new Promise((r) => c.on('close', r));
  c.write(chunk(3, 20, 0, Buffer.concat([amf('publish'), Buffer.from([0x03, 0x00, 0x05, 0x41, 0x42])])));
  // A command that is not even a string.
  const d = await rtmpSession(srv.rtmpPort);
  const closedD = new Promise((r) => d.on('close', r));
  d.write(chunk(3, 20, 0, Buffer.from([0x11, 0x22, 0x33])));
  await Promise.all([closedA, closedB, closedC, closedD]);
  await srv.waitLog(/malformed (chunk stream|command)|message too large/);
  await stillServes('after-malformed');
});

test('an unknown command is answered and the session continues', async () => {
  const s = await rtmpSession(srv.rtmpPort);
  let got = Buffer.alloc(0);
  s.on('data', (d) => { got = Buffer.concat([got, d]); });
  s.write(chunk(3, 20, 0, amf('fancyNewCommand', 7, null, 'x')));
  await sleep(500);
  assert.ok(got.includes(Buffer.from('_error')), 'the client gets _error for an unknown method');
  assert.ok(!s.destroyed);
  s.destroy();
});

test('garbage on the HTTP port gets 4xx or a closed connection', async () => {
  const cases = [
    randomBytes(3000),
    Buffer.from('GET /live/x.flv HTTP/1.1\r\nHost: ' + 'a'.repeat(100000) + '\r\n\r\n'),
    Buffer.from('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999\r\n\r\nabc'),
    Buffer.from('GET /%zz%00/../.flv HTTP/1.1\r\nHost: x\r\n\r\n'),
    Buffer.from('BREW /pot HTTP/1.1\r\n\r\n'),
    Buffer.from('GET / HTTP/1.1\r\n'),
  ];
  for (const c of cases) await sendAndWaitClose(srv.httpPort, c, { timeoutMs: 1500 });
  for (const p of ['/nope', '/a/b/c/d.flv', '/../etc/passwd.m3u8', '/live/.flv', '/live/%2e%2e.flv']) {
    const r = await fetch(srv.http + p);
    assert.ok(r.status >= 400 && r.status < 500, `${p} -> ${r.status}`);
  }
  await stillServes('after-http');
});
