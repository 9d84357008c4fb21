// Decoded pictures and sound of a live URL, for pixel- and tone-level checks
// of the production studio: one ffmpeg per watched stream decodes video to
// raw RGB frames (stdout) with their timestamps (showinfo on stderr) and
// audio to mono 16-bit PCM (fd 3), and this module keeps the recent ones
// with their arrival times. Also: the layout geometry of docs/api.md
// ("Production studio"), ported from src/studio/layout.c, and a Goertzel
// tone meter.
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import http from 'node:http';
import { sleep } from './server.mjs';

export const RATE = 44100;

export function watch(url, { width, height, keep = 90, audio = true } = {}) {
  const size = width * height * 3;
  const args = ['-hide_banner', '-nostdin', '-loglevel', 'info', '-threads', '1', '-rw_timeout', '20000000',
    '-i', url, '-map', '0:v', '-vf', 'showinfo', '-vsync', 'passthrough', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'];
  if (audio) args.push('-map', '0:a', '-ac', '1', '-ar', String(RATE), '-flush_packets', '1', '-f', 's16le', 'pipe:3');
  const proc = spawn('ffmpeg', args, { stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
  const w = {
    proc, frames: [], count: 0, pts: new Map(), pcm: [], errText: '', exited: false,
    // Every frame's (arrival ms, pts seconds), for timing checks.
    timeline: [],
  };
  let pending = Buffer.alloc(0);
  proc.stdout.on('data', (d) => {
    pending = pending.length ? Buffer.concat([pending, d]) : d;
    while (pending.length >= size) {
      const f = { idx: w.count++, t: Date.now(), data: pending.subarray(0, size), width, height };
      pending = Buffer.from(pending.subarray(size));
      w.frames.push(f);
      w.timeline.push({ idx: f.idx, t: f.t });
      if (w.frames.length > keep) w.frames.shift();
    }
  });
  let line = '';
  proc.stderr.on('data', (d) => {
    line += d;
    const parts = line.split('\n');
    line = parts.pop();
    for (const l of parts) {
      const m = /showinfo.*\bn:\s*(\d+).*\bpts_time:\s*([-\d.e]+)/.exec(l);
      if (m) w.pts.set(Number(m[1]), Number(m[2]));
      else if (w.errText.length < 20000 && !/Parsed_showinfo/.test(l)) w.errText += l + '\n';
    }
  });
  if (audio) {
    proc.stdio[3].on('data', (d) => {
      w.pcm.push({ t: Date.now(), data: d });
      // About 20 s at most.
      while (w.pcm.length > 2000) w.pcm.shift();
    });
  }
  proc.on('exit', () => { w.exited = true; });

  // The first frame that arrives at or after wall time t (ms).
  w.frameAfter = async (t, timeoutMs = 20000) => {
    const t0 = Date.now();
    for (;;) {
      const f = w.frames.find((x) => x.t >= t);
      if (f) return f;
      if (w.exited) throw new Error(`watcher of ${url} exited:\n${w.errText.slice(-2000)}`);
      if (Date.now() - t0 > timeoutMs) throw new Error(`no frame from ${url} in ${timeoutMs} ms:\n${w.errText.slice(-2000)}`);
      await sleep(10);
    }
  };
  // A new player first gets the stream's cached GOP in a burst (pictures up to
  // 2 s old); after that frames arrive as they are made.
  w.live = async () => {
    await w.frameAfter(0);
    await sleep(800);
  };
  // Frames that arrived in [t0, t1).
  w.framesBetween = (t0, t1) => w.frames.filter((f) => f.t >= t0 && f.t < t1);
  // Mono samples that arrived in [t0, t0 + ms), as Int16Array.
  w.samples = async (t0, ms) => {
    while (Date.now() < t0 + ms + 300) await sleep(20);
    const bufs = w.pcm.filter((p) => p.t >= t0 && p.t < t0 + ms).map((p) => p.data);
    const b = Buffer.concat(bufs);
    return new Int16Array(b.buffer, b.byteOffset, Math.floor(b.length / 2));
  };
  w.ptsOf = (f) => w.pts.get(f.idx);
  w.stop = async () => {
    if (!w.exited) {
      proc.kill('SIGKILL');
      await new Promise((r) => proc.on('exit', r));
    }
  };
  return w;
}

// ===== colours =====

export const COLOURS = {
  red: [255, 0, 0], blue: [0, 0, 255], black: [0, 0, 0], green: [0, 128, 0], yellow: [255, 255, 0], white: [255, 255, 255],
};

export function pixel(f, x, y) {
  const i = (y * f.width + x) * 3;
  return [f.data[i], f.data[i + 1], f.data[i + 2]];
}

export function nearest(rgb) {
  let best = null, bd = Infinity;
  for (const [name, c] of Object.entries(COLOURS)) {
    const d = Math.hypot(rgb[0] - c[0], rgb[1] - c[1], rgb[2] - c[2]);
    if (d < bd) { bd = d; best = name; }
  }
  return bd < 80 ? best : `?(${rgb.join(',')})`;
}

// Points on a grid inside rect r, `margin` px away from its edges and the canvas's.
export function gridInside(r, cw, ch, margin = 6, step = 8) {
  const pts = [];
  const x0 = Math.max(r.x, 0) + margin, x1 = Math.min(r.x + r.w, cw) - margin - 1;
  const y0 = Math.max(r.y, 0) + margin, y1 = Math.min(r.y + r.h, ch) - margin - 1;
  if (x1 < x0 || y1 < y0) return pts;
  const nx = Math.max(1, Math.floor((x1 - x0) / step)), ny = Math.max(1, Math.floor((y1 - y0) / step));
  for (let i = 0; i <= nx; i++) {
    for (let j = 0; j <= ny; j++) pts.push([Math.round(x0 + ((x1 - x0) * i) / nx), Math.round(y0 + ((y1 - y0) * j) / ny)]);
  }
  return pts;
}

// Points just outside rect r (a ring `margin` px out), inside the canvas.
export function ringOutside(r, cw, ch, margin = 6, step = 8) {
  const pts = [];
  const xs = [r.x - margin - 1, r.x + r.w + margin], ys = [r.y - margin - 1, r.y + r.h + margin];
  for (let x = r.x; x < r.x + r.w; x += step) for (const y of ys) pts.push([x, y]);
  for (let y = r.y; y < r.y + r.h; y += step) for (const x of xs) pts.push([x, y]);
  return pts.filter(([x, y]) => x >= 0 && y >= 0 && x < cw && y < ch);
}

// Colour names seen at the points; returns the points whose colour is not `want`.
export function mismatches(f, pts, want) {
  const bad = [];
  for (const [x, y] of pts) {
    const c = nearest(pixel(f, x, y));
    if (c !== want) bad.push(`(${x},${y})=${c}`);
  }
  return bad;
}

// ===== geometry (src/studio/layout.c) =====

const lround = (v) => Math.sign(v) * Math.round(Math.abs(v));
export const roundEven = (v) => 2 * lround(v / 2);
const evenSize = (v) => Math.max(2, roundEven(v));

const AXES = {
  topLeft: ['low', 'low'], topRight: ['high', 'low'], bottomLeft: ['low', 'high'], bottomRight: ['high', 'high'],
  center: ['mid', 'mid'], topCenter: ['mid', 'low'], bottomCenter: ['mid', 'high'], leftCenter: ['low', 'mid'], rightCenter: ['high', 'mid'],
};

function placeAxis(a, full, len, off) {
  if (a === 'high') return roundEven(full - off - len);
  if (a === 'mid') return roundEven((full - len) / 2 + off);
  return roundEven(off);
}

// Layer l = {h, w, x, y, refer, fill} on a cw x ch canvas for an sw x sh source:
// {box, pic, bars} as layout.h defines them (unclipped).
export function place(cw, ch, l, sw, sh) {
  const hn = l.h || 0, wn = l.w || 0;
  let bw, bh;
  if (hn > 0 && wn > 0) { bw = evenSize(wn * cw); bh = evenSize(hn * ch); }
  else if (hn > 0) { bh = evenSize(hn * ch); bw = evenSize((hn * ch * sw) / sh); }
  else if (wn > 0) { bw = evenSize(wn * cw); bh = evenSize((wn * cw * sh) / sw); }
  else { bw = evenSize(sw); bh = evenSize(sh); }
  const [ax, ay] = AXES[l.refer || 'topLeft'];
  const box = { x: placeAxis(ax, cw, bw, (l.x || 0) * cw), y: placeAxis(ay, ch, bh, (l.y || 0) * ch), w: bw, h: bh };
  if (l.fill !== 'fit' || !(hn > 0 && wn > 0)) return { box, pic: box, bars: [] };
  const s = Math.min(bw / sw, bh / sh);
  const pw = Math.min(evenSize(sw * s), bw), ph = Math.min(evenSize(sh * s), bh);
  const pic = { x: box.x + roundEven((bw - pw) / 2), y: box.y + roundEven((bh - ph) / 2), w: pw, h: ph };
  const bars = [
    { x: box.x, y: box.y, w: box.w, h: pic.y - box.y },
    { x: box.x, y: pic.y + pic.h, w: box.w, h: box.y + box.h - (pic.y + pic.h) },
    { x: box.x, y: pic.y, w: pic.x - box.x, h: pic.h },
    { x: pic.x + pic.w, y: pic.y, w: box.x + box.w - (pic.x + pic.w), h: pic.h },
  ].filter((b) => b.w > 0 && b.h > 0);
  return { box, pic, bars };
}

// The API form of a layer.
export function apiLayer(l) {
  return {
    HeightNormalized: l.h || 0, WidthNormalized: l.w || 0, PositionRefer: l.refer || 'topLeft',
    PositionNormalized: [l.x || 0, l.y || 0], FillMode: l.fill || 'none',
  };
}

// ===== tones =====

// Amplitude (peak, in sample units) of the `freq` component of samples.
export function toneAmplitude(samples, freq, rate = RATE) {
  const n = samples.length;
  if (!n) return 0;
  const k = (2 * Math.PI * freq) / rate;
  let re = 0, im = 0;
  for (let i = 0; i < n; i++) {
    // Hann window against leakage from the other tone.
    const wgt = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (n - 1));
    re += samples[i] * wgt * Math.cos(k * i);
    im -= samples[i] * wgt * Math.sin(k * i);
  }
  return (2 * Math.hypot(re, im)) / (n * 0.5);
}

// ===== FLV tags =====

// Plays an HTTP-FLV URL without decoding: every tag's kind, timestamp and
// keyframe flag, with its arrival time, as a player receives them; the raw
// stream is also written to `file` when given (for offline analysis).
// tags: [{ type: 'video'|'audio'|'meta', ts (ms), key, header (sequence header), t }].
export function flvTap(url, { file } = {}) {
  const tap = { tags: [], bytes: 0, status: 0, ended: false, error: null };
  let buf = Buffer.alloc(0), headerDone = false, out = null;
  if (file) out = createWriteStream(file);
  const req = http.get(url, (res) => {
    tap.status = res.statusCode;
    res.on('data', (d) => {
      tap.bytes += d.length;
      if (out) out.write(d);
      buf = buf.length ? Buffer.concat([buf, d]) : d;
      if (!headerDone) {
        if (buf.length < 13) return;
        headerDone = true;
        buf = buf.subarray(13);
      }
      while (buf.length >= 11) {
        const size = buf.readUIntBE(1, 3);
        if (buf.length < 11 + size + 4) break;
        const type = buf[0];
        const ts = (buf.readUIntBE(4, 3) | (buf[7] << 24)) >>> 0;
        const data = buf.subarray(11, 11 + size);
        const t = Date.now();
        if (type === 9) tap.tags.push({ type: 'video', ts, key: (data[0] >> 4) === 1, header: data[1] === 0, t });
        else if (type === 8) tap.tags.push({ type: 'audio', ts, key: false, header: data[1] === 0, t });
        else if (type === 18) tap.tags.push({ type: 'meta', ts, key: false, header: true, t });
        buf = buf.subarray(11 + size + 4);
      }
    });
    res.on('end', () => { tap.ended = true; });
  });
  req.on('error', (e) => { tap.error = e; tap.ended = true; });
  // Media tags (no sequence headers) of a type, optionally within arrival times [t0, t1).
  tap.media = (type, t0 = 0, t1 = Infinity) => tap.tags.filter((x) => x.type === type && !x.header && x.t >= t0 && x.t < t1);
  tap.stop = () => new Promise((resolve) => {
    req.destroy();
    if (out) out.end(resolve); else resolve();
  });
  return tap;
}

// Timestamp steps between consecutive tags outside [lo, hi] ms: [] when continuous.
export function tsGaps(tags, lo, hi) {
  const bad = [];
  for (let i = 1; i < tags.length; i++) {
    const d = tags[i].ts - tags[i - 1].ts;
    if (d < lo || d > hi) bad.push(`${tags[i - 1].ts} -> ${tags[i].ts}`);
  }
  return bad;
}
