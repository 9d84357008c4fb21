// The production studio's inputs through the real pipeline, on a small
// canvas (320x180, so the encoder stays cheap): a second onair server is the
// remote source, the first one runs the caster.
//   - live inputs from the other server over RTMP, HTTP-FLV and HLS show
//     their colours (libavformat, reconnecting), and a same-server URL is
//     read in-process (no client connection for it in the server's log);
//   - the program is recorded with RealTimeRecordCommand (app caster) and
//     the recording shows the layout;
//   - a remote input whose publisher goes away holds its last frame, turns
//     black, and comes back on its own when the publisher returns, while the
//     program's audio and video timestamps stay continuous;
//   - ValidChannel picks the left or the right channel of a stereo source;
//   - VOD BeginOffset, EndOffset (negative too) and RepeatNum 0 / n / -1,
//     from onair's storage (oss:// and the /oss/ URL), seen as the colours a
//     file changes through;
//   - A/V sync within a frame, keyframes at the fixed interval, continuous
//     timestamps, measured on the program as a player receives it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer, sleep, DOMAIN } from './lib/server.mjs';
import { popClient } from './lib/api.mjs';
import { publish, probe, run, packetsOf } from './lib/media.mjs';
import { recApi } from './lib/recording.mjs';
import { watch, nearest, pixel, toneAmplitude, flvTap, tsGaps } from './lib/frames.mjs';

const W = 320, H = 180;
// A stalled input holds its last frame this long here (shorter than the default, to save time).
const BLACK_AFTER_MS = 1500;
const SETTLE_MS = 700;
// Quadrant centres: top left, top right, bottom left, bottom right.
const Q = [[80, 45], [240, 45], [80, 135], [240, 135]];
const QUADS = ['topLeft', 'topRight', 'bottomLeft', 'bottomRight'];

let srv, remote, pop, casterId, pgmId, pgmUrl, pgm, tmp;
// The first test's layout: the four live inputs, one per quadrant.
let fourUp;
const pubs = {};

// A solid colour with a tone, published in real time.
function source(url, colour, freq) {
  return publish(url, { seconds: 900, color: colour, size: '160x90', rate: 15, gop: 15, freq });
}

// An ffmpeg publisher of arbitrary lavfi video and audio.
function lavfi(url, video, audio) {
  const proc = spawn('ffmpeg', ['-hide_banner', '-nostdin', '-loglevel', 'error', '-re',
    '-f', 'lavfi', '-i', video, '-f', 'lavfi', '-i', audio, '-t', '900',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-pix_fmt', 'yuv420p', '-g', '30', '-sc_threshold', '0',
    '-c:a', 'aac', '-b:a', '96k', '-f', 'flv', url], { stdio: ['ignore', 'ignore', 'pipe'] });
  const done = new Promise((resolve) => proc.on('exit', (code) => resolve({ code })));
  return { proc, done };
}

async function kill(p) {
  if (!p) return;
  p.proc.kill('SIGKILL');
  await p.done;
}

const colours = (f) => Q.map(([x, y]) => nearest(pixel(f, x, y)));

// The picture at `ss` seconds into a media file, as RGB.
function frameAt(url, ss) {
  return new Promise((resolve, reject) => {
    const p = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-ss', String(ss), '-i', url, '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out = [];
    let err = '';
    p.stdout.on('data', (d) => out.push(d));
    p.stderr.on('data', (d) => { err += d; });
    p.on('exit', (code) => {
      const data = Buffer.concat(out);
      if (code !== 0 || data.length !== W * H * 3) reject(new Error(`decoding ${url} at ${ss} s: ${code} ${err}`));
      else resolve({ data, width: W, height: H });
    });
  });
}

// A layout of up to four inputs, one per quadrant, and the audio of `audio` (default: all, volume 1).
async function quadLayout(locs, audio) {
  const r = await pop.call('AddCasterLayout', {
    CasterId: casterId,
    BlendList: locs,
    VideoLayer: locs.map((_, i) => ({ HeightNormalized: 0.5, WidthNormalized: 0.5, PositionRefer: QUADS[i], PositionNormalized: [0, 0] })),
    MixList: (audio || locs.map((loc) => ({ loc }))).map((a) => a.loc),
    AudioLayer: (audio || locs.map(() => ({}))).map((a) => ({ VolumeRate: a.volume ?? 1, ValidChannel: a.channel || 'all' })),
  });
  return r.LayoutId;
}

const onPgm = (layoutId) => pop.call('SetCasterSceneConfig', { CasterId: casterId, SceneId: pgmId, LayoutId: layoutId });

// Polls until PGM's quadrants show `want` (null = any); returns the frame.
async function until(want, timeoutMs) {
  const t0 = Date.now();
  let got = [];
  while (Date.now() - t0 < timeoutMs) {
    const f = await pgm.frameAfter(Date.now());
    got = colours(f);
    if (want.every((c, i) => c === null || c === got[i])) return f;
    await sleep(100);
  }
  assert.fail(`PGM never showed ${JSON.stringify(want)}; last ${JSON.stringify(got)}`);
}

// Records the quadrant colours of every PGM frame that arrives from now on.
function sampler() {
  const seen = [];
  const t0 = Date.now();
  let last = -1;
  const tick = () => {
    for (const f of pgm.frames) {
      if (f.idx <= last || f.t < t0) continue;
      seen.push({ t: f.t, c: colours(f) });
      last = f.idx;
    }
  };
  // unref: a failed assertion that never reaches stop() must not keep the file alive.
  const timer = setInterval(tick, 150).unref();
  return { seen, stop() { tick(); clearInterval(timer); return seen; } };
}

// The runs of one colour (shorter ones - transitions - left out), as [colour, frames].
function runsOf(list, minLen = 3) {
  const raw = [];
  for (const c of list) {
    if (raw.length && raw[raw.length - 1][0] === c) raw[raw.length - 1][1]++;
    else raw.push([c, 1]);
  }
  const out = [];
  for (const [c, n] of raw) {
    if (n < minLen) continue;
    if (out.length && out[out.length - 1][0] === c) out[out.length - 1][1] += n;
    else out.push([c, n]);
  }
  return out;
}

before(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'onair-caster-inputs-'));
  remote = await startServer({ args: ['--set', 'hls_segment_ms=1000'] });
  srv = await startServer({ args: ['--set', `studio_black_after_ms=${BLACK_AFTER_MS}`] });
  pop = popClient(srv);
  pubs.red = source(`${remote.rtmp}/live/red`, 'red', 440);
  pubs.green = source(`${remote.rtmp}/live/green`, 'green', 660);
  pubs.blue = source(`${remote.rtmp}/live/blue`, 'blue', 880);
  pubs.yellow = source(`${srv.rtmp}/live/yellow`, 'yellow', 1000);
  casterId = (await pop.call('CreateCaster', { ClientToken: 'inputs-1', ChargeType: 'PostPaid', NormType: 1 })).CasterId;
  await pop.call('SetCasterConfig', {
    CasterId: casterId, DomainName: DOMAIN,
    TranscodeConfig: JSON.stringify({ casterTemplate: 'lp_ld', customParams: { video: { width: W, height: H } } }),
  });
  const started = await pop.call('StartCaster', { CasterId: casterId });
  pgmId = started.PgmSceneInfos.SceneInfo[0].SceneId;
  pgmUrl = started.PgmSceneInfos.SceneInfo[0].StreamUrl;
  // Only PGM is watched here: PVW need not be encoded.
  await pop.call('StopCasterScene', { CasterId: casterId, SceneId: started.PvwSceneInfos.SceneInfo[0].SceneId });
  pgm = watch(pgmUrl, { width: W, height: H });
  await pgm.live();
});

after(async () => {
  if (pgm) await pgm.stop();
  for (const p of Object.values(pubs)) await kill(p);
  if (casterId) await pop.call('StopCaster', { CasterId: casterId }).catch(() => {});
  if (srv) await srv.stop();
  if (remote) await remote.stop();
  rmSync(tmp, { recursive: true, force: true });
});

const add = (p) => pop.call('AddCasterVideoResource', { CasterId: casterId, ...p });

test('live inputs from another server (RTMP, HTTP-FLV, HLS) and a same-server one read in-process', async () => {
  await add({ ResourceName: 'red rtmp', LocationId: 'RV01', LiveStreamUrl: `rtmp://127.0.0.1:${remote.rtmpPort}/live/red` });
  await add({ ResourceName: 'green flv', LocationId: 'RV02', LiveStreamUrl: `http://127.0.0.1:${remote.httpPort}/live/green.flv` });
  await add({ ResourceName: 'blue hls', LocationId: 'RV03', LiveStreamUrl: `http://127.0.0.1:${remote.httpPort}/live/blue.m3u8` });
  await add({ ResourceName: 'yellow here', LocationId: 'RV04', LiveStreamUrl: `${srv.rtmp}/live/yellow` });
  fourUp = await quadLayout(['RV01', 'RV02', 'RV03', 'RV04']);
  await onPgm(fourUp);
  // HLS needs a few segments first.
  await until(['red', 'green', 'blue', 'yellow'], 30000);

  // The remote ones are network clients of the other server ...
  const rlog = remote.log();
  assert.match(rlog, /live\.test\.onair\/live\/red: play/);
  assert.match(rlog, /live\.test\.onair\/live\/green: play/);
  assert.match(srv.log(), /studio input RV03 \(http:\/\/127\.0\.0\.1:\d+\/live\/blue\.m3u8\): connected/);
  // ... the local one is not a client of this server at all.
  const log = srv.log();
  assert.match(log, /studio input RV04 \(.*\): reading live\.test\.onair\/live\/yellow in-process/);
  assert.doesNotMatch(log, /play live\.test\.onair\/live\/yellow|live\/yellow: play|studio input RV04 .*connected/);
});

test('an HLS input plays in real time: every colour of a segment shows, in order, for as long as it lasted', async () => {
  // Red, green, blue for half a second each, in one-second segments: a segment
  // arrives in one burst, and each of its colours must still show for its own half second.
  const rgb = (c) => `if(between(mod(T,1.5),${c * 0.5},${c * 0.5 + 0.499}),1,0)`;
  pubs.cycle = lavfi(`${remote.rtmp}/live/cycle`,
    `color=c=black:s=160x90:r=30,format=rgb24,geq=r='255*${rgb(0)}':g='128*${rgb(1)}':b='255*${rgb(2)}'`,
    'sine=f=500:r=48000');
  await add({ ResourceName: 'cycle hls', LocationId: 'RV09', LiveStreamUrl: `http://127.0.0.1:${remote.httpPort}/live/cycle.m3u8` });
  const layout = await quadLayout(['RV09']);
  await onPgm(layout);
  try {
    // Green (an earlier layout may still show red there) comes only from the new input.
    await until(['green', null, null, null], 30000);
    const watched = sampler();
    await sleep(7000);
    const seen = watched.stop();
    const runs = runsOf(seen.map((s) => s.c[0]));
    const detail = JSON.stringify(runs);
    // The first and last runs are cut by the window.
    const inner = runs.slice(1, -1);
    assert.ok(inner.length >= 9, `too few colour changes in 7 s: ${detail}`);
    const order = { red: 'green', green: 'blue', blue: 'red' };
    for (let i = 1; i < runs.length; i++) assert.equal(runs[i][0], order[runs[i - 1][0]], `colours out of order: ${detail}`);
    // Half a second is 15 frames at 30 fps; a frozen or skipped segment shows as ~30 or ~0.
    for (const [c, n] of inner) assert.ok(n >= 9 && n <= 21, `${c} for ${n} frames: ${detail}`);
  } finally {
    await kill(pubs.cycle);
    delete pubs.cycle;
    const list = (await pop.call('DescribeCasterVideoResources', { CasterId: casterId })).VideoResources.VideoResource;
    for (const res of list.filter((x) => x.LocationId === 'RV09'))
      await pop.call('DeleteCasterVideoResource', { CasterId: casterId, ResourceId: res.ResourceId });
  }
});

// Puts PGM on the four live inputs and waits until it shows them: tests that
// need that picture say so themselves instead of relying on the ones before.
async function showFourUp() {
  await onPgm(fourUp);
  await until(['red', 'green', 'blue', 'yellow'], 30000);
}

test('RealTimeRecordCommand records the program (app caster): the file shows the layout', async () => {
  await showFourUp();
  const rec = recApi(srv);
  const stream = /\/caster\/([0-9a-f]{32})\.flv/.exec(pgmUrl)[1];
  await rec.addConfig({ AppName: 'caster', OssBucket: 'rec', OnDemand: 7, RecordFormat: [{ Format: 'flv' }, { Format: 'mp4' }] });
  await rec.command(stream, 'start', 'caster');
  await sleep(3500);
  await rec.command(stream, 'stop', 'caster');
  const files = await rec.waitFiles(stream, 2, { app: 'caster' });
  for (const f of files) {
    assert.equal(f.Width, W, JSON.stringify(f));
    assert.equal(f.Height, H);
    const p = await probe(f.RecordUrl, { packets: true });
    const v = packetsOf(p, 'video');
    assert.ok(v.length >= 75, `${f.Format}: ${v.length} frames in 3.5 s`);
    assert.equal(v[0].flags[0], 'K');
    assert.deepEqual(colours(await frameAt(f.RecordUrl, 2)), ['red', 'green', 'blue', 'yellow'], f.Format);
  }
});

test('a remote publisher goes away: its last frame holds, then black; it comes back on its own', async () => {
  await showFourUp();
  const tap = flvTap(pgmUrl);
  await sleep(1000);
  const watched = sampler();
  await kill(pubs.red);
  const tKill = Date.now();
  // Held: a second after the source stopped (the output is ~0.2 s behind), still red.
  const held = await pgm.frameAfter(tKill + 1200);
  assert.equal(colours(held)[0], 'red', 'the last frame was not held');
  await until(['black', 'green', 'blue', 'yellow'], 10000);
  pubs.red = source(`${remote.rtmp}/live/red`, 'red', 440);
  // Reconnects with backoff (up to 4 s between tries) and shows red again.
  await until(['red', 'green', 'blue', 'yellow'], 30000);
  await sleep(500);
  await tap.stop();
  const seen = watched.stop();
  const tl = runsOf(seen.map((s) => s.c[0])).map(([c]) => c);
  assert.deepEqual(tl, ['red', 'black', 'red'], JSON.stringify(runsOf(seen.map((s) => s.c[0]))));
  // Black came after the hold, not at once.
  const firstBlack = seen.find((s) => s.t > tKill && s.c[0] === 'black');
  assert.ok(firstBlack.t - tKill >= 1000, `black ${firstBlack.t - tKill} ms after the publisher went`);
  // The other inputs never blinked.
  assert.deepEqual(runsOf(seen.map((s) => s.c[1])).map(([c]) => c), ['green']);
  // The program never stopped or jumped: through the stall, the black and the recovery.
  const v = tap.media('video'), a = tap.media('audio');
  assert.ok(v.length > 30 * 3, `${v.length} video frames`);
  assert.deepEqual(tsGaps(v, 33, 34).slice(0, 5), [], 'video timestamps');
  assert.deepEqual(tsGaps(a, 23, 24).slice(0, 5), [], 'audio timestamps');
  assert.match(srv.log(), /studio input RV01 .*(ended|failed).*retrying/);
});

test('ValidChannel: leftChannel and rightChannel take one side of a stereo source', async () => {
  pubs.stereo = lavfi(`${srv.rtmp}/live/stereo`, 'color=c=white:s=160x90:r=15',
    "aevalsrc='0.3*sin(2*PI*440*t)|0.3*sin(2*PI*1000*t)':s=44100");
  await add({ ResourceName: 'stereo', LocationId: 'RV09', LiveStreamUrl: `${srv.rtmp}/live/stereo` });
  const measure = async (channel) => {
    await onPgm(await quadLayout(['RV09'], [{ loc: 'RV09', channel }]));
    await until(['white', null, null, null], 10000);
    // A new input's audio can start a little after its picture: a window
    // that caught part of that start reads low, so read until two agree.
    let prev = null;
    for (let i = 0; i < 4; i++) {
      const s = await pgm.samples(Date.now() + (i ? 0 : SETTLE_MS), 1000);
      assert.ok(s.length > 30000, `only ${s.length} samples`);
      const m = { a440: toneAmplitude(s, 440), a1000: toneAmplitude(s, 1000) };
      const level = (x) => x.a440 + x.a1000;
      if (prev && Math.abs(level(m) / level(prev) - 1) < 0.05) return m;
      prev = m;
    }
    return prev;
  };
  const left = await measure('leftChannel');
  assert.ok(left.a440 > 3000, JSON.stringify(left));
  assert.ok(left.a1000 < left.a440 * 0.05, `right channel heard with leftChannel: ${JSON.stringify(left)}`);
  const right = await measure('rightChannel');
  assert.ok(right.a1000 > 3000, JSON.stringify(right));
  assert.ok(right.a440 < right.a1000 * 0.05, `left channel heard with rightChannel: ${JSON.stringify(right)}`);
  // all: each side stays on its own side, so the (mono) watcher hears each at half.
  const all = await measure('all');
  assert.ok(Math.abs(all.a440 / left.a440 - 0.5) < 0.1 && Math.abs(all.a1000 / right.a1000 - 0.5) < 0.1, JSON.stringify({ left, right, all }));
  await kill(pubs.stereo);
  delete pubs.stereo;
});

test('VOD BeginOffset, EndOffset and RepeatNum play exactly that part, that many times', async () => {
  // 3 s: red, then green, then blue (a second each), a keyframe every 5 frames.
  const media = path.join(srv.dataDir, 'oss', 'media');
  mkdirSync(media, { recursive: true });
  const seg = (c) => ['-f', 'lavfi', '-i', `color=c=${c}:s=160x90:r=15:d=1`];
  const tone = (f) => ['-f', 'lavfi', '-i', `sine=f=${f}:d=1`];
  const r = await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...seg('red'), ...seg('green'), ...seg('blue'), ...tone(440), ...tone(660), ...tone(880),
    '-filter_complex', '[0:v][3:a][1:v][4:a][2:v][5:a]concat=n=3:v=1:a=1[v][a]', '-map', '[v]', '-map', '[a]',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '5', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-movflags', '+faststart', path.join(media, 'colours.mp4')]);
  assert.equal(r.code, 0, r.err);
  const layout = await quadLayout(['RV05', 'RV06', 'RV07', 'RV08']);
  await onPgm(layout);
  await until(['black', 'black', 'black', 'black'], 5000);
  const watched = sampler();
  const file = 'oss://media/colours.mp4';
  await add({ ResourceName: 'from 1 s, once', LocationId: 'RV05', VodUrl: file, BeginOffset: 1000, RepeatNum: 0 });
  await add({ ResourceName: 'to 1 s before the end, twice', LocationId: 'RV06', VodUrl: file, EndOffset: -1000, RepeatNum: 1 });
  await add({ ResourceName: '0.5-1.5 s, three times', LocationId: 'RV07', VodUrl: file, BeginOffset: 500, EndOffset: 1500, RepeatNum: 2 });
  await add({ ResourceName: 'the last second, looping', LocationId: 'RV08', VodUrl: `${srv.http}/oss/media/colours.mp4`, BeginOffset: 2000, RepeatNum: -1 });
  // The longest (RV07: 3 x 1 s) has ended, held its frame and gone black.
  await sleep(4000 + BLACK_AFTER_MS + 2000);
  const seen = watched.stop();
  const runs = (q) => {
    const r = runsOf(seen.map((s) => s.c[q]));
    // Before its first picture an input is black.
    if (r.length && r[0][0] === 'black') r.shift();
    return r;
  };
  const names = (q) => runs(q).map(([c]) => c);
  const detail = JSON.stringify([0, 1, 2, 3].map(runs));
  assert.deepEqual(names(0), ['green', 'blue', 'black'], `BeginOffset 1000, RepeatNum 0: ${detail}`);
  assert.deepEqual(names(1), ['red', 'green', 'red', 'green', 'black'], `EndOffset -1000, RepeatNum 1: ${detail}`);
  assert.deepEqual(names(2), ['red', 'green', 'red', 'green', 'red', 'green', 'black'], `500-1500, RepeatNum 2: ${detail}`);
  assert.deepEqual(names(3), ['blue'], `BeginOffset 2000, looping: ${detail}`);
  // Each play of RV07 shows half a second of each colour (15 frames at 30 fps).
  for (const [c, n] of runs(2).slice(0, 5)) assert.ok(n >= 10 && n <= 20, `${c} for ${n} frames: ${detail}`);
  const list = (await pop.call('DescribeCasterVideoResources', { CasterId: casterId })).VideoResources.VideoResource;
  for (const res of list.filter((x) => ['RV05', 'RV06', 'RV07', 'RV08'].includes(x.LocationId)))
    await pop.call('DeleteCasterVideoResource', { CasterId: casterId, ResourceId: res.ResourceId });
});

test('A/V sync within a frame, keyframes every 2 s, continuous timestamps (as a player receives PGM)', async (t) => {
  // A flash (white picture) and a 1 kHz beep, together, for 0.2 s of every second.
  pubs.flash = lavfi(`${srv.rtmp}/live/flash`, "color=c=black:s=160x90:r=30,geq=lum='if(lt(mod(T,1),0.2),235,16)':cb=128:cr=128",
    "aevalsrc='if(lt(mod(t,1),0.2),0.5*sin(2*PI*1000*t),0)':s=44100");
  const r = await pop.call('AddCasterLayout', {
    CasterId: casterId, BlendList: ['RV10'], MixList: ['RV10'],
    VideoLayer: [{ HeightNormalized: 1, WidthNormalized: 1, PositionRefer: 'topLeft', PositionNormalized: [0, 0] }],
    AudioLayer: [{ VolumeRate: 1, ValidChannel: 'all' }],
  });
  await onPgm(r.LayoutId);
  await sleep(1000);
  // The capture starts before the input does: sync holds from the input's first picture on.
  const file = path.join(tmp, 'pgm.flv');
  const tap = flvTap(pgmUrl, { file });
  await sleep(500);
  await add({ ResourceName: 'flash', LocationId: 'RV10', LiveStreamUrl: `${srv.rtmp}/live/flash` });
  await sleep(6000);
  await tap.stop();

  const v = tap.media('video'), a = tap.media('audio');
  assert.deepEqual(tsGaps(v, 33, 34).slice(0, 5), [], 'video timestamps');
  assert.deepEqual(tsGaps(a, 23, 24).slice(0, 5), [], 'audio timestamps');
  // A player starts on a keyframe; then one every 60 frames (2 s at 30 fps), and no other.
  assert.ok(v.length >= 150, `${v.length} frames`);
  v.forEach((f, i) => assert.equal(f.key, i % 60 === 0, `frame ${i} (ts ${f.ts}) keyframe ${f.key}`));
  const p = await probe(file, { packets: true });
  const pv = packetsOf(p, 'video');
  assert.deepEqual(pv.map((x, i) => i).filter((i) => pv[i].flags[0] === 'K'), pv.map((x, i) => i).filter((i) => i % 60 === 0));

  // Flash onsets (first bright frame) against beep onsets (end of a silence), in the file's timeline.
  const vs = await run('ffmpeg', ['-hide_banner', '-nostats', '-i', file, '-an', '-vf', 'signalstats,metadata=mode=print:key=lavfi.signalstats.YAVG', '-f', 'null', '-']);
  const frames = [];
  let pts = null;
  for (const line of vs.err.split('\n')) {
    const m = /pts_time:([\d.]+)/.exec(line);
    if (m) pts = Number(m[1]);
    const y = /lavfi\.signalstats\.YAVG=([\d.]+)/.exec(line);
    if (y && pts !== null) frames.push({ t: pts, y: Number(y[1]) });
  }
  const flashes = frames.filter((f, i) => i > 0 && f.y > 120 && frames[i - 1].y < 60).map((f) => f.t);
  const as = await run('ffmpeg', ['-hide_banner', '-nostats', '-i', file, '-vn', '-af', 'silencedetect=noise=-20dB:d=0.1', '-f', 'null', '-']);
  const beeps = [...as.err.matchAll(/silence_end: ([\d.]+)/g)].map((m) => Number(m[1]));
  assert.ok(flashes.length >= 3, `flashes at ${flashes}`);
  const offsets = flashes.map((t) => {
    const b = beeps.reduce((best, x) => (Math.abs(x - t) < Math.abs(best - t) ? x : best), Infinity);
    return Math.round((b - t) * 1000);
  });
  t.diagnostic(`audio minus video at each flash (ms): ${offsets}`);
  // One frame at 30 fps.
  assert.ok(offsets.every((d) => Math.abs(d) <= 34), `audio minus video at each flash (ms): ${offsets}`);
  await kill(pubs.flash);
  delete pubs.flash;
});
