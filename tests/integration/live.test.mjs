// The live core end to end: ffmpeg publishes, ffmpeg/ffprobe play over RTMP,
// HTTP-FLV and HLS; many players; one publisher per key; reconnects; a player
// that never reads. The server is the real binary on loopback.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { startServer, sleep } from './lib/server.mjs';
import { publish, probe, record, streamsOf, packetsOf, monotonic, run } from './lib/media.mjs';
import { rtmpSession, chunk, amf, readMessages } from './lib/rtmp.mjs';

let srv, tmp;
before(async () => {
  srv = await startServer({ args: ['--set', 'hls_window=60', '--set', 'hls_segment_ms=1000'] });
  tmp = mkdtempSync(path.join(os.tmpdir(), 'onair-live-'));
});
after(async () => {
  await srv.stop();
  rmSync(tmp, { recursive: true, force: true });
});

function checkFile(p, { frames, width, height, minAudio }) {
  const { v, a } = streamsOf(p);
  assert.equal(v.codec_name, 'h264');
  assert.equal(v.width, width);
  assert.equal(v.height, height);
  assert.equal(a.codec_name, 'aac');
  const vp = packetsOf(p, 'video'), ap = packetsOf(p, 'audio');
  assert.equal(vp.length, frames, 'every published video frame arrives');
  assert.ok(ap.length >= minAudio, `audio packets ${ap.length} >= ${minAudio}`);
  assert.ok(monotonic(vp), 'video timestamps increase');
  assert.ok(monotonic(ap), 'audio timestamps increase');
  assert.equal(vp[0].flags[0], 'K', 'first video frame is a keyframe');
}

test('players that connect before the publisher get every frame over RTMP and HTTP-FLV', async () => {
  const rtmpOut = path.join(tmp, 'rtmp.flv'), flvOut = path.join(tmp, 'http.flv');
  const p1 = record(`${srv.rtmp}/live/early`, rtmpOut);
  const p2 = record(`${srv.http}/live/early.flv`, flvOut);
  await sleep(800);
  const pub = publish(`${srv.rtmp}/live/early`, { seconds: 6, rate: 25, gop: 25 });
  const pr = await pub.done;
  assert.equal(pr.code, 0, pr.err);
  const [r1, r2] = await Promise.all([p1, p2]);
  assert.equal(r1.code, 0, r1.err);
  assert.equal(r2.code, 0, r2.err);
  for (const f of [rtmpOut, flvOut]) {
    checkFile(await probe(f, { packets: true }), { frames: 150, width: 320, height: 240, minAudio: 250 });
  }
});

test('a player joining mid-stream starts on a keyframe at once (GOP cache)', async () => {
  const pub = publish(`${srv.rtmp}/live/mid`, { seconds: 8, rate: 25, gop: 50 });
  await sleep(3100);
  for (const url of [`${srv.rtmp}/live/mid`, `${srv.http}/live/mid.flv`]) {
    const t0 = Date.now();
    const r = await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-i', url, '-frames:v', '1', '-f', 'null', '-'], { timeoutMs: 15000 });
    assert.equal(r.code, 0, r.err);
    assert.ok(Date.now() - t0 < 5000, 'first frame arrives quickly');
    const p = await probe(url, { packets: true, extra: ['-read_intervals', '%+#20'] });
    const vp = packetsOf(p, 'video');
    assert.ok(vp.length > 0);
    assert.equal(vp[0].flags[0], 'K', `${url}: first frame is a keyframe`);
  }
  await pub.done;
});

test('HLS plays the live stream and ends with ENDLIST', async () => {
  // Asked before the publisher starts, the playlist is held until its first
  // segment exists, and the segmenter sees the publish from its first frame.
  const held = fetch(`${srv.http}/live/hls1.m3u8`);
  await sleep(300);
  const pub = publish(`${srv.rtmp}/live/hls1`, { seconds: 7, rate: 25, gop: 25 });
  const live = await held;
  assert.equal(live.status, 200);
  const text = await live.text();
  assert.match(text, /#EXTM3U/);
  assert.match(text, /#EXTINF:/);
  assert.doesNotMatch(text, /#EXT-X-ENDLIST/);
  assert.equal((await pub.done).code, 0);
  await sleep(500);
  const end = await (await fetch(`${srv.http}/live/hls1.m3u8`)).text();
  assert.match(end, /#EXT-X-ENDLIST/);
  const p = await probe(`${srv.http}/live/hls1.m3u8`, { packets: true });
  const { v, a } = streamsOf(p);
  assert.equal(v.codec_name, 'h264');
  assert.equal(v.width, 320);
  assert.equal(v.height, 240);
  assert.equal(a.codec_name, 'aac');
  const vp = packetsOf(p, 'video'), ap = packetsOf(p, 'audio');
  assert.equal(vp.length, 175, 'every published video frame is in the playlist');
  assert.ok(ap.length >= 290, `audio packets over HLS: ${ap.length}`);
  assert.ok(monotonic(vp));
  assert.ok(monotonic(ap));
  assert.equal(vp[0].flags[0], 'K');
  // Every segment starts with a keyframe.
  const segs = end.split('\n').filter((l) => l && !l.startsWith('#'));
  assert.ok(segs.length >= 4);
  for (const s of segs.slice(0, 3)) {
    const sp = await probe(`${srv.http}/live/${s}`, { packets: true });
    assert.equal(packetsOf(sp, 'video')[0].flags[0], 'K', `segment ${s} starts on a keyframe`);
  }
});

test('50 players at once all receive the stream', async () => {
  const pub = publish(`${srv.rtmp}/live/many`, { seconds: 12, rate: 25, gop: 25 });
  await sleep(1000);
  const players = [];
  for (let i = 0; i < 50; i++) {
    const url = i % 2 ? `${srv.rtmp}/live/many` : `${srv.http}/live/many.flv`;
    players.push(run('ffmpeg', ['-hide_banner', '-nostdin', '-loglevel', 'error', '-i', url, '-t', '6', '-c', 'copy', '-progress', 'pipe:1', '-f', 'null', '-'], { timeoutMs: 40000 }));
  }
  const results = await Promise.all(players);
  let ok = 0;
  for (const r of results) {
    const frames = [...r.out.matchAll(/frame=(\d+)/g)].map((m) => Number(m[1]));
    if (r.code === 0 && frames.length && frames[frames.length - 1] >= 100) ok++;
  }
  assert.equal(ok, 50, 'every player received at least 4 s of video');
  await pub.done;
});

test('a second publisher is refused with NetStream.Publish.BadName and the first keeps going', async () => {
  const first = publish(`${srv.rtmp}/live/dup`, { seconds: 6 });
  await sleep(1500);
  const second = publish(`${srv.rtmp}/live/dup`, { seconds: 3 });
  const r2 = await second.done;
  assert.notEqual(r2.code, 0, 'second publisher fails');
  // The exact status a second publisher gets, seen by a raw client.
  const raw = await rtmpSession(srv.rtmpPort, 'live', { keepReading: false });
  const statuses = [];
  readMessages(raw, (m) => { if (m.type === 20) statuses.push(m.payload.toString('latin1')); });
  const closed = new Promise((r) => raw.on('close', r));
  raw.write(chunk(8, 20, 1, amf('publish', 5, null, 'dup', 'live')));
  await closed;
  const st = statuses.find((x) => x.includes('onStatus'));
  assert.ok(st && st.includes('NetStream.Publish.BadName'), `status: ${st}`);
  assert.ok(!statuses.some((x) => x.includes('NetStream.Publish.Start')));
  await srv.waitLog(/already publishing/);
  const p = await probe(`${srv.http}/live/dup.flv`, { extra: ['-read_intervals', '%+#5'] });
  assert.equal(streamsOf(p).v.codec_name, 'h264');
  const r1 = await first.done;
  assert.equal(r1.code, 0, 'first publisher finished normally');
});

test('a publisher that comes back is picked up by new players', async () => {
  const a = publish(`${srv.rtmp}/live/again`, { seconds: 2, color: 'red' });
  assert.equal((await a.done).code, 0);
  await sleep(300);
  const b = publish(`${srv.rtmp}/live/again`, { seconds: 5, color: 'blue' });
  await sleep(1500);
  const p = await probe(`${srv.rtmp}/live/again`, { extra: ['-read_intervals', '%+#5'] });
  assert.equal(streamsOf(p).v.codec_name, 'h264');
  assert.equal((await b.done).code, 0);
});

test('an RTMP player is told when the publisher leaves', async () => {
  // FFmpeg's RTMP client ends its input at NetStream.Play.UnpublishNotify.
  const out = path.join(tmp, 'gap.flv');
  const player = record(`${srv.rtmp}/live/gap`, out, { timeoutMs: 30000 });
  await sleep(500);
  const a = publish(`${srv.rtmp}/live/gap`, { seconds: 3 });
  await a.done;
  const r = await player;
  assert.equal(r.code, 0, `player ended cleanly after unpublish: ${r.err}`);
  const p = await probe(out, { packets: true });
  assert.equal(packetsOf(p, 'video').length, 75);
});

test('an RTMP player that stays attached keeps playing when the publisher returns', async () => {
  const raw = await rtmpSession(srv.rtmpPort, 'live', { keepReading: false });
  const events = []; // 'publish', 'unpublish', or a video timestamp
  readMessages(raw, (m) => {
    const text = m.payload.toString('latin1');
    if (m.type === 20 && text.includes('NetStream.Play.PublishNotify')) events.push('publish');
    else if (m.type === 20 && text.includes('NetStream.Play.UnpublishNotify')) events.push('unpublish');
    else if (m.type === 9 && m.payload[1] === 1) events.push(m.ts);
  });
  raw.write(chunk(8, 20, 1, amf('play', 3, null, 'back')));
  await sleep(500);
  assert.equal((await publish(`${srv.rtmp}/live/back`, { seconds: 3, color: 'red' }).done).code, 0);
  await sleep(500);
  assert.equal((await publish(`${srv.rtmp}/live/back`, { seconds: 3, color: 'blue' }).done).code, 0);
  await sleep(500);
  raw.destroy();
  const first = events.indexOf('unpublish');
  assert.ok(first > 0, `events: ${events.slice(0, 5)}`);
  const before = events.slice(0, first).filter((e) => typeof e === 'number');
  const after = events.slice(first + 1).filter((e) => typeof e === 'number');
  assert.equal(before.length, 75, 'every frame of the first publish');
  assert.ok(events.slice(first).includes('publish'), 'told that the publisher is back');
  assert.equal(after.length, 75, 'every frame of the second publish, on the same connection');
  const all = [...before, ...after];
  assert.ok(all.every((t, i) => i === 0 || t >= all[i - 1]), 'timestamps only move forward across the republish');
});

test('a player that never reads does not slow the others, and is closed', async () => {
  // Loopback TCP buffers absorb megabytes before the server sees backpressure,
  // so this server gives up on a stalled socket sooner than the default.
  const s2 = await startServer({ args: ['--set', 'player_stall_timeout_ms=3000'] });
  try {
    const pub = publish(`${s2.rtmp}/live/slow`, { seconds: 40, rate: 25, gop: 25, size: '640x360', extra: ['-b:v', '6M', '-minrate', '6M', '-maxrate', '6M', '-bufsize', '2M', '-x264-params', 'nal-hrd=cbr'] });
    await sleep(1000);
    // A raw client that plays and then never reads its socket.
    const stuck = await rtmpSession(s2.rtmpPort, 'live', { keepReading: false });
    stuck.write(chunk(8, 20, 1, amf('play', 3, null, 'slow')));
    stuck.pause();
    const t0 = Date.now();
    const r = await run('ffmpeg', ['-hide_banner', '-nostdin', '-loglevel', 'error', '-i', `${s2.rtmp}/live/slow`, '-t', '10', '-c', 'copy', '-progress', 'pipe:1', '-f', 'null', '-'], { timeoutMs: 30000 });
    const elapsed = (Date.now() - t0) / 1000;
    const frames = [...r.out.matchAll(/frame=(\d+)/g)].map((m) => Number(m[1]));
    assert.equal(r.code, 0, r.err);
    assert.ok(frames[frames.length - 1] >= 240, `healthy player got ${frames[frames.length - 1]} frames`);
    assert.ok(elapsed < 16, `healthy player kept real time (${elapsed}s for 10s)`);
    await s2.waitLog(/(socket stalled|kept falling behind|output queue full)/, 40000);
    stuck.destroy();
    pub.proc.kill('SIGINT');
    await pub.done;
  } finally {
    await s2.stop();
  }
});

// The first 13 bytes of an HTTP-FLV reply: the FLV header with its track flags.
async function flvHeader(url) {
  const res = await fetch(url);
  const reader = res.body.getReader();
  let got = Buffer.alloc(0);
  while (got.length < 13) {
    const { value, done } = await reader.read();
    if (done) break;
    got = Buffer.concat([got, Buffer.from(value)]);
  }
  await reader.cancel();
  return got.subarray(0, 13);
}

for (const kind of ['audio', 'video']) {
  test(`${kind === 'audio' ? 'an' : 'a'} ${kind}-only stream plays over RTMP, HTTP-FLV and HLS`, async () => {
    const name = `${kind}only`;
    const pub = publish(`${srv.rtmp}/live/${name}`, { seconds: 8, audio: kind === 'audio', video: kind === 'video' });
    // Ask for HLS early, so the playlist holds the whole publish.
    const held = fetch(`${srv.http}/live/${name}.m3u8`);
    await sleep(2000);
    assert.equal((await held).status, 200);
    const header = await flvHeader(`${srv.http}/live/${name}.flv`);
    assert.equal(header.subarray(0, 3).toString(), 'FLV');
    assert.equal(header[4], kind === 'audio' ? 4 : 1, 'the FLV header announces only the track there is');
    for (const url of [`${srv.rtmp}/live/${name}`, `${srv.http}/live/${name}.flv`]) {
      const p = await probe(url, { packets: true, extra: ['-read_intervals', '%+2'] });
      const { v, a } = streamsOf(p);
      if (kind === 'audio') {
        assert.equal(v, undefined, `${url}: no video stream`);
        assert.equal(a.codec_name, 'aac');
        assert.ok(packetsOf(p, 'audio').length > 20, `${url}: audio packets arrive`);
      } else {
        assert.equal(a, undefined, `${url}: no audio stream`);
        assert.equal(v.codec_name, 'h264');
        assert.equal(v.height, 240);
        const vp = packetsOf(p, 'video');
        assert.ok(vp.length > 20, `${url}: video packets arrive`);
        assert.equal(vp[0].flags[0], 'K');
      }
    }
    assert.equal((await pub.done).code, 0);
    await sleep(500);
    const p = await probe(`${srv.http}/live/${name}.m3u8`, { packets: true });
    const { v, a } = streamsOf(p);
    if (kind === 'audio') {
      assert.equal(v, undefined, 'HLS: no video stream');
      assert.equal(a.codec_name, 'aac');
      const ap = packetsOf(p, 'audio');
      assert.ok(ap.length >= 300, `HLS audio packets: ${ap.length}`);
      assert.ok(monotonic(ap));
    } else {
      assert.equal(a, undefined, 'HLS: no audio stream');
      assert.equal(v.codec_name, 'h264');
      const vp = packetsOf(p, 'video');
      assert.ok(vp.length >= 175, `HLS video packets: ${vp.length}`);
      assert.ok(monotonic(vp));
    }
  });
}

test('HTTP players outlast the HTTP idle timeout; idle connections do not', async () => {
  const s2 = await startServer({ args: ['--set', 'http_timeout_ms=1000', '--set', 'hls_segment_ms=1000'] });
  try {
    // Both wait for a publisher longer than the idle timeout, then play it.
    const flv = run('ffmpeg', ['-hide_banner', '-nostdin', '-loglevel', 'error', '-i', `${s2.http}/live/t.flv`, '-t', '4', '-c', 'copy', '-progress', 'pipe:1', '-f', 'null', '-'], { timeoutMs: 30000 });
    const held = fetch(`${s2.http}/live/t.m3u8`);
    // An idle keep-alive connection after an ordinary request.
    const idle = net.connect(s2.httpPort, '127.0.0.1');
    idle.on('error', () => {});
    let reply = '';
    idle.on('data', (d) => { reply += d; });
    const idleClosed = new Promise((r) => idle.on('close', r));
    idle.write('GET /nothing/here HTTP/1.1\r\nHost: x\r\n\r\n');
    await sleep(2500);
    const pub = publish(`${s2.rtmp}/live/t`, { seconds: 8 });
    const r = await flv;
    const frames = [...r.out.matchAll(/frame=(\d+)/g)].map((m) => Number(m[1]));
    assert.equal(r.code, 0, r.err);
    assert.ok(frames[frames.length - 1] >= 90, `HTTP-FLV frames after the wait: ${frames[frames.length - 1]}`);
    assert.equal((await held).status, 200, 'the held playlist request got its playlist');
    assert.match(reply, /^HTTP\/1.1 404/);
    assert.equal(await Promise.race([idleClosed.then(() => 'closed'), sleep(10000).then(() => 'open')]), 'closed');
    await pub.done;
  } finally {
    await s2.stop();
  }
});

test('acknowledgements count every byte received, the handshake too', async () => {
  const s = await rtmpSession(srv.rtmpPort, 'live', { keepReading: false });
  const acks = [];
  readMessages(s, (m) => { if (m.type === 3) acks.push(m.payload.readUInt32BE(0)); });
  // What rtmpSession sent: C0+C1, C2, connect and createStream.
  const app = 'live';
  let sent = 1537 + 1536 +
    chunk(3, 20, 0, amf('connect', 1, { app, tcUrl: `rtmp://127.0.0.1:${srv.rtmpPort}/${app}`, flashVer: 'LNX 9,0,124,2' })).length +
    chunk(3, 20, 0, amf('createStream', 2, null)).length;
  // A window that only the very last byte completes: the one acknowledgement
  // then carries the total, and only if the handshake's bytes are counted.
  const data = chunk(5, 18, 0, Buffer.alloc(6000));
  const win = Buffer.alloc(4);
  const winMsg = () => chunk(2, 5, 0, win);
  sent += winMsg().length + data.length;
  win.writeUInt32BE(sent);
  s.write(Buffer.concat([winMsg(), data]));
  await sleep(500);
  assert.deepEqual(acks, [sent]);
  s.destroy();
});
