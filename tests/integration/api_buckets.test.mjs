// Recordings are isolated between accounts: a bucket belongs to the account
// that first names it (record config or index file), another account's
// configs, index files and studio inputs naming it are refused (Forbidden,
// 401), and the HTTP object route serves an owned bucket only with the
// bucket's URL token - which every RecordUrl carries, so RecordUrls (MP4
// and m3u8 with its segments) still play as they are. A bucket nobody owns
// holds the operator's own files and is served to anyone.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer, sleep, DOMAIN } from './lib/server.mjs';
import { publish, run } from './lib/media.mjs';
import { popClient, createAccount } from './lib/api.mjs';
import { recApi, rejects, probeFile, iso, ossToken } from './lib/recording.mjs';

const D2 = 'two.buckets.example.com';
let dir, srv, one, two, rec1, files;

async function status(url) {
  const r = await run('curl', ['-s', '-o', '/dev/null', '-m', '5', '-w', '%{http_code}', url], { timeoutMs: 10000 });
  return Number(r.out);
}

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'onair-buckets-'));
  const second = createAccount(dir, 'tenant-two');
  srv = await startServer({ dataDir: dir });
  one = popClient(srv);
  two = popClient(srv, second);
  rec1 = recApi(srv);
  await two.call('AddLiveDomain', { DomainName: D2, LiveDomainType: 'liveVideo', Region: 'cn-shanghai' });
  await rec1.addConfig({ AppName: 'live', OssBucket: 'one-rec', OnDemand: 7, RecordFormat: [{ Format: 'mp4' }, { Format: 'm3u8', SliceDuration: 5 }] });
  // Account one records a few seconds into its bucket.
  const pub = publish(`${srv.rtmp}/live/b1`, { seconds: 12, gop: 25 });
  await sleep(2000);
  await rec1.command('b1', 'start');
  await sleep(5000);
  await rec1.command('b1', 'stop');
  await rec1.command('b1', 'cancel_delay');
  files = await rec1.waitFiles('b1', 2);
  await pub.done;
});

after(async () => {
  await srv.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('another account cannot name an owned bucket in record configs or index files', async () => {
  const fmt = [{ Format: 'flv' }];
  const e = await rejects(two.call('AddLiveAppRecordConfig', { DomainName: D2, AppName: 'live', OssEndpoint: 'local', OssBucket: 'one-rec', RecordFormat: fmt }), 'Forbidden', 401);
  assert.match(e.data.Message, /OssBucket "one-rec" belongs to another account/);
  // Its own bucket is fine; moving the config into account one's bucket is not.
  await two.call('AddLiveAppRecordConfig', { DomainName: D2, AppName: 'live', OssEndpoint: 'local', OssBucket: 'two-rec', RecordFormat: fmt });
  await rejects(two.call('UpdateLiveAppRecordConfig', { DomainName: D2, AppName: 'live', OssEndpoint: 'local', OssBucket: 'one-rec' }), 'Forbidden', 401);
  const cfg = await two.call('DescribeLiveRecordConfig', { DomainName: D2 });
  assert.equal(cfg.LiveAppRecordList.LiveAppRecord[0].OssBucket, 'two-rec');
  // Nor write an index playlist into it (it could replace account one's objects).
  await rejects(two.call('CreateLiveStreamRecordIndexFiles', {
    DomainName: D2, AppName: 'live', StreamName: 'b1', OssEndpoint: 'local', OssBucket: 'one-rec',
    OssObject: 'x/{StreamName}.m3u8', StartTime: iso(Date.now() - 600e3), EndTime: iso(Date.now()),
  }), 'Forbidden', 401);
  // And account one cannot take account two's bucket either.
  await rejects(one.call('AddLiveAppRecordConfig', { DomainName: DOMAIN, AppName: 'other', OssEndpoint: 'local', OssBucket: 'two-rec', RecordFormat: fmt }), 'Forbidden', 401);
  // Account one still uses its own: a second config in the same bucket.
  await one.call('AddLiveAppRecordConfig', { DomainName: DOMAIN, AppName: 'more', OssEndpoint: 'local', OssBucket: 'one-rec', RecordFormat: fmt });
});

test('RecordUrls play as they are; without the bucket token the objects are refused', async () => {
  const token = ossToken(dir, 'one-rec');
  for (const f of files) {
    assert.equal(f.RecordUrl, `${srv.http}/oss/~${token}/one-rec/${f.OssObject.split('/').map(encodeURIComponent).join('/')}`);
    // The m3u8's segments are relative references: the token stays in their path.
    const { v } = await probeFile(f.RecordUrl);
    assert.ok(v.length >= 50, `${f.Format}: ${v.length} frames`);
    const bare = f.RecordUrl.replace(`/~${token}/`, '/');
    assert.equal(await status(bare), 403, bare);
    assert.equal(await status(f.RecordUrl.replace(`/~${token}/`, `/~${'0'.repeat(32)}/`)), 403);
    assert.equal(await status(f.RecordUrl.replace(`/~${token}/`, `/~${ossToken(dir, 'two-rec')}/`)), 403);
    assert.equal(await status(f.RecordUrl.replace(`/~${token}/`, `/~${token.slice(0, 31)}/`)), 403);
  }
  const m3u8 = files.find((f) => f.Format === 'm3u8');
  const text = await (await fetch(m3u8.RecordUrl)).text();
  const seg = new URL(text.split('\n').find((l) => l && !l.startsWith('#')), m3u8.RecordUrl);
  assert.ok(seg.pathname.startsWith(`/oss/~${token}/one-rec/`), seg.href);
  assert.equal(await status(seg.href), 200);
  assert.equal(await status(seg.href.replace(`/~${token}/`, '/')), 403);
  await srv.waitLog(/oss 127\.0\.0\.1 \/oss\/one-rec\/\S+: refused: URL token missing or wrong/);
});

test('studio inputs: another account\'s bucket is refused, the operator\'s unowned bucket is open', async () => {
  // An unowned bucket: files the operator put there by hand, served without a token.
  mkdirSync(path.join(dir, 'oss', 'media'), { recursive: true });
  writeFileSync(path.join(dir, 'oss', 'media', 'note.txt'), 'hello');
  assert.equal(await status(`${srv.http}/oss/media/note.txt`), 200);
  const mp4 = files.find((f) => f.Format === 'mp4');
  const addInput = async (client, url) => {
    const { CasterId } = await client.call('CreateCaster', { ClientToken: `t-${Math.random()}`, ChargeType: 'PostPaid', NormType: 1 });
    return client.call('AddCasterVideoResource', { CasterId, ResourceName: 'clip', VodUrl: url });
  };
  const local = `${srv.http}/oss/one-rec/${mp4.OssObject.split("/").map(encodeURIComponent).join("/")}`;
  for (const url of [`oss://one-rec/${mp4.OssObject}`, local]) {
    const e = await rejects(addInput(two, url), 'Forbidden', 401);
    assert.match(e.data.Message, /VodUrl names an object in another account's bucket/);
  }
  // The owner may; anyone may use the unowned bucket; the RecordUrl is a
  // bearer URL (the HTTP route checks its token), so it is accepted too.
  await addInput(one, `oss://one-rec/${mp4.OssObject}`);
  await addInput(one, local);
  await addInput(two, 'oss://media/note.txt');
  await addInput(two, mp4.RecordUrl);
});
