// Recording around the publisher's life, with the official SDK and ffmpeg:
// a publisher that drops during a manual recording, an automatic recording
// interrupted and continued in the same file within DelayTime (also with new
// codec headers), DelayTime running out, OnDemand 2 (publish URL) and 1
// (OnDemandUrl), the recording callbacks (signed, retried, failing, timing
// out) as small local HTTP servers receive them, DescribeLiveRecordNotifyRecords,
// and a disk too slow for the stream. Recordings are compared packet by
// packet with the published files (lib/recording.mjs).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { createHash } from 'node:crypto';
import { startServer, sleep, DOMAIN } from './lib/server.mjs';
import { publish, record, probe, packetsOf } from './lib/media.mjs';
import {
  recApi, receiver, probeFile, iso, makeSource, sourceOf, publishFile, publishedAt, packetHashes,
  assertRun, assertRuns, assertParts, mediaWindow, assertStartsAt, assertEndsAt,
} from './lib/recording.mjs';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

let srv, api, rx, tmp;
const SRC = {};
const KEY = 'recordNotifyKey01';
let failFirstFile = true;

before(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'onair-recev-'));
  for (const [name, opts] of Object.entries({ s3: { seconds: 3 }, s7: { seconds: 7 }, s30: { seconds: 30 },
    big3: { seconds: 3, size: '640x360' } })) {
    const file = await makeSource(path.join(tmp, `${name}.flv`), opts);
    SRC[name] = { file, ...(await sourceOf(file)) };
  }
  rx = await receiver((r) => {
    if (r.method === 'GET' && r.url.startsWith('/ondemand')) {
      const q = new URL(r.url, 'http://x').searchParams;
      // A server error counts as no answer, whatever its body says.
      if (q.get('stream') === 'err') return { status: 500, body: JSON.stringify({ NeedRecord: true }) };
      return q.get('stream') === 'yes'
        ? { body: JSON.stringify({ ApiVersion: '1.0', NeedRecord: true, Interval: { Flv: 5 }, Format: ['flv'] }) }
        : { body: JSON.stringify({ NeedRecord: false }) };
    }
    // The first file-created callback of stream "again" fails once: the server must retry it.
    if (r.method === 'POST' && failFirstFile && r.body.includes('"uri"') && r.body.includes('"stream":"again"')) {
      failFirstFile = false;
      return { status: 500, body: 'try again' };
    }
    return null;
  });
  srv = await startServer();
  api = recApi(srv);
  await api.call('AddLiveRecordNotifyConfig', {
    DomainName: DOMAIN, NotifyUrl: `${rx.url}/notify`, OnDemandUrl: `${rx.url}/ondemand`,
    NeedStatusNotify: true, NotifyReqAuth: true, NotifyAuthKey: KEY,
  });
  const flv = [{ Format: 'flv' }];
  await api.addConfig({ AppName: 'man', OssBucket: 'rec', OnDemand: 7, RecordFormat: [...flv, { Format: 'mp4' }] });
  await api.addConfig({ AppName: 'auto', OssBucket: 'rec', OnDemand: 0, DelayTime: 15, RecordFormat: flv });
  await api.addConfig({ AppName: 'hdr', OssBucket: 'rec', OnDemand: 0, DelayTime: 15, RecordFormat: [...flv, { Format: 'mp4' }, { Format: 'm3u8', SliceDuration: 5 }] });
  await api.addConfig({ AppName: 'od2', OssBucket: 'rec', OnDemand: 2, RecordFormat: flv });
  await api.addConfig({ AppName: 'od1', OssBucket: 'rec', OnDemand: 1, RecordFormat: [...flv, { Format: 'mp4' }] });
});

after(async () => {
  await srv.stop();
  await rx.close();
  rmSync(tmp, { recursive: true, force: true });
});

test('a publisher that drops ends a manual recording with a finished file; a re-push is not recorded', async () => {
  const src = SRC.s30;
  const pub = publishFile(`${srv.rtmp}/man/drop`, src.file);
  const t0 = await publishedAt(srv, 'man', 'drop');
  await sleep(1500);
  let before = Date.now();
  await api.command('drop', 'start', 'man');
  const started = mediaWindow(t0, before, Date.now());
  await sleep(3000);
  before = Date.now();
  pub.proc.kill('SIGKILL');
  await pub.done;
  const dropped = mediaWindow(t0, before, Date.now());
  const t1 = Date.now();
  const files = await api.waitFiles('drop', 2, { app: 'man' });
  assert.ok(Date.now() - t1 < 5000, 'finished at once, not after DelayTime');
  const ends = [];
  for (const f of files) {
    // Finished, not cut short: everything the server got, up to the drop.
    const run = assertRun(await packetHashes(f.RecordUrl), src, f.Format);
    assertStartsAt(run, src, started, f.Format);
    assertEndsAt(run, dropped, f.Format);
    ends.push(run.last.pos);
  }
  assert.equal(ends[0], ends[1], 'both formats hold the same packets');
  const again = publish(`${srv.rtmp}/man/drop`, { seconds: 3 });
  assert.equal((await again.done).code, 0);
  await sleep(1000);
  assert.equal((await api.files('drop', { app: 'man' })).length, 2, 'no automatic recording on re-push');
  await assert.rejects(api.command('drop', 'start', 'man'), (e) => e.code === 'InvalidStream.NotFound');
});

test('an interrupted automatic recording continues in the same file; callbacks are signed and retried', async () => {
  const since = Date.now() - 1000;
  const src = SRC.s3;
  const p1 = publishFile(`${srv.rtmp}/auto/again?callback_arg1=hello&callback_arg1=twice&other=x`, src.file);
  assert.equal((await p1.done).code, 0);
  await sleep(2000);
  const p2 = publishFile(`${srv.rtmp}/auto/again`, src.file);
  assert.equal((await p2.done).code, 0);
  await sleep(500);
  assert.equal((await api.files('again', { app: 'auto' })).length, 0, 'still waiting for the stream');
  await api.command('again', 'cancel_delay', 'auto');
  const [f] = await api.waitFiles('again', 1, { app: 'auto' });
  // Both publishes, every packet, the second right after the first (the gap is not in the timeline).
  assertParts(await packetHashes(f.RecordUrl), [src, src], 'continued file');
  const { duration } = await probeFile(f.RecordUrl);
  assert.ok(Math.abs(duration - 6) < 0.2, `duration ${duration}`);

  await rx.wait((r) => r.method === 'POST' && r.body.includes(f.OssObject) && r !== rx.got.find((x) => x.body.includes(f.OssObject)));
  const created = rx.got.filter((r) => r.method === 'POST' && r.body.includes(f.OssObject)).pop();
  const posts = rx.json().filter((r) => r.json.stream === 'again');
  const events = posts.map((r) => r.json.event || 'file_created');
  assert.deepEqual(events.filter((e, i) => events.indexOf(e) === i),
    ['record_started', 'record_paused', 'record_resumed', 'file_created']);
  const body = JSON.parse(created.body);
  assert.equal(body.domain, DOMAIN);
  assert.equal(body.app, 'auto');
  assert.equal(body.uri, f.OssObject);
  assert.ok(Math.abs(body.duration - f.Duration) < 0.01);
  assert.equal(body.start_time, Math.floor(Date.parse(f.StartTime) / 1000));
  assert.equal(body.stop_time, Math.floor(Date.parse(f.EndTime) / 1000));
  assert.deepEqual(body.push_args, { callback_arg1: 'hello' });
  const ts = created.headers['ali-live-timestamp'];
  assert.match(ts, /^\d{10}$/);
  assert.equal(created.headers['ali-live-signature'], createHash('md5').update(`127.0.0.1|${ts}|${KEY}`).digest('hex'));
  assert.equal(posts.filter((r) => r.json.uri).length, 2, 'the failed attempt was retried once');

  const recs = await api.call('DescribeLiveRecordNotifyRecords', {
    DomainName: DOMAIN, StartTime: iso(since), EndTime: iso(Date.now() + 60e3), PageNumber: 1, PageSize: 50,
    AppName: 'auto', StreamName: 'again',
  });
  assert.equal(recs.Code, 200);
  assert.ok(Array.isArray(recs.CallbackList));
  const types = recs.CallbackList.map((c) => c.NotifyType).sort();
  assert.deepEqual(types, ['file_created', 'record_paused', 'record_paused', 'record_resumed', 'record_started']);
  const fc = recs.CallbackList.find((c) => c.NotifyType === 'file_created');
  assert.equal(fc.NotifyResult, 'success');
  assert.match(fc.Description, /2 attempts/);
  assert.match(fc.NotifyHeader, /ALI-LIVE-SIGNATURE/);
  const failed = await api.call('DescribeLiveRecordNotifyRecords', {
    DomainName: DOMAIN, StartTime: iso(since), EndTime: iso(Date.now() + 60e3), PageNumber: 1, PageSize: 50, Status: 'failed',
  });
  assert.equal(failed.TotalNum, 0);

  const cfg = await api.call('DescribeLiveRecordNotifyConfig', { DomainName: DOMAIN });
  assert.equal(cfg.LiveRecordNotifyConfig.NeedStatusNotify, true);
  assert.equal(cfg.LiveRecordNotifyConfig.NotifyAuthKey, KEY);
});

test('a stream that comes back with new codec headers: FLV carries them in-band, MP4 starts a new file, m3u8 a new run', async () => {
  const a = SRC.s3, b = SRC.big3;
  assert.equal((await publishFile(`${srv.rtmp}/hdr/h`, a.file).done).code, 0);
  await sleep(1500);
  assert.equal((await publishFile(`${srv.rtmp}/hdr/h`, b.file).done).code, 0);
  await api.command('h', 'cancel_delay', 'hdr');
  const files = await api.waitFiles('h', 4, { app: 'hdr' });
  const of = (fmt) => files.filter((f) => f.Format === fmt).sort((x, y) => x.StartTime.localeCompare(y.StartTime) || x.OssObject.localeCompare(y.OssObject));
  assert.equal(of('flv').length, 1);
  assertParts(await packetHashes(of('flv')[0].RecordUrl), [a, b], 'flv');
  // MP4: the new picture size is a new file, beginning with the new publish (its audio too).
  const mp4 = of('mp4');
  assert.equal(mp4.length, 2);
  const r0 = assertRun(await packetHashes(mp4[0].RecordUrl), a, 'mp4 before', { heldAudio: true });
  assert.deepEqual([r0.first.pos, r0.last.pos], [0, a.order.length - 1]);
  const r1 = assertRun(await packetHashes(mp4[1].RecordUrl), b, 'mp4 after', { heldAudio: true });
  assert.deepEqual([r1.first.pos, r1.last.pos], [0, b.order.length - 1]);
  assert.deepEqual([mp4[0].Width, mp4[1].Width], [320, 640]);
  // m3u8: one recording, the new headers after a discontinuity.
  const [m3u8] = of('m3u8');
  const text = await (await fetch(m3u8.RecordUrl)).text();
  assert.match(text, /#EXT-X-DISCONTINUITY/);
  assertParts(await packetHashes(m3u8.RecordUrl), [a, b], 'm3u8');
});

test('OnDemand 2 records only publishes whose URL asks for it', async () => {
  const yes = publish(`${srv.rtmp}/od2/a?record_config=${encodeURIComponent('{"NeedRecord":true}')}`, { seconds: 3 });
  const no = publish(`${srv.rtmp}/od2/b?record_config=${encodeURIComponent('{"NeedRecord":false}')}`, { seconds: 3 });
  const none = publish(`${srv.rtmp}/od2/c`, { seconds: 3 });
  await Promise.all([yes.done, no.done, none.done]);
  for (const s of ['a', 'b', 'c']) await api.command(s, 'cancel_delay', 'od2').catch(() => {});
  assert.equal((await api.waitFiles('a', 1, { app: 'od2' })).length, 1);
  await sleep(500);
  assert.equal((await api.files('b', { app: 'od2' })).length, 0);
  assert.equal((await api.files('c', { app: 'od2' })).length, 0);
});

test('OnDemand 1 asks the OnDemandUrl, whose reply picks formats and intervals; an error reply means no', async () => {
  const src = SRC.s7;
  const yes = publishFile(`${srv.rtmp}/od1/yes`, src.file);
  const no = publish(`${srv.rtmp}/od1/no`, { seconds: 3 });
  const err = publish(`${srv.rtmp}/od1/err`, { seconds: 8 });
  await Promise.all([yes.done, no.done]);
  const q = await rx.wait((r) => r.method === 'GET' && r.url.includes('stream=yes'));
  const params = new URL(q.url, 'http://x').searchParams;
  assert.equal(params.get('app'), 'od1');
  assert.equal(params.get('domain'), DOMAIN);
  assert.equal(params.get('codec'), 'h264');
  assert.match(params.get('vbitrate'), /^\d+$/);
  assert.ok(q.headers['ali-live-signature']);
  await api.command('yes', 'cancel_delay', 'od1');
  const files = await api.waitFiles('yes', 2, { app: 'od1' });
  assert.deepEqual(files.map((f) => f.Format), ['flv', 'flv'], 'Format from the reply; Interval 5 s cuts');
  files.sort((x, y) => x.StartTime.localeCompare(y.StartTime));
  const recs = [];
  for (const f of files) recs.push(await packetHashes(f.RecordUrl));
  // From the GOP cached when the reply came (at the first frame) to the publisher's last packet.
  const runs = assertRuns(recs, src, 'OnDemand 1');
  assert.ok(runs[0].key.ms <= 2000, `starts at the keyframe at ${runs[0].key.ms} ms`);
  assert.equal(runs[1].last.pos, src.order.length - 1);
  assert.equal((await api.files('no', { app: 'od1' })).length, 0);
  // The OnDemandUrl answers 500 to every attempt: not recorded.
  await srv.waitLog(/OnDemandUrl: HTTP error after 6 attempt\(s\); not recording/, 20000);
  assert.equal(rx.got.filter((r) => r.method === 'GET' && r.url.includes('stream=err')).length, 6);
  await err.done;
  await api.command('err', 'cancel_delay', 'od1').catch(() => {});
  await sleep(500);
  assert.equal((await api.files('err', { app: 'od1' })).length, 0);
});

test('DelayTime passing without the stream finishes the file', async () => {
  const src = SRC.s3;
  const pub = publishFile(`${srv.rtmp}/auto/late`, src.file);
  await pub.done;
  const t0 = Date.now();
  await sleep(12000);
  assert.equal((await api.files('late', { app: 'auto' })).length, 0);
  const [f] = await api.waitFiles('late', 1, { app: 'auto', timeoutMs: 10000 });
  const waited = (Date.now() - t0) / 1000;
  assert.ok(waited >= 14 && waited < 19, `finished after ${waited} s (DelayTime 15)`);
  const run = assertRun(await packetHashes(f.RecordUrl), src, 'late', { heldAudio: true });
  assert.deepEqual([run.first.pos, run.last.pos], [0, src.order.length - 1]);
});

// A callback receiver whose first answer never completes (a byte every 300 ms) and
// whose later ones come at once; or one that always fails.
function trickler(status) {
  const got = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      got.push({ url: req.url, body, at: Date.now() });
      if (status) {
        res.writeHead(status, { 'content-type': 'text/plain' });
        res.end('nope');
      } else if (got.length === 1) {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
        const t = setInterval(() => res.write(' '), 300);
        res.on('close', () => clearInterval(t));
      } else {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{}');
      }
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
    url: `http://127.0.0.1:${server.address().port}`, got,
    close: () => { server.closeAllConnections(); return new Promise((r) => server.close(r)); },
  })));
}

test('callbacks: a receiver that always fails is given up after 5 retries; a stalled answer times out and is retried', async () => {
  const bad = await trickler(500), slow = await trickler(0);
  const s2 = await startServer();
  try {
    const a2 = recApi(s2);
    await a2.call('AddLiveRecordNotifyConfig', { DomainName: DOMAIN, NotifyUrl: `${bad.url}/fail` });
    await a2.addConfig({ AppName: 'live', OssBucket: 'rec', OnDemand: 7, RecordFormat: [{ Format: 'flv' }] });
    const since = Date.now() - 1000;
    const records = async (Status) => (await a2.call('DescribeLiveRecordNotifyRecords', {
      DomainName: DOMAIN, StartTime: iso(since), EndTime: iso(Date.now() + 60e3), PageNumber: 1, PageSize: 50,
      ...(Status ? { Status } : {}),
    })).CallbackList;
    const recordOnce = async (stream) => {
      const pub = publish(`${s2.rtmp}/live/${stream}`, { seconds: 3 });
      await sleep(1000);
      await a2.command(stream, 'start');
      await pub.done;
      return (await a2.waitFiles(stream, 1))[0];
    };
    const f1 = await recordOnce('fail1');
    const t1 = Date.now();
    while ((await records('failed')).length === 0 && Date.now() - t1 < 20000) await sleep(250);
    const [failed] = await records('failed');
    assert.ok(failed, 'the callback failed');
    assert.equal(failed.NotifyType, 'file_created');
    assert.equal(JSON.parse(failed.NotifyContent).uri, f1.OssObject);
    assert.equal(failed.Description, '6 attempts');
    assert.equal(failed.NotifyResponse, 'HTTP 500: nope');
    assert.equal(bad.got.length, 6);
    assert.equal((await records('success')).length, 0);

    await a2.call('UpdateLiveRecordNotifyConfig', { DomainName: DOMAIN, NotifyUrl: `${slow.url}/slow` });
    const f2 = await recordOnce('slow1');
    // The first attempt's answer never ends: the 5 s timeout bounds the whole request.
    const t2 = Date.now();
    let ok = [];
    while (!(ok = (await records('success')).filter((c) => JSON.parse(c.NotifyContent).uri === f2.OssObject)).length &&
      Date.now() - t2 < 20000) await sleep(250);
    assert.equal(ok.length, 1, 'delivered on the second attempt');
    assert.equal(ok[0].Description, '2 attempts');
    assert.equal(slow.got.length, 2);
    assert.equal((await records('failed')).length, 1);
    assert.equal((await records()).length, 2);
  } finally {
    await s2.stop();
    await bad.close();
    await slow.close();
  }
});

test('a disk too slow for the stream: the recording falls behind and says so; players get everything', async () => {
  const srx = await receiver();
  const slow = await startServer({ args: ['--set', 'record_queue_ms=1000', '--set', 'record_fault_write_delay_ms=40'] });
  try {
    const sapi = recApi(slow);
    await sapi.call('AddLiveRecordNotifyConfig', { DomainName: DOMAIN, NotifyUrl: `${srx.url}/slow`, NeedStatusNotify: true });
    await sapi.addConfig({ AppName: 'live', OssBucket: 'rec', OnDemand: 0, RecordFormat: [{ Format: 'flv' }] });
    const out = path.join(tmp, 'slow-player.flv');
    const player = record(`${slow.http}/live/slow.flv`, out);
    await sleep(600);
    const pub = publish(`${slow.rtmp}/live/slow`, { seconds: 6, rate: 25, gop: 25 });
    assert.equal((await pub.done).code, 0, 'the publisher was never held up');
    assert.equal((await player).code, 0);
    assert.equal(packetsOf(await probe(out, { packets: true }), 'video').length, 150, 'players got every frame');
    await slow.waitLog(/falling behind/);
    // The record_error callback reaches the receiver.
    const e = await srx.wait((r) => r.method === 'POST' && JSON.parse(r.body).event === 'record_error');
    const body = JSON.parse(e.body);
    assert.equal(body.stream, 'slow');
    assert.match(body.description, /fell behind/);
    await sapi.command('slow', 'cancel_delay');
    const [f] = await sapi.waitFiles('slow', 1, { timeoutMs: 30000 });
    const { v } = await probeFile(f.RecordUrl);
    assert.equal(v[0].flags[0], 'K');
    assert.ok(v.length > 0 && v.length < 150, `${v.length} frames made it`);
    // Each run after a drop restarts on a keyframe, so the file still decodes.
    const r = await probe(f.RecordUrl, { extra: ['-count_frames', '-select_streams', 'v'] });
    assert.ok(Number(r.streams[0].nb_read_frames) > 0);
  } finally {
    await slow.stop();
    await srx.close();
  }
});
