// Shutdown: SIGTERM tells publishers and players and lets what is queued go
// out before the process exits 0; a second signal ends it at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { rmSync } from 'node:fs';
import { startServer, sleep, checkLog } from './lib/server.mjs';
import { publish } from './lib/media.mjs';
import { rtmpSession, chunk, amf, readMessages } from './lib/rtmp.mjs';

// An HTTP-FLV player that reads everything; resolves with how the reply ended.
function flvPlayer(url) {
  return new Promise((resolve) => {
    let bytes = 0;
    http.get(url, (res) => {
      res.on('data', (d) => { bytes += d.length; });
      res.on('end', () => resolve({ complete: res.complete, bytes }));
      res.on('error', (e) => resolve({ complete: false, bytes, error: e.message }));
    }).on('error', (e) => resolve({ complete: false, bytes, error: e.message }));
  });
}

test('SIGTERM ends every player cleanly and exits 0', async () => {
  const srv = await startServer();
  const pub = publish(`${srv.rtmp}/live/bye`, { seconds: 60 });
  try {
    await srv.waitLog(/live.test.onair\/live\/bye: publish/);
    await sleep(1000);
    const flv = flvPlayer(`${srv.http}/live/bye.flv`);
    const raw = await rtmpSession(srv.rtmpPort, 'live', { keepReading: false });
    const statuses = [];
    let videos = 0;
    readMessages(raw, (m) => {
      if (m.type === 20) statuses.push(m.payload.toString('latin1').match(/NetStream\.[A-Za-z.]+/)?.[0]);
      if (m.type === 9) videos++;
    });
    const rawEnded = new Promise((r) => raw.on('end', () => r(true)));
    raw.write(chunk(8, 20, 1, amf('play', 3, null, 'bye')));
    await sleep(1500);
    assert.ok(videos > 10, 'the RTMP player is playing');

    srv.child.kill('SIGTERM');
    const { code, signal } = await srv.exited;
    checkLog(srv.log());
    assert.equal(code, 0, `exit ${code} ${signal}:\n${srv.log().slice(-2000)}`);
    const f = await flv;
    assert.ok(f.bytes > 10000, `HTTP-FLV bytes ${f.bytes}`);
    assert.equal(f.complete, true, `the HTTP-FLV reply ended with its last chunk (${f.error})`);
    assert.equal(await rawEnded, true, 'the server closed the RTMP connection');
    assert.ok(statuses.includes('NetStream.Play.UnpublishNotify'), statuses.join());
    assert.equal(statuses[statuses.length - 1], 'NetStream.Play.Stop', statuses.join());
    assert.match(srv.log(), /live.test.onair\/live\/bye: unpublish/);
  } finally {
    pub.proc.kill('SIGKILL');
    if (srv.alive()) await srv.kill9();
    rmSync(srv.dataDir, { recursive: true, force: true });
  }
});

test('a second signal ends a shutdown that is still draining', async () => {
  // A player that never reads holds the drain open (its queue cannot be
  // written) for as long as shutdown_drain_ms allows: a minute here.
  const srv = await startServer({ args: ['--set', 'shutdown_drain_ms=60000', '--set', 'player_stall_timeout_ms=60000', '--set', 'player_max_skips=1000'] });
  const pub = publish(`${srv.rtmp}/live/stuck`, {
    seconds: 60, size: '640x360',
    extra: ['-b:v', '8M', '-minrate', '8M', '-maxrate', '8M', '-bufsize', '2M', '-x264-params', 'nal-hrd=cbr'],
  });
  let stuck;
  try {
    await srv.waitLog(/live.test.onair\/live\/stuck: publish/);
    stuck = net.connect(srv.httpPort, '127.0.0.1');
    stuck.on('error', () => {});
    stuck.write('GET /live/stuck.flv HTTP/1.1\r\nHost: x\r\n\r\n');
    stuck.pause();
    // Far more than loopback socket buffers hold.
    await sleep(8000);
    srv.child.kill('SIGTERM');
    await srv.waitLog(/signal 15: shutting down/);
    await sleep(500);
    assert.ok(srv.alive(), 'the first signal leaves the process draining');
    srv.child.kill('SIGINT');
    const ended = await Promise.race([srv.exited, sleep(15000).then(() => null)]);
    assert.ok(ended, 'the process ended after the second signal');
    assert.equal(ended.signal, 'SIGINT', `ended by the second signal, not by finishing: ${JSON.stringify(ended)}`);
    checkLog(srv.log());
  } finally {
    stuck?.destroy();
    pub.proc.kill('SIGKILL');
    if (srv.alive()) await srv.kill9();
    rmSync(srv.dataDir, { recursive: true, force: true });
  }
});
