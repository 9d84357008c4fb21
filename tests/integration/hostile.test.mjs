// Every byte from the network is hostile: random and truncated input on the
// RTMP and HTTP ports closes only that connection, with one log line, and the
// server keeps publishing and playing for everyone else.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { startServer, sleep } from './lib/server.mjs';
import { publish, probe, streamsOf } from './lib/media.mjs';
import { rtmpSession, chunk, amf, connectRaw, readMessages } from './lib/rtmp.mjs';

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

// The log lines about one client connection, by its local port.
function linesOf(server, port) {
  return server.log().split('\n').filter((l) => l.includes(`127.0.0.1:${port}:`) || l.includes(`127.0.0.1:${port} `));
}

test('a message over rtmp_max_message closes its connection with one log line', async () => {
  const s2 = await startServer({ args: ['--set', 'rtmp_max_message=65536', '--set', 'rtmp_partial_max_bytes=180000'] });
  try {
    const pub = publish(`${s2.rtmp}/live/capped`, { seconds: 8 });
    await sleep(1000);
    // Exactly the cap is accepted (a data message nobody asked for is ignored).
    const ok = await rtmpSession(s2.rtmpPort);
    ok.write(chunk(5, 18, 0, randomBytes(65536)));
    // One byte more closes the connection.
    const big = await rtmpSession(s2.rtmpPort);
    const bigPort = big.localPort;
    const closed = new Promise((r) => big.on('close', r));
    big.write(chunk(5, 18, 0, randomBytes(65537)));
    await closed;
    await sleep(300);
    const lines = linesOf(s2, bigPort).filter((l) => / (warn|error) /.test(l));
    assert.equal(lines.length, 1, lines.join('\n'));
    assert.match(lines[0], /closed: message too large/);
    assert.ok(!ok.destroyed && ok.readyState === 'open', 'a message of exactly the cap is fine');

    // Incomplete messages of all connections share rtmp_partial_max_bytes:
    // two connections hold 64 KiB each, a third that would go over is closed.
    const holders = [];
    for (let i = 0; i < 3; i++) {
      const h = await rtmpSession(s2.rtmpPort);
      const hdr = Buffer.alloc(12);
      hdr[0] = 5; hdr.writeUIntBE(65536, 4, 3); hdr[7] = 18;
      h.write(Buffer.concat([hdr, randomBytes(100)]));
      holders.push({ h, port: h.localPort, closed: new Promise((r) => h.on('close', () => r(true))) });
      await sleep(200);
    }
    assert.equal(await Promise.race([holders[2].closed, sleep(3000).then(() => false)]), true, 'the third is closed');
    assert.match(linesOf(s2, holders[2].port).join('\n'), /rtmp_partial_max_bytes/);
    assert.ok(holders[0].h.readyState === 'open' && holders[1].h.readyState === 'open');

    // The publisher and its players carried on.
    const p = await probe(`${s2.rtmp}/live/capped`, { extra: ['-read_intervals', '%+#5'] });
    assert.equal(streamsOf(p).v.codec_name, 'h264');
    const q = await probe(`${s2.http}/live/capped.flv`, { extra: ['-read_intervals', '%+#5'] });
    assert.equal(streamsOf(q).a.codec_name, 'aac');
    assert.equal((await pub.done).code, 0);
    [ok, ...holders.map((x) => x.h)].forEach((s) => s.destroy());
  } finally {
    await s2.stop();
  }
});

test('a command with AMF3 arguments is answered, not fatal', async () => {
  const s = await rtmpSession(srv.rtmpPort, 'live', { keepReading: false });
  const replies = [];
  readMessages(s, (m) => { if (m.type === 20) replies.push(m.payload); });
  // An AMF0 "avmplus" switch followed by an AMF3 object, in an unknown command.
  const body = Buffer.concat([amf('someAmf3Call', 9, null), Buffer.from([0x11, 0x0a, 0x0b, 0x01, 0x01])]);
  s.write(chunk(3, 20, 0, body));
  await sleep(500);
  const err = replies.find((p) => p.includes(Buffer.from('_error')));
  assert.ok(err, 'the client gets _error');
  assert.equal(err.readDoubleBE(3 + 6 + 1), 9, 'for its transaction id');
  assert.equal(s.readyState, 'open');
  // And the session still works: createStream gets its _result.
  s.write(chunk(3, 20, 0, amf('createStream', 10, null)));
  await sleep(300);
  assert.ok(replies.some((p) => p.includes(Buffer.from('_result')) && p.readDoubleBE(3 + 7 + 1) === 10));
  s.destroy();
});

test('a player that never reads cannot pile up metadata', async () => {
  // Metadata and sequence headers are never dropped, so only their own budget
  // stops a publisher's big metadata piling up for a player that never reads.
  const pub = await rtmpSession(srv.rtmpPort, 'live', { keepReading: true });
  pub.write(chunk(8, 20, 1, amf('publish', 3, null, 'metaflood', 'live')));
  const player = await rtmpSession(srv.rtmpPort, 'live', { keepReading: false });
  const playerPort = player.localPort;
  player.pause();
  player.write(chunk(8, 20, 1, amf('play', 3, null, 'metaflood')));
  await sleep(300);
  const fields = {};
  for (let i = 0; i < 16; i++) fields[`pad${i}`] = 'x'.repeat(60000);
  const meta = chunk(4, 18, 1, amf('@setDataFrame', 'onMetaData', fields));
  for (let i = 0; i < 200; i++) {
    pub.write(meta);
    await sleep(10);
    if (/closed: too many unsent replies and headers/.test(linesOf(srv, playerPort).join('\n'))) break;
  }
  await srv.waitLog(new RegExp(`127\\.0\\.0\\.1:${playerPort} .*: closed: too many unsent replies and headers`));
  assert.ok(!linesOf(srv, pub.localPort).some((l) => / closed: /.test(l)), 'the publisher carries on');
  pub.destroy();
  player.destroy();
  await stillServes('after-meta-flood');
});

test('HTTP-FLV players count against max_connections', async () => {
  const s2 = await startServer({ args: ['--set', 'max_connections=3'] });
  const socks = [];
  try {
    const pub = publish(`${s2.rtmp}/live/full`, { seconds: 6 }); // one RTMP connection
    await sleep(1000);
    for (let i = 0; i < 2; i++) {
      const c = net.connect(s2.httpPort, '127.0.0.1');
      c.on('error', () => {});
      c.on('data', () => {});
      c.write('GET /live/full.flv HTTP/1.1\r\nHost: x\r\n\r\n');
      socks.push(c);
    }
    await sleep(500);
    const r = await fetch(`${s2.http}/live/full.flv`);
    assert.equal(r.status, 503, 'the fourth connection is refused');
    const rtmp = await sendAndWaitClose(s2.rtmpPort, Buffer.from([3]), { timeoutMs: 2000 });
    assert.ok(rtmp, 'so is an RTMP connection');
    await s2.waitLog(/flv 127\.0\.0\.1 live\/full: refused: too many connections/);
    socks.forEach((c) => c.destroy());
    await sleep(500);
    const p = await probe(`${s2.http}/live/full.flv`, { extra: ['-read_intervals', '%+#5'] });
    assert.equal(streamsOf(p).v.codec_name, 'h264', 'a slot freed by a player that left is reused');
    await pub.done;
  } finally {
    socks.forEach((c) => c.destroy());
    await s2.stop();
  }
});
