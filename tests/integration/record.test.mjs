// Recording end to end with the official SDK (@alicloud/pop-core) as the API
// client and ffmpeg as the publisher: RealTimeRecordCommand start / stop /
// restart / cancel_delay, each format (FLV, fragmented MP4, m3u8 + TS), a
// cycle cut, automatic recording of a whole publish, the config's
// StartTime/EndTime window, every error of the RealTimeRecordCommand table,
// the config actions and the index actions (index playlists, delete with
// RemoveFile).
//
// Every recording is checked packet by packet against the file ffmpeg
// published (lib/recording.mjs assertRun): exactly the packets sent between
// the command and the stop, from the last keyframe before the command, with
// the publisher's timestamps shifted to start at 0; ffprobe checks the
// container durations.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer, sleep, DOMAIN } from './lib/server.mjs';
import { publish } from './lib/media.mjs';
import {
  recApi, rejects, probeFile, assertContiguous, iso, makeSource, publishFile, publishedAt, packetHashes,
  sourceOf, assertRun, assertRuns, mediaWindow, assertStartsAt, assertEndsAt, storedObjects, joinSegments, ossUrl,
} from './lib/recording.mjs';

let srv, api, tmp;
const SRC = {};
const FORMATS = [{ Format: 'flv' }, { Format: 'mp4' }, { Format: 'm3u8', SliceDuration: 5 }];

before(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'onair-rec-'));
  for (const s of [6, 8, 9, 14, 16]) {
    const file = await makeSource(path.join(tmp, `src${s}.flv`), { seconds: s });
    SRC[s] = { file, ...(await sourceOf(file)) };
  }
  srv = await startServer();
  api = recApi(srv);
  // Manual recording only (OnDemand 7) for app "live"; automatic (0) for "auto" and "cycle".
  await api.addConfig({ AppName: 'live', OssBucket: 'rec', OnDemand: 7, RecordFormat: FORMATS });
  await api.addConfig({ AppName: 'auto', OssBucket: 'rec', OnDemand: 0, DelayTime: 15, RecordFormat: FORMATS });
  await api.addConfig({
    AppName: 'cycle', OssBucket: 'rec', OnDemand: 0,
    RecordFormat: [{ Format: 'flv', CycleDuration: 3 }, { Format: 'mp4', CycleDuration: 3 },
      { Format: 'm3u8', CycleDuration: 3, SliceDuration: 5 }],
  });
});

after(async () => {
  await srv.stop();
  rmSync(tmp, { recursive: true, force: true });
});

const byFormat = (files, f) => files.filter((x) => x.Format === f).sort((a, b) => a.StartTime.localeCompare(b.StartTime) || a.OssObject.localeCompare(b.OssObject));

// Sends a command and returns the publisher's media time window it happened in.
async function commandAt(stream, command, t0, app = 'live') {
  const before = Date.now();
  await api.command(stream, command, app);
  return mediaWindow(t0, before, Date.now());
}

test('push, start, stop, list, play: the file holds exactly the frames sent in between', async () => {
  const src = SRC[9];
  const pub = publishFile(`${srv.rtmp}/live/done`, src.file);
  const t0 = await publishedAt(srv, 'live', 'done');
  await sleep(2300);
  const started = await commandAt('done', 'start', t0);
  await sleep(4000);
  const stopped = await commandAt('done', 'stop', t0);
  const files = await api.waitFiles('done', 3);
  assert.equal((await pub.done).code, 0);

  const flv = byFormat(files, 'flv')[0], mp4 = byFormat(files, 'mp4')[0], m3u8 = byFormat(files, 'm3u8')[0];
  assert.ok(flv && mp4 && m3u8, JSON.stringify(files));
  const runs = {};
  for (const f of [flv, mp4, m3u8]) {
    assert.equal(f.Width, 320);
    assert.equal(f.Height, 240);
    assert.equal(f.DomainName, DOMAIN);
    assert.match(f.RecordUrl, new RegExp(`^${srv.http}/oss/~[0-9a-f]{32}/rec/`));
    assert.ok(f.OssObject.endsWith(`.${f.Format}`), f.OssObject);
    assert.doesNotMatch(f.OssObject, /recording/);
    assert.ok(Date.parse(f.EndTime) >= Date.parse(f.StartTime));
    const rec = await packetHashes(f.RecordUrl);
    const run = assertRun(rec, src, f.Format);
    assertStartsAt(run, src, started, f.Format);
    assertEndsAt(run, stopped, f.Format);
    runs[f.Format] = run;
    const { v, duration } = await probeFile(f.RecordUrl);
    assertContiguous(v, 40, f.Format);
    assert.ok(Math.abs(duration - v.length / 25) < 0.1, `${f.Format}: duration ${duration} for ${v.length} frames`);
    assert.ok(Math.abs(f.Duration - v.length / 25) < 0.1, `${f.Format}: index Duration ${f.Duration}`);
  }
  // The three files hold the same packets.
  for (const fmt of ['mp4', 'm3u8']) {
    assert.deepEqual([runs[fmt].first.pos, runs[fmt].last.pos], [runs.flv.first.pos, runs.flv.last.pos], fmt);
  }
  // The m3u8 recording is a VOD playlist of relative TS references.
  const text = await (await fetch(m3u8.RecordUrl)).text();
  assert.match(text, /#EXT-X-PLAYLIST-TYPE:VOD/);
  assert.match(text, /#EXT-X-ENDLIST/);
  assert.doesNotMatch(text, /^http/m);
});

test('OnDemand 0 records a whole publish, every frame; cancel_delay finishes it at once', async () => {
  const src = SRC[6];
  const pub = publishFile(`${srv.rtmp}/auto/all`, src.file);
  assert.equal((await pub.done).code, 0);
  // Automatic recordings wait DelayTime for the stream to return ...
  await sleep(1000);
  assert.equal((await api.files('all', { app: 'auto' })).length, 0);
  // ... unless told otherwise.
  await api.command('all', 'cancel_delay', 'auto');
  const files = await api.waitFiles('all', 3, { app: 'auto' });
  for (const f of files) {
    // From the publisher's first packet (audio before the first keyframe) to its last.
    const run = assertRun(await packetHashes(f.RecordUrl), src, f.Format, { heldAudio: true });
    assert.equal(run.first.pos, 0, `${f.Format}: from the first packet`);
    assert.equal(run.last.pos, src.order.length - 1, `${f.Format}: to the last packet`);
    const { v, duration } = await probeFile(f.RecordUrl);
    assertContiguous(v, 40, f.Format);
    assert.ok(Math.abs(duration - 6) < 0.1, `${f.Format}: duration ${duration}`);
  }
});

test('a cycle cut: a new file every CycleDuration, on a keyframe, nothing lost or doubled', async () => {
  const src = SRC[8];
  const pub = publishFile(`${srv.rtmp}/cycle/c1`, src.file);
  assert.equal((await pub.done).code, 0);
  await api.command('c1', 'cancel_delay', 'cycle');
  const files = await api.waitFiles('c1', 9, { app: 'cycle' });
  const cuts = {};
  for (const fmt of ['flv', 'mp4', 'm3u8']) {
    const list = byFormat(files, fmt);
    assert.equal(list.length, 3, `${fmt}: files at 0, 3 and 6 s`);
    const recs = [];
    for (const f of list) recs.push(await packetHashes(f.RecordUrl));
    const runs = assertRuns(recs, src, fmt, { heldAudio: true });
    assert.equal(runs[0].first.pos, 0);
    assert.equal(runs[2].last.pos, src.order.length - 1);
    // Each cut is on the first keyframe CycleDuration (less half a frame) after the file's start.
    for (let i = 1; i < 3; i++) {
      const want = src.video.find((p) => p.key && p.ms - runs[i - 1].first.ms + 20 >= 3000);
      assert.equal(runs[i].key.pos, want.pos, `${fmt}: file ${i} starts at the keyframe at ${want.ms} ms`);
    }
    cuts[fmt] = runs.map((r) => r.first.pos);
    assert.deepEqual(list.map((f) => Math.round(f.Duration)), [3, 3, 2]);
  }
  assert.deepEqual(cuts.mp4, cuts.flv);
  assert.deepEqual(cuts.m3u8, cuts.flv);
});

test('restart finishes the current files and continues in new ones from the next keyframe', async () => {
  const src = SRC[8];
  const pub = publishFile(`${srv.rtmp}/live/rs`, src.file);
  const t0 = await publishedAt(srv, 'live', 'rs');
  await sleep(1500);
  const started = await commandAt('rs', 'start', t0);
  await sleep(2200);
  const [rlo, rhi] = await commandAt('rs', 'restart', t0);
  await sleep(2500);
  const stopped = await commandAt('rs', 'stop', t0);
  await pub.done;
  const files = await api.waitFiles('rs', 6);
  const cuts = {};
  for (const fmt of ['flv', 'mp4', 'm3u8']) {
    const list = byFormat(files, fmt);
    assert.equal(list.length, 2, fmt);
    const recs = [await packetHashes(list[0].RecordUrl), await packetHashes(list[1].RecordUrl)];
    // The second file starts with the packet after the first one's last.
    const runs = assertRuns(recs, src, fmt);
    assertStartsAt(runs[0], src, started, `${fmt} before restart`);
    // ... at the first keyframe after the command.
    const prev = src.video.filter((p) => p.key && p.pos < runs[1].key.pos).pop();
    assert.ok(runs[1].key.ms >= rlo && prev.ms <= rhi, `${fmt}: cut at ${runs[1].key.ms} ms for a restart at ${rlo}..${rhi}`);
    assertEndsAt(runs[1], stopped, `${fmt} after restart`);
    cuts[fmt] = [runs[0].first.pos, runs[1].first.pos, runs[1].last.pos];
  }
  assert.deepEqual(cuts.mp4, cuts.flv);
  assert.deepEqual(cuts.m3u8, cuts.flv);
});

test('a running m3u8 recording plays from its live playlist once its first slice is complete', async () => {
  const src = SRC[16];
  const pub = publishFile(`${srv.rtmp}/live/inprog`, src.file);
  const t0 = await publishedAt(srv, 'live', 'inprog');
  await sleep(1000);
  const started = await commandAt('inprog', 'start', t0);
  // During the first slice there is nothing a playlist could list yet (docs/api.md).
  await sleep(2000);
  const live = () => storedObjects(srv.dataDir, 'rec').filter((o) => /\/inprog\/.*_recording\.m3u8$/.test(o));
  assert.equal(live().length, 0, 'no playlist before the first slice is complete');
  const t1 = Date.now();
  while (!live().length && Date.now() - t1 < 15000) await sleep(100);
  assert.equal(live().length, 1, 'the live playlist appears with the first complete slice');
  const url = ossUrl(srv, 'rec', live()[0]);
  const text = await (await fetch(url)).text();
  assert.match(text, /#EXT-X-PLAYLIST-TYPE:EVENT/);
  assert.doesNotMatch(text, /ENDLIST/);
  const joined = await joinSegments(url, path.join(tmp, 'inprog.ts'));
  assert.ok(joined.segments.length >= 1);
  const partial = assertRun(await packetHashes(joined.file), src, 'm3u8 while recording');
  assertStartsAt(partial, src, started, 'm3u8 while recording');
  assert.ok(partial.last.ms - partial.key.ms >= 4500, `a whole slice: ${partial.key.ms}..${partial.last.ms} ms`);
  await api.command('inprog', 'stop');
  await pub.done;
  const [f] = await api.waitFiles('inprog', 1, { format: 'm3u8' });
  // The finished recording begins with what the live playlist listed.
  const whole = assertRun(await packetHashes(f.RecordUrl), src, 'm3u8 finished');
  assert.equal(whole.first.pos, partial.first.pos);
  assert.ok(whole.last.pos > partial.last.pos);
  assert.equal(live().length, 0, 'the live playlist is replaced by the final one');
});

test('a stream live before the config\'s StartTime is recorded from StartTime, until EndTime', async () => {
  const src = SRC[16];
  const start = Math.ceil((Date.now() + 4000) / 1000) * 1000;
  const end = start + 5000;
  await api.addConfig({
    AppName: 'win', StreamName: 'w1', OssBucket: 'rec', OnDemand: 0,
    StartTime: iso(start), EndTime: iso(end), RecordFormat: [{ Format: 'flv' }],
  });
  const pub = publishFile(`${srv.rtmp}/win/w1`, src.file);
  const t0 = await publishedAt(srv, 'win', 'w1');
  await srv.waitLog(/win\/w1: recording starts at the config's StartTime/);
  const [f] = await api.waitFiles('w1', 1, { app: 'win', timeoutMs: 30000 });
  await pub.done;
  const run = assertRun(await packetHashes(f.RecordUrl), src, 'windowed');
  // The timers have second resolution.
  assertStartsAt(run, src, mediaWindow(t0, start, start + 1000), 'windowed');
  assertEndsAt(run, mediaWindow(t0, end, end + 1000), 'windowed');
  assert.match(srv.log(), /win\/w1: stopped \(the config's EndTime\)/);
});

test('RealTimeRecordCommand errors, as documented', async () => {
  const pub = publish(`${srv.rtmp}/nocfg/e1`, { seconds: 8 });
  const pub2 = publish(`${srv.rtmp}/live/e2`, { seconds: 8 });
  const pub3 = publish(`${srv.rtmp}/tonly/e3`, { seconds: 8 });
  const pub4 = publish(`${srv.rtmp}/live/e4`, { seconds: 8 });
  // Transcoded formats only (onair does not transcode), and a window that has ended.
  await api.addConfig({ AppName: 'tonly', OssBucket: 'rec', OnDemand: 7, TranscodeRecordFormat: [{ Format: 'flv' }], TranscodeTemplates: ['sd'] });
  const now = Date.now();
  await api.addConfig({ AppName: 'live', StreamName: 'e4', OssBucket: 'rec', OnDemand: 7, StartTime: iso(now - 7200e3), EndTime: iso(now - 3600e3), RecordFormat: [{ Format: 'flv' }] });
  await sleep(1500);
  const p = { DomainName: DOMAIN, AppName: 'live', StreamName: 'e2', Command: 'start' };
  const without = (k) => Object.fromEntries(Object.entries(p).filter(([n]) => n !== k));
  for (const k of ['DomainName', 'AppName', 'StreamName', 'Command']) {
    const e = await rejects(api.call('RealTimeRecordCommand', without(k)), `Missing${k}`, 400);
    assert.match(e.data.Message, new RegExp(`${k} is mandatory`));
  }
  await rejects(api.call('RealTimeRecordCommand', { ...p, DomainName: 'nope.example.com' }), 'InvalidDomain.NotFound', 404);
  await rejects(api.call('RealTimeRecordCommand', { ...p, StreamName: 'not-live' }), 'InvalidStream.NotFound', 404);
  await rejects(api.call('RealTimeRecordCommand', { ...p, AppName: 'nocfg', StreamName: 'e1' }), 'InvalidConfig.NotFound', 404);
  const tr = await rejects(api.call('RealTimeRecordCommand', { ...p, AppName: 'tonly', StreamName: 'e3' }), 'InvalidConfig.NotFound', 404);
  assert.match(tr.data.Message, /no RecordFormat/);
  const ex = await rejects(api.call('RealTimeRecordCommand', { ...p, StreamName: 'e4' }), 'InvalidConfig.NotFound', 404);
  assert.match(ex.data.Message, /EndTime has passed/);
  const bad = await rejects(api.call('RealTimeRecordCommand', { ...p, Command: 'pause' }), 'InvalidCommand.Malformed', 400);
  assert.match(bad.data.Message, /start, stop, cancel_delay, restart/);
  await rejects(api.call('RealTimeRecordCommand', { ...p, Command: 'cancel_delay_stop' }), 'InvalidCommand.Malformed', 400);
  // restart on a stream that is not recording starts it.
  await api.call('RealTimeRecordCommand', { ...p, Command: 'restart' });
  const dup = await rejects(api.call('RealTimeRecordCommand', p), 'TaskAlreadyStarted', 409);
  assert.equal(dup.data.Message, 'Task has already started.');
  await sleep(1500);
  await api.call('RealTimeRecordCommand', { ...p, Command: 'stop' });
  assert.ok((await api.waitFiles('e2', 3)).length >= 3, 'restart started a recording');
  // Stopping what is not recording is not an error.
  await api.call('RealTimeRecordCommand', { ...p, Command: 'stop' });
  await Promise.all([pub.done, pub2.done, pub3.done, pub4.done]);
  assert.equal((await api.files('e3', { app: 'tonly' })).length, 0);
  assert.equal((await api.files('e4')).length, 0);
});

test('record configs: add, duplicate, describe (OnDemond), update, precedence, delete, validation', async () => {
  await rejects(api.addConfig({ AppName: 'live', OssBucket: 'other', RecordFormat: [{ Format: 'flv' }] }), 'ConfigAlreadyExists', 400);
  await rejects(api.addConfig({ AppName: 'x', OssBucket: 'rec', RecordFormat: [{ Format: 'cmaf' }] }), 'InvalidFormat.Malformed', 400);
  await rejects(api.addConfig({ AppName: 'x', OssBucket: 'rec', RecordFormat: [{ Format: 'flv', OssObjectPrefix: 'a/{StartTime}' }] }), 'InvalidOssObjectPrefix.Malformed', 400);
  await rejects(api.addConfig({ AppName: 'x', OssBucket: 'rec', RecordFormat: [{ Format: 'm3u8', SliceOssObjectPrefix: 'a/{Sequence}' }] }), 'InvalidSliceOssObjectPrefix.Malformed', 400);
  await rejects(api.addConfig({ AppName: 'x', OssBucket: 'Bad_Bucket', RecordFormat: [{ Format: 'flv' }] }), 'InvalidOssBucket.Malformed', 400);
  await rejects(api.addConfig({ AppName: 'x', OssBucket: 'rec' }), 'MissingRecordFormat', 400);
  await rejects(api.addConfig({ AppName: 'x', OssBucket: 'rec', OnDemand: 3, RecordFormat: [{ Format: 'flv' }] }), 'InvalidOnDemand.Malformed', 400);

  // Precedence: stream-level beats app-level, an exact app beats "*".
  await api.addConfig({ AppName: '*', OssBucket: 'any-app', OnDemand: 0, RecordFormat: [{ Format: 'flv' }] });
  await api.addConfig({ AppName: 'prec', OssBucket: 'app-level', OnDemand: 0, RecordFormat: [{ Format: 'flv' }] });
  await api.addConfig({ AppName: 'prec', StreamName: 's', OssBucket: 'stream-level', OnDemand: 0, DelayTime: 20, RecordFormat: [{ Format: 'mp4', CycleDuration: 60 }] });
  const d = await api.call('DescribeLiveRecordConfig', { DomainName: DOMAIN, AppName: 'prec', PageSize: 10 });
  assert.equal(d.TotalNum, 2);
  const s = d.LiveAppRecordList.LiveAppRecord.find((x) => x.StreamName === 's');
  assert.equal(s.OnDemond, 0);
  assert.equal(s.OnDemand, undefined);
  assert.equal(s.DelayTime, 20);
  assert.deepEqual(s.RecordFormatList.RecordFormat.map((f) => [f.Format, f.CycleDuration]), [['mp4', 60]]);
  await api.call('UpdateLiveAppRecordConfig', {
    DomainName: DOMAIN, AppName: 'prec', StreamName: 's', OssEndpoint: 'oss-local', DelayTime: 30,
    RecordFormat: [{ Format: 'flv' }],
  });
  const d2 = await api.call('DescribeLiveRecordConfig', { DomainName: DOMAIN, AppName: 'prec', StreamName: 's' });
  const s2 = d2.LiveAppRecordList.LiveAppRecord[0];
  assert.equal(s2.DelayTime, 30);
  assert.equal(s2.OssBucket, 'stream-level');
  assert.deepEqual(s2.RecordFormatList.RecordFormat.map((f) => f.Format), ['flv']);
  await rejects(api.call('UpdateLiveAppRecordConfig', { DomainName: DOMAIN, AppName: 'none', OssEndpoint: 'x' }), 'InvalidConfig.NotFound', 404);

  const pubs = [publish(`${srv.rtmp}/prec/s`, { seconds: 3 }), publish(`${srv.rtmp}/prec/t`, { seconds: 3 }),
    publish(`${srv.rtmp}/other/u`, { seconds: 3 })];
  await Promise.all(pubs.map((x) => x.done));
  await api.command('s', 'cancel_delay', 'prec');
  await api.command('t', 'cancel_delay', 'prec');
  await api.command('u', 'cancel_delay', 'other');
  assert.equal((await api.waitFiles('s', 1, { app: 'prec' }))[0].OssBucket, 'stream-level');
  assert.equal((await api.waitFiles('t', 1, { app: 'prec' }))[0].OssBucket, 'app-level');
  assert.equal((await api.waitFiles('u', 1, { app: 'other' }))[0].OssBucket, 'any-app');

  await api.call('DeleteLiveAppRecordConfig', { DomainName: DOMAIN, AppName: 'prec', StreamName: 's' });
  await api.call('DeleteLiveAppRecordConfig', { DomainName: DOMAIN, AppName: '*' });
  await rejects(api.call('DeleteLiveAppRecordConfig', { DomainName: DOMAIN, AppName: '*' }), 'InvalidConfig.NotFound', 404);
  await rejects(api.call('DescribeLiveRecordConfig', { DomainName: 'nope.example.com' }), 'InvalidDomain.NotFound', 404);
});

test('the index: one file, content, index playlists over TS slices (EndTimeIncluded), delete with RemoveFile', async () => {
  const src = SRC[14];
  const pub = publishFile(`${srv.rtmp}/live/ix`, src.file);
  await publishedAt(srv, 'live', 'ix');
  await sleep(1000);
  const t0 = Date.now();
  await api.command('ix', 'start');
  await sleep(11500);
  await api.command('ix', 'stop');
  await pub.done;
  const files = await api.waitFiles('ix', 3);
  const m3u8 = byFormat(files, 'm3u8')[0];
  const one = await api.call('DescribeLiveStreamRecordIndexFile', { DomainName: DOMAIN, AppName: 'live', StreamName: 'ix', RecordId: m3u8.RecordId });
  assert.deepEqual(one.RecordIndexInfo, m3u8);
  await rejects(api.call('DescribeLiveStreamRecordIndexFile', { DomainName: DOMAIN, AppName: 'live', StreamName: 'other', RecordId: m3u8.RecordId }), 'InvalidRecordId.NotFound', 404);

  const content = await api.call('DescribeLiveStreamRecordContent', {
    DomainName: DOMAIN, AppName: 'live', StreamName: 'ix', StartTime: iso(t0 - 60e3), EndTime: iso(Date.now() + 60e3),
  });
  const c = content.RecordContentInfoList.RecordContentInfo;
  assert.equal(c.length, 1);
  assert.equal(c[0].OssObjectPrefix, 'record/live/ix/');
  assert.ok(Math.abs(c[0].Duration - m3u8.Duration) < 0.01);

  // The recording's slices start at about 0, 5 and 10 s.
  const whole = await (await fetch(m3u8.RecordUrl)).text();
  const slices = [...whole.matchAll(/#EXTINF:([\d.]+),/g)].map((x) => Number(x[1]));
  assert.equal(slices.length, 3, whole);
  // An index playlist over the slices that start in the first 9 s of the recording ...
  const start = Date.parse(m3u8.StartTime);
  const index = (OssObject, extra = {}) => api.call('CreateLiveStreamRecordIndexFiles', {
    DomainName: DOMAIN, AppName: 'live', StreamName: 'ix', OssEndpoint: 'oss-local', OssBucket: 'rec',
    OssObject, StartTime: iso(start), EndTime: iso(start + 9000), ...extra,
  });
  const info = (await index('index/{AppName}/{StreamName}/{Date}/{Hour}{Minute}{Second}.m3u8')).RecordInfo;
  assert.match(info.OssObject, /^index\/live\/ix\/\d{4}-\d\d-\d\d\/\d{6}\.m3u8$/);
  assert.ok(Math.abs(info.Duration - slices[0] - slices[1]) < 0.01, `index duration ${info.Duration}`);
  // ... and with EndTimeIncluded the first slice starting at or after EndTime too.
  const incl = (await index('index/incl.m3u8', { EndTimeIncluded: true })).RecordInfo;
  assert.ok(Math.abs(incl.Duration - slices[0] - slices[1] - slices[2]) < 0.01, `index duration ${incl.Duration}`);
  await sleep(300); // the playlists are written by a worker thread
  const rec = assertRun(await packetHashes(m3u8.RecordUrl), src, 'recording');
  const ix = assertRun(await packetHashes(info.RecordUrl), src, 'index playlist');
  assert.equal(ix.first.pos, rec.first.pos);
  const all = assertRun(await packetHashes(incl.RecordUrl), src, 'index playlist with EndTimeIncluded');
  assert.deepEqual([all.first.pos, all.last.pos], [rec.first.pos, rec.last.pos]);
  await rejects(api.call('CreateLiveStreamRecordIndexFiles', {
    DomainName: DOMAIN, AppName: 'live', StreamName: 'ix', OssEndpoint: 'oss-local', OssBucket: 'rec',
    OssObject: 'index/none.m3u8', StartTime: iso(Date.now() + 3600e3), EndTime: iso(Date.now() + 7200e3),
  }), 'InvalidRecord.NotFound', 404);

  // Delete: the MP4 with its object, the index playlist without its slices.
  const mp4 = byFormat(files, 'mp4')[0];
  const del = await api.call('DeleteLiveStreamRecordIndexFiles', {
    DomainName: DOMAIN, AppName: 'live', StreamName: 'ix', RemoveFile: 'true', RecordId: [mp4.RecordId, info.RecordId, 'nope'],
  });
  assert.equal(del.Code, 'OK');
  assert.deepEqual(del.RecordDeleteInfoList.RecordDeleteInfo.map((x) => x.Message), ['OK', 'OK', 'NotFound']);
  await sleep(300);
  assert.equal((await fetch(mp4.RecordUrl)).status, 404);
  assert.equal((await fetch(info.RecordUrl)).status, 404);
  // The recording's own playlist and slices are untouched.
  const again = assertRun(await packetHashes(m3u8.RecordUrl), src, 'recording after the deletes');
  assert.deepEqual([again.first.pos, again.last.pos], [rec.first.pos, rec.last.pos]);
  assert.equal((await api.files('ix')).length, 3, 'the recordings and the other index playlist');
});
