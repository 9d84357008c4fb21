// The documents tell the truth: README lists every setting with its default,
// docs/api.md names every action the server registers, and the README's own
// SDK example works as written (push, record on demand, list, play back).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { BIN, repo, startServer, sleep } from './lib/server.mjs';
import { publish, probe, run, streamsOf } from './lib/media.mjs';
import { popClient } from './lib/api.mjs';

const readme = readFileSync(path.join(repo, 'README.md'), 'utf8');
const apiDoc = readFileSync(path.join(repo, 'docs/api.md'), 'utf8');

test('README documents every setting with its default', async () => {
  const r = await run(BIN, ['--help-config']);
  assert.equal(r.code, 0);
  const rows = r.out.trim().split('\n').map((l) => l.trim().split(/\s+/));
  assert.ok(rows.length > 20);
  for (const [key, , def] of rows) {
    const want = '`' + def + '`';
    assert.ok(readme.includes(`| \`${key}\` | ${want} |`), `README row for ${key} (default ${def})`);
  }
});

test('docs/api.md names every registered action', () => {
  const table = readFileSync(path.join(repo, 'src/api/api_actions.c'), 'utf8');
  const actions = [...table.matchAll(/^\s*\{"([A-Z][A-Za-z]+)", api_/gm)].map((m) => m[1]);
  assert.ok(actions.length > 30, `found ${actions.length} actions`);
  for (const a of actions) assert.ok(apiDoc.includes(a), `docs/api.md mentions ${a}`);
});

test('the README example: record a live stream on demand and play the recording', async () => {
  const srv = await startServer({ domain: 'live.onair.local' });
  try {
    const live = popClient(srv);
    const pub = publish(`${srv.rtmp}/live/s1`, { seconds: 12 });
    await sleep(1500);
    await live.call('AddLiveAppRecordConfig', {
      DomainName: 'live.onair.local', AppName: 'live', OssEndpoint: 'local', OssBucket: 'records', OnDemand: 7,
      RecordFormat: [{ Format: 'mp4', OssObjectPrefix: 'rec/{AppName}/{StreamName}/{EscapedStartTime}_{EscapedEndTime}' }],
    });
    const start = new Date(Date.now() - 60000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    await live.call('RealTimeRecordCommand', { DomainName: 'live.onair.local', AppName: 'live', StreamName: 's1', Command: 'start' });
    await sleep(4000);
    await live.call('RealTimeRecordCommand', { DomainName: 'live.onair.local', AppName: 'live', StreamName: 's1', Command: 'stop' });
    const end = new Date(Date.now() + 60000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    let files;
    for (let i = 0; i < 50; i++) {
      files = await live.call('DescribeLiveStreamRecordIndexFiles', {
        DomainName: 'live.onair.local', AppName: 'live', StreamName: 's1', StartTime: start, EndTime: end,
      });
      if (files.RecordIndexInfoList.RecordIndexInfo.length) break;
      await sleep(100);
    }
    const info = files.RecordIndexInfoList.RecordIndexInfo[0];
    assert.equal(info.Format, 'mp4');
    assert.ok(info.Duration > 3 && info.Duration < 6, `duration ${info.Duration}`);
    const p = await probe(info.RecordUrl);
    assert.equal(streamsOf(p).v.codec_name, 'h264');
    assert.equal(streamsOf(p).a.codec_name, 'aac');
    await pub.done;
  } finally {
    await srv.stop();
  }
});
