// Helpers for the recording tests: API shorthands over the official SDK,
// a local HTTP receiver for callbacks and OnDemandUrl, and ffprobe checks
// of recorded files against what ffmpeg published.
import http from 'node:http';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { popClient } from './api.mjs';
import { DOMAIN, sleep } from './server.mjs';
import { probe, packetsOf } from './media.mjs';

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
