// The production studio's pictures and sound, checked at the pixel and the
// tone: two live inputs of distinct solid colours and tones (red 320x240 with
// 440 Hz, blue 240x240 with 1000 Hz) published with ffmpeg, one caster, one
// watcher (ffmpeg decoding to raw frames + PCM) on PVW and one on PGM.
//   - the "done means" scenario through the official SDK;
//   - every PositionRefer anchor, both FillModes, HeightNormalized or
//     WidthNormalized alone, side by side and picture in picture: the colour
//     of every grid point away from an edge matches the geometry docs/api.md
//     defines (ported in lib/frames.mjs);
//   - the audio mix: tone amplitudes follow VolumeRate, and a scene's own mix
//     list (FollowEnable=0);
//   - every kind of input: VOD (looping) and image from onair's own storage,
//     VOD over HTTP from another server, a live HTTP-FLV URL, and a live
//     input modified while shown;
//   - the take: PGM switches within a bounded number of frames with
//     continuous audio and video timestamps, seen by a player that stays
//     connected;
//   - faults: the blue publisher is killed (its box holds the last picture,
//     then goes black after studio_black_after_ms, while the output keeps
//     its frame rate and its timestamps) and comes back (blue again);
//   - the output delay: PGM plays Delay seconds behind PVW's take, and the
//     undelayed program is not a stream anyone can play.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { startServer, sleep, DOMAIN } from './lib/server.mjs';
import { popClient } from './lib/api.mjs';
import { publish, probe, run } from './lib/media.mjs';
import { watch, place, apiLayer, nearest, pixel, toneAmplitude, flvTap, tsGaps } from './lib/frames.mjs';

const W = 640, H = 360, FPS = 30;
const SRC = { RV01: { colour: 'red', w: 320, h: 240, freq: 440 }, RV02: { colour: 'blue', w: 240, h: 240, freq: 1000 } };
// After a layout change: how long until a frame must show it (generous for ASan on 2 cores).
const SETTLE_MS = 700;

let srv, pop, red, blue, casterId, pvwId, pgmId, pvwUrl, pgmUrl, pvw, pgm;
const layouts = {};

function publishSource(loc, seconds = 900) {
  const s = SRC[loc];
  return publish(`${srv.rtmp}/live/${s.colour}`, { seconds, color: s.colour, size: `${s.w}x${s.h}`, freq: s.freq, rate: 30, gop: 30 });
}

// layers: [{loc, h, w, x, y, refer, fill}] -> AddCasterLayout/ModifyCasterLayout params.
function layoutParams(layers, audio) {
  return {
    BlendList: layers.map((l) => l.loc),
    VideoLayer: layers.map(apiLayer),
    MixList: (audio || layers.map((l) => ({ loc: l.loc }))).map((a) => a.loc),
    AudioLayer: (audio || layers.map(() => ({}))).map((a) => ({ VolumeRate: a.volume ?? 1, ValidChannel: a.channel || 'all' })),
  };
}

async function addLayout(name, layers, audio) {
  const r = await pop.call('AddCasterLayout', { CasterId: casterId, ...layoutParams(layers, audio) });
  layouts[name] = { id: r.LayoutId, layers };
  return r.LayoutId;
}

// The colour every point of the canvas should have: layers painted bottom to top on black.
function expected(layers) {
  const rects = [];
  const paint = [];
  for (const l of layers) {
    const s = SRC[l.loc];
    const p = place(W, H, l, s.w, s.h);
    for (const b of p.bars) paint.push({ r: b, c: 'black' });
    paint.push({ r: p.pic, c: s.colour });
    rects.push(p.box, p.pic, ...p.bars);
  }
  return { paint, rects };
}

const inside = (r, x, y) => x >= r.x && x < r.x + r.w && y >= r.y && y < r.y + r.h;
// Within m px of an edge of r.
const nearEdge = (r, x, y, m) => inside({ x: r.x - m, y: r.y - m, w: r.w + 2 * m, h: r.h + 2 * m }, x, y) &&
  !inside({ x: r.x + m, y: r.y + m, w: r.w - 2 * m, h: r.h - 2 * m }, x, y);

// Every grid point away from edges has the colour the layout predicts; returns the mismatches.
function compare(frame, layers, { step = 8, margin = 6 } = {}) {
  const { paint, rects } = expected(layers);
  const bad = [];
  let checked = 0;
  for (let y = 2; y < H - 2; y += step) {
    for (let x = 2; x < W - 2; x += step) {
      if (rects.some((r) => nearEdge(r, x, y, margin))) continue;
      let want = 'black';
      for (const p of paint) if (inside(p.r, x, y)) want = p.c;
      const got = nearest(pixel(frame, x, y));
      checked++;
      if (got !== want) bad.push(`(${x},${y}) want ${want} got ${got}`);
    }
  }
  assert.ok(checked > 500, `only ${checked} points checked`);
  return bad;
}

// Shows `name` on scene `sceneId` and checks a frame of watcher w that arrives after it settled.
async function showAndCheck(w, sceneId, name) {
  await pop.call('SetCasterSceneConfig', { CasterId: casterId, SceneId: sceneId, LayoutId: layouts[name].id });
  const f = await w.frameAfter(Date.now() + SETTLE_MS);
  const bad = compare(f, layouts[name].layers);
  assert.deepEqual(bad.slice(0, 12), [], `${name}: ${bad.length} points differ`);
}

before(async () => {
  srv = await startServer();
  pop = popClient(srv);
  red = publishSource('RV01');
  blue = publishSource('RV02');
});

after(async () => {
  for (const w of [pvw, pgm]) if (w) await w.stop();
  for (const p of [red, blue]) if (p) { p.proc.kill('SIGKILL'); await p.done; }
  if (casterId) await pop.call('StopCaster', { CasterId: casterId }).catch(() => {});
  await srv.stop();
});

test('done means: caster, two live inputs, a layout, PVW, take to PGM - SDK and ffmpeg only', async () => {
  casterId = (await pop.call('CreateCaster', { ClientToken: 'media-1', ChargeType: 'PostPaid', NormType: 1, CasterName: 'studio' })).CasterId;
  await pop.call('SetCasterConfig', { CasterId: casterId, CasterName: 'studio', DomainName: DOMAIN, TranscodeConfig: JSON.stringify({ casterTemplate: 'lp_ld' }) });
  for (const loc of ['RV01', 'RV02']) {
    await pop.call('AddCasterVideoResource', { CasterId: casterId, ResourceName: SRC[loc].colour, LocationId: loc, LiveStreamUrl: `${srv.rtmp}/live/${SRC[loc].colour}` });
  }
  await addLayout('side', [
    { loc: 'RV01', w: 0.5, h: 1, refer: 'topLeft' },
    { loc: 'RV02', w: 0.5, h: 1, refer: 'topRight' },
  ]);
  const started = await pop.call('StartCaster', { CasterId: casterId });
  pvwId = started.PvwSceneInfos.SceneInfo[0].SceneId;
  pgmId = started.PgmSceneInfos.SceneInfo[0].SceneId;
  await pop.call('SetCasterSceneConfig', { CasterId: casterId, SceneId: pvwId, LayoutId: layouts.side.id });
  const sc = await pop.call('StartCasterScene', { CasterId: casterId, SceneId: pvwId });
  pvwUrl = sc.StreamUrl;
  pgmUrl = started.PgmSceneInfos.SceneInfo[0].StreamUrl;
  assert.equal(pvwUrl, started.PvwSceneInfos.SceneInfo[0].StreamUrl);

  // The user watches PVW: both inputs where the layout puts them.
  pvw = watch(pvwUrl, { width: W, height: H });
  await pvw.live();
  const f = await pvw.frameAfter(Date.now() + SETTLE_MS);
  assert.deepEqual(compare(f, layouts.side.layers).slice(0, 12), []);

  // PGM starts black (no layout); the take puts the side-by-side picture there.
  pgm = watch(pgmUrl, { width: W, height: H });
  await pgm.live();
  const before = await pgm.frameAfter(Date.now() + 200);
  assert.equal(nearest(pixel(before, 100, 100)), 'black');
  await pop.call('CopyCasterSceneConfig', { CasterId: casterId, FromSceneId: pvwId, ToSceneId: pgmId });
  const after = await pgm.frameAfter(Date.now() + SETTLE_MS);
  assert.deepEqual(compare(after, layouts.side.layers).slice(0, 12), []);

  // Every URL the API gave plays as-is.
  const urls = await pop.call('DescribeCasterStreamUrl', { CasterId: casterId });
  for (const s of urls.CasterStreams.CasterStream) {
    for (const u of [s.StreamUrl, s.RtmpUrl, ...s.StreamInfos.StreamInfo.map((i) => i.OutputStreamUrl)]) {
      const p = await probe(u);
      const v = p.streams.find((x) => x.codec_type === 'video');
      assert.equal(v.width, W, u);
      assert.equal(v.height, H, u);
      assert.ok(p.streams.some((x) => x.codec_type === 'audio'), u);
    }
  }
});

test('every PositionRefer anchor (FillMode none, both sizes): boxes exactly where the geometry says', async () => {
  const anchors = ['topLeft', 'topRight', 'bottomLeft', 'bottomRight', 'center', 'topCenter', 'bottomCenter', 'leftCenter', 'rightCenter'];
  // Sizes differ per anchor, so a mirrored or swapped anchor cannot look right.
  await addLayout('anchors', [
    { loc: 'RV01', w: 1, h: 1 },
    ...anchors.map((refer, i) => ({ loc: 'RV02', w: 0.12 + 0.012 * i, h: 0.14 + 0.012 * i, x: 0.05, y: 0.05, refer })),
  ]);
  await showAndCheck(pvw, pvwId, 'anchors');
  // Offsets toward the inside from the other side too: centred axes move right/down.
  await addLayout('anchors2', [
    { loc: 'RV01', w: 1, h: 1 },
    ...anchors.map((refer, i) => ({ loc: 'RV02', w: 0.1, h: 0.12 + 0.01 * i, x: 0.1, y: 0.08, refer })),
  ]);
  await showAndCheck(pvw, pvwId, 'anchors2');
});

test('FillMode fit letterboxes and pillarboxes inside the box; one size keeps the aspect ratio', async () => {
  await addLayout('fit', [
    { loc: 'RV01', w: 1, h: 1 },
    // square source in a 320x180 box: pillarbox (black left and right)
    { loc: 'RV02', w: 0.5, h: 0.5, refer: 'center', fill: 'fit' },
    // square source in a 96x180 box: letterbox (black top and bottom)
    { loc: 'RV02', w: 0.15, h: 0.5, x: 0.02, y: 0.02, refer: 'bottomRight', fill: 'fit' },
    // 4:3 red in a 128x72 box over red: only the black bars show
    { loc: 'RV01', w: 0.2, h: 0.2, x: 0.02, y: 0.04, refer: 'topLeft', fill: 'fit' },
    // HeightNormalized alone: 90 px high, width from the source's aspect (square)
    { loc: 'RV02', h: 0.25, x: 0.02, refer: 'leftCenter' },
    // WidthNormalized alone
    { loc: 'RV02', w: 0.1, y: 0.02, refer: 'topCenter' },
  ]);
  await showAndCheck(pvw, pvwId, 'fit');
  // The help pages' picture in picture: full-height red (4:3, so black on the right) and a 30% inset.
  await addLayout('pip', [
    { loc: 'RV01', h: 1, refer: 'topLeft' },
    { loc: 'RV02', h: 0.3, x: 0.2, y: 0.2, refer: 'topLeft' },
  ]);
  await showAndCheck(pvw, pvwId, 'pip');
  await showAndCheck(pvw, pvwId, 'side');
});

test('audio: the mix follows VolumeRate; FollowEnable=0 uses the scene mix list', async () => {
  const layers = layouts.side.layers;
  const measure = async () => {
    const t0 = Date.now() + SETTLE_MS;
    const s = await pvw.samples(t0, 1000);
    assert.ok(s.length > 30000, `only ${s.length} samples`);
    return { a440: toneAmplitude(s, 440), a1000: toneAmplitude(s, 1000) };
  };
  const modify = (audio) => pop.call('ModifyCasterLayout', { CasterId: casterId, LayoutId: layouts.side.id, ...layoutParams(layers, audio) });

  await modify([{ loc: 'RV01', volume: 1 }, { loc: 'RV02', volume: 0 }]);
  const solo = await measure();
  assert.ok(solo.a440 > 1000, `440 Hz amplitude ${solo.a440}`);
  assert.ok(solo.a1000 < solo.a440 * 0.05, `1000 Hz should be silent: ${JSON.stringify(solo)}`);

  await modify([{ loc: 'RV01', volume: 0.5 }, { loc: 'RV02', volume: 1 }]);
  const mixed = await measure();
  const ratio = mixed.a440 / mixed.a1000;
  assert.ok(ratio > 0.4 && ratio < 0.6, `440/1000 should be 0.5: ${JSON.stringify(mixed)}`);
  assert.ok(Math.abs(mixed.a1000 / solo.a440 - 1) < 0.2, `1000 Hz at volume 1 ~ 440 Hz at volume 1: ${JSON.stringify({ solo, mixed })}`);

  // The scene's own mix list: only RV02, at twice the volume.
  await pop.call('UpdateCasterSceneAudio', { CasterId: casterId, SceneId: pvwId, FollowEnable: 0, MixList: ['RV02'], AudioLayer: [{ VolumeRate: 2, ValidChannel: 'all' }] });
  const own = await measure();
  assert.ok(own.a440 < own.a1000 * 0.05, `440 Hz should be silent: ${JSON.stringify(own)}`);
  assert.ok(Math.abs(own.a1000 / (2 * solo.a440) - 1) < 0.2, `1000 Hz at volume 2: ${JSON.stringify({ solo, own })}`);
  const d = await pop.call('DescribeCasterSceneAudio', { CasterId: casterId, SceneId: pvwId });
  assert.equal(d.FollowEnable, 0);
  assert.deepEqual(d.MixList.LocationId, ['RV02']);
  assert.equal(d.AudioLayers.AudioLayer[0].VolumeRate, 2);

  // Back to audio-follows-video.
  await pop.call('UpdateCasterSceneAudio', { CasterId: casterId, SceneId: pvwId, FollowEnable: 1 });
  await modify([{ loc: 'RV01', volume: 1 }, { loc: 'RV02', volume: 1 }]);
  const both = await measure();
  assert.ok(Math.abs(both.a1000 / both.a440 - 1) < 0.25, JSON.stringify(both));
});

test('inputs of every kind: VOD and image from onair storage, VOD over HTTP, HTTP-FLV live; modified live', async () => {
  const media = path.join(srv.dataDir, 'oss', 'media');
  mkdirSync(media, { recursive: true });
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'onair-caster-media-'));
  const make = (out, src, extra) => run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', src, ...extra, out]);
  const enc = ['-f', 'lavfi', '-i', 'sine=frequency=660:sample_rate=44100', '-t', '2', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-g', '30', '-c:a', 'aac'];
  for (const r of await Promise.all([
    make(path.join(media, 'yellow.mp4'), 'color=c=yellow:size=320x240:rate=30', [...enc, '-movflags', '+faststart']),
    make(path.join(media, 'white.png'), 'color=c=white:size=64x64', ['-frames:v', '1']),
    make(path.join(tmp, 'green.flv'), 'color=c=green:size=320x240:rate=30', enc),
  ])) assert.equal(r.code, 0, r.err);
  // Another server for the HTTP VOD: a plain file server.
  const files = http.createServer((req, res) => {
    const body = readFileSync(path.join(tmp, 'green.flv'));
    res.writeHead(200, { 'content-type': 'video/x-flv', 'content-length': body.length });
    res.end(body);
  });
  await new Promise((r) => files.listen(0, '127.0.0.1', r));
  try {
    Object.assign(SRC, {
      RV03: { colour: 'yellow', w: 320, h: 240 }, RV04: { colour: 'white', w: 64, h: 64 },
      RV05: { colour: 'green', w: 320, h: 240 }, RV06: { colour: 'red', w: 320, h: 240 },
    });
    const add = (p) => pop.call('AddCasterVideoResource', { CasterId: casterId, ...p });
    await add({ ResourceName: 'yellow clip', LocationId: 'RV03', VodUrl: 'oss://media/yellow.mp4', RepeatNum: -1 });
    await add({ ResourceName: 'white still', LocationId: 'RV04', ImageUrl: `${srv.http}/oss/media/white.png` });
    await add({ ResourceName: 'green clip', LocationId: 'RV05', VodUrl: `http://127.0.0.1:${files.address().port}/green.flv`, RepeatNum: -1 });
    const flv = await add({ ResourceName: 'red over http-flv', LocationId: 'RV06', LiveStreamUrl: `${srv.http}/live/red.flv` });
    await addLayout('kinds', [
      { loc: 'RV03', w: 0.5, h: 0.5, refer: 'topLeft' },
      { loc: 'RV04', w: 0.5, h: 0.5, refer: 'topRight' },
      { loc: 'RV05', w: 0.5, h: 0.5, refer: 'bottomLeft' },
      { loc: 'RV06', w: 0.5, h: 0.5, refer: 'bottomRight' },
    ]);
    await showAndCheck(pvw, pvwId, 'kinds');
    // The 2 s clips loop (RepeatNum -1): still showing well after their end.
    await sleep(3000);
    assert.deepEqual(compare(await pvw.frameAfter(Date.now()), layouts.kinds.layers).slice(0, 12), []);
    // A modified input changes on screen without touching the scene.
    await pop.call('ModifyCasterVideoResource', { CasterId: casterId, ResourceId: flv.ResourceId, LiveStreamUrl: `${srv.rtmp}/live/blue` });
    SRC.RV06 = { colour: 'blue', w: 240, h: 240 };
    const t = Date.now() + 1500;
    assert.deepEqual(compare(await pvw.frameAfter(t), layouts.kinds.layers).slice(0, 12), []);
  } finally {
    files.close();
    rmSync(tmp, { recursive: true, force: true });
  }
});

// Side by side vs the picture-in-picture layout, told apart at two points.
function looksLikePip(f) {
  return nearest(pixel(f, 180, 120)) === 'blue' && nearest(pixel(f, 600, 300)) === 'black';
}

test('take: PGM changes within a few frames, timestamps continuous, the player stays connected', async () => {
  // PGM shows side by side (from the first test), PVW the picture in picture.
  await pop.call('SetCasterSceneConfig', { CasterId: casterId, SceneId: pvwId, LayoutId: layouts.pip.id });
  await sleep(SETTLE_MS);
  // A second player that only reads the tags: audio and video timestamps around the take.
  const tap = flvTap(pgmUrl);
  await sleep(1000);
  const beforeFrames = pgm.count;
  const t0 = Date.now();
  await pop.call('CopyCasterSceneConfig', { CasterId: casterId, FromSceneId: pvwId, ToSceneId: pgmId });
  const tResp = Date.now();
  await sleep(1500);
  await tap.stop();
  assert.ok(tap.media('video', t0 - 500).length > 30, 'the tag reader got the program');
  assert.deepEqual(tsGaps(tap.media('video'), 33, 34).slice(0, 5), [], 'video timestamps around the take');
  assert.deepEqual(tsGaps(tap.media('audio'), 23, 24).slice(0, 5), [], 'audio timestamps around the take');
  const after = pgm.framesBetween(t0, Date.now());
  const first = after.findIndex(looksLikePip);
  assert.ok(first >= 0, 'PGM never showed the new layout');
  // Frames arrive in real time: the switch is the next frame after the call, plus the
  // decoding player's own pipeline; 10 frames (333 ms) is the bound.
  assert.ok(first <= 10, `new layout only at frame ${first} after the take (response after ${tResp - t0} ms)`);
  for (const f of after.slice(first)) assert.ok(looksLikePip(f), `frame ${f.idx} went back`);
  assert.deepEqual(compare(after[after.length - 1], layouts.pip.layers).slice(0, 12), []);
  // One player throughout, no gap and no jump in the timestamps around the take.
  assert.equal(pgm.exited, false);
  const idx = after.map((f) => f.idx);
  const pts = idx.map((i) => pgm.pts.get(i)).filter((p) => p !== undefined);
  assert.ok(pts.length >= after.length - 2);
  for (let i = 1; i < pts.length; i++) {
    const d = pts[i] - pts[i - 1];
    assert.ok(d > 0.02 && d < 0.05, `timestamp step ${d} s at ${i}`);
  }
  assert.ok(pgm.count > beforeFrames);
  const sc = await pop.call('DescribeCasterScenes', { CasterId: casterId, SceneId: pgmId });
  assert.equal(sc.SceneList.Scene[0].LayoutId, layouts.pip.id);
});

test('faults: an input publisher dies mid-scene, the output keeps running, and recovers when it returns', async () => {
  // PGM shows the picture in picture: the blue inset is RV02.
  const inset = place(W, H, layouts.pip.layers[1], 240, 240).box;
  const cx = inset.x + inset.w / 2, cy = inset.y + inset.h / 2;
  assert.equal(nearest(pixel(await pgm.frameAfter(Date.now()), cx, cy)), 'blue');
  const tap = flvTap(pgmUrl);
  await sleep(500);
  blue.proc.kill('SIGKILL');
  await blue.done;
  const tKill = Date.now();
  // The last picture holds (the output is about 0.2 s behind its inputs) ...
  for (const dt of [1000, 2300]) {
    const f = await pgm.frameAfter(tKill + dt);
    assert.equal(nearest(pixel(f, cx, cy)), 'blue', `the inset ${dt} ms after its source stopped`);
  }
  // ... then turns black after the documented timeout (studio_black_after_ms, 3 s).
  await sleep(Math.max(0, tKill + 5000 - Date.now()));
  const dead = pgm.timeline.filter((f) => f.t >= tKill + 1000 && f.t < tKill + 5000);
  assert.ok(dead.length >= 0.8 * FPS * 4, `only ${dead.length} frames in 4 s while the input was gone`);
  const last = pgm.frames[pgm.frames.length - 1];
  assert.equal(nearest(pixel(last, cx, cy)), 'black');
  assert.equal(nearest(pixel(last, 60, 60)), 'red');
  const pts = dead.map((f) => pgm.pts.get(f.idx)).filter((p) => p !== undefined);
  for (let i = 1; i < pts.length; i++) assert.ok(pts[i] - pts[i - 1] < 0.05 && pts[i] > pts[i - 1], `timestamp step ${pts[i] - pts[i - 1]}`);

  // The publisher comes back: blue again without touching the caster.
  blue = publishSource('RV02');
  const tBack = Date.now();
  let back = null;
  while (!back && Date.now() - tBack < 15000) {
    const f = await pgm.frameAfter(Date.now());
    if (nearest(pixel(f, cx, cy)) === 'blue') back = f;
    else await sleep(200);
  }
  assert.ok(back, 'the inset never came back');
  assert.equal(pgm.exited, false, 'the PGM player was disconnected');
  // Through the hold, the black and the recovery: no gap, no jump, in audio or video.
  await sleep(500);
  await tap.stop();
  assert.ok(tap.media('video').length > 30 * 6, `${tap.media('video').length} frames`);
  assert.deepEqual(tsGaps(tap.media('video'), 33, 34).slice(0, 5), [], 'video timestamps');
  assert.deepEqual(tsGaps(tap.media('audio'), 23, 24).slice(0, 5), [], 'audio timestamps');
});

test('output delay (SetCasterConfig Delay): PGM plays that far behind; a take reaches it that much later', async () => {
  await pop.call('SetCasterConfig', { CasterId: casterId, CasterName: 'studio', DomainName: DOMAIN, TranscodeConfig: JSON.stringify({ casterTemplate: 'lp_ld' }), Delay: 1.5 });
  // Configuration applies at RestartCaster; players of the old outputs reconnect.
  await pop.call('RestartCaster', { CasterId: casterId });
  await pgm.stop();
  pgm = watch(pgmUrl, { width: W, height: H, audio: false });
  await pgm.live();
  assert.ok(looksLikePip(await pgm.frameAfter(Date.now())));
  await pop.call('SetCasterSceneConfig', { CasterId: casterId, SceneId: pvwId, LayoutId: layouts.side.id });
  const t0 = Date.now();
  await pop.call('CopyCasterSceneConfig', { CasterId: casterId, FromSceneId: pvwId, ToSceneId: pgmId });
  let seen = null;
  while (!seen && Date.now() - t0 < 5000) {
    seen = pgm.frames.find((f) => f.t >= t0 && !looksLikePip(f));
    if (!seen) await sleep(20);
  }
  assert.ok(seen, 'the take never reached the delayed PGM');
  const late = seen.t - t0;
  assert.ok(late >= 1450 && late < 2000, `the take reached PGM after ${late} ms, not ~1500`);
  assert.deepEqual(compare(seen, layouts.side.layers).slice(0, 12), []);
  const ticks = pgm.timeline.filter((f) => f.t >= t0 - 1000 && f.t < seen.t + 500).map((f) => pgm.pts.get(f.idx)).filter((p) => p !== undefined);
  for (let i = 1; i < ticks.length; i++) assert.ok(ticks[i] - ticks[i - 1] > 0.02 && ticks[i] - ticks[i - 1] < 0.05, `timestamp step ${ticks[i] - ticks[i - 1]}`);
  const sc = await pop.call('DescribeCasterScenes', { CasterId: casterId, SceneId: pgmId });
  assert.equal(sc.SceneList.Scene[0].Status, 1);
  // The undelayed program is no stream: nothing plays under the name the old design used, and
  // the caster's only streams are its two scenes.
  const undelayed = flvTap(pgmUrl.replace('.flv', '-undelayed.flv'));
  await sleep(2000);
  await undelayed.stop();
  assert.equal(undelayed.tags.length, 0, 'the undelayed program played');
  const online = await pop.call('DescribeLiveStreamsOnlineList', { DomainName: DOMAIN, AppName: 'caster' });
  const names = online.OnlineInfo.LiveStreamOnlineInfo.map((x) => x.StreamName).sort();
  const scene = (u) => /\/caster\/([0-9a-f]{32})\.flv/.exec(u)[1];
  assert.deepEqual(names, [scene(pvwUrl), scene(pgmUrl)].sort());
});
