// Recording end to end with the official SDK (@alicloud/pop-core) as the API
// client and ffmpeg as the publisher: RealTimeRecordCommand start / stop /
// restart / cancel_delay, each format (FLV, fragmented MP4, m3u8 + TS), a
// cycle cut, automatic recording of a whole publish, frame counts and
// durations checked with ffprobe against what ffmpeg published, every error
// of the RealTimeRecordCommand table, the config actions and the index
// actions (index playlists, delete with RemoveFile).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer, sleep, DOMAIN } from './lib/server.mjs';
import { publish, probe, record, packetsOf } from './lib/media.mjs';
import { recApi, rejects, probeFile, assertContiguous, contiguousIn, iso } from './lib/recording.mjs';

let srv, api, tmp;
const FORMATS = [{ Format: 'flv' }, { Format: 'mp4' }, { Format: 'm3u8', SliceDuration: 5 }];

before(async () => {
  srv = await startServer();
  api = recApi(srv);
  tmp = mkdtempSync(path.join(os.tmpdir(), 'onair-rec-'));
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

test('push, start, stop, list, play: the file holds exactly the frames sent in between', async () => {
  const ref = path.join(tmp, 'ref-done.flv');
  const player = record(`${srv.rtmp}/live/done`, ref);
  await sleep(600);
  const pub = publish(`${srv.rtmp}/live/done`, { seconds: 9, rate: 25, gop: 25 });
  await sleep(2300);
  const t0 = Date.now();
  await api.command('done', 'start');
  await sleep(4000);
  await api.command('done', 'stop');
  const window = (Date.now() - t0) / 1000;
  const files = await api.waitFiles('done', 3);
  assert.equal((await pub.done).code, 0);
  assert.equal((await player).code, 0);
  const refp = await probe(ref, { packets: true });
  const rv = packetsOf(refp, 'video'), ra = packetsOf(refp, 'audio');
  assert.equal(rv.length, 225, 'the reference player got every published frame');

  const flv = byFormat(files, 'flv')[0], mp4 = byFormat(files, 'mp4')[0], m3u8 = byFormat(files, 'm3u8')[0];
  assert.ok(flv && mp4 && m3u8, JSON.stringify(files));
  const counts = {};
  for (const f of [flv, mp4, m3u8]) {
    assert.equal(f.Width, 320);
    assert.equal(f.Height, 240);
    assert.equal(f.DomainName, DOMAIN);
    assert.match(f.RecordUrl, new RegExp(`^${srv.http}/oss/~[0-9a-f]{32}/rec/`));
    assert.ok(f.OssObject.endsWith(`.${f.Format}`), f.OssObject);
    assert.doesNotMatch(f.OssObject, /recording/);
    assert.ok(Date.parse(f.EndTime) >= Date.parse(f.StartTime));
    const { v, a, duration } = await probeFile(f.RecordUrl);
    assertContiguous(v, 40, f.Format);
    // The GOP before the start (<= 1 s) plus the window, give or take a frame.
    assert.ok(v.length >= window * 25 - 2 && v.length <= (window + 1) * 25 + 2, `${f.Format}: ${v.length} frames for ${window}s`);
    assert.ok(Math.abs(duration - v.length / 25) < 0.1, `${f.Format}: duration ${duration} for ${v.length} frames`);
    assert.ok(Math.abs(f.Duration - v.length / 25) < 0.1, `${f.Format}: index Duration ${f.Duration}`);
    counts[f.Format] = [v.length, a.length];
    if (f.Format !== 'm3u8') {
      // FLV and MP4 keep the publisher's bytes: the run is inside what a player saw.
      assert.ok(contiguousIn(v, rv) >= 0, `${f.Format}: video is one contiguous run of the stream`);
      assert.ok(contiguousIn(a, ra) >= 0, `${f.Format}: audio is one contiguous run of the stream`);
    }
  }
  assert.deepEqual(counts.mp4, counts.flv);
  assert.deepEqual(counts.m3u8, counts.flv);
  // The m3u8 recording is a VOD playlist of relative TS references.
  const text = await (await fetch(m3u8.RecordUrl)).text();
  assert.match(text, /#EXT-X-PLAYLIST-TYPE:VOD/);
  assert.match(text, /#EXT-X-ENDLIST/);
  assert.doesNotMatch(text, /^http/m);
});

test('OnDemand 0 records a whole publish, every frame; cancel_delay finishes it at once', async () => {
  const ref = path.join(tmp, 'ref-auto.flv');
  const player = record(`${srv.rtmp}/auto/all`, ref);
  await sleep(600);
  const pub = publish(`${srv.rtmp}/auto/all`, { seconds: 6, rate: 25, gop: 25 });
  assert.equal((await pub.done).code, 0);
  await player;
  // Automatic recordings wait DelayTime for the stream to return ...
  await sleep(1000);
  assert.equal((await api.files('all', { app: 'auto' })).length, 0);
  // ... unless told otherwise.
  await api.command('all', 'cancel_delay', 'auto');
  const files = await api.waitFiles('all', 3, { app: 'auto' });
  const refp = await probe(ref, { packets: true });
  const ra = packetsOf(refp, 'audio').length;
  for (const f of files) {
    const { v, a, duration } = await probeFile(f.RecordUrl);
    assert.equal(v.length, 150, `${f.Format}: every published video frame`);
    assert.equal(a.length, ra, `${f.Format}: every audio frame the player got`);
    assertContiguous(v, 40, f.Format, { firstSlack: f.Format === 'mp4' ? 40 : 0 });
    assert.ok(Math.abs(duration - 6) < 0.1, `${f.Format}: duration ${duration}`);
  }
});

test('a cycle cut: a new file every CycleDuration, on a keyframe, nothing lost or doubled', async () => {
  const pub = publish(`${srv.rtmp}/cycle/c1`, { seconds: 8, rate: 25, gop: 25 });
  assert.equal((await pub.done).code, 0);
  await api.command('c1', 'cancel_delay', 'cycle');
  const files = await api.waitFiles('c1', 9, { app: 'cycle' });
  for (const fmt of ['flv', 'mp4', 'm3u8']) {
    const list = byFormat(files, fmt);
    assert.equal(list.length, 3, `${fmt}: files at 0, 3 and 6 s`);
    let total = 0;
    for (const f of list) {
      const { v } = await probeFile(f.RecordUrl);
      assertContiguous(v, 40, `${fmt} ${f.OssObject}`, { firstSlack: fmt === 'mp4' ? 40 : 0 });
      total += v.length;
    }
    assert.equal(total, 200, `${fmt}: the files together hold every frame once`);
    assert.deepEqual(list.map((f) => Math.round(f.Duration)), [3, 3, 2]);
  }
});

test('restart finishes the current files and continues in new ones from the next keyframe', async () => {
  const ref = path.join(tmp, 'ref-restart.flv');
  const player = record(`${srv.rtmp}/live/rs`, ref);
  await sleep(600);
  const pub = publish(`${srv.rtmp}/live/rs`, { seconds: 8, rate: 25, gop: 25 });
  await sleep(1500);
  await api.command('rs', 'start');
  await sleep(2200);
  await api.command('rs', 'restart');
  await sleep(2500);
  await api.command('rs', 'stop');
  await pub.done;
  await player;
  const files = await api.waitFiles('rs', 6);
  const rv = packetsOf(await probe(ref, { packets: true }), 'video');
  for (const fmt of ['flv', 'mp4', 'm3u8']) {
    const list = byFormat(files, fmt);
    assert.equal(list.length, 2, fmt);
    const [a, b] = [(await probeFile(list[0].RecordUrl)).v, (await probeFile(list[1].RecordUrl)).v];
    assertContiguous(a, 40, `${fmt} before restart`);
    assertContiguous(b, 40, `${fmt} after restart`);
    if (fmt !== 'm3u8') {
      const i = contiguousIn(a, rv), j = contiguousIn(b, rv);
      assert.ok(i >= 0 && j >= 0);
      assert.equal(j, i + a.length, `${fmt}: the second file starts with the frame after the first one's last`);
    }
  }
});

test('RealTimeRecordCommand errors, as documented', async () => {
  const pub = publish(`${srv.rtmp}/nocfg/e1`, { seconds: 6 });
  const pub2 = publish(`${srv.rtmp}/live/e2`, { seconds: 6 });
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
  const bad = await rejects(api.call('RealTimeRecordCommand', { ...p, Command: 'pause' }), 'InvalidCommand.Malformed', 400);
  assert.match(bad.data.Message, /start, stop, cancel_delay, restart/);
  await rejects(api.call('RealTimeRecordCommand', { ...p, Command: 'cancel_delay_stop' }), 'InvalidCommand.Malformed', 400);
  await api.call('RealTimeRecordCommand', p);
  const dup = await rejects(api.call('RealTimeRecordCommand', p), 'TaskAlreadyStarted', 409);
  assert.equal(dup.data.Message, 'Task has already started.');
  await api.call('RealTimeRecordCommand', { ...p, Command: 'stop' });
  // Stopping what is not recording is not an error.
  await api.call('RealTimeRecordCommand', { ...p, Command: 'stop' });
  await pub.done;
  await pub2.done;
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

test('the index: one file, content, an index playlist over TS slices, delete with RemoveFile', async () => {
  const pub = publish(`${srv.rtmp}/live/ix`, { seconds: 14, rate: 25, gop: 25 });
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

  // An index playlist over the slices that start in the middle of the recording.
  const start = Date.parse(m3u8.StartTime);
  const made = await api.call('CreateLiveStreamRecordIndexFiles', {
    DomainName: DOMAIN, AppName: 'live', StreamName: 'ix', OssEndpoint: 'oss-local', OssBucket: 'rec',
    OssObject: 'index/{AppName}/{StreamName}/{Date}/{Hour}{Minute}{Second}.m3u8',
    StartTime: iso(start), EndTime: iso(start + 9000),
  });
  const info = made.RecordInfo;
  assert.match(info.OssObject, /^index\/live\/ix\/\d{4}-\d\d-\d\d\/\d{6}\.m3u8$/);
  assert.ok(info.Duration >= 5 && info.Duration <= 12, `index duration ${info.Duration}`);
  await sleep(300); // the playlist is written by a worker thread
  const { v } = await probeFile(info.RecordUrl);
  assert.ok(Math.abs(v.length / 25 - info.Duration) < 0.1, `${v.length} frames for ${info.Duration} s`);
  assert.equal(v[0].flags[0], 'K');
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
  const again = await probeFile(m3u8.RecordUrl);
  assert.ok(again.v.length > 250);
  assert.equal((await api.files('ix')).length, 2);
});
