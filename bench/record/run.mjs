#!/usr/bin/env node
// bench/record/run.mjs - N concurrent recordings of 2 Mbit/s streams, and
// whether every frame reached the files.
//
//   node bench/record/run.mjs [--streams 50] [--loops 4] [--formats flv,mp4,m3u8]
//                             [--threads 2] [--bin build/onair]
//
// One 2 Mbit/s H.264 + AAC sample (720p30, GOP 2 s, 15 s) is made once with
// ffmpeg; N `ffmpeg -re -stream_loop L -c copy` publishers push it, so each
// stream carries exactly (L+1) x the sample's packets. The server records
// every publish automatically (OnDemand 0) in the chosen formats; after the
// publishers end, cancel_delay finishes the files, and ffprobe counts the
// video and audio packets in every file (-count_packets). Server CPU is
// utime+stime from /proc/<pid>/stat over the steady part of the run.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');
const args = Object.fromEntries(process.argv.slice(2).join(' ').split('--').filter(Boolean)
  .map((kv) => kv.trim().split(/\s+/)).map(([k, v]) => [k, v ?? 'true']));
const STREAMS = Number(args.streams || 50);
const LOOPS = Number(args.loops || 4);
const FORMATS = (args.formats || 'flv').split(',');
const THREADS = Number(args.threads || 2);
process.env.ONAIR_BIN = path.resolve(args.bin || process.env.ONAIR_BIN || path.join(repo, 'build/onair'));

const { startServer, sleep, DOMAIN } = await import(path.join(repo, 'tests/integration/lib/server.mjs'));
const { popClient } = await import(path.join(repo, 'tests/integration/lib/api.mjs'));

const cache = path.join(os.tmpdir(), 'onair-bench-record');
mkdirSync(cache, { recursive: true });
const sample = path.join(cache, 'sample-720p30-2mbps.flv');
if (!existsSync(sample)) {
  console.log('making the 2 Mbit/s sample ...');
  const r = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=30', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100',
    '-t', '15', '-c:v', 'libx264', '-preset', 'veryfast', '-b:v', '1850k', '-maxrate', '2000k', '-bufsize', '2000k',
    '-g', '60', '-keyint_min', '60', '-sc_threshold', '0', '-pix_fmt', 'yuv420p',
    '-c:a', 'aac', '-b:a', '128k', '-f', 'flv', sample], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(1);
}

function countPackets(file) {
  const r = spawnSync('ffprobe', ['-v', 'error', '-count_packets', '-show_entries', 'stream=codec_type,nb_read_packets',
    '-of', 'json', file], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) return { video: -1, audio: -1, err: r.stderr };
  const s = JSON.parse(r.stdout).streams;
  const get = (t) => Number(s.find((x) => x.codec_type === t)?.nb_read_packets ?? 0);
  return { video: get('video'), audio: get('audio') };
}

function cpuTicks(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(f[11]) + Number(f[12]); // utime + stime (fields 14, 15)
}
function rssMb(pid) {
  const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/);
  return m ? Number(m[1]) / 1024 : 0;
}
const HZ = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

const per = countPackets(sample);
const expect = { video: per.video * (LOOPS + 1), audio: per.audio * (LOOPS + 1) };
const seconds = 15 * (LOOPS + 1);
console.log(`sample: ${per.video} video + ${per.audio} audio packets per 15 s loop; each stream sends ${expect.video} + ${expect.audio} over ${seconds} s`);

const srv = await startServer({ args: ['--set', `record_threads=${THREADS}`, '--set', 'log_level=info'] });
const { call } = popClient(srv);
await call('AddLiveAppRecordConfig', {
  DomainName: DOMAIN, AppName: 'bench', OssEndpoint: 'oss-local', OssBucket: 'bench', OnDemand: 0, DelayTime: 15,
  RecordFormat: FORMATS.map((f) => (f === 'm3u8' ? { Format: f, SliceDuration: 10 } : { Format: f })),
});

const pubs = [];
for (let i = 0; i < STREAMS; i++) {
  const p = spawn('ffmpeg', ['-hide_banner', '-nostdin', '-loglevel', 'error', '-re', '-stream_loop', String(LOOPS),
    '-i', sample, '-c', 'copy', '-f', 'flv', `${srv.rtmp}/bench/s${i}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  p.stderr.on('data', (d) => { err += d; });
  pubs.push(new Promise((resolve) => p.on('exit', (code) => resolve({ code, err }))));
}
const pid = srv.child.pid;
await sleep(5000);
const c0 = cpuTicks(pid), t0 = Date.now();
let rssMax = 0;
const rssTimer = setInterval(() => { rssMax = Math.max(rssMax, rssMb(pid)); }, 1000);
await sleep((seconds - 10) * 1000);
const cpu = (cpuTicks(pid) - c0) / HZ, wall = (Date.now() - t0) / 1000;
clearInterval(rssTimer);
const exits = await Promise.all(pubs);
const failedPubs = exits.filter((e) => e.code !== 0);
for (let i = 0; i < STREAMS; i++) {
  await call('RealTimeRecordCommand', { DomainName: DOMAIN, AppName: 'bench', StreamName: `s${i}`, Command: 'cancel_delay' });
}
await sleep(3000);

const iso = (ms) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
let files = 0, lostV = 0, lostA = 0, extra = 0, bad = 0, bytes = 0;
for (let i = 0; i < STREAMS; i++) {
  const r = await call('DescribeLiveStreamRecordIndexFiles', {
    DomainName: DOMAIN, AppName: 'bench', StreamName: `s${i}`, StartTime: iso(Date.now() - 3600e3), EndTime: iso(Date.now() + 60e3), PageSize: 30,
  });
  const list = r.RecordIndexInfoList.RecordIndexInfo;
  for (const fmt of FORMATS) {
    const mine = list.filter((f) => f.Format === fmt);
    let v = 0, a = 0;
    for (const f of mine) {
      const local = path.join(srv.dataDir, 'oss', f.OssBucket, f.OssObject);
      const c = countPackets(fmt === 'm3u8' ? f.RecordUrl : local);
      if (c.video < 0) bad++;
      v += c.video;
      a += c.audio;
      files++;
      if (fmt !== 'm3u8') bytes += Number(spawnSync('stat', ['-c', '%s', local], { encoding: 'utf8' }).stdout);
    }
    lostV += Math.max(expect.video - v, 0);
    lostA += Math.max(expect.audio - a, 0);
    extra += Math.max(v - expect.video, 0) + Math.max(a - expect.audio, 0);
    if (v !== expect.video || a !== expect.audio)
      console.log(`s${i} ${fmt}: ${v}/${expect.video} video, ${a}/${expect.audio} audio in ${mine.length} file(s)`);
  }
}
const behind = (srv.log().match(/falling behind/g) || []).length;
await srv.stop();

const lines = [
  `streams ${STREAMS} x ${FORMATS.join('+')}, ${seconds} s each, record_threads ${THREADS}, ${os.cpus().length} CPUs (${os.cpus()[0].model})`,
  `publishers failed: ${failedPubs.length}${failedPubs.length ? ' ' + failedPubs[0].err.slice(0, 200) : ''}`,
  `files: ${files} (${bad} unreadable), ${(bytes / 1e9).toFixed(2)} GB of flv/mp4`,
  `frames published: ${STREAMS * expect.video} video + ${STREAMS * expect.audio} audio per format`,
  `frames lost: ${lostV} video, ${lostA} audio; frames extra: ${extra}; "falling behind" reports: ${behind}`,
  `server CPU over ${wall.toFixed(0)} s steady state: ${cpu.toFixed(1)} s = ${(100 * cpu / wall).toFixed(1)}% of one core; max RSS ${rssMax.toFixed(0)} MB`,
];
console.log(lines.join('\n'));
process.exit(lostV || lostA || extra || bad || failedPubs.length ? 1 : 0);
