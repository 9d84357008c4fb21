// Streams through the API against real ffmpeg publishers: the online list
// with values measured from the stream, Forbid/Resume (kick at once, block,
// resume), the block list and control history, and the publish history.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, sleep, DOMAIN } from './lib/server.mjs';
import { publish } from './lib/media.mjs';
import { popClient, teaClient, expectCode, isoNow } from './lib/api.mjs';

let srv, pop, tea;
before(async () => {
  srv = await startServer();
  pop = popClient(srv);
  tea = teaClient(srv);
});
after(async () => { await srv.stop(); });

async function online(params = {}) {
  return pop.call('DescribeLiveStreamsOnlineList', { DomainName: DOMAIN, ...params });
}

async function waitOnline(stream, timeoutMs = 15000) {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    const r = await online({ StreamName: stream, QueryType: 'strict' });
    if (r.TotalNum > 0) return r.OnlineInfo.LiveStreamOnlineInfo[0];
    await sleep(250);
  }
  throw new Error(`${stream} never came online`);
}

async function exitsWithin(p, ms) {
  const r = await Promise.race([p.done, sleep(ms).then(() => null)]);
  if (!r) {
    p.proc.kill('SIGKILL');
    assert.fail('the publisher was not disconnected');
  }
  return r;
}

async function publishRefused(url) {
  const p = publish(url, { seconds: 20 });
  const r = await exitsWithin(p, 10000);
  assert.notEqual(r.code, 0, 'ffmpeg failed');
}

const stop = async (p) => { p.proc.kill('SIGTERM'); await p.done; };

test('DescribeLiveStreamsOnlineList reports what the server measured from ffmpeg', async () => {
  const t0 = Math.floor(Date.now() / 1000);
  const a = publish(`${srv.rtmp}/live/on1?token=abc`, { seconds: 60, size: '320x240', rate: 25, gop: 25 });
  const b = publish(`${srv.rtmp}/other/on10`, { seconds: 60, size: '160x120', rate: 15, gop: 15, audio: false });
  try {
    await waitOnline('on1');
    await waitOnline('on10');
    await sleep(4500); // two full measuring windows
    const r = await online({ StreamName: 'on1', QueryType: 'strict' });
    assert.equal(r.TotalNum, 1);
    assert.equal(r.PageNum, 1);
    assert.equal(r.PageSize, 2000);
    assert.equal(r.TotalPage, 1);
    const s = r.OnlineInfo.LiveStreamOnlineInfo[0];
    assert.equal(s.DomainName, DOMAIN);
    assert.equal(s.AppName, 'live');
    assert.equal(s.StreamName, 'on1');
    assert.equal(s.Width, 320);
    assert.equal(s.Height, 240);
    assert.ok(Math.abs(s.FrameRate - 25) <= 2, `FrameRate ${s.FrameRate}`);
    assert.equal(s.VideoCodecId, 7); // FLV AVC
    assert.equal(s.AudioCodecId, 10); // FLV AAC
    assert.ok(s.VideoDataRate > 20 && s.VideoDataRate < 5000, `VideoDataRate ${s.VideoDataRate}`);
    assert.ok(s.AudioDataRate > 30 && s.AudioDataRate < 200, `AudioDataRate ${s.AudioDataRate}`);
    assert.equal(s.ClientIp, '127.0.0.1');
    assert.equal(s.PublishUrl, `rtmp://127.0.0.1:${srv.rtmpPort}/live/on1?token=abc`);
    assert.equal(s.PublishDomain, DOMAIN);
    assert.equal(s.Transcoded, 'no');
    const pt = Date.parse(s.PublishTime) / 1000;
    assert.ok(pt >= t0 - 1 && pt <= t0 + 15, s.PublishTime);
    assert.match(s.PublishTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);

    const b2 = (await online({ StreamName: 'on10', QueryType: 'strict' })).OnlineInfo.LiveStreamOnlineInfo[0];
    assert.equal(b2.Width, 160);
    assert.equal(b2.Height, 120);
    assert.ok(Math.abs(b2.FrameRate - 15) <= 2, `FrameRate ${b2.FrameRate}`);
    assert.equal(b2.AudioDataRate, 0);

    // Filters: fuzzy (default) matches both names, strict one; AppName narrows.
    assert.equal((await online({ StreamName: 'on1' })).TotalNum, 2);
    assert.equal((await online({ AppName: 'other' })).TotalNum, 1);
    assert.equal((await online({ AppName: 'oth', QueryType: 'strict' })).TotalNum, 0);
    assert.equal((await online({ StreamType: 'trans' })).TotalNum, 0);
    // Paging.
    const p1 = await online({ PageSize: 1, PageNum: 1 });
    const p2 = await online({ PageSize: 1, PageNum: 2 });
    assert.equal(p1.TotalNum, 2);
    assert.equal(p1.TotalPage, 2);
    assert.notEqual(p1.OnlineInfo.LiveStreamOnlineInfo[0].StreamName, p2.OnlineInfo.LiveStreamOnlineInfo[0].StreamName);
    // OnlyStream=yes: only the names and the time.
    const only = await tea.call('DescribeLiveStreamsOnlineList', { DomainName: DOMAIN, OnlyStream: 'yes', StreamName: 'on10' });
    assert.deepEqual(Object.keys(only.OnlineInfo.LiveStreamOnlineInfo[0]).sort(), ['AppName', 'DomainName', 'PublishTime', 'StreamName']);
    await expectCode(online({ PageSize: 3001 }), 'InvalidPageSize.Malformed');
    await expectCode(online({ QueryType: 'exact' }), 'InvalidQueryType.Malformed');
  } finally {
    await stop(a);
    await stop(b);
  }
  const after = await online();
  assert.equal(after.TotalNum, 0);
  assert.deepEqual(after.OnlineInfo.LiveStreamOnlineInfo, []);
});

test('ForbidLiveStream kicks at once and blocks; ResumeLiveStream lifts it; both are in the history', async () => {
  const url = `${srv.rtmp}/live/f1`;
  const p = publish(url, { seconds: 60 });
  await waitOnline('f1');
  const t0 = Date.now();
  await pop.call('ForbidLiveStream', { DomainName: DOMAIN, AppName: 'live', StreamName: 'f1', LiveStreamType: 'publisher' });
  await exitsWithin(p, 5000);
  assert.ok(Date.now() - t0 < 5000);
  assert.equal((await online({ StreamName: 'f1' })).TotalNum, 0);
  await publishRefused(url);

  const bl = await pop.call('DescribeLiveStreamsBlockList', { DomainName: DOMAIN });
  assert.equal(bl.DomainName, DOMAIN);
  assert.equal(bl.TotalNum, 1);
  assert.deepEqual(bl.StreamUrls.StreamUrl, [`${DOMAIN}/live/f1`]);

  await pop.call('ResumeLiveStream', { DomainName: DOMAIN, AppName: 'live', StreamName: 'f1', LiveStreamType: 'publisher' });
  assert.equal((await pop.call('DescribeLiveStreamsBlockList', { DomainName: DOMAIN })).TotalNum, 0);
  const p2 = publish(url, { seconds: 60 });
  await waitOnline('f1');
  await stop(p2);

  const h = await pop.call('DescribeLiveStreamsControlHistory', { DomainName: DOMAIN, StartTime: isoNow(-600), EndTime: isoNow(60) });
  const rows = h.ControlInfo.LiveStreamControlInfo.filter((x) => x.StreamName === 'f1');
  assert.deepEqual(rows.map((x) => x.Action), ['ForbidLiveStream', 'ResumeLiveStream']);
  assert.equal(rows[0].ClientIP, '127.0.0.1');
  assert.match(rows[0].TimeStamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  const other = await pop.call('DescribeLiveStreamsControlHistory', { DomainName: DOMAIN, AppName: 'other', StartTime: isoNow(-600), EndTime: isoNow(60) });
  assert.deepEqual(other.ControlInfo.LiveStreamControlInfo, []);
});

test('Forbid with Oneshot=yes only kicks; ResumeTime ends a block by itself; AppName * resumes every app', async () => {
  const p = publish(`${srv.rtmp}/live/once`, { seconds: 60 });
  await waitOnline('once');
  await pop.call('ForbidLiveStream', { DomainName: DOMAIN, AppName: 'live', StreamName: 'once', LiveStreamType: 'publisher', Oneshot: 'yes' });
  await exitsWithin(p, 5000);
  const p2 = publish(`${srv.rtmp}/live/once`, { seconds: 60 });
  await waitOnline('once');
  await stop(p2);
  assert.equal((await pop.call('DescribeLiveStreamsBlockList', { DomainName: DOMAIN })).TotalNum, 0);

  // Blocked until a few seconds from now, then publishing works again without Resume.
  await pop.call('ForbidLiveStream', { DomainName: DOMAIN, AppName: 'live', StreamName: 'timed', LiveStreamType: 'publisher', ResumeTime: isoNow(3) });
  await publishRefused(`${srv.rtmp}/live/timed`);
  await sleep(4000);
  const p3 = publish(`${srv.rtmp}/live/timed`, { seconds: 60 });
  await waitOnline('timed');
  await stop(p3);

  for (const app of ['app1', 'app2']) {
    await pop.call('ForbidLiveStream', { DomainName: DOMAIN, AppName: app, StreamName: 'multi', LiveStreamType: 'publisher' });
  }
  assert.equal((await pop.call('DescribeLiveStreamsBlockList', { DomainName: DOMAIN })).TotalNum, 2);
  await pop.call('ResumeLiveStream', { DomainName: DOMAIN, AppName: '*', StreamName: 'multi', LiveStreamType: 'publisher' });
  assert.equal((await pop.call('DescribeLiveStreamsBlockList', { DomainName: DOMAIN })).TotalNum, 0);

  const base = { DomainName: DOMAIN, AppName: 'live', StreamName: 'x', LiveStreamType: 'publisher' };
  await expectCode(pop.call('ForbidLiveStream', { ...base, LiveStreamType: 'player' }), 'InvalidLiveStreamType.Malformed');
  await expectCode(pop.call('ForbidLiveStream', { ...base, Oneshot: 'maybe' }), 'InvalidOneshot.Malformed');
  await expectCode(pop.call('ForbidLiveStream', { ...base, ResumeTime: isoNow(-60) }), 'InvalidResumeTime.Malformed');
  await expectCode(pop.call('ForbidLiveStream', { ...base, ResumeTime: 'soon' }), 'InvalidResumeTime.Malformed');
  await expectCode(pop.call('ForbidLiveStream', { ...base, AppName: '*' }), 'InvalidAppName.Malformed');
  await expectCode(pop.call('ForbidLiveStream', { ...base, StreamName: 'a/b' }), 'InvalidStreamName.Malformed');
  await expectCode(pop.call('ForbidLiveStream', { ...base, DomainName: 'nope.example.com' }), 'InvalidDomain.NotFound');
});

test('DescribeLiveStreamsPublishList returns the publish history with paging, order and range checks', async () => {
  const from = isoNow(-5);
  for (let i = 0; i < 3; i++) {
    const p = publish(`${srv.rtmp}/hist/h1?round=${i}`, { seconds: 1.5 });
    const r = await p.done;
    assert.equal(r.code, 0, r.err);
  }
  const p = publish(`${srv.rtmp}/hist/h2`, { seconds: 60 });
  await waitOnline('h2');
  const q = (extra) => {
    const params = { DomainName: DOMAIN, StartTime: from, EndTime: isoNow(5), AppName: 'hist', ...extra };
    for (const k of Object.keys(params)) if (params[k] === undefined) delete params[k];
    return pop.call('DescribeLiveStreamsPublishList', params);
  };
  const gap = () => sleep(350); // QPS 3
  try {
    let r = await q({});
    assert.equal(r.TotalNum, 4);
    assert.equal(r.PageNum, 1);
    let rows = r.PublishInfo.LiveStreamPublishInfo;
    assert.deepEqual(rows.map((x) => x.StreamName), ['h1', 'h1', 'h1', 'h2']); // publish_time_asc
    const first = rows[0];
    assert.equal(first.DomainName, DOMAIN);
    assert.equal(first.AppName, 'hist');
    assert.equal(first.PublishDomain, DOMAIN);
    assert.equal(first.ClientAddr, '127.0.0.1');
    assert.equal(first.PublishUrl, `rtmp://127.0.0.1:${srv.rtmpPort}/hist/h1?round=0`);
    assert.equal(first.StreamUrl, `rtmp://${DOMAIN}/hist/h1`);
    assert.match(first.PublishTime, /Z$/);
    assert.match(first.StopTime, /Z$/);
    assert.ok(Date.parse(first.StopTime) >= Date.parse(first.PublishTime));
    assert.equal(rows[3].StopTime, ''); // still live
    await gap();
    r = await q({ OrderBy: 'publish_time_desc', PageSize: 2, PageNumber: 1 });
    assert.equal(r.TotalNum, 4);
    assert.equal(r.TotalPage, 2);
    assert.deepEqual(r.PublishInfo.LiveStreamPublishInfo.map((x) => x.StreamName), ['h2', 'h1']);
    await gap();
    r = await q({ StreamName: 'h1', QueryType: 'strict', PageSize: 2, PageNumber: 2 });
    assert.equal(r.TotalNum, 3);
    assert.deepEqual(r.PublishInfo.LiveStreamPublishInfo.map((x) => x.PublishUrl.replace(/.*\?/, '')), ['round=2']);
    await gap();
    r = await q({ OrderBy: 'stream_name_desc', PageSize: 1 });
    assert.equal(r.PublishInfo.LiveStreamPublishInfo[0].StreamName, 'h2');
    await gap();
    // A range before any of it is empty.
    r = await pop.call('DescribeLiveStreamsPublishList', { DomainName: DOMAIN, StartTime: isoNow(-7200), EndTime: isoNow(-3600) });
    assert.equal(r.TotalNum, 0);
    assert.deepEqual(r.PublishInfo.LiveStreamPublishInfo, []);
    await gap();
    await expectCode(q({ StartTime: isoNow(60), EndTime: isoNow(0) }), 'InvalidEndTime.Mismatch');
    await gap();
    await expectCode(q({ StartTime: isoNow(-31 * 86400), EndTime: isoNow(0) }), 'InvalidTimeRange');
    await gap();
    await expectCode(q({ StartTime: 'last week' }), 'InvalidStartTime.Malformed');
    await gap();
    await expectCode(q({ EndTime: undefined }), 'MissingEndTime');
    await gap();
    await expectCode(q({ OrderBy: 'random' }), 'InvalidOrderBy.Malformed');
  } finally {
    await stop(p);
  }
});
