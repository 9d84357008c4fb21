// Recordings across server deaths: SIGKILL during a recording leaves files
// that the next start repairs, names, indexes and announces (what was
// written before the kill plays); SIGTERM finishes the files before exit,
// and a callback that could not be sent any more is sent by the next start.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer, sleep, DOMAIN } from './lib/server.mjs';
import { publish } from './lib/media.mjs';
import { recApi, receiver, probeFile, assertContiguous, ossUrl } from './lib/recording.mjs';

let rx;
const dirs = [];
before(async () => { rx = await receiver(); });
after(async () => {
  await rx.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function dataDir() {
  const d = mkdtempSync(path.join(os.tmpdir(), 'onair-reccrash-'));
  dirs.push(d);
  return d;
}

function objects(dir) {
  const out = [];
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(path.join(d, e.name));
      else out.push(path.join(d, e.name));
    }
  };
  walk(path.join(dir, 'oss'));
  return out;
}

test('SIGKILL during a recording: the next start repairs, names, indexes and announces the files', async () => {
  const dir = dataDir();
  const srv = await startServer({ dataDir: dir });
  let api = recApi(srv);
  await api.call('AddLiveRecordNotifyConfig', { DomainName: DOMAIN, NotifyUrl: `${rx.url}/kill` });
  await api.addConfig({
    AppName: 'live', OssBucket: 'rec', OnDemand: 7,
    RecordFormat: [{ Format: 'flv' }, { Format: 'mp4' }, { Format: 'm3u8', SliceDuration: 5 }],
  });
  const pub = publish(`${srv.rtmp}/live/crash`, { seconds: 30, rate: 25, gop: 25 });
  await sleep(1500);
  await api.command('crash', 'start');
  await sleep(8000);
  // Being written, each file already plays as far as it goes (m3u8: an EVENT
  // playlist, which players poll: its segments are probed here).
  const inProgress = objects(dir).filter((f) => /_recording\.(flv|mp4|m3u8)$/.test(f));
  try {
    assert.equal(inProgress.length, 3, `in-progress names: ${inProgress}`);
    for (const f of inProgress) {
      let url = ossUrl(srv, 'rec', path.relative(path.join(dir, 'oss', 'rec'), f));
      if (f.endsWith('.m3u8')) {
        const text = await (await fetch(url)).text();
        assert.match(text, /#EXT-X-PLAYLIST-TYPE:EVENT/);
        assert.doesNotMatch(text, /ENDLIST/);
        url = new URL(text.split('\n').find((l) => l && !l.startsWith('#')), url).href;
      }
      const { v } = await probeFile(url);
      assert.ok(v.length >= 100, `${url}: ${v.length} frames while recording`);
      assert.equal(v[0].flags[0], 'K');
    }
  } catch (e) {
    await srv.kill9();
    pub.proc.kill('SIGKILL');
    throw e;
  }
  await srv.kill9();
  pub.proc.kill('SIGKILL');
  await pub.done;
  const left = objects(dir);
  assert.equal(left.filter((f) => /_recording\.(flv|mp4|m3u8)$/.test(f)).length, 3, `in-progress names: ${left}`);
  assert.ok(left.some((f) => f.endsWith('.ts')));

  const srv2 = await startServer({ dataDir: dir });
  try {
    api = recApi(srv2);
    await srv2.waitLog(/recovered interrupted flv/);
    await srv2.waitLog(/recovered interrupted mp4/);
    await srv2.waitLog(/recovered interrupted m3u8/);
    const files = await api.waitFiles('crash', 3);
    for (const f of files) {
      assert.doesNotMatch(f.OssObject, /recording/);
      const { v, duration } = await probeFile(f.RecordUrl);
      assertContiguous(v, 40, `recovered ${f.Format}`);
      // Everything up to the kill (MP4: up to its last complete fragment, one GOP).
      const min = f.Format === 'mp4' ? 150 : 175;
      assert.ok(v.length >= min && v.length <= 260, `${f.Format}: ${v.length} frames survived`);
      assert.ok(Math.abs(f.Duration - duration) < 0.15, `${f.Format}: index ${f.Duration} vs ${duration}`);
      assert.equal(f.Width, 320);
      assert.ok(Date.parse(f.EndTime) > Date.parse(f.StartTime));
    }
    const m3u8 = files.find((f) => f.Format === 'm3u8');
    assert.match(await (await fetch(m3u8.RecordUrl)).text(), /#EXT-X-ENDLIST/);
    for (const f of files) await rx.wait((r) => r.url === '/kill' && r.body.includes(f.OssObject));
    assert.equal(objects(dir).filter((f) => /recording/.test(f)).length, 0, 'no temporary names left');
  } finally {
    await srv2.stop();
  }
});

test('SIGTERM finishes recordings before exit; their callbacks are sent by the next start', async () => {
  const dir = dataDir();
  const srv = await startServer({ dataDir: dir });
  let api = recApi(srv);
  await api.call('AddLiveRecordNotifyConfig', { DomainName: DOMAIN, NotifyUrl: `${rx.url}/term` });
  await api.addConfig({ AppName: 'live', OssBucket: 'rec', OnDemand: 0, RecordFormat: [{ Format: 'flv' }, { Format: 'mp4' }] });
  const pub = publish(`${srv.rtmp}/live/term`, { seconds: 30, rate: 25, gop: 25 });
  await sleep(5000);
  // Callbacks cannot go out while the server stops: the receiver is "down" for this one.
  await srv.stop();
  await pub.done;
  assert.match(srv.log(), /flv file .* done/);
  assert.match(srv.log(), /mp4 file .* done/);
  assert.equal(rx.got.filter((r) => r.url === '/term').length, 0);

  const srv2 = await startServer({ dataDir: dir });
  try {
    api = recApi(srv2);
    const files = await api.waitFiles('term', 2);
    assert.doesNotMatch(srv2.log(), /recovered interrupted/);
    for (const f of files) {
      const { v, duration } = await probeFile(f.RecordUrl);
      assertContiguous(v, 40, f.Format, { firstSlack: f.Format === 'mp4' ? 40 : 0 });
      assert.ok(v.length >= 100, `${f.Format}: ${v.length}`);
      assert.ok(Math.abs(f.Duration - duration) < 0.15);
    }
    for (const f of files) await rx.wait((r) => r.url === '/term' && r.body.includes(f.OssObject));
  } finally {
    await srv2.stop();
  }
});
