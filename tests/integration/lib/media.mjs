// Real media clients: ffmpeg publishes test patterns, ffprobe/ffmpeg play.
import { spawn } from 'node:child_process';

export function run(cmd, args, { timeoutMs = 60000, input } = {}) {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '', err = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; });
    const t = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    if (input) p.stdin.end(input); else p.stdin.end();
    p.on('exit', (code, signal) => { clearTimeout(t); resolve({ code, signal, out, err }); });
  });
}

// Publishes a test pattern (and a sine tone) for `seconds` in real time.
// Returns { proc, done } where done resolves with the exit status.
export function publish(url, {
  seconds = 5, size = '320x240', rate = 25, gop = 25, audio = true, video = true,
  color = null, freq = 440, extra = [], loglevel = 'error',
} = {}) {
  const args = ['-hide_banner', '-nostdin', '-loglevel', loglevel, '-re'];
  if (video) {
    const src = color ? `color=c=${color}:size=${size}:rate=${rate}` : `testsrc=size=${size}:rate=${rate}`;
    args.push('-f', 'lavfi', '-i', src);
  }
  if (audio) args.push('-f', 'lavfi', '-i', `sine=frequency=${freq}:sample_rate=44100`);
  args.push('-t', String(seconds));
  if (video) args.push('-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-pix_fmt', 'yuv420p', '-g', String(gop), '-keyint_min', String(gop), '-sc_threshold', '0');
  if (audio) args.push('-c:a', 'aac', '-b:a', '64k');
  args.push(...extra, '-f', 'flv', url);
  const proc = spawn('ffmpeg', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  proc.stderr.on('data', (d) => { err += d; });
  const done = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal, err })));
  return { proc, done, stderr: () => err };
}

// ffprobe -show_streams (+ optional packets) as parsed JSON.
export async function probe(url, { packets = false, timeoutMs = 30000, extra = [] } = {}) {
  const args = ['-v', 'error', '-rw_timeout', '15000000', '-print_format', 'json', '-show_streams', '-show_format'];
  if (packets) args.push('-show_packets');
  args.push(...extra, url);
  const r = await run('ffprobe', args, { timeoutMs });
  if (r.code !== 0) throw new Error(`ffprobe ${url} failed (${r.code}): ${r.err}`);
  return JSON.parse(r.out);
}

// Plays url with ffmpeg (stream copy) into a file, until the stream ends or timeout.
export function record(url, file, { timeoutMs = 60000, extra = [] } = {}) {
  return run('ffmpeg', ['-hide_banner', '-nostdin', '-loglevel', 'error', '-rw_timeout', '20000000', ...extra, '-i', url, '-c', 'copy', '-y', file], { timeoutMs });
}

export function streamsOf(p) {
  const v = p.streams.find((s) => s.codec_type === 'video');
  const a = p.streams.find((s) => s.codec_type === 'audio');
  return { v, a };
}

export function packetsOf(p, type) {
  return (p.packets || []).filter((x) => x.codec_type === type);
}

// Timestamps (dts, seconds) of a stream's packets never go backwards.
export function monotonic(pkts) {
  let last = -Infinity;
  for (const p of pkts) {
    const t = Number(p.dts_time ?? p.pts_time);
    if (Number.isNaN(t)) continue;
    if (t < last) return false;
    last = t;
  }
  return true;
}
