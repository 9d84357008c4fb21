#!/usr/bin/env node
// bench/studio/run.mjs - the production studio's costs and delays, in one run:
//
//   1. CPU of one running scene: four 720p30 inputs in a 2x2 layout, output
//      720p30 (lp_hd: x264 veryfast, zerolatency, 2500 kbit/s CBR-capped, GOP
//      2 s, no B-frames; AAC 128 kbit/s 44.1 kHz stereo). Server CPU seconds
//      per second of output, minus the same server's CPU with the inputs
//      published and no caster (ingest is not the studio's cost). Then the
//      same decode + compose + encode as one `ffmpeg -filter_complex` reading
//      the same four streams from the server, with the same encoder settings
//      and the same (bilinear) scaler; its process CPU. Windows of the two
//      alternate (--rounds, each --seconds long); the ratio is of the medians.
//   2. StartCasterScene's response -> the first decodable frame (the first
//      H.264 keyframe after the sequence header) at the returned StreamUrl,
//      read by a plain HTTP-FLV client started as the response arrives.
//   3. CopyCasterSceneConfig (the take) -> the first PGM picture with the new
//      layout, seen by an ffmpeg decoding PGM (-threads 1, low_delay) that
//      stays connected; layouts alternate between the 2x2 grid and black.
//
//   node bench/studio/run.mjs [--bin build/onair] [--seconds 20] [--rounds 3] [--takes 10] [--starts 10]
//
// Inputs are four 20 s 720p30 samples (testsrc2 in four hues, 2.5 Mbit/s,
// GOP 2 s, four tones), made once in $TMPDIR/onair-bench-studio and
// published with `ffmpeg -re -stream_loop -1 -c copy` (next to no CPU).
// Prints a JSON summary last.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');
const args = Object.fromEntries(process.argv.slice(2).join(' ').split('--').filter(Boolean)
  .map((kv) => kv.trim().split(/\s+/)).map(([k, v]) => [k, v ?? 'true']));
const SECONDS = Number(args.seconds || 20);
const TAKES = Number(args.takes || 10);
const STARTS = Number(args.starts || 10);
const ROUNDS = Number(args.rounds || 3);
process.env.ONAIR_BIN = path.resolve(args.bin || process.env.ONAIR_BIN || path.join(repo, 'build/onair'));

const { startServer, sleep, DOMAIN } = await import(path.join(repo, 'tests/integration/lib/server.mjs'));
const { popClient } = await import(path.join(repo, 'tests/integration/lib/api.mjs'));

const HZ = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
function cpuSeconds(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / HZ; // utime + stime
}
const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]; };
const round3 = (x) => Math.round(x * 1000) / 1000;

// ===== inputs =====

const cache = path.join(os.tmpdir(), 'onair-bench-studio');
mkdirSync(cache, { recursive: true });
const HUES = [0, 90, 180, 270], TONES = [440, 660, 880, 1100];
const samples = HUES.map((h, i) => {
  const file = path.join(cache, `in${i}-720p30.flv`);
  if (!existsSync(file)) {
    console.log(`making ${file} ...`);
    const r = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y',
      '-f', 'lavfi', '-i', `testsrc2=size=1280x720:rate=30,hue=h=${h}`, '-f', 'lavfi', '-i', `sine=frequency=${TONES[i]}:sample_rate=44100`,
      '-t', '20', '-c:v', 'libx264', '-preset', 'veryfast', '-b:v', '2500k', '-maxrate', '2500k', '-bufsize', '2500k',
      '-g', '60', '-keyint_min', '60', '-sc_threshold', '0', '-pix_fmt', 'yuv420p',
      '-c:a', 'aac', '-b:a', '128k', '-ac', '2', '-f', 'flv', file], { stdio: 'inherit' });
    if (r.status !== 0) process.exit(1);
  }
  return file;
});

const srv = await startServer({ args: ['--set', 'log_level=info'] });
const { call } = popClient(srv);
const pubs = samples.map((file, i) => spawn('ffmpeg', ['-hide_banner', '-nostdin', '-loglevel', 'error', '-re', '-stream_loop', '-1',
  '-i', file, '-c', 'copy', '-f', 'flv', `${srv.rtmp}/bench/in${i}`], { stdio: 'ignore' }));
const results = { machine: `${os.cpus()[0].model}, ${os.cpus().length} cores`, seconds: SECONDS };
const kill = async (p) => { if (p.exitCode === null && p.signalCode === null) { p.kill('SIGKILL'); await new Promise((r) => p.on('exit', r)); } };

try {
  await sleep(3000);

  // ===== baseline: ingest only =====
  let c0 = cpuSeconds(srv.child.pid), t0 = Date.now();
  await sleep(10000);
  const baseline = (cpuSeconds(srv.child.pid) - c0) / ((Date.now() - t0) / 1000);
  results.ingest_cpu_per_s = round3(baseline);

  // ===== 1: one PGM scene, 2x2, against ffmpeg =====
  const id = (await call('CreateCaster', { ClientToken: `bench-${Date.now()}`, ChargeType: 'PostPaid', NormType: 1 })).CasterId;
  await call('SetCasterConfig', { CasterId: id, DomainName: DOMAIN, TranscodeConfig: JSON.stringify({ casterTemplate: 'lp_hd' }) });
  for (let i = 0; i < 4; i++) {
    await call('AddCasterVideoResource', { CasterId: id, ResourceName: `in${i}`, LocationId: `RV0${i + 1}`, LiveStreamUrl: `${srv.rtmp}/bench/in${i}` });
  }
  const locs = ['RV01', 'RV02', 'RV03', 'RV04'];
  const grid = (await call('AddCasterLayout', {
    CasterId: id, BlendList: locs, MixList: locs,
    VideoLayer: [[0, 0], [0.5, 0], [0, 0.5], [0.5, 0.5]].map((p) => ({ HeightNormalized: 0.5, WidthNormalized: 0.5, PositionRefer: 'topLeft', PositionNormalized: p })),
    AudioLayer: locs.map(() => ({ VolumeRate: 1, ValidChannel: 'all' })),
  })).LayoutId;
  // Everything off the canvas: a black picture, for the take measurement.
  const black = (await call('AddCasterLayout', {
    CasterId: id, BlendList: ['RV01'], MixList: ['RV01'],
    VideoLayer: [{ HeightNormalized: 0.1, WidthNormalized: 0.1, PositionRefer: 'topLeft', PositionNormalized: [-1, -1] }],
    AudioLayer: [{ VolumeRate: 1 }],
  })).LayoutId;
  // 1: alternate windows of the scene and of ffmpeg, so that noise on the
  // (shared) machine falls on both alike; the ratio is of the medians.
  const fc = '[0:v]scale=640:360:flags=bilinear[a];[1:v]scale=640:360:flags=bilinear[b];[2:v]scale=640:360:flags=bilinear[c];'
    + '[3:v]scale=640:360:flags=bilinear[d];[a][b][c][d]xstack=inputs=4:layout=0_0|w0_0|0_h0|w0_h0,format=yuv420p[v];'
    + '[0:a][1:a][2:a][3:a]amix=inputs=4:normalize=0[aout]';
  const ffArgs = ['-hide_banner', '-nostdin', '-loglevel', 'error', '-stats',
    ...[0, 1, 2, 3].flatMap((i) => ['-i', `${srv.rtmp}/bench/in${i}`]),
    '-filter_complex', fc, '-map', '[v]', '-map', '[aout]',
    '-c:v', 'libx264', '-preset', 'veryfast', '-tune', 'zerolatency', '-b:v', '2500k', '-maxrate', '2500k', '-bufsize', '2500k',
    '-g', '60', '-keyint_min', '60', '-bf', '0', '-x264-params', 'scenecut=0', '-forced-idr', '1',
    '-c:a', 'aac', '-b:a', '128k', '-ar', '44100', '-ac', '2', '-f', 'flv', '-y', '/dev/null'];
  results.ffmpeg_command = `ffmpeg ${ffArgs.map((a) => (/[\s;|[\]]/.test(a) ? `'${a}'` : a)).join(' ')}`;
  results.rounds = [];
  let started, pvw, pgm;
  const startScene = async () => {
    started = await call('StartCaster', { CasterId: id });
    pvw = started.PvwSceneInfos.SceneInfo[0];
    pgm = started.PgmSceneInfos.SceneInfo[0];
    // One running scene: PGM. PVW encodes only between StartCasterScene and StopCasterScene.
    await call('StopCasterScene', { CasterId: id, SceneId: pvw.SceneId });
    await call('SetCasterSceneConfig', { CasterId: id, SceneId: pgm.SceneId, LayoutId: grid });
  };
  for (let round = 0; round < ROUNDS; round++) {
    await startScene();
    await sleep(5000);
    const counter = flvCounter(pgm.StreamUrl);
    await sleep(2000);
    let c1 = cpuSeconds(srv.child.pid), t1 = Date.now();
    const f0 = counter.video;
    await sleep(SECONDS * 1000);
    let wall = (Date.now() - t1) / 1000;
    const sceneCpu = (cpuSeconds(srv.child.pid) - c1) / wall;
    const onair = { server_cpu_per_s: round3(sceneCpu), scene_cpu_per_s: round3(sceneCpu - baseline), output_fps: round3((counter.video - f0) / wall) };
    counter.stop();
    await call('StopCaster', { CasterId: id });
    await sleep(2000);

    const ff = spawn('ffmpeg', ffArgs, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stats = '';
    ff.stderr.on('data', (d) => { stats = (stats + d).slice(-2000); });
    const frameCount = () => { const m = [...stats.matchAll(/frame=\s*(\d+)/g)]; return m.length ? Number(m[m.length - 1][1]) : 0; };
    await sleep(7000);
    c1 = cpuSeconds(ff.pid); t1 = Date.now();
    const n0 = frameCount();
    await sleep(SECONDS * 1000);
    wall = (Date.now() - t1) / 1000;
    const ffmpeg = { cpu_per_s: round3((cpuSeconds(ff.pid) - c1) / wall), output_fps: round3((frameCount() - n0) / wall) };
    await kill(ff);
    results.rounds.push({ onair, ffmpeg, ratio: round3(onair.scene_cpu_per_s / ffmpeg.cpu_per_s) });
    console.log(`round ${round + 1}:`, results.rounds[round]);
    await sleep(2000);
  }
  const med = (f) => pct(results.rounds.map(f), 50);
  results.onair_scene_cpu_per_s_median = med((r) => r.onair.scene_cpu_per_s);
  results.ffmpeg_cpu_per_s_median = med((r) => r.ffmpeg.cpu_per_s);
  results.cpu_ratio_onair_over_ffmpeg = round3(results.onair_scene_cpu_per_s_median / results.ffmpeg_cpu_per_s_median);
  await startScene();

  // ===== 3: the take =====
  const watcher = spawn('ffmpeg', ['-hide_banner', '-nostdin', '-loglevel', 'error', '-threads', '1', '-fflags', 'nobuffer', '-flags', 'low_delay',
    '-i', pgm.StreamUrl, '-an', '-vf', 'scale=64:36', '-f', 'rawvideo', '-pix_fmt', 'gray', 'pipe:1'], { stdio: ['ignore', 'pipe', 'ignore'] });
  const frames = [];
  let buf = Buffer.alloc(0);
  watcher.stdout.on('data', (d) => {
    buf = Buffer.concat([buf, d]);
    while (buf.length >= 64 * 36) {
      let sum = 0;
      for (let i = 0; i < 64 * 36; i++) sum += buf[i];
      frames.push({ t: Date.now(), luma: sum / (64 * 36) });
      buf = buf.subarray(64 * 36);
    }
    if (frames.length > 3000) frames.splice(0, 1000);
  });
  await sleep(3000);
  const takes = [];
  for (let i = 0; i < TAKES; i++) {
    const toBlack = i % 2 === 0;
    await call('SetCasterSceneConfig', { CasterId: id, SceneId: pvw.SceneId, LayoutId: toBlack ? black : grid });
    await sleep(800);
    const ts = Date.now();
    await call('CopyCasterSceneConfig', { CasterId: id, FromSceneId: pvw.SceneId, ToSceneId: pgm.SceneId });
    let seen = null;
    while (!seen && Date.now() - ts < 5000) {
      seen = frames.find((f) => f.t >= ts && (toBlack ? f.luma < 30 : f.luma > 50));
      if (!seen) await sleep(5);
    }
    if (!seen) throw new Error(`take ${i}: PGM never changed`);
    takes.push(seen.t - ts);
    await sleep(700);
  }
  await kill(watcher);
  results.take_ms = { p50: pct(takes, 50), max: Math.max(...takes), all: takes };
  console.log('take to PGM (ms):', results.take_ms);

  // ===== 2: StartCasterScene -> first decodable frame =====
  const starts = [];
  for (let i = 0; i < STARTS; i++) {
    await sleep(1000);
    const r = await call('StartCasterScene', { CasterId: id, SceneId: pvw.SceneId });
    const tr = Date.now();
    const tk = await firstKeyframe(r.StreamUrl);
    starts.push(tk - tr);
    await call('StopCasterScene', { CasterId: id, SceneId: pvw.SceneId });
  }
  results.start_ms = { p50: pct(starts, 50), max: Math.max(...starts), all: starts };
  console.log('StartCasterScene to first decodable frame (ms):', results.start_ms);
  // ...and ffmpeg decodes that stream from its start.
  const r = await call('StartCasterScene', { CasterId: id, SceneId: pvw.SceneId });
  const dec = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-i', r.StreamUrl, '-frames:v', '1', '-f', 'null', '-'], { timeout: 20000 });
  results.start_decodes = dec.status === 0;
  await call('StopCaster', { CasterId: id });
} finally {
  for (const p of pubs) await kill(p);
  await srv.stop();
}
console.log(JSON.stringify(results, null, 2));

// ===== HTTP-FLV helpers =====

// Parses FLV tags from an HTTP-FLV URL; calls onTag(type, data) for each.
function flvRead(url, onTag) {
  let req;
  const done = new Promise((resolve, reject) => {
    req = http.get(url, (res) => {
      if (res.statusCode !== 200) { reject(new Error(`${url}: HTTP ${res.statusCode}`)); return; }
      let b = Buffer.alloc(0), header = false;
      res.on('data', (d) => {
        b = Buffer.concat([b, d]);
        if (!header) { if (b.length < 13) return; b = b.subarray(13); header = true; }
        while (b.length >= 11) {
          const size = b.readUIntBE(1, 3);
          if (b.length < 11 + size + 4) break;
          if (onTag(b[0], b.subarray(11, 11 + size)) === false) { req.destroy(); resolve(); return; }
          b = b.subarray(11 + size + 4);
        }
      });
      res.on('end', resolve);
      res.on('error', resolve);
    });
    req.on('error', (e) => (e.code === 'ECONNRESET' ? resolve() : reject(e)));
  });
  return { done, stop: () => req.destroy() };
}

function flvCounter(url) {
  const c = { video: 0 };
  const r = flvRead(url, (type, data) => { if (type === 9 && data[1] === 1) c.video++; });
  c.stop = r.stop;
  return c;
}

// Wall time (ms) at which the first decodable video frame arrives.
async function firstKeyframe(url) {
  let seq = false, at = 0;
  await flvRead(url, (type, data) => {
    if (type !== 9) return true;
    if (data[1] === 0) seq = true;
    else if (seq && data[1] === 1 && data[0] >> 4 === 1) { at = Date.now(); return false; }
    return true;
  }).done;
  if (!at) throw new Error('no keyframe');
  return at;
}
