// The production studio's control API through the official SDKs
// (@alicloud/pop-core, signature v1; @alicloud/openapi-client, v3): every
// caster action of the issue, its documented errors and onair's documented
// choices (docs/api.md "Production studio"), tenancy between two accounts,
// signed output URLs for a domain with URL auth type A, and persistence
// across a restart of the server (a running caster runs again).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer, sleep, DOMAIN } from './lib/server.mjs';
import { popClient, teaClient, createAccount, expectCode, signedRequest } from './lib/api.mjs';
import { probe, publish } from './lib/media.mjs';

let dir, srv, one, two, v3, other;

// Rate limits are 10-15 per second per action: pace bursts of calls instead of failing.
// Answers become plain objects (pop-core's parser makes null-prototype ones).
function paced(client) {
  return {
    ...client,
    async call(action, params = {}, opts) {
      for (let i = 0; ; i++) {
        try {
          return JSON.parse(JSON.stringify(await client.call(action, params, opts)));
        } catch (e) {
          if ((e.code || e.data?.Code) !== 'Throttling.User' || i >= 20) throw e;
          await sleep(150);
        }
      }
    },
  };
}

async function clients() {
  one = paced(popClient(srv));
  two = paced(popClient(srv, other));
  v3 = paced(teaClient(srv));
}

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'onair-caster-'));
  other = createAccount(dir, 'tenant-two');
  srv = await startServer({ dataDir: dir });
  await clients();
});

after(async () => {
  if (srv) await srv.stop();
  rmSync(dir, { recursive: true, force: true });
});

let token = 0;
const create = async (client = one, extra = {}) =>
  (await client.call('CreateCaster', { ClientToken: `tok-${++token}`, ChargeType: 'PostPaid', NormType: 1, ...extra })).CasterId;

const sideBySide = {
  BlendList: ['RV01', 'RV02'],
  MixList: ['RV01', 'RV02'],
  VideoLayer: [
    { HeightNormalized: 1, WidthNormalized: 0.5, PositionRefer: 'topLeft', PositionNormalized: [0, 0] },
    { HeightNormalized: 1, WidthNormalized: 0.5, PositionRefer: 'topRight', PositionNormalized: [0, 0] },
  ],
  AudioLayer: [{ VolumeRate: 1, ValidChannel: 'all' }, { VolumeRate: 0.5, ValidChannel: 'leftChannel' }],
};

test('CreateCaster: ids, ClientToken idempotency, required and malformed parameters', async () => {
  const id = await create(one, { ClientToken: 'same-token', CasterName: 'first', CasterTemplate: 'lp_sd', Tag: [{ Key: 'team', Value: 'news' }] });
  assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  assert.equal(await create(one, { ClientToken: 'same-token', CasterName: 'ignored' }), id);
  // The same token in another account is another caster.
  assert.notEqual(await create(two, { ClientToken: 'same-token' }), id);

  await expectCode(one.call('CreateCaster', { ChargeType: 'PostPaid', NormType: 1 }), 'MissingClientToken');
  await expectCode(one.call('CreateCaster', { ClientToken: 'x1', NormType: 1 }), 'MissingChargeType');
  await expectCode(one.call('CreateCaster', { ClientToken: 'x2', ChargeType: 'PostPaid' }), 'MissingNormType');
  await expectCode(one.call('CreateCaster', { ClientToken: 'x3', ChargeType: 'Monthly', NormType: 1 }), 'InvalidChargeType.Malformed');
  await expectCode(one.call('CreateCaster', { ClientToken: 'x4', ChargeType: 'PostPaid', NormType: 6 }), 'InvalidNormType.Malformed');
  await expectCode(one.call('CreateCaster', { ClientToken: 'x5', ChargeType: 'PostPaid', NormType: 'one' }), 'InvalidNormType.Malformed');
  await expectCode(one.call('CreateCaster', { ClientToken: 'x6', ChargeType: 'PostPaid', NormType: 1, CasterTemplate: 'lp_4k' }), 'InvalidCasterTemplate.Malformed');
  await expectCode(one.call('CreateCaster', { ClientToken: 'x'.repeat(65), ChargeType: 'PostPaid', NormType: 1 }), 'InvalidClientToken.Malformed');
  await expectCode(one.call('CreateCaster', { ClientToken: 'x7', ChargeType: 'PostPaid', NormType: 1, ExpireTime: 'tomorrow' }), 'InvalidExpireTime.Malformed');

  const d = await one.call('DescribeCasters', { CasterId: id });
  assert.equal(d.Total, 1);
  const c = d.CasterList.Caster[0];
  assert.equal(c.CasterName, 'first');
  assert.equal(c.CasterTemplate, 'lp_sd');
  assert.equal(c.ChargeType, 'PostPaid');
  assert.equal(c.ClientTokenId, 'same-token');
  assert.equal(c.NormType, 1);
  assert.equal(c.Status, 0);
  assert.equal(c.Duration, '00:00:00');
  assert.equal(c.StartTime, '');
  assert.match(c.CreateTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.deepEqual(c.Tags.tag, [{ TagKey: 'team', TagValue: 'news' }]);
});

test('DescribeCasters: filters, paging, ordering; XML keeps the lowercase tag element', async () => {
  const ids = [];
  for (let i = 0; i < 5; i++) ids.push(await create(one, { CasterName: `page-${i}`, Tag: i % 2 ? [{ Key: 'odd', Value: 'yes' }] : [] }));
  const all = await one.call('DescribeCasters', {});
  assert.ok(all.Total >= 6);
  // Default order: last modified first.
  assert.equal(all.CasterList.Caster[0].CasterId, ids[4]);
  const asc = await one.call('DescribeCasters', { OrderByModifyAsc: 'true', CasterName: 'page-' });
  assert.deepEqual(asc.CasterList.Caster.map((c) => c.CasterId), ids);
  const page = await one.call('DescribeCasters', { CasterName: 'page-', PageNum: 2, PageSize: 2 });
  assert.equal(page.Total, 5);
  assert.deepEqual(page.CasterList.Caster.map((c) => c.CasterId), [ids[2], ids[1]]);
  const empty = await one.call('DescribeCasters', { CasterName: 'page-', PageNum: 9, PageSize: 2 });
  assert.equal(empty.Total, 5);
  assert.deepEqual(empty.CasterList.Caster, []);
  const odd = await one.call('DescribeCasters', { Tag: [{ Key: 'odd', Value: 'yes' }] });
  assert.deepEqual(odd.CasterList.Caster.map((c) => c.CasterId).sort(), [ids[1], ids[3]].sort());
  assert.equal((await one.call('DescribeCasters', { CasterName: 'page-', Status: 1 })).Total, 0);
  assert.equal((await one.call('DescribeCasters', { CasterName: 'page-', ChargeType: 1 })).Total, 5);
  assert.equal((await one.call('DescribeCasters', { CasterName: 'page-', ChargeType: 0 })).Total, 0);
  assert.equal((await one.call('DescribeCasters', { CasterName: 'page-', StartTime: '2000-01-01T00:00:00Z', EndTime: '2001-01-01T00:00:00Z' })).Total, 0);
  await expectCode(one.call('DescribeCasters', { PageSize: 0 }), 'InvalidPageSize.Malformed');
  await expectCode(one.call('DescribeCasters', { Status: 3 }), 'InvalidStatus.Malformed');
  await expectCode(one.call('DescribeCasters', { StartTime: 'yesterday' }), 'InvalidStartTime.Malformed');
  // Another account sees none of these.
  const theirs = await two.call('DescribeCasters', { CasterName: 'page-' });
  assert.equal(theirs.Total, 0);

  const xml = await signedRequest(srv, 'DescribeCasters', { CasterId: ids[1] }, { format: 'XML' });
  assert.equal(xml.status, 200);
  assert.match(xml.body, /<DescribeCastersResponse>.*<CasterList><Caster>.*<Tags><tag><TagKey>odd<\/TagKey><TagValue>yes<\/TagValue><\/tag><\/Tags>/s);
});

test('SetCasterConfig replaces everything; DescribeCasterConfig echoes it with the documented shape', async () => {
  const id = await create(one, { CasterTemplate: 'lp_sd' });
  await one.call('SetCasterConfig', {
    CasterId: id, CasterName: 'configured', DomainName: DOMAIN, Delay: 2.5,
    TranscodeConfig: JSON.stringify({ casterTemplate: 'lp_hd_v', LiveTemplate: ['lld', 'lsd'] }),
    CallbackUrl: 'http://127.0.0.1:9/cb', ProgramName: 'show', ChannelEnable: 1,
    RecordConfig: JSON.stringify({ endpoint: 'oss.example', ossBucket: 'b1', videoFormat: [{ Format: 'flv', OssObjectPrefix: 'rec/{EscapedStreamName}', CycleDuration: 3600 }] }),
    SyncGroupsConfig: JSON.stringify([{ mode: 1, resourceIds: ['r1', 'r2'], hostResourceId: 'r1' }]),
  });
  let c = await one.call('DescribeCasterConfig', { CasterId: id });
  assert.equal(c.CasterId, id);
  assert.equal(c.CasterName, 'configured');
  assert.equal(c.DomainName, DOMAIN);
  assert.equal(c.Delay, 2.5);
  assert.equal(c.CallbackUrl, 'http://127.0.0.1:9/cb');
  assert.equal(c.ProgramName, 'show');
  assert.equal(c.ChannelEnable, 1);
  assert.equal(c.AutoSwitchUrgentOn, 'false');
  assert.equal(c.TranscodeConfig.CasterTemplate, 'lp_hd_v');
  assert.deepEqual(c.TranscodeConfig.LiveTemplateIds.LocationId, ['lld', 'lsd']);
  assert.deepEqual(c.TranscodeConfig.CustomParams.video, { bitrate: 2500, fps: 30, height: 1280, width: 720 });
  assert.equal(c.RecordConfig.OssBucket, 'b1');
  assert.equal(c.RecordConfig.RecordFormat.RecordFormat[0].Format, 'flv');
  assert.equal(c.RecordConfig.RecordFormat.RecordFormat[0].CycleDuration, 3600);
  assert.deepEqual(c.SyncGroupsConfig.SyncGroup[0].ResourceIds.ResourceId, ['r1', 'r2']);
  assert.equal((await one.call('DescribeCasters', { CasterId: id })).CasterList.Caster[0].CasterTemplate, 'lp_hd_v');

  // Full replace: what is not given is cleared (the template falls back to CreateCaster's).
  await one.call('SetCasterConfig', { CasterId: id, TranscodeConfig: JSON.stringify({ customParams: { video: { width: 320, height: 240, fps: 15, bitrate: 300 } } }) });
  c = await one.call('DescribeCasterConfig', { CasterId: id });
  assert.equal(c.CasterName, '');
  assert.equal(c.DomainName, '');
  assert.equal(c.Delay, 0);
  assert.equal(c.CallbackUrl, '');
  // ... except ChannelEnable: once enabled it cannot be disabled (spec 3.1).
  assert.equal(c.ChannelEnable, 1);
  await one.call('SetCasterConfig', { CasterId: id, ChannelEnable: 0, TranscodeConfig: JSON.stringify({ customParams: { video: { width: 320, height: 240, fps: 15, bitrate: 300 } } }) });
  c = await one.call('DescribeCasterConfig', { CasterId: id });
  assert.equal(c.ChannelEnable, 1);
  assert.equal((await one.call('DescribeCasters', { CasterId: id })).CasterList.Caster[0].ChannelEnable, 1);
  assert.equal(c.TranscodeConfig.CasterTemplate, 'lp_sd');
  assert.deepEqual(c.TranscodeConfig.LiveTemplateIds.LocationId, []);
  assert.deepEqual(c.TranscodeConfig.CustomParams.video, { bitrate: 300, fps: 15, height: 240, width: 320 });
  assert.equal(c.RecordConfig.OssBucket, '');
  assert.deepEqual(c.SyncGroupsConfig.SyncGroup, []);

  await expectCode(one.call('SetCasterConfig', { CasterId: id, TranscodeConfig: '{"casterTemplate":"lp_8k"}' }), 'InvalidTranscodeConfig.Malformed');
  await expectCode(one.call('SetCasterConfig', { CasterId: id, TranscodeConfig: 'not json' }), 'InvalidTranscodeConfig.Malformed');
  await expectCode(one.call('SetCasterConfig', { CasterId: id, Delay: 301 }), 'InvalidDelay.Malformed');
  await expectCode(one.call('SetCasterConfig', { CasterId: id, DomainName: 'nope.example.com' }), 'InvalidDomain.NotFound');
  await expectCode(one.call('SetCasterConfig', { CasterId: id, SideOutputUrl: 'ftp://x/y' }), 'InvalidSideOutputUrl.Malformed');
  await expectCode(one.call('SetCasterConfig', { CasterId: 'no such id' }), 'InvalidCasterId.Malformed');
  await expectCode(one.call('SetCasterConfig', { CasterId: '00000000-0000-4000-8000-000000000000' }), 'InvalidCaster.NotFound');
  await expectCode(one.call('DescribeCasterConfig', {}), 'MissingCasterId');
});

test('StartCaster needs a domain; scene actions need a started caster', async () => {
  const id = await create();
  await expectCode(one.call('StartCaster', { CasterId: id }), 'InvalidDomainName.NotFound');
  await expectCode(one.call('StartCasterScene', { CasterId: id, SceneId: 'whatever' }), 'IncorrectCasterStatus.Idle');
  await expectCode(one.call('DescribeCasterStreamUrl', { CasterId: id }), 'InvalidScene.NotFound');
  await expectCode(one.call('RestartCaster', { CasterId: id }), 'IncorrectCasterStatus.Idle');
  const s = await one.call('DescribeCasterScenes', { CasterId: id });
  assert.equal(s.Total, 0);
  assert.deepEqual(s.SceneList.Scene, []);
  // Stopping an idle caster is harmless.
  await one.call('StopCaster', { CasterId: id });
});

test('video resources: add (live, VOD, image), modify, describe, delete, and their errors', async () => {
  const id = await create();
  const live = `${srv.rtmp}/live/cam1`;
  const r1 = (await one.call('AddCasterVideoResource', { CasterId: id, ResourceName: 'cam 1', LocationId: 'RV01', LiveStreamUrl: live })).ResourceId;
  // Without LocationId: the lowest free one.
  const r2 = (await one.call('AddCasterVideoResource', { CasterId: id, ResourceName: 'clip', VodUrl: 'http://127.0.0.1:9/clip.mp4', BeginOffset: 1000, EndOffset: -2000, RepeatNum: -1 })).ResourceId;
  const r3 = (await one.call('AddCasterVideoResource', { CasterId: id, ResourceName: 'logo', LocationId: 'rv05', ImageUrl: 'oss://bucket-1/logo.png' })).ResourceId;
  const d = await one.call('DescribeCasterVideoResources', { CasterId: id });
  assert.equal(d.Total, 3);
  const byId = Object.fromEntries(d.VideoResources.VideoResource.map((x) => [x.ResourceId, x]));
  assert.equal(byId[r1].LocationId, 'RV01');
  assert.equal(byId[r1].LiveStreamUrl, live);
  assert.equal(byId[r1].ResourceName, 'cam 1');
  assert.equal(byId[r2].LocationId, 'RV02');
  assert.equal(byId[r2].VodUrl, 'http://127.0.0.1:9/clip.mp4');
  assert.equal(byId[r2].BeginOffset, 1000);
  assert.equal(byId[r2].EndOffset, -2000);
  assert.equal(byId[r2].RepeatNum, -1);
  assert.equal(byId[r3].LocationId, 'RV05');
  assert.equal(byId[r3].ImageUrl, 'oss://bucket-1/logo.png');
  assert.equal(byId[r3].LiveStreamUrl, '');

  const m = await one.call('ModifyCasterVideoResource', { CasterId: id, ResourceId: r2, ResourceName: 'clip 2', LiveStreamUrl: `${srv.http}/live/cam2.flv` });
  assert.equal(m.ResourceId, r2);
  const after = (await one.call('DescribeCasterVideoResources', { CasterId: id })).VideoResources.VideoResource.find((x) => x.ResourceId === r2);
  assert.equal(after.ResourceName, 'clip 2');
  assert.equal(after.VodUrl, '');
  assert.equal(after.LiveStreamUrl, `${srv.http}/live/cam2.flv`);
  assert.equal(after.LocationId, 'RV02');

  await expectCode(one.call('AddCasterVideoResource', { CasterId: id, ResourceName: 'dup', LocationId: 'RV01', LiveStreamUrl: live }), 'InvalidLocationId.Duplicate');
  await expectCode(one.call('AddCasterVideoResource', { CasterId: id, ResourceName: 'bad', LocationId: 'RC01', LiveStreamUrl: live }), 'InvalidLocationId.Malformed');
  await expectCode(one.call('AddCasterVideoResource', { CasterId: id, ResourceName: 'bad', LiveStreamUrl: 'udp://x/y' }), 'InvalidLiveStreamUrl.Malformed');
  await expectCode(one.call('AddCasterVideoResource', { CasterId: id, ResourceName: 'bad', VodUrl: '/etc/passwd' }), 'InvalidVodUrl.Malformed');
  await expectCode(one.call('AddCasterVideoResource', { CasterId: id, ResourceName: 'none' }), 'MissingLiveStreamUrl');
  await expectCode(one.call('AddCasterVideoResource', { CasterId: id, ResourceName: 'two', LiveStreamUrl: live, VodUrl: 'http://a.b/c.mp4' }), 'InvalidParameter');
  await expectCode(one.call('AddCasterVideoResource', { CasterId: id, ResourceName: 'lib', MaterialId: 'abc' }), 'InvalidMaterial.NotFound');
  await expectCode(one.call('AddCasterVideoResource', { CasterId: id, LiveStreamUrl: live }), 'MissingResourceName');
  await expectCode(one.call('AddCasterVideoResource', { CasterId: id, ResourceName: 'x', VodUrl: 'http://a.b/c.mp4', RepeatNum: -2 }), 'InvalidRepeatNum.Malformed');
  await expectCode(one.call('ModifyCasterVideoResource', { CasterId: id, ResourceId: '00000000-0000-4000-8000-000000000000', ResourceName: 'x' }), 'InvalidResource.NotFound');

  await one.call('DeleteCasterVideoResource', { CasterId: id, ResourceId: r3 });
  await expectCode(one.call('DeleteCasterVideoResource', { CasterId: id, ResourceId: r3 }), 'InvalidResource.NotFound');
  assert.equal((await one.call('DescribeCasterVideoResources', { CasterId: id })).Total, 2);
  // Another account's caster does not exist for them.
  await expectCode(two.call('DescribeCasterVideoResources', { CasterId: id }), 'InvalidCaster.NotFound');
  await expectCode(two.call('AddCasterVideoResource', { CasterId: id, ResourceName: 'x', LiveStreamUrl: live }), 'InvalidCaster.NotFound');
});

test('layouts: add, describe (one or all), modify, delete; geometry and list validation', async () => {
  const id = await create();
  const l1 = (await one.call('AddCasterLayout', { CasterId: id, ...sideBySide })).LayoutId;
  const l2 = (await one.call('AddCasterLayout', {
    CasterId: id, BlendList: ['RV01'], MixList: ['RV01'],
    VideoLayer: [{ HeightNormalized: 0.3, WidthNormalized: 0.25, PositionRefer: 'BottomRight', PositionNormalized: [0.1, 0.2], FillMode: 'fit', FixedDelayDuration: 100 }],
    AudioLayer: [{ VolumeRate: 2.5, ValidChannel: 'rightChannel', FixedDelayDuration: 200 }],
  })).LayoutId;
  const all = await one.call('DescribeCasterLayouts', { CasterId: id });
  assert.equal(all.Total, 2);
  assert.deepEqual(all.Layouts.Layout.map((l) => l.LayoutId), [l1, l2]);
  const one1 = (await one.call('DescribeCasterLayouts', { CasterId: id, LayoutId: l1 })).Layouts.Layout[0];
  assert.deepEqual(one1.BlendList.LocationId, ['RV01', 'RV02']);
  assert.deepEqual(one1.MixList.LocationId, ['RV01', 'RV02']);
  assert.equal(one1.VideoLayers.VideoLayer[1].PositionRefer, 'topRight');
  assert.equal(one1.VideoLayers.VideoLayer[1].WidthNormalized, 0.5);
  assert.equal(one1.VideoLayers.VideoLayer[1].FillMode, 'none');
  assert.deepEqual(one1.VideoLayers.VideoLayer[1].PositionNormalizeds.Position, [0, 0]);
  assert.equal(one1.AudioLayers.AudioLayer[1].ValidChannel, 'leftChannel');
  assert.equal(one1.AudioLayers.AudioLayer[1].VolumeRate, 0.5);
  const two2 = (await one.call('DescribeCasterLayouts', { CasterId: id, LayoutId: l2 })).Layouts.Layout[0];
  assert.deepEqual(two2.VideoLayers.VideoLayer[0], {
    FillMode: 'fit', FixedDelayDuration: 100, HeightNormalized: 0.3, WidthNormalized: 0.25, PositionRefer: 'bottomRight',
    PositionNormalizeds: { Position: [0.1, 0.2] },
  });
  assert.deepEqual(two2.AudioLayers.AudioLayer[0], { FixedDelayDuration: 200, ValidChannel: 'rightChannel', VolumeRate: 2.5 });

  await one.call('ModifyCasterLayout', { CasterId: id, LayoutId: l2, ...sideBySide });
  const mod = (await one.call('DescribeCasterLayouts', { CasterId: id, LayoutId: l2 })).Layouts.Layout[0];
  assert.deepEqual(mod.BlendList.LocationId, ['RV01', 'RV02']);

  const bad = (over) => one.call('AddCasterLayout', { CasterId: id, ...sideBySide, ...over });
  await expectCode(bad({ BlendList: ['RV01'] }), 'InvalidBlendList.Malformed');
  await expectCode(bad({ BlendList: ['RV01', 'XX02'] }), 'InvalidBlendList.Malformed');
  await expectCode(bad({ MixList: ['RV01'] }), 'InvalidMixList.Malformed');
  await expectCode(bad({ VideoLayer: [sideBySide.VideoLayer[0], { ...sideBySide.VideoLayer[1], PositionRefer: 'middle' }] }), 'InvalidVideoLayer.Malformed');
  await expectCode(bad({ VideoLayer: [sideBySide.VideoLayer[0], { ...sideBySide.VideoLayer[1], HeightNormalized: 1.5 }] }), 'InvalidVideoLayer.Malformed');
  await expectCode(bad({ VideoLayer: [sideBySide.VideoLayer[0], { ...sideBySide.VideoLayer[1], FillMode: 'stretch' }] }), 'InvalidVideoLayer.Malformed');
  await expectCode(bad({ VideoLayer: [sideBySide.VideoLayer[0], { HeightNormalized: 0.5, FillMode: 'fit' }] }), 'InvalidVideoLayer.Malformed');
  await expectCode(bad({ VideoLayer: [sideBySide.VideoLayer[0], { ...sideBySide.VideoLayer[1], PositionNormalized: [0.1, 'x'] }] }), 'InvalidVideoLayer.Malformed');
  await expectCode(bad({ AudioLayer: [{ VolumeRate: 11 }, { VolumeRate: 1 }] }), 'InvalidAudioLayer.Malformed');
  await expectCode(bad({ AudioLayer: [{ ValidChannel: 'middle' }, { VolumeRate: 1 }] }), 'InvalidAudioLayer.Malformed');
  await expectCode(one.call('AddCasterLayout', { CasterId: id, MixList: ['RV01'], AudioLayer: [{ VolumeRate: 1 }], VideoLayer: [{}] }), 'MissingBlendList');
  await expectCode(one.call('ModifyCasterLayout', { CasterId: id, LayoutId: '00000000-0000-4000-8000-000000000000', ...sideBySide }), 'InvalidLayout.NotFound');
  await expectCode(one.call('DescribeCasterLayouts', { CasterId: id, LayoutId: '00000000-0000-4000-8000-000000000000' }), 'InvalidLayout.NotFound');

  const del = await one.call('DeleteCasterLayout', { CasterId: id, LayoutId: l1 });
  assert.equal(del.LayoutId, l1);
  assert.equal(del.CasterId, id);
  await expectCode(one.call('DeleteCasterLayout', { CasterId: id, LayoutId: l1 }), 'InvalidLayout.NotFound');
  await expectCode(two.call('DescribeCasterLayouts', { CasterId: id }), 'InvalidCaster.NotFound');
});

test('signature v3 SDK: nested list parameters arrive intact', async () => {
  const id = await create(v3);
  const l = await v3.call('AddCasterLayout', {
    CasterId: id, BlendList: ['RV01'], MixList: ['RV01'],
    VideoLayer: [{ HeightNormalized: 0.5, WidthNormalized: 0.5, PositionRefer: 'center', PositionNormalized: [-0.1, 0.1] }],
    AudioLayer: [{ VolumeRate: 0.8, ValidChannel: 'all' }],
  });
  const d = await v3.call('DescribeCasterLayouts', { CasterId: id, LayoutId: l.LayoutId });
  const vl = d.Layouts.Layout[0].VideoLayers.VideoLayer[0];
  assert.equal(vl.PositionRefer, 'center');
  assert.deepEqual(vl.PositionNormalizeds.Position, [-0.1, 0.1]);
  assert.equal(d.Layouts.Layout[0].AudioLayers.AudioLayer[0].VolumeRate, 0.8);
});

let running; // { id, pvw, pgm, layout }

test('scenes: StartCaster creates PVW and PGM; Start/StopCasterScene, scene configs, audio, take; errors', async () => {
  const id = await create(one, { CasterName: 'live one' });
  await one.call('SetCasterConfig', { CasterId: id, CasterName: 'live one', DomainName: DOMAIN });
  await one.call('AddCasterVideoResource', { CasterId: id, ResourceName: 'a', LocationId: 'RV01', LiveStreamUrl: `${srv.rtmp}/live/none1` });
  const layout = (await one.call('AddCasterLayout', { CasterId: id, ...sideBySide })).LayoutId;
  const s = await one.call('StartCaster', { CasterId: id });
  const pvw = s.PvwSceneInfos.SceneInfo[0], pgm = s.PgmSceneInfos.SceneInfo[0];
  assert.equal(s.PvwSceneInfos.SceneInfo.length, 1);
  assert.equal(s.PgmSceneInfos.SceneInfo.length, 1);
  assert.match(pvw.StreamUrl, new RegExp(`^http://127\\.0\\.0\\.1:${srv.httpPort}/caster/[0-9a-f]{32}\\.flv\\?vhost=${DOMAIN}$`));
  const infos = pgm.StreamInfos.StreamInfo;
  assert.deepEqual(infos.map((i) => i.VideoFormat), ['flv', 'rtmp', 'm3u8']);
  assert.ok(infos.every((i) => i.TranscodeConfig === 'lld'));
  assert.match(infos[1].OutputStreamUrl, new RegExp(`^rtmp://127\\.0\\.0\\.1:${srv.rtmpPort}/caster/[0-9a-f]{32}\\?vhost=${DOMAIN}$`));
  await expectCode(one.call('StartCaster', { CasterId: id }), 'IncorrectCasterStatus');
  await expectCode(one.call('DeleteCaster', { CasterId: id }), 'IncorrectCasterStatus');

  const scenes = await one.call('DescribeCasterScenes', { CasterId: id });
  assert.equal(scenes.Total, 2);
  const [sPvw, sPgm] = scenes.SceneList.Scene;
  assert.equal(sPvw.SceneId, pvw.SceneId);
  assert.equal(sPvw.OutputType, '0');
  assert.equal(sPvw.SceneName, 'PVW');
  assert.equal(sPvw.Status, 1);
  assert.equal(sPvw.LayoutId, '');
  assert.deepEqual(sPvw.ComponentIds.componentId, []);
  assert.deepEqual(sPvw.StreamInfos.StreamInfo, []);
  assert.equal(sPgm.OutputType, '1');
  assert.equal(sPgm.Status, 1);
  assert.equal(sPgm.StreamInfos.StreamInfo.length, 3);
  const urls = await one.call('DescribeCasterStreamUrl', { CasterId: id });
  assert.equal(urls.Total, 2);
  assert.deepEqual(urls.CasterStreams.CasterStream.map((c) => c.OutputType), [0, 1]);
  assert.equal(urls.CasterStreams.CasterStream[1].StreamUrl, pgm.StreamUrl);

  // Start/StopCasterScene: PVW only.
  await expectCode(one.call('StartCasterScene', { CasterId: id, SceneId: pgm.SceneId }), 'IllegalOperation');
  await expectCode(one.call('StopCasterScene', { CasterId: id, SceneId: pgm.SceneId }), 'IllegalOperation');
  await expectCode(one.call('StartCasterScene', { CasterId: id, SceneId: '00000000-0000-4000-8000-000000000000' }), 'InvalidScene.NotFound');
  await expectCode(one.call('StartCasterScene', { CasterId: id, SceneId: 'bad scene' }), 'InvalidSceneId.Malformed');
  // Already running: StartCasterScene answers its URL again.
  assert.equal((await one.call('StartCasterScene', { CasterId: id, SceneId: pvw.SceneId })).StreamUrl, pvw.StreamUrl);
  await one.call('StopCasterScene', { CasterId: id, SceneId: pvw.SceneId });
  assert.equal((await one.call('DescribeCasterScenes', { CasterId: id, SceneId: pvw.SceneId })).SceneList.Scene[0].Status, 0);
  await expectCode(one.call('StopCasterScene', { CasterId: id, SceneId: pvw.SceneId }), 'IncorrectSceneStatus.Idle');
  // While PVW is stopped its name is free in the hub, but AppName caster is the studio's:
  // a client cannot publish there (one log line), so the scene can start again.
  const pvwStream = /\/caster\/([0-9a-f]{32})\.flv/.exec(pvw.StreamUrl)[1];
  for (const name of [pvwStream, 'anything']) {
    const squat = publish(`${srv.rtmp}/caster/${name}?vhost=${DOMAIN}`, { seconds: 3 });
    const done = await squat.done;
    assert.notEqual(done.code, 0, `a client published into caster/${name}`);
    await srv.waitLog(new RegExp(`publish caster/${name} refused: the name is reserved`));
  }
  const again = await one.call('StartCasterScene', { CasterId: id, SceneId: pvw.SceneId });
  assert.equal(again.StreamUrl, pvw.StreamUrl);
  assert.equal((await probe(again.StreamUrl)).streams.length, 2);

  // Scene configs.
  await one.call('SetCasterSceneConfig', { CasterId: id, SceneId: pvw.SceneId, LayoutId: layout });
  assert.equal((await one.call('DescribeCasterScenes', { CasterId: id, SceneId: pvw.SceneId })).SceneList.Scene[0].LayoutId, layout);
  await expectCode(one.call('SetCasterSceneConfig', { CasterId: id, SceneId: pvw.SceneId, LayoutId: '00000000-0000-4000-8000-000000000000' }), 'InvalidLayout.NotFound');
  await expectCode(one.call('SetCasterSceneConfig', { CasterId: id, SceneId: pvw.SceneId, LayoutId: layout, ComponentId: ['c1'] }), 'InvalidComponent.NotFound');
  await expectCode(one.call('UpdateCasterSceneConfig', { CasterId: id, SceneId: pvw.SceneId }), 'MissingLayoutId');
  await one.call('UpdateCasterSceneConfig', { CasterId: id, SceneId: pvw.SceneId, LayoutId: layout });
  await expectCode(one.call('DeleteCasterLayout', { CasterId: id, LayoutId: layout }), 'IncorrectLayoutStatus.Inuse');
  await expectCode(one.call('DeleteCasterSceneConfig', { CasterId: id, SceneId: pvw.SceneId, Type: 'Everything' }), 'InvalidType.Malformed');
  await one.call('DeleteCasterSceneConfig', { CasterId: id, SceneId: pvw.SceneId, Type: 'Component' });
  assert.equal((await one.call('DescribeCasterScenes', { CasterId: id, SceneId: pvw.SceneId })).SceneList.Scene[0].LayoutId, layout);
  await one.call('DeleteCasterSceneConfig', { CasterId: id, SceneId: pvw.SceneId, Type: 'All' });
  assert.equal((await one.call('DescribeCasterScenes', { CasterId: id, SceneId: pvw.SceneId })).SceneList.Scene[0].LayoutId, '');
  await one.call('SetCasterSceneConfig', { CasterId: id, SceneId: pvw.SceneId, LayoutId: layout });

  // Audio.
  let a = await one.call('DescribeCasterSceneAudio', { CasterId: id, SceneId: pgm.SceneId });
  assert.equal(a.FollowEnable, 1);
  assert.deepEqual(a.MixList.LocationId, []);
  await one.call('UpdateCasterSceneAudio', { CasterId: id, SceneId: pvw.SceneId, FollowEnable: 0, MixList: ['RV01', 'RV02'], AudioLayer: [{ VolumeRate: 0.3, ValidChannel: 'leftChannel', Filter: '{"enableAgc":1}' }, { VolumeRate: 1.2 }] });
  a = await one.call('DescribeCasterSceneAudio', { CasterId: id, SceneId: pvw.SceneId });
  assert.equal(a.CasterId, id);
  assert.equal(a.FollowEnable, 0);
  assert.deepEqual(a.MixList.LocationId, ['RV01', 'RV02']);
  assert.deepEqual(a.AudioLayers.AudioLayer, [
    { FixedDelayDuration: 0, ValidChannel: 'leftChannel', VolumeRate: 0.3 },
    { FixedDelayDuration: 0, ValidChannel: 'all', VolumeRate: 1.2 },
  ]);
  // FollowEnable omitted: kept.
  await one.call('UpdateCasterSceneAudio', { CasterId: id, SceneId: pvw.SceneId, MixList: ['RV02'] });
  a = await one.call('DescribeCasterSceneAudio', { CasterId: id, SceneId: pvw.SceneId });
  assert.equal(a.FollowEnable, 0);
  assert.deepEqual(a.MixList.LocationId, ['RV02']);
  await expectCode(one.call('UpdateCasterSceneAudio', { CasterId: id, SceneId: pvw.SceneId, FollowEnable: 2 }), 'InvalidFollowEnable.Malformed');
  await expectCode(one.call('UpdateCasterSceneAudio', { CasterId: id, SceneId: pvw.SceneId, MixList: ['RV01'], AudioLayer: [{ VolumeRate: 1 }, { VolumeRate: 1 }] }), 'InvalidMixList.Malformed');

  // The take copies layout and audio from PVW to PGM, and only that way.
  await expectCode(one.call('CopyCasterSceneConfig', { CasterId: id, FromSceneId: pgm.SceneId, ToSceneId: pvw.SceneId }), 'IllegalOperation');
  await expectCode(one.call('CopyCasterSceneConfig', { CasterId: id, FromSceneId: pvw.SceneId, ToSceneId: '00000000-0000-4000-8000-000000000000' }), 'InvalidScene.NotFound');
  await one.call('CopyCasterSceneConfig', { CasterId: id, FromSceneId: pvw.SceneId, ToSceneId: pgm.SceneId });
  assert.equal((await one.call('DescribeCasterScenes', { CasterId: id, SceneId: pgm.SceneId })).SceneList.Scene[0].LayoutId, layout);
  a = await one.call('DescribeCasterSceneAudio', { CasterId: id, SceneId: pgm.SceneId });
  assert.equal(a.FollowEnable, 0);
  assert.deepEqual(a.MixList.LocationId, ['RV02']);

  // Every URL plays as-is.
  for (const i of infos) {
    const p = await probe(i.OutputStreamUrl);
    assert.ok(p.streams.some((x) => x.codec_type === 'video' && x.width === 640 && x.height === 360), i.OutputStreamUrl);
  }

  // Tenancy.
  await expectCode(two.call('StopCaster', { CasterId: id }), 'InvalidCaster.NotFound');
  await expectCode(two.call('DescribeCasterScenes', { CasterId: id }), 'InvalidCaster.NotFound');
  await expectCode(two.call('CopyCasterSceneConfig', { CasterId: id, FromSceneId: pvw.SceneId, ToSceneId: pgm.SceneId }), 'InvalidCaster.NotFound');

  // Channels are enabled on an idle caster only.
  await expectCode(one.call('SetCasterConfig', { CasterId: id, CasterName: 'live one', DomainName: DOMAIN, ChannelEnable: 1 }), 'IncorrectCasterStatus');
  // SetCasterConfig changes apply at RestartCaster (here a smaller canvas), which keeps
  // the scenes, their ids and URLs.
  await one.call('SetCasterConfig', { CasterId: id, CasterName: 'live one', DomainName: DOMAIN, TranscodeConfig: JSON.stringify({ customParams: { video: { width: 320, height: 240 } } }) });
  const width = async (u) => (await probe(u)).streams.find((x) => x.codec_type === 'video').width;
  assert.equal(await width(pgm.StreamUrl), 640);
  await one.call('RestartCaster', { CasterId: id });
  assert.equal(await width(pgm.StreamUrl), 320);
  const r = await one.call('DescribeCasterScenes', { CasterId: id });
  assert.deepEqual(r.SceneList.Scene.map((x) => [x.SceneId, x.Status, x.StreamUrl]), [[pvw.SceneId, 1, pvw.StreamUrl], [pgm.SceneId, 1, pgm.StreamUrl]]);
  running = { id, pvw, pgm, layout };
});

test('CopyCaster copies config, resources and layouts; DeleteCaster only when idle', async () => {
  const src = running.id;
  const copy = (await one.call('CopyCaster', { SrcCasterId: src, CasterName: 'the copy', ClientToken: 'copy-1' })).CasterId;
  assert.notEqual(copy, src);
  assert.equal((await one.call('CopyCaster', { SrcCasterId: src, CasterName: 'again', ClientToken: 'copy-1' })).CasterId, copy);
  const c = await one.call('DescribeCasterConfig', { CasterId: copy });
  assert.equal(c.CasterName, 'the copy');
  assert.equal(c.DomainName, DOMAIN);
  const res = await one.call('DescribeCasterVideoResources', { CasterId: copy });
  assert.deepEqual(res.VideoResources.VideoResource.map((x) => x.LocationId), ['RV01']);
  const lay = await one.call('DescribeCasterLayouts', { CasterId: copy });
  assert.equal(lay.Total, 1);
  assert.notEqual(lay.Layouts.Layout[0].LayoutId, running.layout);
  assert.equal((await one.call('DescribeCasters', { CasterId: copy })).CasterList.Caster[0].Status, 0);
  await expectCode(one.call('CopyCaster', { SrcCasterId: '00000000-0000-4000-8000-000000000000', CasterName: 'x', ClientToken: 'copy-2' }), 'InvalidCaster.NotFound');
  await expectCode(two.call('CopyCaster', { SrcCasterId: src, CasterName: 'x', ClientToken: 'copy-3' }), 'InvalidCaster.NotFound');
  await expectCode(one.call('CopyCaster', { SrcCasterId: src, ClientToken: 'copy-4' }), 'MissingCasterName');

  assert.equal((await one.call('DeleteCaster', { CasterId: copy })).CasterId, copy);
  await expectCode(one.call('DescribeCasterConfig', { CasterId: copy }), 'InvalidCaster.NotFound');
  await expectCode(one.call('DeleteCaster', { CasterId: copy }), 'InvalidCaster.NotFound');
});

test('URL auth type A: output URLs are signed and play; a local input needs a valid auth_key', async () => {
  const D = 'auth.caster.test';
  await one.call('AddLiveDomain', { DomainName: D, LiveDomainType: 'liveVideo', Region: 'cn-shanghai' });
  await one.call('BatchSetLiveDomainConfigs', {
    DomainNames: D,
    Functions: JSON.stringify([{ functionName: 'aliauth', functionArgs: [{ argName: 'auth_type', argValue: 'type_a' }, { argName: 'auth_key1', argValue: 'casterKey123' }, { argName: 'ali_auth_delta', argValue: 1800 }] }]),
  });
  const id = await create();
  await one.call('SetCasterConfig', { CasterId: id, DomainName: D });
  const s = await one.call('StartCaster', { CasterId: id });
  try {
    const pgm = s.PgmSceneInfos.SceneInfo[0];
    for (const i of pgm.StreamInfos.StreamInfo) {
      assert.match(i.OutputStreamUrl, /[?&]auth_key=\d+-0-0-[0-9a-f]{32}$/);
      const p = await probe(i.OutputStreamUrl);
      assert.ok(p.streams.some((x) => x.codec_type === 'video'), i.OutputStreamUrl);
    }
    await assert.rejects(probe(pgm.StreamUrl.replace(/&auth_key=.*/, ''), { timeoutMs: 15000 }));
    // Another tenant cannot read this domain's streams in-process without the key...
    const theirs = await create(two);
    await expectCode(two.call('AddCasterVideoResource', { CasterId: theirs, ResourceName: 'steal', LiveStreamUrl: `${srv.rtmp}/live/x?vhost=${D}` }), 'Forbidden');
    // ...and neither can the owner: local reads are checked like players.
    await expectCode(one.call('AddCasterVideoResource', { CasterId: id, ResourceName: 'nokey', LiveStreamUrl: `${srv.rtmp}/caster/abc` }), 'Forbidden');

    // Stopping the domain ends the outputs; starting it again brings them back by themselves.
    const statuses = async () => (await one.call('DescribeCasterScenes', { CasterId: id })).SceneList.Scene.map((x) => x.Status);
    const waitFor = async (want) => {
      for (let i = 0; i < 50 && JSON.stringify(await statuses()) !== JSON.stringify(want); i++) await sleep(200);
      assert.deepEqual(await statuses(), want);
    };
    await one.call('StopLiveDomain', { DomainName: D });
    await waitFor([0, 0]);
    await one.call('StartLiveDomain', { DomainName: D });
    await waitFor([1, 1]);
    const fresh = (await one.call('DescribeCasterStreamUrl', { CasterId: id })).CasterStreams.CasterStream[1];
    assert.ok((await probe(fresh.RtmpUrl)).streams.some((x) => x.codec_type === 'video'));
  } finally {
    await one.call('StopCaster', { CasterId: id });
  }
});

test('persistence: casters, resources, layouts and scenes survive a restart; a running caster runs again', async () => {
  const { id, pvw, pgm, layout } = running;
  // PVW stopped, PGM running: that state comes back too.
  await one.call('StopCasterScene', { CasterId: id, SceneId: pvw.SceneId });
  const idle = await create(one, { CasterName: 'stays idle' });
  const before = {
    casters: (await one.call('DescribeCasters', {})).CasterList.Caster.map((c) => [c.CasterId, c.Status, c.CasterName]),
    layouts: await one.call('DescribeCasterLayouts', { CasterId: id }),
    resources: await one.call('DescribeCasterVideoResources', { CasterId: id }),
    audio: await one.call('DescribeCasterSceneAudio', { CasterId: id, SceneId: pgm.SceneId }),
  };
  const secs = (d) => d.split(':').reduce((a, x) => a * 60 + Number(x), 0);
  const duration = async () => secs((await one.call('DescribeCasters', { CasterId: id })).CasterList.Caster[0].Duration);
  const ranBefore = await duration();
  const { rtmpPort, httpPort } = srv;
  await srv.stop({ keepData: true });
  // Down for 5 s: Duration counts the time the caster ran, not the server's downtime.
  await sleep(5000);
  srv = await startServer({ dataDir: dir, rtmpPort, httpPort });
  await clients();
  const ranAfter = await duration();
  assert.ok(ranAfter >= ranBefore && ranAfter - ranBefore < 4, `Duration ${ranBefore} s -> ${ranAfter} s across 5 s of downtime`);

  const casters = (await one.call('DescribeCasters', {})).CasterList.Caster.map((c) => [c.CasterId, c.Status, c.CasterName]);
  assert.deepEqual(casters, before.casters);
  assert.ok(casters.some(([cid, st]) => cid === id && st === 1));
  assert.ok(casters.some(([cid, st]) => cid === idle && st === 0));
  const strip = (x) => { const { RequestId, ...rest } = x; return rest; };
  assert.deepEqual(strip(await one.call('DescribeCasterLayouts', { CasterId: id })), strip(before.layouts));
  assert.deepEqual(strip(await one.call('DescribeCasterVideoResources', { CasterId: id })), strip(before.resources));
  assert.deepEqual(strip(await one.call('DescribeCasterSceneAudio', { CasterId: id, SceneId: pgm.SceneId })), strip(before.audio));
  const scenes = (await one.call('DescribeCasterScenes', { CasterId: id })).SceneList.Scene;
  assert.deepEqual(scenes.map((x) => [x.SceneId, x.Status, x.LayoutId, x.StreamUrl]), [
    [pvw.SceneId, 0, layout, pvw.StreamUrl],
    [pgm.SceneId, 1, layout, pgm.StreamUrl],
  ]);
  const p = await probe(pgm.StreamUrl);
  assert.ok(p.streams.some((x) => x.codec_type === 'video' && x.width === 320));
  await one.call('StopCaster', { CasterId: id });
  const stopped = (await one.call('DescribeCasterScenes', { CasterId: id })).SceneList.Scene;
  assert.deepEqual(stopped.map((x) => x.Status), [0, 0]);
  assert.equal((await one.call('DescribeCasters', { CasterId: id })).CasterList.Caster[0].Status, 0);
  await one.call('DeleteCaster', { CasterId: id });
});
