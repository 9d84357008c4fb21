// Starts build/onair (or $ONAIR_BIN) on free loopback ports with a fresh
// data directory, and stops it with SIGTERM, failing the test if the server
// crashed, exited non-zero, or a sanitizer reported anything.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repo = path.resolve(here, '../../..');
export const BIN = process.env.ONAIR_BIN || path.join(repo, 'build/onair');

export const AK = 'LTAItestAccessKey0001';
export const SK = 'testSecretForOnairIntegration01';
export const DOMAIN = 'live.test.onair';

export async function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function startServer(opts = {}) {
  const rtmpPort = opts.rtmpPort || (await freePort());
  const httpPort = opts.httpPort || (await freePort());
  const dataDir = opts.dataDir || mkdtempSync(path.join(os.tmpdir(), 'onair-test-'));
  const args = [
    '--data', dataDir,
    '--rtmp', `127.0.0.1:${rtmpPort}`,
    '--http', `127.0.0.1:${httpPort}`,
    '--domain', opts.domain || DOMAIN,
    '--access-key', `${opts.ak || AK}:${opts.sk || SK}`,
    ...(opts.args || []),
  ];
  const child = spawn(BIN, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...(opts.env || {}) } });
  let log = '';
  child.stdout.on('data', (d) => { log += d; });
  child.stderr.on('data', (d) => { log += d; if (process.env.ONAIR_TEST_VERBOSE) process.stderr.write(d); });
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  let ready = false;
  for (let i = 0; i < 400 && !ready; i++) {
    if (/http: listening/.test(log)) ready = true;
    else if (child.exitCode !== null) break;
    else await sleep(25);
  }
  if (!ready) {
    child.kill('SIGKILL');
    throw new Error(`server did not start:\n${log}`);
  }
  const srv = {
    child, dataDir, rtmpPort, httpPort,
    rtmp: `rtmp://127.0.0.1:${rtmpPort}`,
    http: `http://127.0.0.1:${httpPort}`,
    endpoint: `http://127.0.0.1:${httpPort}`,
    log: () => log,
    exited,
    alive: () => child.exitCode === null && child.signalCode === null,
    async waitLog(re, timeoutMs = 10000) {
      const t0 = Date.now();
      while (Date.now() - t0 < timeoutMs) {
        if (re.test(log)) return true;
        await sleep(50);
      }
      throw new Error(`log never matched ${re}:\n${log.slice(-3000)}`);
    },
    // Graceful stop; throws if the server misbehaved during the test.
    async stop({ keepData = false } = {}) {
      if (srv.alive()) child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 20000);
      const { code, signal } = await exited;
      clearTimeout(t);
      if (!keepData && !opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
      checkLog(log);
      if (code !== 0) throw new Error(`server exited with code ${code} signal ${signal}:\n${log.slice(-4000)}`);
    },
    async kill9() {
      child.kill('SIGKILL');
      await exited;
    },
  };
  return srv;
}

export function checkLog(log) {
  if (/ERROR: AddressSanitizer|runtime error:|ERROR: LeakSanitizer|SUMMARY: UndefinedBehaviorSanitizer/.test(log)) {
    throw new Error(`sanitizer report in server log:\n${log.slice(-6000)}`);
  }
}
