// Recording around the publisher's life, with the official SDK and ffmpeg:
// a publisher that drops during a manual recording, an automatic recording
// interrupted and continued in the same file within DelayTime, DelayTime
// running out, OnDemand 2 (publish URL) and 1 (OnDemandUrl), the recording
// callbacks (signed, retried) as a small local HTTP server receives them,
// DescribeLiveRecordNotifyRecords, and a disk too slow for the stream.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { startServer, sleep, DOMAIN } from './lib/server.mjs';
import { publish, record, probe, packetsOf } from './lib/media.mjs';
import { recApi, receiver, probeFile, assertContiguous, iso } from './lib/recording.mjs';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

let srv, api, rx, tmp;
const KEY = 'recordNotifyKey01';
let failFirstFile = true;

before(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'onair-recev-'));
  rx = await receiver((r) => {
    if (r.method === 'GET' && r.url.startsWith('/ondemand')) {
      const q = new URL(r.url, 'http://x').searchParams;
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
  await api.addConfig({ AppName: 'od2', OssBucket: 'rec', OnDemand: 2, RecordFormat: flv });
  await api.addConfig({ AppName: 'od1', OssBucket: 'rec', OnDemand: 1, RecordFormat: [...flv, { Format: 'mp4' }] });
});

after(async () => {
  await srv.stop();
  await rx.close();
  rmSync(tmp, { recursive: true, force: true });
});

test('a publisher that drops ends a manual recording with a finished file; a re-push is not recorded', async () => {
  const pub = publish(`${srv.rtmp}/man/drop`, { seconds: 30, rate: 25, gop: 25 });
  await sleep(1500);
  await api.command('drop', 'start', 'man');
  await sleep(3000);
  pub.proc.kill('SIGKILL');
  await pub.done;
  const t0 = Date.now();
  const files = await api.waitFiles('drop', 2, { app: 'man' });
  assert.ok(Date.now() - t0 < 5000, 'finished at once, not after DelayTime');
  for (const f of files) {
    const { v } = await probeFile(f.RecordUrl);
    assertContiguous(v, 40, f.Format);
    assert.ok(v.length >= 70, `${f.Format}: ${v.length} frames`);
  }
  const again = publish(`${srv.rtmp}/man/drop`, { seconds: 3 });
  assert.equal((await again.done).code, 0);
  await sleep(1000);
  assert.equal((await api.files('drop', { app: 'man' })).length, 2, 'no automatic recording on re-push');
  await rejects400(api.command('drop', 'start', 'man'));
});

async function rejects400(p) {
  await assert.rejects(p, (e) => e.code === 'InvalidStream.NotFound');
}

test('an interrupted automatic recording continues in the same file; callbacks are signed and retried', async () => {
  const since = Date.now() - 1000;
  const p1 = publish(`${srv.rtmp}/auto/again?callback_arg1=hello&callback_arg1=twice&other=x`, { seconds: 3, rate: 25, gop: 25 });
  assert.equal((await p1.done).code, 0);
  await sleep(2000);
  const p2 = publish(`${srv.rtmp}/auto/again`, { seconds: 3, rate: 25, gop: 25 });
  assert.equal((await p2.done).code, 0);
  await sleep(500);
  assert.equal((await api.files('again', { app: 'auto' })).length, 0, 'still waiting for the stream');
  await api.command('again', 'cancel_delay', 'auto');
  const [f] = await api.waitFiles('again', 1, { app: 'auto' });
  const { v, a, duration } = await probeFile(f.RecordUrl);
  assert.equal(v.length, 150, 'both publishes, every frame');
  assert.ok(a.length >= 250, `audio ${a.length}`);
  // The gap is not in the timeline: timestamps continue where they stopped.
  assert.ok(Math.abs(duration - 6) < 0.2, `duration ${duration}`);
  for (let i = 1; i < v.length; i++) assert.ok(Number(v[i].dts_time) > Number(v[i - 1].dts_time));

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

test('OnDemand 1 asks the OnDemandUrl, whose reply picks formats and intervals', async () => {
  const yes = publish(`${srv.rtmp}/od1/yes`, { seconds: 7, rate: 25, gop: 25 });
  const no = publish(`${srv.rtmp}/od1/no`, { seconds: 3 });
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
  let total = 0;
  for (const f of files) total += (await probeFile(f.RecordUrl)).v.length;
  assert.ok(total >= 170, `${total} frames`); // from the first keyframe after the reply
  assert.equal((await api.files('no', { app: 'od1' })).length, 0);
});

test('DelayTime passing without the stream finishes the file', async () => {
  const pub = publish(`${srv.rtmp}/auto/late`, { seconds: 3 });
  await pub.done;
  const t0 = Date.now();
  await sleep(12000);
  assert.equal((await api.files('late', { app: 'auto' })).length, 0);
  await api.waitFiles('late', 1, { app: 'auto', timeoutMs: 10000 });
  const waited = (Date.now() - t0) / 1000;
  assert.ok(waited >= 14 && waited < 19, `finished after ${waited} s (DelayTime 15)`);
});

test('a disk too slow for the stream: the recording falls behind and says so; players get everything', async () => {
  const slow = await startServer({ args: ['--set', 'record_queue_ms=1000', '--set', 'record_fault_write_delay_ms=40'] });
  try {
    const sapi = recApi(slow);
    await sapi.addConfig({ AppName: 'live', OssBucket: 'rec', OnDemand: 0, RecordFormat: [{ Format: 'flv' }] });
    const out = path.join(tmp, 'slow-player.flv');
    const player = record(`${slow.http}/live/slow.flv`, out);
    await sleep(600);
    const pub = publish(`${slow.rtmp}/live/slow`, { seconds: 6, rate: 25, gop: 25 });
    assert.equal((await pub.done).code, 0, 'the publisher was never held up');
    assert.equal((await player).code, 0);
    assert.equal(packetsOf(await probe(out, { packets: true }), 'video').length, 150, 'players got every frame');
    await slow.waitLog(/falling behind/);
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
  }
});
