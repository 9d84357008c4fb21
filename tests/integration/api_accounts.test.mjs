// Accounts and their secrets: master.key is created 0600 and onair.db holds
// no AccessKeySecret in clear; a key file others may read stops the server;
// `account disable|enable` makes InvalidAccessKeyId.Inactive happen and go
// away while the server runs; and a secret that no longer decrypts (another
// master.key) is an InternalError, not a crash or a wrong answer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { startServer, freePort, BIN, AK, SK } from './lib/server.mjs';
import { run } from './lib/media.mjs';
import { popClient, teaClient, createAccount, expectCode, signedRequest } from './lib/api.mjs';

const tmpDir = () => mkdtempSync(path.join(os.tmpdir(), 'onair-accounts-'));

test('secrets at rest: master.key is mode 0600 and onair.db holds no secret in clear', async () => {
  const dir = tmpDir();
  try {
    const second = createAccount(dir, 'tenant-two');
    const s = await startServer({ dataDir: dir });
    await popClient(s).call('DescribeLiveUserDomains');
    await popClient(s, second).call('DescribeLiveUserDomains');
    await s.stop();
    const key = statSync(path.join(dir, 'master.key'));
    assert.equal(key.mode & 0o777, 0o600);
    assert.equal(key.size, 32);
    // Every file of the database (main file, WAL, shared memory).
    const dbFiles = readdirSync(dir).filter((f) => f.startsWith('onair.db'));
    assert.ok(dbFiles.includes('onair.db'), dbFiles.join());
    const bytes = Buffer.concat(dbFiles.map((f) => readFileSync(path.join(dir, f))));
    // The AccessKeyIds are there in clear (so this reads the right bytes); the secrets are not.
    assert.ok(bytes.includes(AK) && bytes.includes(second.ak), 'AccessKeyIds are stored in clear');
    for (const secret of [SK, second.sk]) {
      assert.ok(!bytes.includes(Buffer.from(secret)), 'a secret in clear in onair.db');
      assert.ok(!bytes.includes(Buffer.from(secret, 'utf16le')), 'a secret in UTF-16 in onair.db');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a master.key that group or others may read stops the server and the account commands', async () => {
  const dir = tmpDir();
  try {
    createAccount(dir, 'first'); // creates master.key and onair.db
    const keyFile = path.join(dir, 'master.key');
    const args = async () => ['--data', dir, '--http', `127.0.0.1:${await freePort()}`, '--rtmp', `127.0.0.1:${await freePort()}`];
    for (const mode of [0o640, 0o604, 0o644]) {
      chmodSync(keyFile, mode);
      const r = await run(BIN, await args(), { timeoutMs: 15000 });
      assert.equal(r.code, 1, `mode ${mode.toString(8)}: the server must refuse to start\n${r.err}`);
      assert.match(r.err, new RegExp(`master\\.key is accessible by group or others \\(mode ${mode.toString(8)}\\).*chmod 600`));
      const c = await run(BIN, ['--data', dir, 'account', 'create', 'x'], { timeoutMs: 15000 });
      assert.equal(c.code, 1, c.err);
      assert.doesNotMatch(c.out, /AccessKeySecret/);
    }
    chmodSync(keyFile, 0o600);
    const s = await startServer({ dataDir: dir });
    await popClient(s).call('DescribeLiveUserDomains');
    await s.stop();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('account disable / enable: InvalidAccessKeyId.Inactive while disabled (v1 and v3), others unaffected', async () => {
  const dir = tmpDir();
  const second = createAccount(dir, 'tenant-two');
  const s = await startServer({ dataDir: dir });
  try {
    const one = popClient(s), two = popClient(s, second), twoV3 = teaClient(s, second);
    await two.call('DescribeLiveUserDomains');
    // The command works on the data dir of a running server.
    let r = await run(BIN, ['--data', dir, 'account', 'disable', second.ak]);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, `AccessKeyId ${second.ak}: Inactive\n`);
    const e = await expectCode(two.call('DescribeLiveUserDomains'), 'InvalidAccessKeyId.Inactive');
    assert.equal(e.data.Message, 'Specified access key is disabled.');
    assert.equal(e.entry.response.statusCode, 400);
    const e3 = await expectCode(twoV3.call('DescribeLiveUserDomains', {}), 'InvalidAccessKeyId.Inactive');
    assert.equal(e3.data.statusCode, 400);
    // The check comes after the timestamp and before the signature (docs/api.md): a bad
    // signature from a disabled key still says Inactive, and reveals no string to sign.
    const bad = await signedRequest(s, 'DescribeLiveUserDomains', {}, { ak: second.ak, sk: 'wrong' });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.Code, 'InvalidAccessKeyId.Inactive');
    await one.call('DescribeLiveUserDomains');
    // Disabling twice is fine; enabling brings it back.
    r = await run(BIN, ['--data', dir, 'account', 'disable', second.ak]);
    assert.equal(r.code, 0, r.err);
    r = await run(BIN, ['--data', dir, 'account', 'enable', second.ak]);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, `AccessKeyId ${second.ak}: Active\n`);
    await two.call('DescribeLiveUserDomains');
    await twoV3.call('DescribeLiveUserDomains', {});
    // Unknown keys and bad usage are clear errors.
    r = await run(BIN, ['--data', dir, 'account', 'disable', 'LTAInoSuchKey']);
    assert.equal(r.code, 1);
    assert.match(r.err, /no AccessKeyId LTAInoSuchKey/);
    for (const bad of [['account', 'disable'], ['account', 'enable', 'a', 'b'], ['account', 'drop', second.ak]]) {
      r = await run(BIN, ['--data', dir, ...bad]);
      assert.equal(r.code, 2, bad.join(' '));
      assert.match(r.err, /usage: onair/);
    }
  } finally {
    await s.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a secret that no longer decrypts (master.key replaced) is InternalError 500, logged', async () => {
  const dir = tmpDir();
  try {
    const second = createAccount(dir, 'tenant-two');
    // Another key file: the stored secrets no longer decrypt. (The default
    // account is re-sealed at start from --access-key; the second is not.)
    writeFileSync(path.join(dir, 'master.key'), randomBytes(32), { mode: 0o600 });
    const s = await startServer({ dataDir: dir });
    try {
      const r = await signedRequest(s, 'DescribeLiveUserDomains', {}, { ak: second.ak, sk: second.sk });
      assert.equal(r.status, 500, r.body);
      assert.deepEqual(Object.keys(r.json), ['RequestId', 'HostId', 'Code', 'Message', 'Recommend']);
      assert.equal(r.json.Code, 'InternalError');
      assert.equal(r.json.Message, 'The request processing has failed due to some unknown error.');
      await expectCode(popClient(s, second).call('DescribeLiveUserDomains'), 'InternalError');
      await s.waitLog(new RegExp(`secret of ${second.ak} does not decrypt`));
      await s.waitLog(new RegExp(`warn api: 127\\.0\\.0\\.1 DescribeLiveUserDomains ak=${second.ak} 500 InternalError`));
      // The re-sealed default account works.
      await popClient(s).call('DescribeLiveUserDomains');
    } finally {
      await s.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
