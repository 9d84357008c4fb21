// URL authentication type A end to end: configured through
// BatchSetLiveDomainConfigs (aliauth), then exercised with ffmpeg, ffprobe
// and curl over RTMP (publish and play), HTTP-FLV and HLS. A valid auth_key
// (either key) works; a missing, expired or wrong one is refused (HTTP 403,
// RTMP rejected).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { startServer, sleep } from './lib/server.mjs';
import { publish, probe, run } from './lib/media.mjs';
import { popClient, expectCode } from './lib/api.mjs';

const D = 'auth.example.com';
const KEY1 = 'authKeyOne123';
const KEY2 = 'authKeyTwo456';
let srv, pop, pub;

function authKey(uri, key, ts = Math.floor(Date.now() / 1000), rand = '0') {
  const md5 = createHash('md5').update(`${uri}-${ts}-${rand}-0-${key}`).digest('hex');
  return `${ts}-${rand}-0-${md5}`;
}

const aliauth = (args) => JSON.stringify([{ functionName: 'aliauth', functionArgs: Object.entries(args).map(([argName, argValue]) => ({ argName, argValue })) }]);

async function httpGet(url, maxS = 3) {
  const r = await run('curl', ['-s', '-m', String(maxS), '-o', '-', '-w', '\n%{http_code}', url], { timeoutMs: (maxS + 5) * 1000 });
  const i = r.out.lastIndexOf('\n');
  return { status: Number(r.out.slice(i + 1)), body: r.out.slice(0, i) };
}

async function rtmpPlays(url) {
  try {
    const p = await probe(url, { timeoutMs: 15000 });
    return p.streams.some((s) => s.codec_type === 'video');
  } catch {
    return false;
  }
}

before(async () => {
  srv = await startServer({ args: ['--set', 'hls_segment_ms=1000'] });
  pop = popClient(srv);
  await pop.call('AddLiveDomain', { DomainName: D, LiveDomainType: 'liveVideo', Region: 'cn-shanghai' });
});
after(async () => {
  if (pub) { pub.proc.kill('SIGTERM'); await pub.done; }
  await srv.stop();
});

test('aliauth config: validated, stored and described', async () => {
  const set = (fns) => pop.call('BatchSetLiveDomainConfigs', { DomainNames: D, Functions: fns });
  await expectCode(set(aliauth({ auth_type: 'type_b', auth_key1: KEY1 })), 'InvalidFunctionArgs.Malformed');
  await expectCode(set(aliauth({ auth_type: 'type_a', auth_key1: 'short' })), 'InvalidFunctionArgs.Malformed');
  await expectCode(set(aliauth({ auth_type: 'type_a', auth_key1: KEY1, colour: 'blue' })), 'InvalidFunctionArgs.Malformed');
  await expectCode(set(JSON.stringify([{ functionName: 'referer_white_list_set', functionArgs: [] }])), 'InvalidFunctions.Malformed');
  await expectCode(set('[{"functionName":'), 'InvalidFunctions.Malformed');
  await expectCode(pop.call('BatchSetLiveDomainConfigs', { DomainNames: `${D},nope.example.com`, Functions: aliauth({ auth_type: 'no_auth' }) }), 'InvalidDomain.NotFound');
  await set(aliauth({ auth_type: 'type_a', auth_key1: KEY1, auth_key2: KEY2, ali_auth_delta: 1800 }));
  const r = await pop.call('DescribeLiveDomainConfigs', { DomainName: D, FunctionNames: 'aliauth,set_req_header' });
  const cfgs = r.DomainConfigs.DomainConfig;
  assert.equal(cfgs.length, 1);
  assert.equal(cfgs[0].FunctionName, 'aliauth');
  assert.equal(cfgs[0].Status, 'success');
  assert.match(cfgs[0].ConfigId, /^\d+$/);
  const args = Object.fromEntries(cfgs[0].FunctionArgs.FunctionArg.map((a) => [a.ArgName, a.ArgValue]));
  assert.deepEqual(args, { auth_type: 'type_a', auth_key1: KEY1, auth_key2: KEY2, ali_auth_delta: '1800' });
});

test('RTMP publish needs a valid auth_key', async () => {
  const uri = '/live/a1';
  const base = `${srv.rtmp}/live/a1?vhost=${D}`;
  for (const bad of ['', `&auth_key=${authKey(uri, 'wrongKey999')}`, `&auth_key=${authKey(uri, KEY1, Math.floor(Date.now() / 1000) - 4000)}`, '&auth_key=garbage']) {
    const p = publish(base + bad, { seconds: 20 });
    const r = await Promise.race([p.done, sleep(10000).then(() => null)]);
    if (!r) { p.proc.kill('SIGKILL'); assert.fail(`publish with "${bad}" was accepted`); }
    assert.notEqual(r.code, 0);
  }
  pub = publish(`${base}&auth_key=${authKey(uri, KEY1)}`, { seconds: 120, gop: 25 });
  for (let i = 0; i < 60; i++) {
    const r = await pop.call('DescribeLiveStreamsOnlineList', { DomainName: D });
    if (r.TotalNum === 1) return;
    await sleep(250);
  }
  assert.fail('the signed publish never came online');
});

test('RTMP play: valid with either key; missing, expired and wrong are rejected', async () => {
  const uri = '/live/a1';
  const base = `${srv.rtmp}/live/a1?vhost=${D}`;
  assert.ok(await rtmpPlays(`${base}&auth_key=${authKey(uri, KEY1)}`), 'key1');
  assert.ok(await rtmpPlays(`${base}&auth_key=${authKey(uri, KEY2, Math.floor(Date.now() / 1000), 'a1b2c3')}`), 'key2 with rand');
  assert.equal(await rtmpPlays(base), false, 'missing');
  assert.equal(await rtmpPlays(`${base}&auth_key=${authKey(uri, KEY1, Math.floor(Date.now() / 1000) - 1801)}`), false, 'expired');
  assert.equal(await rtmpPlays(`${base}&auth_key=${authKey('/live/other', KEY1)}`), false, 'signed for another URI');
  await srv.waitLog(/play live\/a1 refused: auth_key (missing|expired|invalid)/);
});

test('HTTP-FLV: 200 with a valid auth_key, 403 otherwise', async () => {
  const uri = '/live/a1.flv';
  const base = `${srv.http}/live/a1.flv?vhost=${D}`;
  const ok = await httpGet(`${base}&auth_key=${authKey(uri, KEY1)}`, 2);
  assert.equal(ok.status, 200);
  assert.ok(ok.body.startsWith('FLV'));
  assert.equal((await httpGet(base)).status, 403);
  assert.equal((await httpGet(`${base}&auth_key=${authKey(uri, KEY1, Math.floor(Date.now() / 1000) - 4000)}`)).status, 403);
  assert.equal((await httpGet(`${base}&auth_key=${authKey(uri, 'wrongKey999')}`)).status, 403);
  // The RTMP URI's signature does not open the FLV URI.
  assert.equal((await httpGet(`${base}&auth_key=${authKey('/live/a1', KEY1)}`)).status, 403);
  const p = await probe(`${base}&auth_key=${authKey(uri, KEY2)}`);
  assert.equal(p.streams.find((s) => s.codec_type === 'video').width, 320);
});

test('HLS: the playlist needs a valid auth_key, and its segments are authorized by it', async () => {
  const uri = '/live/a1.m3u8';
  const base = `${srv.http}/live/a1.m3u8?vhost=${D}`;
  const key = authKey(uri, KEY1);
  const pl = await httpGet(`${base}&auth_key=${key}`, 15);
  assert.equal(pl.status, 200, pl.body);
  assert.match(pl.body, /#EXTM3U/);
  const seg = pl.body.split('\n').find((l) => l && !l.startsWith('#'));
  assert.ok(seg.includes(`auth_key=${key}`), seg);
  const segUrl = `${srv.http}/live/${seg}`;
  const s = await run('curl', ['-s', '-o', '/dev/null', '-m', '5', '-w', '%{http_code}', segUrl], { timeoutMs: 10000 });
  assert.equal(s.out, '200');
  // The same segment without the key, or with a wrong one, is refused.
  const bare = segUrl.replace(/auth_key=[^&]*/, 'auth_key=');
  assert.equal((await httpGet(bare)).status, 403);
  assert.equal((await httpGet(`${srv.http}/live/${seg.replace(/\?.*/, '')}?vhost=${D}`)).status, 403);
  assert.equal((await httpGet(base)).status, 403);
  assert.equal((await httpGet(`${base}&auth_key=${authKey(uri, KEY1, Math.floor(Date.now() / 1000) - 4000)}`)).status, 403);
  assert.equal((await httpGet(`${base}&auth_key=${authKey(uri, 'wrongKey999')}`)).status, 403);
  const p = await probe(`${base}&auth_key=${key}`);
  assert.ok(p.streams.some((x) => x.codec_type === 'video'));
});

test('auth_type no_auth and deleting the config open the domain again', async () => {
  await pop.call('BatchSetLiveDomainConfigs', { DomainNames: D, Functions: aliauth({ auth_type: 'no_auth' }) });
  assert.equal((await httpGet(`${srv.http}/live/a1.flv?vhost=${D}`, 2)).status, 200);
  await pop.call('BatchSetLiveDomainConfigs', { DomainNames: D, Functions: aliauth({ auth_type: 'type_a', auth_key1: KEY1, ali_auth_delta: '600' }) });
  assert.equal((await httpGet(`${srv.http}/live/a1.flv?vhost=${D}`)).status, 403);
  // ali_auth_delta 600: a key 700 s old has expired.
  const old = authKey('/live/a1.flv', KEY1, Math.floor(Date.now() / 1000) - 700);
  assert.equal((await httpGet(`${srv.http}/live/a1.flv?vhost=${D}&auth_key=${old}`)).status, 403);
  const r = await pop.call('DescribeLiveDomainConfigs', { DomainName: D, FunctionNames: 'aliauth' });
  const id = r.DomainConfigs.DomainConfig[0].ConfigId;
  await expectCode(pop.call('DeleteLiveSpecificConfig', { DomainName: D, ConfigId: '999999' }), 'InvalidConfig.NotFound');
  await pop.call('DeleteLiveSpecificConfig', { DomainName: D, ConfigId: id });
  assert.equal((await httpGet(`${srv.http}/live/a1.flv?vhost=${D}`, 2)).status, 200);
  const none = await pop.call('DescribeLiveDomainConfigs', { DomainName: D, FunctionNames: 'aliauth' });
  assert.deepEqual(none.DomainConfigs.DomainConfig, []);
});

// Mapped domains key the same streams, so the client must not get to pick
// whose aliauth applies by naming the other domain (docs/api.md, "URL
// authentication"): publishes go through the ingest domain, plays through
// the play domain, each under its own keys.
test('mapped domains: publish only through the ingest domain, play only through the play domain', async () => {
  const P = 'mplay.example.com', E = 'mpush.example.com', KP = 'playKey1234', KE = 'pushKey5678';
  await pop.call('AddLiveDomain', { DomainName: P, LiveDomainType: 'liveVideo', Region: 'cn-shanghai' });
  await pop.call('AddLiveDomain', { DomainName: E, LiveDomainType: 'liveEdge', Region: 'cn-shanghai' });
  await pop.call('AddLiveDomainMapping', { PullDomain: P, PushDomain: E });
  const setAuth = (domain, args) => pop.call('BatchSetLiveDomainConfigs', { DomainNames: domain, Functions: aliauth(args) });
  await setAuth(P, { auth_type: 'type_a', auth_key1: KP });
  await setAuth(E, { auth_type: 'type_a', auth_key1: KE });

  // Each refusal must be for the reason given: the log line says which.
  async function publishRefusedFor(url, why) {
    const from = srv.log().length;
    const p = publish(url, { seconds: 20 });
    const r = await Promise.race([p.done, sleep(10000).then(() => null)]);
    if (!r) { p.proc.kill('SIGKILL'); await p.done; assert.fail(`publish to ${url} was accepted`); }
    assert.notEqual(r.code, 0);
    for (let i = 0; i < 100 && !/publish live\/\w+ refused: /.test(srv.log().slice(from)); i++) await sleep(50);
    assert.match(srv.log().slice(from), new RegExp(`publish live/\\w+ refused: ${why}`), url);
  }
  const signed = (host, uri, key) => `vhost=${host}${key ? `&auth_key=${authKey(uri, key)}` : ''}`;
  const viaPlay = "publish through the domain's ingest domain";
  await publishRefusedFor(`${srv.rtmp}/live/m1?${signed(P, '/live/m1', KP)}`, viaPlay);
  await publishRefusedFor(`${srv.rtmp}/live/m1?${signed(P, '/live/m1', KE)}`, viaPlay);
  await publishRefusedFor(`${srv.rtmp}/live/m1?${signed(P, '/live/m1', null)}`, viaPlay);
  await publishRefusedFor(`${srv.rtmp}/live/m1?${signed(E, '/live/m1', KP)}`, 'auth_key invalid');
  await publishRefusedFor(`${srv.rtmp}/live/m1?${signed(E, '/live/m1', null)}`, 'auth_key missing');

  const p = publish(`${srv.rtmp}/live/m1?${signed(E, '/live/m1', KE)}`, { seconds: 120, gop: 25 });
  try {
    for (let i = 0; ; i++) {
      const r = await pop.call('DescribeLiveStreamsOnlineList', { DomainName: P, StreamName: 'm1' });
      if (r.TotalNum === 1) break;
      if (i === 60) assert.fail('the publish through the ingest domain never came online');
      await sleep(250);
    }
    // Through the play domain with its key: every protocol plays.
    assert.ok(await rtmpPlays(`${srv.rtmp}/live/m1?${signed(P, '/live/m1', KP)}`), 'rtmp via play domain');
    const flv = await httpGet(`${srv.http}/live/m1.flv?${signed(P, '/live/m1.flv', KP)}`, 2);
    assert.equal(flv.status, 200);
    assert.ok(flv.body.startsWith('FLV'));
    const hls = await httpGet(`${srv.http}/live/m1.m3u8?${signed(P, '/live/m1.m3u8', KP)}`, 15);
    assert.equal(hls.status, 200, hls.body);
    assert.match(hls.body, /#EXTM3U/);
    // The ingest key does not open the play domain, and the ingest domain
    // serves no players with either key.
    for (const [host, key] of [[P, KE], [E, KE], [E, KP], [E, null]]) {
      assert.equal(await rtmpPlays(`${srv.rtmp}/live/m1?${signed(host, '/live/m1', key)}`), false, `rtmp ${host} ${key}`);
      assert.equal((await httpGet(`${srv.http}/live/m1.flv?${signed(host, '/live/m1.flv', key)}`)).status, 403, `flv ${host} ${key}`);
      assert.equal((await httpGet(`${srv.http}/live/m1.m3u8?${signed(host, '/live/m1.m3u8', key)}`)).status, 403, `hls ${host} ${key}`);
    }
    assert.match(srv.log(), /play live\/m1 refused: an ingest domain serves no players/);
    assert.match(srv.log(), /flv \S+ live\/m1: refused: an ingest domain serves no players/);
    assert.match(srv.log(), /hls \S+ live\/m1: refused: an ingest domain serves no players/);
    // The Host header counts like vhost=.
    const viaHost = await run('curl', ['-s', '-o', '/dev/null', '-m', '3', '-w', '%{http_code}', '-H', `Host: ${E}`, `${srv.http}/live/m1.flv?auth_key=${authKey('/live/m1.flv', KE)}`], { timeoutMs: 8000 });
    assert.equal(viaHost.out, '403');

    // An open ingest domain still serves no players of the protected play domain...
    await setAuth(E, { auth_type: 'no_auth' });
    assert.equal((await httpGet(`${srv.http}/live/m1.flv?vhost=${E}`)).status, 403);
    assert.equal(await rtmpPlays(`${srv.rtmp}/live/m1?vhost=${E}`), false);
  } finally {
    p.proc.kill('SIGTERM');
    await p.done;
  }
  // ...and an open play domain takes no publishes past its protected ingest domain.
  await setAuth(E, { auth_type: 'type_a', auth_key1: KE });
  await setAuth(P, { auth_type: 'no_auth' });
  await publishRefusedFor(`${srv.rtmp}/live/m2?vhost=${P}`, viaPlay);
  // Unmapped, the play domain takes publishes again (PublishType center).
  await pop.call('DeleteLiveDomainMapping', { PullDomain: P, PushDomain: E });
  const p2 = publish(`${srv.rtmp}/live/m2?vhost=${P}`, { seconds: 60 });
  try {
    for (let i = 0; ; i++) {
      const r = await pop.call('DescribeLiveStreamsOnlineList', { DomainName: P, StreamName: 'm2' });
      if (r.TotalNum === 1) { assert.equal(r.OnlineInfo.LiveStreamOnlineInfo[0].PublishType, 'center'); break; }
      if (i === 60) assert.fail('the publish through the unmapped play domain never came online');
      await sleep(250);
    }
  } finally {
    p2.proc.kill('SIGTERM');
    await p2.done;
  }
});
