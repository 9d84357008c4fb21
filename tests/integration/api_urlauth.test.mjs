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
