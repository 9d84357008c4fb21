// API clients for the integration tests: the official SDKs (pop-core for
// signature v1, openapi-client for v3 / ACS3-HMAC-SHA256) and a small
// hand-rolled v1 signer for requests the SDKs will not send (XML, broken
// signatures, reused nonces, odd encodings).
import { createHmac, randomUUID } from 'node:crypto';
import http from 'node:http';
import { spawnSync } from 'node:child_process';
import RPCClient from '@alicloud/pop-core';
import * as OpenApiNS from '@alicloud/openapi-client';
import OpenApiUtilNS from '@alicloud/openapi-util';
import * as TeaUtilNS from '@alicloud/tea-util';
import { AK, SK, BIN } from './server.mjs';

const OpenApi = OpenApiNS.default.default;
const OpenApiUtil = OpenApiUtilNS.default;
export const VERSION = '2016-11-01';

// v1 through @alicloud/pop-core. opts.method defaults to POST.
export function popClient(srv, { ak = AK, sk = SK } = {}) {
  const client = new RPCClient({ accessKeyId: ak, accessKeySecret: sk, endpoint: srv.endpoint, apiVersion: VERSION });
  return {
    client,
    call: (action, params = {}, opts = {}) => client.request(action, params, { method: 'POST', timeout: 20000, ...opts }),
  };
}

// v3 (the SDK's default ACS3-HMAC-SHA256) through @alicloud/openapi-client.
export function teaClient(srv, { ak = AK, sk = SK, signatureAlgorithm } = {}) {
  const config = new OpenApiNS.Config({
    accessKeyId: ak, accessKeySecret: sk, endpoint: `127.0.0.1:${srv.httpPort}`, protocol: 'http',
    readTimeout: 20000, connectTimeout: 5000,
    ...(signatureAlgorithm ? { signatureAlgorithm } : {}),
  });
  const client = new OpenApi(config);
  return {
    client,
    async call(action, query = {}) {
      const params = new OpenApiNS.Params({
        action, version: VERSION, protocol: 'HTTP', pathname: '/', method: 'POST',
        authType: 'AK', style: 'RPC', reqBodyType: 'formData', bodyType: 'json',
      });
      const req = new OpenApiNS.OpenApiRequest({ query: OpenApiUtil.query(query) });
      const res = await client.callApi(params, req, new TeaUtilNS.RuntimeOptions({}));
      return res.body;
    },
  };
}

// RFC 3986 as the signature wants it.
export function enc(s) {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

export function isoNow(offsetS = 0) {
  return new Date(Date.now() + offsetS * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

// The common v1 parameters for action, signed later by signV1.
export function v1Params(action, params = {}, { ak = AK, format = 'JSON', timestamp = isoNow(), nonce = randomUUID() } = {}) {
  const p = {
    AccessKeyId: ak, Action: action, SignatureMethod: 'HMAC-SHA1', SignatureNonce: nonce,
    SignatureVersion: '1.0', Timestamp: timestamp, Version: VERSION, ...params,
  };
  if (format) p.Format = format;
  for (const k of Object.keys(p)) if (p[k] === undefined) delete p[k];
  return p;
}

export function stringToSignV1(method, params) {
  const canon = Object.keys(params).filter((k) => k !== 'Signature').sort()
    .map((k) => `${enc(k)}=${enc(String(params[k]))}`).join('&');
  return `${method}&${enc('/')}&${enc(canon)}`;
}

export function signV1(method, params, sk = SK) {
  const sts = stringToSignV1(method, params);
  return { ...params, Signature: createHmac('sha1', `${sk}&`).update(sts).digest('base64') };
}

export function formEncode(params) {
  return Object.keys(params).map((k) => `${enc(k)}=${enc(String(params[k]))}`).join('&');
}

// One raw HTTP request; resolves { status, headers, body (string) }.
export function rawRequest(srv, { method = 'GET', path = '/', headers = {}, body = null } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: srv.httpPort, method, path, headers, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (d) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.setTimeout(20000, () => req.destroy(new Error('timeout')));
    if (body !== null) req.end(body); else req.end();
  });
}

// A hand-signed v1 request: GET puts everything in the query, POST in a form body.
export async function signedRequest(srv, action, params = {}, { method = 'GET', sk = SK, tamper, ...opt } = {}) {
  let p = signV1(method, v1Params(action, params, opt), sk);
  if (tamper) p = tamper(p);
  const text = formEncode(p);
  const r = method === 'GET'
    ? await rawRequest(srv, { method, path: `/?${text}` })
    : await rawRequest(srv, { method, path: '/', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: text });
  let json = null;
  try { json = JSON.parse(r.body); } catch { /* XML or text */ }
  return { ...r, json, params: p };
}

// `onair account create --data dir` (before the server starts on dir).
export function createAccount(dataDir, name = 'second') {
  const r = spawnSync(BIN, ['--data', dataDir, 'account', 'create', name], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`account create failed: ${r.stderr}`);
  const ak = /AccessKeyId: (\S+)/.exec(r.stdout)[1];
  const sk = /AccessKeySecret: (\S+)/.exec(r.stdout)[1];
  return { ak, sk };
}

// Expects promise to reject with an SDK error whose code is `code`; returns the error.
export async function expectCode(promise, code) {
  try {
    await promise;
  } catch (e) {
    const got = e.code || e.data?.Code;
    if (got !== code) throw new Error(`expected ${code}, got ${got}: ${e.message}`);
    return e;
  }
  throw new Error(`expected ${code}, but the call succeeded`);
}
