// The command line: a config file, flags winning over it, clear errors for a
// bad file, and the default account's secret printed on the first start only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BIN, freePort, sleep, checkLog } from './lib/server.mjs';
import { run } from './lib/media.mjs';

// Starts the binary with args, waits for the HTTP listener, stops it with SIGTERM.
async function startStop(args) {
  const p = spawn(BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  p.stdout.on('data', (d) => { log += d; });
  p.stderr.on('data', (d) => { log += d; });
  const exited = new Promise((r) => p.on('exit', (code) => r(code)));
  for (let i = 0; i < 200 && !/http: listening/.test(log) && p.exitCode === null; i++) await sleep(25);
  p.kill('SIGTERM');
  const code = await exited;
  checkLog(log);
  return { code, log };
}

test('a config file sets everything and flags win over it', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'onair-cli-'));
  try {
    const [r1, h1, h2] = [await freePort(), await freePort(), await freePort()];
    const conf = path.join(dir, 'onair.conf');
    writeFileSync(conf, [
      '# onair test config',
      `rtmp_listen = 127.0.0.1:${r1}`,
      `http_listen = "127.0.0.1:${h1}"   # quoted values work`,
      `data_dir = ${dir}/data`,
      'domain = conf.example.com',
      'hls_window = 4',
      '',
    ].join('\n'));
    const { code, log } = await startStop(['--config', conf, '--http', `127.0.0.1:${h2}`]);
    assert.equal(code, 0, log);
    assert.match(log, new RegExp(`rtmp: listening on 127.0.0.1:${r1}`));
    assert.match(log, new RegExp(`http: listening on 127.0.0.1:${h2}`), 'the flag wins over the file');
    assert.match(log, /default domain conf\.example\.com/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a bad config file or setting is refused with a clear message', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'onair-cli-'));
  try {
    const conf = path.join(dir, 'bad.conf');
    writeFileSync(conf, 'hls_window = 3\nno_such_key = 1\n');
    let r = await run(BIN, ['--config', conf]);
    assert.equal(r.code, 2);
    assert.match(r.err, /bad\.conf:2: unknown setting "no_such_key"/);
    r = await run(BIN, ['--set', 'hls_window=lots']);
    assert.equal(r.code, 2);
    assert.match(r.err, /hls_window: expected an integer/);
    r = await run(BIN, ['--config', path.join(dir, 'missing.conf')]);
    assert.equal(r.code, 2);
    assert.match(r.err, /missing\.conf/);
    r = await run(BIN, ['--access-key', 'nocolon', '--data', dir, '--rtmp', '127.0.0.1:0', '--http', '127.0.0.1:0']);
    assert.notEqual(r.code, 0);
    assert.match(r.err, /ID:SECRET/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the first start creates the default account and prints its secret once', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'onair-cli-'));
  try {
    const args = ['--data', dir, '--rtmp', `127.0.0.1:${await freePort()}`, '--http', `127.0.0.1:${await freePort()}`];
    const first = await startStop(args);
    assert.equal(first.code, 0, first.log);
    const id = first.log.match(/AccessKeyId (LTAI\w+)/)[1];
    assert.match(first.log, /AccessKeySecret \w{30}/);
    const second = await startStop(args);
    assert.equal(second.code, 0, second.log);
    assert.ok(second.log.includes(`AccessKeyId ${id}`), 'the same account again');
    assert.doesNotMatch(second.log, /AccessKeySecret/);
    // `account create` against the same data dir adds another account.
    const acc = await run(BIN, ['--data', dir, 'account', 'create', 'second']);
    assert.equal(acc.code, 0, acc.err);
    assert.match(acc.out, /^AccessKeyId: LTAI\w+\nAccessKeySecret: \w+\n$/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
