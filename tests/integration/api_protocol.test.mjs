// The API's wire protocol against the official SDKs: both signature schemes,
// JSON and XML envelopes, every gateway error class, throttling at the
// documented limit, and hostile input that must get a clear 4xx while the
// server keeps serving.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { startServer, sleep, AK, SK } from './lib/server.mjs';
import {
  popClient, teaClient, signedRequest, rawRequest, v1Params, signV1, formEncode, stringToSignV1,
  expectCode, isoNow, createAccount,
} from './lib/api.mjs';

let srv, pop, tea;
const UUID = /^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/;

before(async () => {
  srv = await startServer();
  pop = popClient(srv);
  tea = teaClient(srv);
});
after(async () => { await srv.stop(); });

function checkErrorEnvelope(r, status, code, server = srv) {
  assert.equal(r.status, status, r.body);
  assert.equal(r.headers['content-type'], 'application/json;charset=utf-8');
  const j = JSON.parse(r.body);
  assert.deepEqual(Object.keys(j), ['RequestId', 'HostId', 'Code', 'Message', 'Recommend']);
  assert.match(j.RequestId, UUID);
  assert.equal(r.headers['x-acs-request-id'], j.RequestId);
  assert.equal(j.HostId, `127.0.0.1:${server.httpPort}`);
  assert.equal(j.Code, code);
  assert.equal(j.Recommend, `https://api.aliyun.com/troubleshoot?q=${code}&product=Live&requestId=${j.RequestId}`);
  return j;
}

test('signature v1 through pop-core, POST and GET, JSON', async () => {
  for (const method of ['POST', 'GET']) {
    const r = await pop.call('DescribeLiveUserDomains', { PageSize: 10 }, { method });
    assert.match(r.RequestId, UUID);
    assert.equal(r.PageSize, 10);
    assert.equal(r.TotalCount, 1);
    assert.equal(r.Domains.PageData[0].DomainName, 'live.test.onair');
    assert.equal(r.Domains.PageData[0].LiveDomainType, 'liveVideo');
  }
});

test('signature v3 (ACS3-HMAC-SHA256) through openapi-client, and its v2 mode', async () => {
  const r = await tea.call('DescribeLiveUserDomains', { PageSize: 5, DomainName: 'live.test', DomainSearchType: 'pre_match' });
  assert.match(r.RequestId, UUID);
  assert.equal(r.PageSize, 5);
  assert.equal(r.TotalCount, 1);
  const v2 = teaClient(srv, { signatureAlgorithm: 'v2' });
  const r2 = await v2.call('DescribeLiveDomainDetail', { DomainName: 'live.test.onair' });
  assert.equal(r2.DomainDetail.DomainName, 'live.test.onair');
  assert.equal(r2.DomainDetail.DomainStatus, 'online');
});

test('XML success: root <Action>Response, RequestId in body and header, fresh per response', async () => {
  const a = await signedRequest(srv, 'DescribeLiveUserDomains', {}, { format: 'XML' });
  const b = await signedRequest(srv, 'DescribeLiveUserDomains', {}, { format: 'xml', method: 'POST' });
  for (const r of [a, b]) {
    assert.equal(r.status, 200, r.body);
    assert.equal(r.headers['content-type'], 'text/xml;charset=utf-8');
    const id = r.headers['x-acs-request-id'];
    assert.match(id, UUID);
    assert.ok(r.body.startsWith(`<?xml version="1.0" encoding="UTF-8"?><DescribeLiveUserDomainsResponse><RequestId>${id}</RequestId>`), r.body);
    assert.ok(r.body.includes('<Domains><PageData><DomainName>live.test.onair</DomainName>'));
    assert.ok(r.body.endsWith('</DescribeLiveUserDomainsResponse>'));
  }
  assert.notEqual(a.headers['x-acs-request-id'], b.headers['x-acs-request-id']);
  // No Format: v1 defaults to XML.
  const c = await signedRequest(srv, 'DescribeLiveUserDomains', {}, { format: null });
  assert.equal(c.headers['content-type'], 'text/xml;charset=utf-8');
  // An XML error has the <Error> root.
  const e = await signedRequest(srv, 'DescribeLiveDomainDetail', {}, { format: 'XML' });
  assert.equal(e.status, 400);
  assert.equal(e.headers['content-type'], 'text/xml;charset=utf-8');
  assert.match(e.body, /^<\?xml version="1.0" encoding="UTF-8"\?><Error><RequestId>[0-9A-F-]{36}<\/RequestId><HostId>127\.0\.0\.1:\d+<\/HostId><Code>MissingDomainName<\/Code><Message>DomainName is mandatory for this action\.<\/Message><Recommend>.*<\/Recommend><\/Error>$/);
});

test('SignatureDoesNotMatch: 400, with the server string to sign (v1 and v3)', async () => {
  const r = await signedRequest(srv, 'DescribeLiveUserDomains', {}, { sk: 'not-the-secret' });
  const j = checkErrorEnvelope(r, 400, 'SignatureDoesNotMatch');
  const sts = stringToSignV1('GET', r.params);
  assert.equal(j.Message, `Specified signature is not matched with our calculation. server string to sign is:${sts}`);
  const e = await expectCode(popClient(srv, { sk: 'wrong' }).call('DescribeLiveUserDomains'), 'SignatureDoesNotMatch');
  assert.match(e.message, /server string to sign is:POST&%2F&AccessKeyId%3D/);
  const e3 = await expectCode(teaClient(srv, { sk: 'wrong' }).call('DescribeLiveUserDomains'), 'SignatureDoesNotMatch');
  assert.equal(e3.data.statusCode, 400);
  assert.match(e3.message, /server string to sign is:ACS3-HMAC-SHA256\n[0-9a-f]{64}/);
});

test('unknown AccessKeyId: 404 InvalidAccessKeyId.NotFound (v1 and v3)', async () => {
  const r = await signedRequest(srv, 'DescribeLiveUserDomains', {}, { ak: 'LTAInobody', sk: 'x' });
  const j = checkErrorEnvelope(r, 404, 'InvalidAccessKeyId.NotFound');
  assert.equal(j.Message, 'Specified access key is not found.');
  const e = await expectCode(teaClient(srv, { ak: 'LTAInobody' }).call('DescribeLiveUserDomains'), 'InvalidAccessKeyId.NotFound');
  assert.equal(e.data.statusCode, 404);
});

test('a reused SignatureNonce is refused', async () => {
  const p = signV1('GET', v1Params('DescribeLiveUserDomains', {}, { nonce: `replay-${Date.now()}` }));
  const first = await rawRequest(srv, { path: `/?${formEncode(p)}` });
  assert.equal(first.status, 200, first.body);
  const again = await rawRequest(srv, { path: `/?${formEncode(p)}` });
  const j = checkErrorEnvelope(again, 400, 'SignatureNonceUsed');
  assert.equal(j.Message, 'Specified signature nonce was used already.');
});

test('timestamps: expired either way, or malformed', async () => {
  for (const ts of [isoNow(-16 * 60), isoNow(16 * 60)]) {
    const r = await signedRequest(srv, 'DescribeLiveUserDomains', {}, { timestamp: ts });
    const j = checkErrorEnvelope(r, 400, 'InvalidTimeStamp.Expired');
    assert.equal(j.Message, 'Specified time stamp or date value is expired.');
  }
  const ok = await signedRequest(srv, 'DescribeLiveUserDomains', {}, { timestamp: isoNow(-14 * 60) });
  assert.equal(ok.status, 200);
  const bad = await signedRequest(srv, 'DescribeLiveUserDomains', {}, { timestamp: '23/02/2016 12:46' });
  checkErrorEnvelope(bad, 400, 'InvalidTimeStamp.Format');
});

test('wrong Version, unknown Action, missing and malformed parameters', async () => {
  const v = await signedRequest(srv, 'DescribeLiveUserDomains', { Version: '2014-05-26' });
  assert.equal(checkErrorEnvelope(v, 400, 'InvalidVersion').Message, 'Specified parameter Version is not valid.');
  const a = await signedRequest(srv, 'DescribeNothing', {});
  assert.equal(checkErrorEnvelope(a, 404, 'InvalidAction.NotFound').Message, 'Specified api is not found, please check your url and method.');
  await expectCode(pop.call('DescribeNothing'), 'InvalidAction.NotFound');
  await expectCode(tea.call('DescribeNothing'), 'InvalidAction.NotFound');
  const m = await expectCode(pop.call('DescribeLiveDomainDetail', {}), 'MissingDomainName');
  assert.equal(m.data.Message, 'DomainName is mandatory for this action.');
  await expectCode(tea.call('ForbidLiveStream', { DomainName: 'live.test.onair', AppName: 'live' }), 'MissingStreamName');
  const bad = await expectCode(pop.call('DescribeLiveUserDomains', { PageSize: 'many' }), 'InvalidPageSize.Malformed');
  assert.equal(bad.data.Message, 'Specified parameter PageSize is not valid.');
  await expectCode(pop.call('DescribeLiveUserDomains', { PageSize: 51 }), 'InvalidPageSize.Malformed');
  const ms = await signedRequest(srv, 'DescribeLiveUserDomains', { SignatureNonce: undefined });
  checkErrorEnvelope(ms, 400, 'MissingSignatureNonce');
  const inc = await signedRequest(srv, 'DescribeLiveUserDomains', { SignatureMethod: 'HMAC-MD5' });
  checkErrorEnvelope(inc, 400, 'IncompleteSignature');
});

// v3 requests built by hand, for the header errors the SDK never makes.
function v3Headers(over = {}) {
  const h = {
    host: `127.0.0.1:${srv.httpPort}`,
    'x-acs-action': 'DescribeLiveUserDomains',
    'x-acs-version': '2016-11-01',
    'x-acs-date': isoNow(),
    'x-acs-signature-nonce': `n-${Math.random()}`,
    'x-acs-content-sha256': 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    authorization: `ACS3-HMAC-SHA256 Credential=${AK},SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature=${'0'.repeat(64)}`,
    ...over,
  };
  for (const k of Object.keys(h)) if (h[k] === undefined) delete h[k];
  return h;
}

test('MissingParameter, InvalidFormat.Malformed and IncompleteSignature over HTTP', async () => {
  // v3 without one of its mandatory headers: MissingParameter naming it.
  for (const name of ['x-acs-date', 'x-acs-signature-nonce', 'x-acs-content-sha256']) {
    const r = await rawRequest(srv, { method: 'POST', headers: v3Headers({ [name]: undefined }) });
    const j = checkErrorEnvelope(r, 400, 'MissingParameter');
    assert.equal(j.Message, `The input parameter "${name}" that is mandatory for processing this request is not supplied.`);
  }
  // Format other than JSON/XML, from a signed v1 request and from a v3 one.
  const f = await signedRequest(srv, 'DescribeLiveUserDomains', {}, { format: 'YAML' });
  assert.equal(checkErrorEnvelope(f, 400, 'InvalidFormat.Malformed').Message, 'Specified parameter Format is not valid.');
  const f3 = await rawRequest(srv, { method: 'POST', path: '/?Format=csv', headers: v3Headers() });
  checkErrorEnvelope(f3, 400, 'InvalidFormat.Malformed');
  // IncompleteSignature: unsupported v1 kinds...
  for (const bad of [{ SignatureVersion: '2.0' }, { SignatureMethod: 'HMAC-SHA256' }, { SignatureType: 'BEARERTOKEN' }]) {
    const r = await signedRequest(srv, 'DescribeLiveUserDomains', bad);
    const j = checkErrorEnvelope(r, 400, 'IncompleteSignature');
    assert.match(j.Message, /^The request signature does not conform to Aliyun standards\. \S/, JSON.stringify(bad));
  }
  // ...and v3 Authorization headers that are malformed, of another algorithm, or sign too little.
  const signed = 'host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version';
  for (const [authorization, why] of [
    ['ACS3-HMAC-SHA256 garbage', /Authorization header is malformed/],
    [`ACS3-HMAC-SM3 Credential=${AK},SignedHeaders=${signed},Signature=${'0'.repeat(64)}`, /only supported algorithm is ACS3-HMAC-SHA256/],
    [`ACS3-HMAC-SHA256 Credential=${AK},SignedHeaders=x-acs-version;host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce,Signature=${'0'.repeat(64)}`, /sorted/],
    [`ACS3-HMAC-SHA256 Credential=${AK},SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-signature-nonce;x-acs-version,Signature=${'0'.repeat(64)}`, /must include x-acs-date/],
  ]) {
    const r = await rawRequest(srv, { method: 'POST', headers: v3Headers({ authorization }) });
    assert.match(checkErrorEnvelope(r, 400, 'IncompleteSignature').Message, why, authorization);
  }
  // All of those still leave the well-formed v3 request to reach the signature check.
  const sig = await rawRequest(srv, { method: 'POST', headers: v3Headers() });
  checkErrorEnvelope(sig, 400, 'SignatureDoesNotMatch');
});

test('throttling at the documented limit (DescribeLiveStreamsPublishList, QPS 3)', async () => {
  const p = { DomainName: 'live.test.onair', StartTime: isoNow(-3600), EndTime: isoNow() };
  const results = await Promise.allSettled(Array.from({ length: 10 }, () => pop.call('DescribeLiveStreamsPublishList', p)));
  const ok = results.filter((r) => r.status === 'fulfilled').length;
  const throttled = results.filter((r) => r.status === 'rejected' && r.reason.code === 'Throttling.User');
  assert.equal(ok + throttled.length, 10, JSON.stringify(results.filter((r) => r.status === 'rejected').map((r) => r.reason.message)));
  assert.ok(ok >= 3 && ok <= 4, `ok=${ok}`);
  assert.equal(throttled[0].reason.data.Message, 'Request was denied due to user flow control.');
  // Per action: another action is not affected.
  await pop.call('DescribeLiveUserDomains');
  await sleep(1100);
  const again = await pop.call('DescribeLiveStreamsPublishList', p);
  assert.equal(again.TotalNum, 0);
});

// The documented limits of two expensive actions, through the SDK. Calls
// that pass the limiter fail with a cheap business error (nothing exists),
// which is fine: only Throttling.User is the limiter's answer. The buckets
// start full, so a burst of 2N admits at least N; it admits more only by
// the refill during the burst itself (N per second), which is bounded by
// the burst's measured duration.
async function burstAgainstLimit(action, params, limit, businessCode) {
  const t0 = Date.now();
  const results = await Promise.allSettled(Array.from({ length: 2 * limit }, () => pop.call(action, params)));
  const elapsedS = (Date.now() - t0) / 1000;
  const passed = results.filter((r) => r.reason?.code === businessCode);
  const throttled = results.filter((r) => r.reason?.code === 'Throttling.User');
  assert.equal(passed.length + throttled.length, 2 * limit,
    JSON.stringify(results.map((r) => r.status === 'fulfilled' ? 'ok' : r.reason.code)));
  assert.ok(passed.length >= limit, `${action}: only ${passed.length} of the first ${limit} passed`);
  assert.ok(passed.length <= limit + Math.ceil(elapsedS * limit) + 1,
    `${action}: ${passed.length} passed in ${elapsedS} s at ${limit}/s`);
  assert.ok(throttled.length >= 1, `${action}: nothing throttled`);
  const t = throttled[0].reason;
  assert.equal(t.entry.response.statusCode, 400);
  assert.equal(t.data.Message, 'Request was denied due to user flow control.');
  // Sequentially, once a second has refilled the bucket: exactly the first N pass.
  await sleep(1100);
  const seq = [];
  const t1 = Date.now();
  for (let i = 0; i <= limit; i++) {
    try { await pop.call(action, params); seq.push('ok'); } catch (e) { seq.push(e.code); }
  }
  const seqS = (Date.now() - t1) / 1000;
  assert.deepEqual(seq.slice(0, limit), Array(limit).fill(businessCode), action);
  // Call N+1 is throttled unless the calls themselves took long enough to earn a token.
  if (seqS < 1 / limit) assert.equal(seq[limit], 'Throttling.User', `${action}: call ${limit + 1}`);
  else assert.ok(['Throttling.User', businessCode].includes(seq[limit]), seq[limit]);
}

test('throttling: StartCasterScene at 10 per second, RealTimeRecordCommand at 50 per second', async () => {
  await burstAgainstLimit('StartCasterScene', { CasterId: 'no-such-caster', SceneId: 'no-such-scene' }, 10, 'InvalidCaster.NotFound');
  // No such stream live: InvalidStream.NotFound.
  await burstAgainstLimit('RealTimeRecordCommand', { DomainName: 'live.test.onair', AppName: 'live', StreamName: 'nobody', Command: 'start' }, 50, 'InvalidStream.NotFound');
});

// With a tiny api_nonce_max, one account fills its nonce set: it gets the
// documented Throttling, a replay is still SignatureNonceUsed, and another
// account keeps working at full speed.
test('a full nonce set throttles only its own account (api_nonce_max)', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'onair-nonces-'));
  const second = createAccount(dir, 'tenant-two');
  const s = await startServer({ dataDir: dir, args: ['--set', 'api_nonce_max=20'] });
  try {
    const one = popClient(s), two = popClient(s, second);
    // Refused requests use no room: 10 over the rate limit first.
    const burst = await Promise.allSettled(Array.from({ length: 10 }, () => one.call('DescribeLiveStreamsPublishList', { DomainName: 'live.test.onair', StartTime: isoNow(-60), EndTime: isoNow() })));
    const accepted = burst.filter((r) => r.status === 'fulfilled').length;
    assert.ok(burst.every((r) => r.status === 'fulfilled' || r.reason.code === 'Throttling.User'), JSON.stringify(burst.map((r) => r.reason?.code)));
    const first = signV1('GET', v1Params('DescribeLiveUserDomains', {}, { nonce: `kept-${Date.now()}` }));
    assert.equal((await rawRequest(s, { path: `/?${formEncode(first)}` })).status, 200);
    for (let i = accepted + 1; i < 20; i++) await one.call('DescribeLiveUserDomains');
    // Full: new nonces get Throttling (v1 and v3), replays SignatureNonceUsed.
    const e = await expectCode(one.call('DescribeLiveUserDomains'), 'Throttling');
    assert.equal(e.data.Message, 'Request was denied due to request throttling.');
    assert.equal(e.entry.response.statusCode, 400);
    checkErrorEnvelope(await signedRequest(s, 'DescribeLiveUserDomains', {}), 400, 'Throttling', s);
    const e3 = await expectCode(teaClient(s).call('DescribeLiveUserDomains', {}), 'Throttling');
    assert.equal(e3.data.statusCode, 400);
    checkErrorEnvelope(await rawRequest(s, { path: `/?${formEncode(first)}` }), 400, 'SignatureNonceUsed', s);
    await s.waitLog(/warn api: ak=LTAI\w+: its account has 20 nonces remembered \(api_nonce_max\)/);
    // The other account is not affected: it gets its own 20.
    for (let i = 0; i < 20; i++) {
      const r = await two.call('DescribeLiveUserDomains');
      assert.equal(r.TotalCount, 0);
    }
    await expectCode(two.call('DescribeLiveUserDomains'), 'Throttling');
  } finally {
    await s.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

// ===== hostile input =====

async function stillServes() {
  assert.ok(srv.alive(), 'server is alive');
  const r = await pop.call('DescribeLiveUserDomains');
  assert.equal(r.TotalCount, 1);
}

function jsonError(r, status = 400) {
  assert.equal(r.status, status, r.body);
  const j = JSON.parse(r.body);
  assert.match(j.RequestId, UUID);
  return j;
}

test('malformed percent-encoding and non-UTF-8 are 400 naming the parameter', async () => {
  let j = jsonError(await rawRequest(srv, { path: '/?Format=JSON&Action=DescribeLiveUserDomains&Bad%zzName=1' }));
  assert.equal(j.Code, 'InvalidParameter.Format');
  assert.match(j.Message, /Bad/);
  j = jsonError(await rawRequest(srv, { path: '/?Format=JSON&Action=DescribeLiveUserDomains&Name=%FF%FEx' }));
  assert.equal(j.Code, 'InvalidParameter.Format');
  assert.match(j.Message, /"Name"/);
  j = jsonError(await rawRequest(srv, { path: '/?Format=JSON&Action=X&Truncated=%4' }));
  assert.equal(j.Code, 'InvalidParameter.Format');
  j = jsonError(await rawRequest(srv, { path: '/?Format=JSON&Nul=a%00b' }));
  assert.equal(j.Code, 'InvalidParameter.Format');
  // A form body with invalid UTF-8.
  j = jsonError(await rawRequest(srv, {
    method: 'POST', path: '/?Format=JSON', headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: Buffer.from([0x41, 0x3d, 0xc3, 0x28]),
  }));
  assert.equal(j.Code, 'InvalidParameter.Format');
  await stillServes();
});

test('1001 parameters, huge names and values, duplicate keys', async () => {
  const many = Array.from({ length: 1001 }, (_, i) => `P${i}=1`).join('&');
  let j = jsonError(await rawRequest(srv, { path: `/?Format=JSON&${many}` }));
  assert.equal(j.Code, 'InvalidParameter');
  assert.match(j.Message, /too many parameters/);
  j = jsonError(await rawRequest(srv, { path: `/?Format=JSON&${'N'.repeat(200)}=1` }));
  assert.equal(j.Code, 'InvalidParameter');
  assert.match(j.Message, /too long/);
  j = jsonError(await rawRequest(srv, {
    method: 'POST', path: '/?Format=JSON', headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: `Action=DescribeLiveUserDomains&Value=${'v'.repeat(70000)}`,
  }));
  assert.equal(j.Code, 'InvalidParameter');
  assert.match(j.Message, /"Value".*too long/);
  j = jsonError(await rawRequest(srv, { path: '/?Format=JSON&Action=DescribeLiveUserDomains&Action=DescribeLiveUserDomains' }));
  assert.equal(j.Code, 'InvalidParameter');
  assert.match(j.Message, /"Action".*more than once/);
  // The same name in query and body is a duplicate too.
  j = jsonError(await rawRequest(srv, {
    method: 'POST', path: '/?Format=JSON&PageSize=1', headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'PageSize=2',
  }));
  assert.match(j.Message, /"PageSize".*more than once/);
  // Bad list names.
  j = jsonError(await rawRequest(srv, { path: '/?Format=JSON&Tag.0.Key=x' }));
  assert.equal(j.Code, 'InvalidParameter');
  await stillServes();
});

test('a body over api_max_body and a request line over the header limit are refused', async () => {
  const form = { 'content-type': 'application/x-www-form-urlencoded' };
  // Just over api_max_body (1 MiB): the API's own 413, in its envelope, in the format asked for.
  const big = 'A=' + 'x'.repeat(1048576);
  let r = await rawRequest(srv, { method: 'POST', path: '/?Format=JSON', headers: form, body: big });
  let j = checkErrorEnvelope(r, 413, 'RequestEntityTooLarge');
  assert.equal(j.Message, `The request body (${big.length} bytes) is larger than the 1048576 bytes allowed.`);
  r = await rawRequest(srv, { method: 'POST', path: '/?Format=XML', headers: form, body: big });
  assert.equal(r.status, 413);
  assert.match(r.body, /<Error><RequestId>[0-9A-F-]{36}<\/RequestId>.*<Code>RequestEntityTooLarge<\/Code>/);
  // At api_max_body exactly it is parsed (and fails on the parameter's own limit instead).
  r = await rawRequest(srv, { method: 'POST', path: '/?Format=JSON', headers: form, body: big.slice(0, 1048576) });
  assert.equal(checkErrorEnvelope(r, 400, 'InvalidParameter').Code, 'InvalidParameter');
  // Far over it (past the 1 MiB evhttp lets through beyond api_max_body):
  // evhttp's own 413, after reading and dropping the body, so the client gets it.
  r = await rawRequest(srv, { method: 'POST', path: '/', headers: form, body: 'A=' + 'x'.repeat(3 << 20) });
  assert.equal(r.status, 413, r.body);
  // A long URL reaches the API, whose limits answer in the envelope...
  r = await rawRequest(srv, { path: `/?Format=JSON&X=${'y'.repeat(70000)}` });
  j = checkErrorEnvelope(r, 400, 'InvalidParameter');
  assert.match(j.Message, /"X".*too long/);
  // ...and past 128 KiB of request line and headers evhttp answers itself (a plain 400).
  r = await rawRequest(srv, { path: `/?X=${'y'.repeat(140000)}` });
  assert.equal(r.status, 400, r.body);
  assert.match(r.body, /Bad Request/);
  await stillServes();
});

test('raw garbage: binary in the query, odd methods, empty requests', async () => {
  const raw = (bytes) => new Promise((resolve) => {
    const s = net.connect(srv.httpPort, '127.0.0.1');
    let out = '';
    s.on('data', (d) => { out += d.toString('latin1'); });
    s.on('error', () => resolve(out));
    s.on('close', () => resolve(out));
    s.setTimeout(5000, () => s.destroy());
    s.end(bytes);
  });
  const bin = Buffer.concat([Buffer.from('GET /?Format=JSON&X='), Buffer.from([0xff, 0xfe, 0x80]), Buffer.from(' HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')]);
  const a = await raw(bin);
  assert.match(a, /^HTTP\/1\.1 4\d\d/);
  const put = await rawRequest(srv, { method: 'PUT', path: '/?Format=JSON', body: '' });
  // evhttp itself answers methods it does not know (501).
  assert.ok(put.status >= 400, `PUT: ${put.status}`);
  const opt = await rawRequest(srv, { method: 'OPTIONS', path: '/?Format=JSON' });
  assert.equal(jsonError(opt, 403).Code, 'UnsupportedHTTPMethod');
  const empty = await rawRequest(srv, { path: '/' });
  assert.equal(empty.status, 400);
  assert.match(empty.body, /<Code>MissingAction<\/Code>/);
  await stillServes();
});

test('every error response carries a fresh RequestId', async () => {
  const ids = new Set();
  for (let i = 0; i < 20; i++) {
    const r = await rawRequest(srv, { path: '/?Format=JSON&Action=Nope' });
    ids.add(jsonError(r, 404).RequestId);
  }
  assert.equal(ids.size, 20);
});

test('the server logs one line per API request', async () => {
  await signedRequest(srv, 'DescribeNothing', {});
  await srv.waitLog(/info api: 127\.0\.0\.1 DescribeNothing ak=- 404 InvalidAction\.NotFound [\d.]+ms/);
  await signedRequest(srv, 'DescribeLiveUserDomains', {}, { sk: 'x' });
  await srv.waitLog(new RegExp(`info api: 127\\.0\\.0\\.1 DescribeLiveUserDomains ak=${AK} 400 SignatureDoesNotMatch`));
  assert.ok(!srv.log().includes(SK), 'the secret never appears in the log');
});
