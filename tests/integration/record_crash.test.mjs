// Recordings across server deaths. SIGKILL during a recording leaves files
// that the next start repairs, names, indexes and announces (what was written
// before the kill plays); SIGTERM finishes the files before exit, and
// callbacks that could not be sent any more are sent by the next start.
//
// The fault-injection setting record_fault_abort=<point>[:<n>] kills the
// server between two steps of a file's life (index row, object created,
// complete, final name recorded, renamed: src/record/fault.h). After each
// kill the next start must leave the index and the disk in agreement: every
// recording on disk listed exactly once, every listed file on disk, every TS
// slice in exactly one playlist, no temporary names, every file an exact
// prefix of what was published, and a file-created callback for each.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer, sleep, checkLog, DOMAIN } from './lib/server.mjs';
import {
  recApi, receiver, makeSource, sourceOf, publishFile, publishedAt, packetHashes, assertRun,
  mediaWindow, assertStartsAt, assertEndsAt, storedObjects, ossUrl,
} from './lib/recording.mjs';

let rx, tmp;
const SRC = {};
const dirs = [];
const FORMATS = [{ Format: 'flv' }, { Format: 'mp4' }, { Format: 'm3u8', SliceDuration: 5 }];

before(async () => {
  rx = await receiver();
  tmp = mkdtempSync(path.join(os.tmpdir(), 'onair-reccrash-src-'));
  for (const s of [20, 30]) {
    const file = await makeSource(path.join(tmp, `src${s}.flv`), { seconds: s });
    SRC[s] = { file, ...(await sourceOf(file)) };
  }
});
after(async () => {
  await rx.close();
  for (const d of [...dirs, tmp]) rmSync(d, { recursive: true, force: true });
});

function dataDir() {
  const d = mkdtempSync(path.join(os.tmpdir(), 'onair-reccrash-'));
  dirs.push(d);
  return d;
}

// Waits for a server that was told to kill itself; returns its log.
async function died(srv, point) {
  const t = setTimeout(() => srv.child.kill('SIGKILL'), 30000);
  const { signal } = await srv.exited;
  clearTimeout(t);
  const log = srv.log();
  checkLog(log);
  assert.equal(signal, 'SIGKILL', `the server died by its fault injection at ${point}`);
  assert.match(log, new RegExp(`fault injection: killing the process at ${point.split(':')[0]}`));
  return log;
}

const isRecording = (o) => /\.(flv|mp4|m3u8)$/.test(o) && !o.startsWith('index/');

// The index and the disk agree, every file plays as an exact prefix of the
// publish from the start command, and each file was announced.
async function assertRecovered(srv, stream, { src, started, notifyPath }) {
  const api = recApi(srv);
  let files = [], disk = [];
  const t0 = Date.now();
  for (;;) {
    files = await api.files(stream);
    disk = storedObjects(srv.dataDir, 'rec');
    const listed = files.map((f) => f.OssObject).sort();
    // TS slices with no playlist listed yet: an m3u8 file is still being recovered.
    const orphanSlices = disk.some((o) => o.endsWith('.ts')) && !files.some((f) => f.Format === 'm3u8');
    if (JSON.stringify(listed) === JSON.stringify(disk.filter(isRecording)) && !disk.some((o) => /recording/.test(o)) &&
        !orphanSlices) break;
    if (Date.now() - t0 > 20000) {
      assert.fail(`index and disk disagree:\nindex ${JSON.stringify(listed)}\ndisk ${JSON.stringify(disk)}\n${srv.log().slice(-3000)}`);
    }
    await sleep(200);
  }
  assert.equal(new Set(files.map((f) => f.OssObject)).size, files.length, 'each file listed once');
  for (const fmt of ['flv', 'mp4', 'm3u8']) assert.ok(files.filter((f) => f.Format === fmt).length <= 1, `one ${fmt} file`);
  // Every TS slice on disk belongs to exactly one listed playlist.
  const inPlaylists = [];
  for (const f of files.filter((x) => x.Format === 'm3u8')) {
    const text = await (await fetch(f.RecordUrl)).text();
    assert.match(text, /#EXT-X-ENDLIST/);
    for (const l of text.split('\n').filter((x) => x && !x.startsWith('#'))) {
      inPlaylists.push(decodeURIComponent(new URL(l, f.RecordUrl).pathname.replace(/^\/oss\/(~[0-9a-f]+\/)?rec\//, '')));
    }
  }
  assert.deepEqual(inPlaylists.sort(), disk.filter((o) => o.endsWith('.ts')), 'every slice in one playlist');
  const runs = {};
  for (const f of files) {
    // Exact but maybe cut short: a file the kill interrupted ends where its last complete unit does.
    const run = assertRun(await packetHashes(f.RecordUrl), src, `recovered ${f.Format}`, { truncated: true });
    assertStartsAt(run, src, started, `recovered ${f.Format}`);
    assert.equal(f.Width, 320);
    assert.ok(Date.parse(f.EndTime) >= Date.parse(f.StartTime));
    runs[f.Format] = run;
    await rx.wait((r) => r.url === notifyPath && JSON.parse(r.body).uri === f.OssObject);
  }
  return { files, runs };
}

// Records stream k of a fresh server armed to kill itself at `point`, with
// `stopAfterMs` of recording before a stop (none: the kill comes first).
async function crashAt(point, { stopAfterMs = 0, waitMs = 0, recoverPoint = null } = {}) {
  const dir = dataDir();
  const notifyPath = `/crash/${point}`;
  const src = SRC[30];
  const srv = await startServer({ dataDir: dir, args: ['--set', `record_fault_abort=${point}`] });
  const api = recApi(srv);
  await api.call('AddLiveRecordNotifyConfig', { DomainName: DOMAIN, NotifyUrl: `${rx.url}${notifyPath}` });
  await api.addConfig({ AppName: 'live', OssBucket: 'rec', OnDemand: 7, RecordFormat: FORMATS });
  const pub = publishFile(`${srv.rtmp}/live/k`, src.file);
  try {
    const t0 = await publishedAt(srv, 'live', 'k');
    await sleep(1500);
    let before = Date.now();
    await api.command('k', 'start').catch(() => {}); // the answer may not come: the server dies
    const started = mediaWindow(t0, before, Date.now());
    let stopped = null;
    if (stopAfterMs) {
      await sleep(stopAfterMs);
      before = Date.now();
      await api.command('k', 'stop').catch(() => {}); // the answer may not come: the server dies
      stopped = mediaWindow(t0, before, Date.now());
    } else if (waitMs) {
      await sleep(waitMs);
    }
    await died(srv, point);
    pub.proc.kill('SIGKILL');
    await pub.done;
    let srv2 = await startServer({ dataDir: dir, args: recoverPoint ? ['--set', `record_fault_abort=${recoverPoint}`] : [] });
    if (recoverPoint) {
      // Recovery itself is killed half way; the next start finishes it.
      await died(srv2, recoverPoint);
      srv2 = await startServer({ dataDir: dir });
    }
    try {
      return { ...(await assertRecovered(srv2, 'k', { src, started, notifyPath })), stopped, src };
    } finally {
      await srv2.stop();
    }
  } finally {
    pub.proc.kill('SIGKILL');
    if (srv.alive()) await srv.kill9();
  }
}

test('killed right after the first index row: nothing on disk, nothing listed', async () => {
  const { files } = await crashAt('file_row');
  assert.equal(files.length, 0);
});

test('killed right after the second file was created: the first one is recovered, the empty one goes', async () => {
  // FLV is created at once, MP4 with its first fragment (TS slices count apart).
  const { files } = await crashAt('file_create:2');
  assert.deepEqual(files.map((f) => f.Format).sort(), ['flv', 'm3u8']);
});

test('killed when the second TS slice was indexed or created: the playlist lists the first, every file plays', async () => {
  for (const point of ['slice_row:2', 'slice_create:2']) {
    const { files, runs } = await crashAt(point, { waitMs: 10000 });
    assert.deepEqual(files.map((f) => f.Format).sort(), ['flv', 'm3u8', 'mp4'], point);
    assert.ok(runs.m3u8.last.ms - runs.m3u8.key.ms >= 4500, `${point}: the first slice`);
    assert.ok(runs.flv.last.pos >= runs.m3u8.last.pos, `${point}: FLV has at least what the first slice has`);
  }
});

// After a stop the files finish in format order (FLV first): the first is whole, the
// others as far as the kill let them get.
test('killed when a stopped file was complete but not yet named: recovered whole', async () => {
  const { files, runs, stopped } = await crashAt('file_finished', { stopAfterMs: 6000 });
  assert.equal(files.length, 3);
  assertEndsAt(runs.flv, stopped, 'flv');
});

test('killed between recording the final name and the rename, and again during recovery', async () => {
  const { files, runs, stopped } = await crashAt('finishing', { stopAfterMs: 6000, recoverPoint: 'renamed' });
  assert.equal(files.length, 3);
  assertEndsAt(runs.flv, stopped, 'flv');
});

test('killed after a rename, before the index knew: the file is indexed once under its final name', async () => {
  for (const point of ['renamed:1', 'renamed:3']) {
    const { files, runs, stopped } = await crashAt(point, { stopAfterMs: 6000 });
    assert.equal(files.length, 3, point);
    assertEndsAt(runs.flv, stopped, `${point} flv`);
    // A playlist written under its final name before the kill is not written again as _1.
    assert.ok(files.every((f) => !/_1\.(flv|mp4|m3u8)$/.test(f.OssObject)), JSON.stringify(files.map((f) => f.OssObject)));
  }
  // The third rename comes after all three files were complete.
});

test('SIGKILL during a recording: the next start repairs, names, indexes and announces the files', async () => {
  const dir = dataDir();
  const src = SRC[30];
  const srv = await startServer({ dataDir: dir });
  let api = recApi(srv);
  await api.call('AddLiveRecordNotifyConfig', { DomainName: DOMAIN, NotifyUrl: `${rx.url}/kill` });
  await api.addConfig({ AppName: 'live', OssBucket: 'rec', OnDemand: 7, RecordFormat: FORMATS });
  const pub = publishFile(`${srv.rtmp}/live/crash`, src.file);
  const t0 = await publishedAt(srv, 'live', 'crash');
  await sleep(1500);
  const before = Date.now();
  await api.command('crash', 'start');
  const started = mediaWindow(t0, before, Date.now());
  await sleep(8000);
  // Being written, each file already plays as far as it goes (m3u8: an EVENT
  // playlist, which players poll: its first segment is checked here).
  const inProgress = storedObjects(dir, 'rec').filter((f) => /_recording\.(flv|mp4|m3u8)$/.test(f));
  try {
    assert.equal(inProgress.length, 3, `in-progress names: ${inProgress}`);
    for (const f of inProgress) {
      let url = ossUrl(srv, 'rec', f);
      if (f.endsWith('.m3u8')) {
        const text = await (await fetch(url)).text();
        assert.match(text, /#EXT-X-PLAYLIST-TYPE:EVENT/);
        assert.doesNotMatch(text, /ENDLIST/);
        url = new URL(text.split('\n').find((l) => l && !l.startsWith('#')), url).href;
      }
      const run = assertRun(await packetHashes(url), src, `${f} while recording`, { truncated: true });
      assertStartsAt(run, src, started, f);
      assert.ok(run.last.ms - run.key.ms >= 4000, `${f}: ${run.key.ms}..${run.last.ms} ms while recording`);
    }
  } catch (e) {
    await srv.kill9();
    pub.proc.kill('SIGKILL');
    throw e;
  }
  const killedAt = Date.now() - t0;
  await srv.kill9();
  pub.proc.kill('SIGKILL');
  await pub.done;
  const left = storedObjects(dir, 'rec');
  assert.equal(left.filter((f) => /_recording\.(flv|mp4|m3u8)$/.test(f)).length, 3, `in-progress names: ${left}`);
  assert.ok(left.some((f) => f.endsWith('.ts')));

  const srv2 = await startServer({ dataDir: dir });
  try {
    await srv2.waitLog(/recovered interrupted flv/);
    await srv2.waitLog(/recovered interrupted mp4/);
    await srv2.waitLog(/recovered interrupted m3u8/);
    const { files, runs } = await assertRecovered(srv2, 'crash', { src, started, notifyPath: '/kill' });
    assert.equal(files.length, 3);
    // Everything written before the kill: FLV up to its last batch, MP4 up to its last
    // complete fragment (a GOP), m3u8 up to its last complete slice plus the open one.
    for (const fmt of ['flv', 'mp4', 'm3u8']) {
      assert.ok(runs[fmt].last.ms >= killedAt - 2500, `${fmt}: ends at ${runs[fmt].last.ms} ms, killed at ${killedAt} ms`);
    }
    for (const f of files) {
      assert.doesNotMatch(f.OssObject, /recording/);
      assert.ok(Date.parse(f.EndTime) > Date.parse(f.StartTime));
    }
  } finally {
    await srv2.stop();
  }
});

test('SIGTERM finishes recordings, automatic and manual, before exit; their callbacks are sent by the next start', async () => {
  const dir = dataDir();
  const src = SRC[20];
  const srv = await startServer({ dataDir: dir });
  let api = recApi(srv);
  await api.call('AddLiveRecordNotifyConfig', { DomainName: DOMAIN, NotifyUrl: `${rx.url}/term` });
  await api.addConfig({ AppName: 'live', OssBucket: 'rec', OnDemand: 0, RecordFormat: [{ Format: 'flv' }, { Format: 'mp4' }] });
  await api.addConfig({ AppName: 'man', OssBucket: 'rec', OnDemand: 7, RecordFormat: [{ Format: 'flv' }, { Format: 'm3u8', SliceDuration: 5 }] });
  const pub = publishFile(`${srv.rtmp}/live/term`, src.file);
  const pub2 = publishFile(`${srv.rtmp}/man/term2`, src.file);
  const t0 = await publishedAt(srv, 'live', 'term');
  const t02 = await publishedAt(srv, 'man', 'term2');
  await sleep(1000);
  let before = Date.now();
  await api.command('term2', 'start', 'man');
  const started2 = mediaWindow(t02, before, Date.now());
  await sleep(5000);
  // Callbacks cannot go out while the server stops: the receiver is "down" for this one.
  before = Date.now();
  await srv.stop();
  const stopped = mediaWindow(t0, before, Date.now()), stopped2 = mediaWindow(t02, before, Date.now());
  await Promise.all([pub.done, pub2.done]);
  assert.match(srv.log(), /flv file .* done/);
  assert.match(srv.log(), /mp4 file .* done/);
  assert.match(srv.log(), /m3u8 file .* done/);
  assert.equal(rx.got.filter((r) => r.url === '/term').length, 0);

  const srv2 = await startServer({ dataDir: dir });
  try {
    api = recApi(srv2);
    const files = await api.waitFiles('term', 2);
    const manual = await api.waitFiles('term2', 2, { app: 'man' });
    assert.doesNotMatch(srv2.log(), /recovered interrupted/);
    for (const f of files) {
      // The automatic recording: from the publisher's first packet to the stop.
      const run = assertRun(await packetHashes(f.RecordUrl), src, f.Format, { heldAudio: true });
      assert.equal(run.first.pos, 0);
      assertEndsAt(run, stopped, f.Format);
    }
    for (const f of manual) {
      const run = assertRun(await packetHashes(f.RecordUrl), src, `manual ${f.Format}`);
      assertStartsAt(run, src, started2, `manual ${f.Format}`);
      assertEndsAt(run, stopped2, `manual ${f.Format}`);
    }
    for (const f of [...files, ...manual]) await rx.wait((r) => r.url === '/term' && r.body.includes(f.OssObject));
  } finally {
    await srv2.stop();
  }
});
