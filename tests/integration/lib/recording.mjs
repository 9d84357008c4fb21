// Helpers for the recording tests: API shorthands over the official SDK,
// a local HTTP receiver for callbacks and OnDemandUrl, and ffprobe checks
// of recorded files against what ffmpeg published.
import http from 'node:http';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync, existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { popClient } from './api.mjs';
import { DOMAIN, sleep } from './server.mjs';
import { probe, packetsOf, run } from './media.mjs';

export const iso = (ms) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

// The URL token of a bucket, as the server derives it from master.key
// (src/store/bucket.h): an owned bucket's objects are served only with it.
export function ossToken(dataDir, bucket) {
  const master = readFileSync(path.join(dataDir, 'master.key'));
  const urlKey = createHmac('sha256', master).update('onair url tokens v1').digest();
  return createHmac('sha256', urlKey).update(`oss:${bucket}`).digest('hex').slice(0, 32);
}

// The HTTP URL of an object (object: a path relative to the bucket, not encoded).
export function ossUrl(srv, bucket, object) {
  return `${srv.http}/oss/~${ossToken(srv.dataDir, bucket)}/${bucket}/${object.split('/').map(encodeURIComponent).join('/')}`;
}

export function recApi(srv) {
  const { call } = popClient(srv);
  const base = (stream, app = 'live') => ({ DomainName: DOMAIN, AppName: app, StreamName: stream });
  return {
    call,
    command: (stream, Command, app = 'live') => call('RealTimeRecordCommand', { ...base(stream, app), Command }),
    addConfig: (params) => call('AddLiveAppRecordConfig', { DomainName: DOMAIN, OssEndpoint: 'oss-local', ...params }),
    async files(stream, { app = 'live', from = Date.now() - 3600e3, to = Date.now() + 600e3 } = {}) {
      const r = await call('DescribeLiveStreamRecordIndexFiles', {
        ...base(stream, app), StartTime: iso(from), EndTime: iso(to), PageSize: 30,
      });
      return r.RecordIndexInfoList.RecordIndexInfo;
    },
    // Polls until `n` files (of `format`, if given) are listed.
    async waitFiles(stream, n, { format, app = 'live', timeoutMs = 20000 } = {}) {
      const t0 = Date.now();
      let list = [];
      while (Date.now() - t0 < timeoutMs) {
        list = (await this.files(stream, { app })).filter((f) => !format || f.Format === format);
        if (list.length >= n) return list;
        await sleep(200);
      }
      throw new Error(`expected ${n} ${format || ''} file(s) of ${stream}, got ${list.length}`);
    },
  };
}

// Expects an SDK call to fail with `code` (and HTTP status, when given).
export async function rejects(promise, code, status) {
  try {
    await promise;
  } catch (e) {
    assert.equal(e.code, code, `expected ${code}, got ${e.code}: ${e.message}`);
    if (status) assert.equal(e.entry?.response?.statusCode ?? e.statusCode ?? status, status);
    return e;
  }
  assert.fail(`expected ${code}, but the call succeeded`);
}

// A local HTTP server that records every request; `reply(req, body)` may answer.
export async function receiver(reply) {
  const got = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      const r = { method: req.method, url: req.url, headers: req.headers, body, at: Date.now() };
      got.push(r);
      const out = reply ? reply(r) : null;
      res.writeHead(out?.status || 200, { 'content-type': 'application/json' });
      res.end(out?.body ?? '{}');
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${server.address().port}`;
  return {
    url, got,
    json: () => got.filter((g) => g.method === 'POST').map((g) => ({ ...g, json: JSON.parse(g.body) })),
    async wait(pred, timeoutMs = 20000) {
      const t0 = Date.now();
      while (Date.now() - t0 < timeoutMs) {
        const hit = got.find(pred);
        if (hit) return hit;
        await sleep(100);
      }
      throw new Error(`no matching request; got ${JSON.stringify(got.map((g) => [g.method, g.url, g.body]))}`);
    },
    close: () => new Promise((r) => server.close(r)),
  };
}

// ffprobe of a recording: video/audio packets and the container duration.
export async function probeFile(url) {
  const p = await probe(url, { packets: true });
  return { p, v: packetsOf(p, 'video'), a: packetsOf(p, 'audio'), duration: Number(p.format.duration) };
}

// The recorded video packets start with a keyframe and step by one frame
// interval (ms) everywhere: no frame missing, none twice. Fragmented MP4
// has no edit list to start video after audio, so its muxer moves the first
// video frame to 0: `firstSlack` allows that much more on the first step.
export function assertContiguous(v, frameMs, label = '', { firstSlack = 0 } = {}) {
  assert.ok(v.length > 0, `${label}: no video`);
  assert.equal(v[0].flags[0], 'K', `${label}: first frame is a keyframe`);
  assert.ok(Math.abs(Number(v[0].dts_time ?? v[0].pts_time)) < 0.2, `${label}: starts near 0, got ${v[0].dts_time}`);
  for (let i = 1; i < v.length; i++) {
    const d = (Number(v[i].dts_time) - Number(v[i - 1].dts_time)) * 1000;
    const slack = 2 + (i === 1 ? firstSlack : 0);
    assert.ok(d >= frameMs - 2 && d <= frameMs + slack, `${label}: frame ${i} steps ${d} ms, not ${frameMs}`);
  }
}

// `part` (packet sizes) appears in `whole` as one contiguous run; returns its start.
export function contiguousIn(part, whole) {
  const a = part.map((x) => Number(x.size)), b = whole.map((x) => Number(x.size));
  for (let i = 0; i + a.length <= b.length; i++) {
    let ok = true;
    for (let j = 0; j < a.length && ok; j++) ok = a[j] === b[i + j];
    if (ok) return i;
  }
  return -1;
}

// ---- exact comparisons: the recording's packets against the published ones ----
//
// A source is generated to a file first and published with `-c copy`, so the
// payload of every packet the server received is known. ffmpeg's framemd5
// gives each packet's stream, timestamps, size and MD5. Payloads are made
// comparable across containers with bitstream filters: H.264 to Annex B
// without parameter sets and access unit delimiters (which MPEG-TS adds), AAC
// without ADTS headers (which MPEG-TS adds). What is left is byte-identical in
// FLV, MP4 and TS when the same frame was recorded.

const NORMALISE = ['-bsf:v', 'h264_mp4toannexb,filter_units=remove_types=7|8|9', '-bsf:a', 'aac_adtstoasc'];

// Writes a test pattern (and tone) of `seconds` to an FLV file.
export async function makeSource(file, { seconds = 10, size = '320x240', rate = 25, gop = 25, audio = true } = {}) {
  const args = ['-hide_banner', '-nostdin', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', `testsrc=size=${size}:rate=${rate}`];
  if (audio) args.push('-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100');
  args.push('-t', String(seconds), '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency',
    '-pix_fmt', 'yuv420p', '-g', String(gop), '-keyint_min', String(gop), '-sc_threshold', '0');
  if (audio) args.push('-c:a', 'aac', '-b:a', '64k');
  args.push('-f', 'flv', file);
  const r = await run('ffmpeg', args, { timeoutMs: 120000 });
  if (r.code !== 0) throw new Error(`cannot make ${file}: ${r.err}`);
  return file;
}

// Publishes a file in real time, packets as they are (`-c copy`).
export function publishFile(url, file, { extra = [] } = {}) {
  const proc = spawn('ffmpeg', ['-hide_banner', '-nostdin', '-loglevel', 'error', '-re', '-i', file,
    '-c', 'copy', ...extra, '-f', 'flv', url], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  proc.stderr.on('data', (d) => { err += d; });
  const done = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal, err })));
  return { proc, done, stderr: () => err };
}

// Waits for the server to accept the publish of app/stream; returns the wall
// clock then, the origin of the publisher's media clock (within ~0.1 s).
export async function publishedAt(srv, app, stream) {
  const re = new RegExp(`/${app}/${stream}: publish$`, 'm');
  await srv.waitLog(re, 20000);
  return Date.now();
}

// Every packet of a file or URL: { video: [...], audio: [...], order: [...] },
// each { ms, size, hash, pos } with pos its place in the container's order.
export async function packetHashes(url) {
  const r = await run('ffmpeg', ['-hide_banner', '-nostdin', '-loglevel', 'error', '-rw_timeout', '15000000',
    '-i', url, '-map', '0', '-c', 'copy', ...NORMALISE, '-f', 'framemd5', '-'], { timeoutMs: 120000 });
  if (r.code !== 0) throw new Error(`framemd5 of ${url} failed (${r.code}): ${r.err}`);
  const tb = {}, type = {};
  const out = { video: [], audio: [], order: [] };
  for (const line of r.out.split('\n')) {
    let m;
    if ((m = /^#tb (\d+): (\d+)\/(\d+)/.exec(line))) tb[m[1]] = Number(m[2]) / Number(m[3]);
    else if ((m = /^#media_type (\d+): (\w+)/.exec(line))) type[m[1]] = m[2];
    else if (line && !line.startsWith('#')) {
      const f = line.split(',').map((x) => x.trim());
      const kind = type[f[0]];
      if (kind !== 'video' && kind !== 'audio') continue;
      const p = { ms: Math.round(Number(f[1]) * tb[f[0]] * 1e6) / 1e3, size: Number(f[4]), hash: f[5], pos: out.order.length, kind };
      out[kind].push(p);
      out.order.push(p);
    }
  }
  return out;
}

// A published source: its packets with keyframe flags.
export async function sourceOf(file) {
  const src = await packetHashes(file);
  const keys = packetsOf(await probe(file, { packets: true }), 'video').map((x) => x.flags[0] === 'K');
  assert.equal(keys.length, src.video.length);
  src.video.forEach((p, i) => { p.key = keys[i]; });
  return src;
}

// Where the run `part` starts in `whole` (matching size and hash), or -1.
function locate(part, whole) {
  if (!part.length) return -1;
  for (let i = 0; i + part.length <= whole.length; i++) {
    if (whole[i].hash !== part[0].hash || whole[i].size !== part[0].size) continue;
    let ok = true;
    for (let k = 1; k < part.length && ok; k++) ok = whole[i + k].hash === part[k].hash && whole[i + k].size === part[k].size;
    if (ok) return i;
  }
  return -1;
}

// The last source keyframe at or before media time ms.
export function keyAtOrBefore(src, ms) {
  let k = null;
  for (const p of src.video) if (p.key && p.ms <= ms) k = p;
  return k;
}

// Asserts that the recording `rec` (packetHashes) holds exactly the source's
// packets from one place to another in publishing order: in each stream one
// contiguous run of the source's packets (nothing missing, nothing twice,
// nothing foreign), video starting at a keyframe, and together every source
// packet between the first and the last one recorded. `heldAudio` allows
// audio published just before that keyframe (a recording that starts with
// the publish). Timestamps are the source's, shifted by one offset for both
// streams (within tolMs: MPEG-TS works in 90 kHz and interpolates audio).
// Returns { first, last } (source packets, in publishing order) and the runs.
//
// `truncated` is for a file cut short by a crash and repaired: each stream
// still a contiguous run from the start, complete up to where the shorter
// one ends (an MP4 fragment or TS stream may stop one frame earlier in one
// stream than in the other).
export function assertRun(rec, src, label, { heldAudio = false, tolMs = 1.5, truncated = false } = {}) {
  assert.ok(rec.video.length > 0, `${label}: no video`);
  const v0 = locate(rec.video, src.video);
  assert.ok(v0 >= 0, `${label}: the ${rec.video.length} video packets are not one contiguous run of the source's`);
  const v1 = v0 + rec.video.length - 1;
  assert.ok(src.video[v0].key, `${label}: starts with source video packet ${v0}, not a keyframe`);
  let a0 = -1, a1 = -1;
  if (rec.audio.length) {
    a0 = locate(rec.audio, src.audio);
    assert.ok(a0 >= 0, `${label}: the ${rec.audio.length} audio packets are not one contiguous run of the source's`);
    a1 = a0 + rec.audio.length - 1;
  }
  const key = src.video[v0];
  let first = key;
  if (a0 >= 0 && src.audio[a0].pos < key.pos) {
    assert.ok(heldAudio, `${label}: audio from before the first keyframe (source audio ${a0})`);
    first = src.audio[a0];
    assert.ok(!src.video.some((p) => p.pos > first.pos && p.pos < key.pos), `${label}: video skipped before the keyframe`);
  }
  const ends = [src.video[v1], a0 >= 0 ? src.audio[a1] : null].filter(Boolean).sort((x, y) => x.pos - y.pos);
  const last = ends[ends.length - 1];
  // Every source packet from first to last, of each stream, is in the recording.
  const upTo = truncated ? ends[0] : last;
  const inRange = (p) => p.pos >= first.pos && p.pos <= upTo.pos;
  const wantV = src.video.filter((p) => p.pos >= key.pos && p.pos <= upTo.pos).length;
  const gotV = truncated ? rec.video.filter((p, k) => src.video[v0 + k].pos <= upTo.pos).length : rec.video.length;
  assert.equal(gotV, wantV, `${label}: video packets between the first and the last recorded one are missing`);
  const wantA = src.audio.filter(inRange);
  if (wantA.length || rec.audio.length) {
    const gotA = truncated ? rec.audio.filter((p, k) => src.audio[a0 + k].pos <= upTo.pos).length : rec.audio.length;
    assert.equal(gotA, wantA.length, `${label}: audio ${a0}..${a1} but the source has ${wantA.length} audio packets in that span`);
    assert.equal(a0, src.audio.indexOf(wantA[0]), `${label}: audio starts at source audio ${a0}, not ${src.audio.indexOf(wantA[0])}`);
  }
  // One timestamp offset for everything.
  const off = rec.video[0].ms - key.ms;
  const check = (r, s, kind) => r.forEach((p, k) => {
    const d = p.ms - s[k].ms - off;
    assert.ok(Math.abs(d) <= tolMs, `${label}: ${kind} packet ${k} is at ${p.ms.toFixed(1)} ms, the source's ${s[k].ms} ms shifted by ${off.toFixed(1)} (${d.toFixed(1)} ms off)`);
  });
  check(rec.video, src.video.slice(v0), 'video');
  if (a0 >= 0) check(rec.audio, src.audio.slice(a0), 'audio');
  return { first, last, key, v0, v1, a0, a1 };
}

// Several files that follow each other (cycle cuts, restart): each one an
// exact run, the next beginning with the packet after the previous one's last.
export function assertRuns(recs, src, label, opts = {}) {
  const runs = [];
  recs.forEach((rec, i) => {
    const r = assertRun(rec, src, `${label} file ${i}`, { ...opts, heldAudio: i === 0 && opts.heldAudio });
    if (i > 0) assert.equal(r.first.pos, runs[i - 1].last.pos + 1, `${label}: file ${i} does not start right after file ${i - 1}`);
    runs.push(r);
  });
  return runs;
}

// Files under a data dir's object store (bucket-relative names).
export function storedObjects(dataDir, bucket) {
  const root = path.join(dataDir, 'oss', bucket);
  const out = [];
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(path.join(d, e.name));
      else out.push(path.relative(root, path.join(d, e.name)));
    }
  };
  if (existsSync(root)) walk(root);
  return out.sort();
}

// The publisher's media clock, seen from the test: media time at the server
// at wall time t is t - t0 (t0 from publishedAt), give or take the time
// ffmpeg needs to start sending after the publish is accepted (slack ms).
export const mediaWindow = (t0, before, after, slack = 1000) => [before - t0 - slack, after - t0 + 400];

// A recording started at a command sent in media window [lo, hi] begins with
// the last keyframe at or before the command's moment.
export function assertStartsAt(run, src, [lo, hi], label) {
  const next = src.video.find((p) => p.key && p.pos > run.key.pos);
  assert.ok(run.key.ms <= hi && (!next || next.ms > lo),
    `${label}: starts at the keyframe at ${run.key.ms} ms; the command came at ${lo.toFixed(0)}..${hi.toFixed(0)} ms`);
}

// ... and ends with the last packet that arrived before a command in [lo, hi].
export function assertEndsAt(run, [lo, hi], label) {
  assert.ok(run.last.ms >= lo - 100 && run.last.ms <= hi,
    `${label}: ends at ${run.last.ms} ms; the command came at ${lo.toFixed(0)}..${hi.toFixed(0)} ms`);
}

// The segments of an HLS playlist, fetched and joined in playlist order into
// one local MPEG-TS file (for playlists still being written, which ffmpeg's
// HLS demuxer would keep polling). Returns { file, segments }.
export async function joinSegments(url, file) {
  const text = await (await fetch(url)).text();
  const uris = text.split('\n').filter((l) => l && !l.startsWith('#'));
  const parts = [];
  for (const u of uris) {
    const res = await fetch(new URL(u, url));
    assert.equal(res.status, 200, `segment ${u}`);
    parts.push(Buffer.from(await res.arrayBuffer()));
  }
  writeFileSync(file, Buffer.concat(parts));
  return { file, segments: uris, text };
}

// A recording that holds several whole publishes one after the other (an
// automatic recording continued within DelayTime): per stream exactly the
// parts' packets in order, each part's timestamps shifted by one offset,
// and every part after the one before it.
export function assertParts(rec, parts, label, { tolMs = 1.5 } = {}) {
  for (const kind of ['video', 'audio']) {
    const want = parts.flatMap((p) => p[kind]);
    assert.equal(rec[kind].length, want.length, `${label}: ${rec[kind].length} ${kind} packets, the publishes had ${want.length}`);
    let k = 0, prevEnd = -Infinity;
    for (const [i, p] of parts.entries()) {
      const off = rec[kind][k].ms - p[kind][0].ms;
      for (const s of p[kind]) {
        const r = rec[kind][k++];
        assert.ok(r.hash === s.hash && r.size === s.size, `${label}: ${kind} packet ${k - 1} is not publish ${i}'s`);
        assert.ok(Math.abs(r.ms - s.ms - off) <= tolMs, `${label}: ${kind} packet ${k - 1} at ${r.ms} ms, not ${s.ms + off}`);
      }
      assert.ok(p[kind][0].ms + off > prevEnd, `${label}: publish ${i} ${kind} starts before the previous one ends`);
      prevEnd = p[kind][p[kind].length - 1].ms + off;
    }
  }
}
