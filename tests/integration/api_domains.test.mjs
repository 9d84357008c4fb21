// Domains through the API, checked against real publishers and players:
// validation, listing and filters, stop/start/delete taking effect on ffmpeg
// at once, ingest-to-play mapping (publishing on the ingest domain, playing
// on the play domain), and two accounts that cannot see or touch each
// other's domains and streams.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer, sleep, DOMAIN } from './lib/server.mjs';
import { publish, probe, run } from './lib/media.mjs';
import { popClient, teaClient, createAccount, expectCode } from './lib/api.mjs';

let srv, pop;
before(async () => {
  srv = await startServer();
  pop = popClient(srv);
});
after(async () => { await srv.stop(); });

const addDomain = (client, name, type = 'liveVideo') => client.call('AddLiveDomain', { DomainName: name, LiveDomainType: type, Region: 'cn-shanghai' });

async function waitOnline(client, domain, stream, timeoutMs = 15000) {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    const r = await client.call('DescribeLiveStreamsOnlineList', { DomainName: domain, StreamName: stream, QueryType: 'strict' });
    if (r.TotalNum > 0) return r.OnlineInfo.LiveStreamOnlineInfo[0];
    await sleep(250);
  }
  throw new Error(`${domain}/${stream} never came online`);
}

// A publish that the server refuses: ffmpeg gives up quickly with an error.
async function publishRefused(url) {
  const p = publish(url, { seconds: 20 });
  const r = await Promise.race([p.done, sleep(10000).then(() => null)]);
  if (!r) {
    p.proc.kill('SIGKILL');
    assert.fail(`publish to ${url} was not refused`);
  }
  assert.notEqual(r.code, 0, 'ffmpeg failed');
}

// Resolves when the publisher exits; fails if it is still running after ms.
async function exitsWithin(p, ms) {
  const r = await Promise.race([p.done, sleep(ms).then(() => null)]);
  if (!r) {
    p.proc.kill('SIGKILL');
    assert.fail('the publisher was not disconnected');
  }
  return r;
}

async function httpStatus(url) {
  const r = await run('curl', ['-s', '-o', '/dev/null', '-m', '5', '-w', '%{http_code}', url], { timeoutMs: 10000 });
  return Number(r.out);
}

test('AddLiveDomain validates names, types, regions and refuses duplicates', async () => {
  for (const bad of ['bad_name.example.com', '-a.example.com', 'a..example.com', 'example', '1.2.3.4',
    '*.example.com', `${'a'.repeat(64)}.example.com`, 'a.example.com.', 'a b.example.com', '..example.com']) {
    await expectCode(addDomain(pop, bad), 'InvalidDomainName.Malformed');
  }
  await expectCode(addDomain(pop, 'ok.example.com', 'cdn'), 'InvalidLiveDomainType.Malformed');
  await expectCode(pop.call('AddLiveDomain', { DomainName: 'ok.example.com', LiveDomainType: 'liveVideo' }), 'MissingRegion');
  await expectCode(pop.call('AddLiveDomain', { DomainName: 'ok.example.com', LiveDomainType: 'liveVideo', Region: 'cn-shanghai', Scope: 'mars' }), 'InvalidScope.Malformed');
  await expectCode(pop.call('AddLiveDomain', { DomainName: 'ok.example.com', LiveDomainType: 'liveVideo', Region: 'cn-shanghai', CheckUrl: 'ftp://x/y' }), 'Abs.CheckUrl.Malformed');
  await addDomain(pop, 'Upper.Example.COM');
  await addDomain(pop, '.wild.example.com');
  const e = await expectCode(addDomain(pop, 'upper.example.com'), 'DomainAlreadyExist');
  assert.equal(e.data.Message, 'The specified domain already exists.');
  const d = await pop.call('DescribeLiveDomainDetail', { DomainName: 'UPPER.example.com' });
  assert.equal(d.DomainDetail.DomainName, 'upper.example.com');
  assert.equal(d.DomainDetail.LiveDomainType, 'liveVideo');
  assert.equal(d.DomainDetail.DomainStatus, 'online');
  assert.equal(d.DomainDetail.Region, 'cn-shanghai');
  assert.equal(d.DomainDetail.Scope, 'domestic');
  assert.equal(d.DomainDetail.SSLProtocol, 'off');
  assert.equal(d.DomainDetail.Cname, '127.0.0.1');
  assert.match(d.DomainDetail.GmtCreated, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
});

test('DescribeLiveUserDomains: search types, filters and paging', async () => {
  for (const n of ['list-a.example.org', 'list-b.example.org', 'list-c.example.org']) await addDomain(pop, n);
  await addDomain(pop, 'edge-list.example.org', 'liveEdge');
  const names = (r) => r.Domains.PageData.map((d) => d.DomainName).sort();
  let r = await pop.call('DescribeLiveUserDomains', { DomainName: 'example.org' });
  assert.equal(r.TotalCount, 4);
  r = await pop.call('DescribeLiveUserDomains', { DomainName: 'list-', DomainSearchType: 'pre_match' });
  assert.deepEqual(names(r), ['list-a.example.org', 'list-b.example.org', 'list-c.example.org']);
  r = await pop.call('DescribeLiveUserDomains', { DomainName: 'b.example.org', DomainSearchType: 'suf_match' });
  assert.deepEqual(names(r), ['list-b.example.org']);
  r = await pop.call('DescribeLiveUserDomains', { DomainName: 'list-c.example.org', DomainSearchType: 'full_match' });
  assert.deepEqual(names(r), ['list-c.example.org']);
  r = await pop.call('DescribeLiveUserDomains', { DomainName: 'list-c.example', DomainSearchType: 'full_match' });
  assert.equal(r.TotalCount, 0);
  assert.deepEqual(r.Domains.PageData, []);
  r = await pop.call('DescribeLiveUserDomains', { LiveDomainType: 'liveEdge', DomainName: 'example.org' });
  assert.deepEqual(names(r), ['edge-list.example.org']);
  await pop.call('StopLiveDomain', { DomainName: 'list-a.example.org' });
  r = await pop.call('DescribeLiveUserDomains', { DomainStatus: 'offline' });
  assert.deepEqual(names(r), ['list-a.example.org']);
  assert.equal(r.Domains.PageData[0].LiveDomainStatus, 'offline');
  // Paging: 4 matches, 3 per page.
  const p1 = await pop.call('DescribeLiveUserDomains', { DomainName: 'example.org', PageSize: 3, PageNumber: 1 });
  const p2 = await pop.call('DescribeLiveUserDomains', { DomainName: 'example.org', PageSize: 3, PageNumber: 2 });
  assert.equal(p1.Domains.PageData.length, 3);
  assert.equal(p2.Domains.PageData.length, 1);
  assert.equal(p2.TotalCount, 4);
  assert.equal(new Set([...names(p1), ...names(p2)]).size, 4);
  await expectCode(pop.call('DescribeLiveUserDomains', { DomainSearchType: 'regex' }), 'InvalidDomainSearchType.Malformed');
});

test('StopLiveDomain disconnects its publishers at once and refuses new ones; StartLiveDomain lets them back', async () => {
  await addDomain(pop, 'stop.example.com');
  const url = `${srv.rtmp}/live/st1?vhost=stop.example.com`;
  const p = publish(url, { seconds: 60 });
  await waitOnline(pop, 'stop.example.com', 'st1');
  const t0 = Date.now();
  await pop.call('StopLiveDomain', { DomainName: 'stop.example.com' });
  await exitsWithin(p, 5000);
  assert.ok(Date.now() - t0 < 5000);
  const d = await pop.call('DescribeLiveDomainDetail', { DomainName: 'stop.example.com' });
  assert.equal(d.DomainDetail.DomainStatus, 'offline');
  await publishRefused(url);
  assert.equal(await httpStatus(`${srv.http}/live/st1.flv?vhost=stop.example.com`), 403);
  assert.equal(await httpStatus(`${srv.http}/live/st1.m3u8?vhost=stop.example.com`), 403);
  // Stopping twice is fine.
  await pop.call('StopLiveDomain', { DomainName: 'stop.example.com' });
  await pop.call('StartLiveDomain', { DomainName: 'stop.example.com' });
  const p2 = publish(url, { seconds: 60 });
  const info = await waitOnline(pop, 'stop.example.com', 'st1');
  assert.equal(info.PublishDomain, 'stop.example.com');
  const pr = await probe(`${srv.rtmp}/live/st1?vhost=stop.example.com`);
  assert.ok(pr.streams.some((s) => s.codec_type === 'video'));
  p2.proc.kill('SIGTERM');
  await p2.done;
});

test('an ingest domain mapped to a play domain: publish on one, play on the other', async () => {
  await addDomain(pop, 'push.example.com', 'liveEdge');
  await addDomain(pop, 'play.example.com', 'liveVideo');
  await expectCode(pop.call('AddLiveDomainMapping', { PullDomain: 'push.example.com', PushDomain: 'play.example.com' }), 'IllegalOperation');
  await expectCode(pop.call('AddLiveDomainMapping', { PullDomain: 'play.example.com', PushDomain: 'nope.example.com' }), 'InvalidDomain.NotFound');
  await expectCode(pop.call('AddLiveDomainMapping', { PullDomain: 'play.example.com' }), 'MissingPushDomain');
  await pop.call('AddLiveDomainMapping', { PullDomain: 'play.example.com', PushDomain: 'push.example.com' });
  await pop.call('AddLiveDomainMapping', { PullDomain: 'play.example.com', PushDomain: 'push.example.com' });
  await expectCode(pop.call('AddLiveDomainMapping', { PullDomain: 'upper.example.com', PushDomain: 'push.example.com' }), 'ConfigAlreadyExists');

  const p = publish(`${srv.rtmp}/live/m1?vhost=push.example.com`, { seconds: 60 });
  const info = await waitOnline(pop, 'play.example.com', 'm1');
  assert.equal(info.DomainName, 'play.example.com');
  assert.equal(info.PublishDomain, 'push.example.com');
  assert.equal(info.PublishType, 'edge');
  // Through the ingest domain too (it stands for its play domain).
  const viaPush = await pop.call('DescribeLiveStreamsOnlineList', { DomainName: 'push.example.com' });
  assert.equal(viaPush.TotalNum, 1);
  for (const url of [`${srv.rtmp}/live/m1?vhost=play.example.com`, `${srv.http}/live/m1.flv?vhost=play.example.com`]) {
    const pr = await probe(url);
    const v = pr.streams.find((s) => s.codec_type === 'video');
    assert.equal(v.width, 320);
  }
  // The stream is not on the default domain.
  const def = await pop.call('DescribeLiveStreamsOnlineList', { DomainName: DOMAIN, StreamName: 'm1' });
  assert.equal(def.TotalNum, 0);
  // Stopping the ingest domain disconnects the publisher that came through it.
  await pop.call('StopLiveDomain', { DomainName: 'push.example.com' });
  await exitsWithin(p, 5000);
  await publishRefused(`${srv.rtmp}/live/m1?vhost=push.example.com`);
  await pop.call('StartLiveDomain', { DomainName: 'push.example.com' });
  await pop.call('DeleteLiveDomainMapping', { PullDomain: 'play.example.com', PushDomain: 'push.example.com' });
  await expectCode(pop.call('DeleteLiveDomainMapping', { PullDomain: 'play.example.com', PushDomain: 'push.example.com' }), 'InvalidDomainMapping.NotFound');
});

test('DeleteLiveDomain disconnects publishers and the name no longer falls back to the default domain', async () => {
  await addDomain(pop, 'gone.example.com');
  const url = `${srv.rtmp}/live/g1?vhost=gone.example.com`;
  const p = publish(url, { seconds: 60 });
  await waitOnline(pop, 'gone.example.com', 'g1');
  await pop.call('AddLiveAppRecordConfig', {
    DomainName: 'gone.example.com', AppName: 'live', OssEndpoint: 'local', OssBucket: 'gone-bucket',
    RecordFormat: [{ Format: 'flv', OssObjectPrefix: 'r/{AppName}/{StreamName}/{EscapedStartTime}_{EscapedEndTime}' }],
    OnDemand: 7,
  });
  await pop.call('DeleteLiveDomain', { DomainName: 'gone.example.com' });
  await exitsWithin(p, 5000);
  await expectCode(pop.call('DescribeLiveDomainDetail', { DomainName: 'gone.example.com' }), 'InvalidDomain.NotFound');
  await expectCode(pop.call('DeleteLiveDomain', { DomainName: 'gone.example.com' }), 'InvalidDomain.NotFound');
  await publishRefused(url);
  assert.equal(await httpStatus(`${srv.http}/live/g1.flv?vhost=gone.example.com`), 404);
  // Added again, it works again - without the old domain's record configs.
  await addDomain(pop, 'gone.example.com');
  const cfgs = await pop.call('DescribeLiveRecordConfig', { DomainName: 'gone.example.com' });
  assert.equal(cfgs.TotalNum, 0);
  const p2 = publish(url, { seconds: 60 });
  await waitOnline(pop, 'gone.example.com', 'g1');
  p2.proc.kill('SIGTERM');
  await p2.done;
});

test('two accounts cannot see or change each other\'s domains and streams', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'onair-accounts-'));
  const second = createAccount(dir, 'tenant-two');
  const s = await startServer({ dataDir: dir });
  let p;
  try {
    const one = popClient(s);
    const two = popClient(s, second);
    const twoV3 = teaClient(s, second);
    await addDomain(one, 'a.tenant.example.com');
    await addDomain(two, 'b.tenant.example.com');
    await addDomain(two, 'b-edge.tenant.example.com', 'liveEdge');
    // Names are unique across accounts.
    await expectCode(addDomain(two, 'a.tenant.example.com'), 'DomainAlreadyExist');
    const list1 = await one.call('DescribeLiveUserDomains');
    const list2 = await twoV3.call('DescribeLiveUserDomains', {});
    assert.deepEqual(list1.Domains.PageData.map((d) => d.DomainName).sort(), ['a.tenant.example.com', DOMAIN]);
    assert.deepEqual(list2.Domains.PageData.map((d) => d.DomainName).sort(), ['b-edge.tenant.example.com', 'b.tenant.example.com']);

    // Another account's domain answers exactly like a missing one.
    const missing = await expectCode(two.call('DescribeLiveDomainDetail', { DomainName: 'no.such.example.com' }), 'InvalidDomain.NotFound');
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const hour = new Date(Date.now() - 3600e3).toISOString().replace(/\.\d+Z$/, 'Z');
    const foreign = [
      ['DescribeLiveDomainDetail', { DomainName: 'a.tenant.example.com' }],
      ['StopLiveDomain', { DomainName: 'a.tenant.example.com' }],
      ['StartLiveDomain', { DomainName: 'a.tenant.example.com' }],
      ['DeleteLiveDomain', { DomainName: 'a.tenant.example.com' }],
      ['DeleteLiveDomain', { DomainName: DOMAIN }],
      ['AddLiveDomainMapping', { PullDomain: 'a.tenant.example.com', PushDomain: 'b-edge.tenant.example.com' }],
      ['BatchSetLiveDomainConfigs', { DomainNames: `b.tenant.example.com,${DOMAIN}`, Functions: JSON.stringify([{ functionName: 'aliauth', functionArgs: [{ argName: 'auth_type', argValue: 'no_auth' }] }]) }],
      ['DescribeLiveDomainConfigs', { DomainName: DOMAIN, FunctionNames: 'aliauth' }],
      ['DescribeLiveStreamsOnlineList', { DomainName: DOMAIN }],
      ['DescribeLiveStreamsPublishList', { DomainName: DOMAIN, StartTime: hour, EndTime: now }],
      ['ForbidLiveStream', { DomainName: DOMAIN, AppName: 'live', StreamName: 'private', LiveStreamType: 'publisher' }],
      ['ResumeLiveStream', { DomainName: DOMAIN, AppName: 'live', StreamName: 'private', LiveStreamType: 'publisher' }],
      ['DescribeLiveStreamsBlockList', { DomainName: DOMAIN }],
      ['DescribeLiveStreamsControlHistory', { DomainName: DOMAIN, StartTime: hour, EndTime: now }],
    ];
    // Account one publishes on its default domain while account two tries everything.
    p = publish(`${s.rtmp}/live/private`, { seconds: 60 });
    await waitOnline(one, DOMAIN, 'private');
    for (const [action, params] of foreign) {
      if (action === 'DescribeLiveStreamsPublishList') await sleep(400); // QPS 3
      const e = await expectCode(two.call(action, params), 'InvalidDomain.NotFound');
      assert.equal(e.data.Message, missing.data.Message, action);
    }
    // Nothing changed for account one: its stream still plays, its domain is online.
    assert.equal(p.proc.exitCode, null, 'the publisher was not kicked');
    const detail = await one.call('DescribeLiveDomainDetail', { DomainName: 'a.tenant.example.com' });
    assert.equal(detail.DomainDetail.DomainStatus, 'online');
    const online = await one.call('DescribeLiveStreamsOnlineList', { DomainName: DOMAIN });
    assert.equal(online.TotalNum, 1);
    const blocks = await one.call('DescribeLiveStreamsBlockList', { DomainName: DOMAIN });
    assert.equal(blocks.TotalNum, 0);
    // And account two's own domain works for it.
    await two.call('StopLiveDomain', { DomainName: 'b.tenant.example.com' });
    await two.call('AddLiveDomainMapping', { PullDomain: 'b.tenant.example.com', PushDomain: 'b-edge.tenant.example.com' });
  } finally {
    if (p) { p.proc.kill('SIGTERM'); await p.done; }
    await s.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
