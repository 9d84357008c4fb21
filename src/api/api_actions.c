/*
 * api_actions.c - THE table of actions: name, handler, rate limit and
 * declared parameters. The dispatcher checks declared parameters before the
 * handler runs (required ones present and non-empty -> Missing<Name>; typed
 * ones well-formed -> Invalid<Name>.Malformed); parameters not declared here
 * still reach the handler, which validates their values itself.
 *
 * Rate limits are the documented per-account QPS (spec sections 3-5):
 * {limit, window_s} = {30, 1} is "QPS 30", {10000, 60} is "10,000 per
 * minute". Each resource has its own section below; add rows to the
 * section of the file that holds their handlers. The table keeps one row per
 * action, even past 100 columns (clang-format is off here), so that
 * `grep ActionName` shows the whole registration at once.
 */
#include "api/api.h"
#include "api/caster.h"
#include "api/domain.h"
#include "api/stream.h"
#include "record/record_api.h"

/* clang-format off */

/* ===== domains (api/domain.c) ===== */

static const struct api_param_spec P_AddLiveDomain[] = {
    {"DomainName", API_STR, true},
    {"LiveDomainType", API_STR, true},
    {"Region", API_STR, true},
    {"Scope", API_STR, false},
    {"CheckUrl", API_STR, false},
    {"TopLevelDomain", API_STR, false},
    {"ResourceGroupId", API_STR, false},
    {"Tag", API_LIST, false},
    {NULL},
};

static const struct api_param_spec P_DomainMapping[] = {
    {"PullDomain", API_STR, true},
    {"PushDomain", API_STR, true},
    {NULL},
};

static const struct api_param_spec P_DomainName[] = {
    {"DomainName", API_STR, true},
    {NULL},
};

static const struct api_param_spec P_DescribeLiveUserDomains[] = {
    {"DomainName", API_STR, false},
    {"DomainSearchType", API_STR, false},
    {"DomainStatus", API_STR, false},
    {"LiveDomainType", API_STR, false},
    {"RegionName", API_STR, false},
    {"ResourceGroupId", API_STR, false},
    {"PageNumber", API_INT, false},
    {"PageSize", API_INT, false},
    {"Tag", API_LIST, false},
    {NULL},
};

static const struct api_param_spec P_BatchSetLiveDomainConfigs[] = {
    {"DomainNames", API_STR, true},
    {"Functions", API_JSON, true},
    {NULL},
};

static const struct api_param_spec P_DescribeLiveDomainConfigs[] = {
    {"DomainName", API_STR, true},
    {"FunctionNames", API_STR, true},
    {NULL},
};

static const struct api_param_spec P_DeleteLiveSpecificConfig[] = {
    {"DomainName", API_STR, true},
    {"ConfigId", API_INT, true},
    {"FunctionName", API_STR, false},
    {NULL},
};

/* ===== streams (api/stream.c) ===== */

static const struct api_param_spec P_DescribeLiveStreamsOnlineList[] = {
    {"DomainName", API_STR, true},
    {"AppName", API_STR, false},
    {"StreamName", API_STR, false},
    {"QueryType", API_STR, false},
    {"StreamType", API_STR, false},
    {"OnlyStream", API_STR, false},
    {"PageNum", API_INT, false},
    {"PageSize", API_INT, false},
    {NULL},
};

static const struct api_param_spec P_DescribeLiveStreamsPublishList[] = {
    {"DomainName", API_STR, true},
    {"StartTime", API_STR, true},
    {"EndTime", API_STR, true},
    {"AppName", API_STR, false},
    {"StreamName", API_STR, false},
    {"QueryType", API_STR, false},
    {"StreamType", API_STR, false},
    {"OrderBy", API_STR, false},
    {"PageNumber", API_INT, false},
    {"PageSize", API_INT, false},
    {NULL},
};

static const struct api_param_spec P_ForbidLiveStream[] = {
    {"DomainName", API_STR, true},
    {"AppName", API_STR, true},
    {"StreamName", API_STR, true},
    {"LiveStreamType", API_STR, true},
    {"Oneshot", API_STR, false},
    {"ResumeTime", API_STR, false},
    {NULL},
};

static const struct api_param_spec P_ResumeLiveStream[] = {
    {"DomainName", API_STR, true},
    {"AppName", API_STR, true},
    {"StreamName", API_STR, true},
    {"LiveStreamType", API_STR, true},
    {NULL},
};

static const struct api_param_spec P_DescribeLiveStreamsBlockList[] = {
    {"DomainName", API_STR, true},
    {"PageNum", API_INT, false},
    {"PageSize", API_INT, false},
    {NULL},
};

static const struct api_param_spec P_DescribeLiveStreamsControlHistory[] = {
    {"DomainName", API_STR, true},
    {"StartTime", API_STR, true},
    {"EndTime", API_STR, true},
    {"AppName", API_STR, false},
    {NULL},
};

/* ===== recording parameter specs (record/record_api.c) ===== */

static const struct api_param_spec P_AddLiveAppRecordConfig[] = {
    {"DomainName", API_STR, true},
    {"AppName", API_STR, true},
    {"StreamName", API_STR, false},
    {"OssEndpoint", API_STR, true},
    {"OssBucket", API_STR, true},
    {"RecordFormat", API_LIST, false},
    {"TranscodeRecordFormat", API_LIST, false},
    {"TranscodeTemplates", API_LIST, false},
    {"OnDemand", API_INT, false},
    {"DelayTime", API_INT, false},
    {"StartTime", API_STR, false},
    {"EndTime", API_STR, false},
    {NULL},
};

static const struct api_param_spec P_UpdateLiveAppRecordConfig[] = {
    {"DomainName", API_STR, true},
    {"AppName", API_STR, true},
    {"StreamName", API_STR, false},
    {"OssEndpoint", API_STR, true},
    {"OssBucket", API_STR, false},
    {"RecordFormat", API_LIST, false},
    {"TranscodeRecordFormat", API_LIST, false},
    {"TranscodeTemplates", API_LIST, false},
    {"OnDemand", API_INT, false},
    {"DelayTime", API_INT, false},
    {"StartTime", API_STR, false},
    {"EndTime", API_STR, false},
    {NULL},
};

static const struct api_param_spec P_DescribeLiveRecordConfig[] = {
    {"DomainName", API_STR, true},
    {"AppName", API_STR, false},
    {"StreamName", API_STR, false},
    {"PageNum", API_INT, false},
    {"PageSize", API_INT, false},
    {"Order", API_STR, false},
    {NULL},
};

static const struct api_param_spec P_DeleteLiveAppRecordConfig[] = {
    {"DomainName", API_STR, true},
    {"AppName", API_STR, true},
    {"StreamName", API_STR, false},
    {NULL},
};

static const struct api_param_spec P_RealTimeRecordCommand[] = {
    {"DomainName", API_STR, true},
    {"AppName", API_STR, true},
    {"StreamName", API_STR, true},
    {"Command", API_STR, true},
    {NULL},
};

static const struct api_param_spec P_DescribeLiveStreamRecordIndexFiles[] = {
    {"DomainName", API_STR, true},
    {"AppName", API_STR, true},
    {"StreamName", API_STR, true},
    {"StartTime", API_STR, true},
    {"EndTime", API_STR, true},
    {"PageNum", API_INT, false},
    {"PageSize", API_INT, false},
    {"Order", API_STR, false},
    {NULL},
};

static const struct api_param_spec P_DescribeLiveStreamRecordIndexFile[] = {
    {"DomainName", API_STR, true},
    {"AppName", API_STR, true},
    {"StreamName", API_STR, true},
    {"RecordId", API_STR, true},
    {NULL},
};

static const struct api_param_spec P_DescribeLiveStreamRecordContent[] = {
    {"DomainName", API_STR, true},
    {"AppName", API_STR, true},
    {"StreamName", API_STR, true},
    {"StartTime", API_STR, true},
    {"EndTime", API_STR, true},
    {NULL},
};

static const struct api_param_spec P_CreateLiveStreamRecordIndexFiles[] = {
    {"DomainName", API_STR, true},
    {"AppName", API_STR, true},
    {"StreamName", API_STR, true},
    {"OssEndpoint", API_STR, true},
    {"OssBucket", API_STR, true},
    {"OssObject", API_STR, true},
    {"StartTime", API_STR, true},
    {"EndTime", API_STR, true},
    {"EndTimeIncluded", API_BOOL, false},
    {NULL},
};

static const struct api_param_spec P_DeleteLiveStreamRecordIndexFiles[] = {
    {"DomainName", API_STR, true},
    {"AppName", API_STR, true},
    {"StreamName", API_STR, true},
    {"RecordId", API_LIST, true},
    {"RemoveFile", API_BOOL, true},
    {NULL},
};

static const struct api_param_spec P_LiveRecordNotifyConfig[] = {
    {"DomainName", API_STR, true},
    {"NotifyUrl", API_STR, true},
    {"OnDemandUrl", API_STR, false},
    {"NeedStatusNotify", API_BOOL, false},
    {"NotifyReqAuth", API_BOOL, false},
    {"NotifyAuthKey", API_STR, false},
    {NULL},
};

static const struct api_param_spec P_DescribeLiveRecordNotifyRecords[] = {
    {"DomainName", API_STR, true},
    {"StartTime", API_STR, true},
    {"EndTime", API_STR, true},
    {"PageNumber", API_INT, true},
    {"PageSize", API_INT, true},
    {"AppName", API_STR, false},
    {"StreamName", API_STR, false},
    {"Status", API_STR, false},
    {"StorageType", API_STR, false},
    {NULL},
};

/* ===== studio parameter specs (api/caster.c) ===== */

static const struct api_param_spec P_CreateCaster[] = {
    {"ClientToken", API_STR, true},
    {"ChargeType", API_STR, true},
    {"NormType", API_INT, true},
    {"CasterName", API_STR, false},
    {"CasterTemplate", API_STR, false},
    {"PurchaseTime", API_STR, false},
    {"ExpireTime", API_STR, false},
    {"ResourceGroupId", API_STR, false},
    {"Tag", API_LIST, false},
    {"MicMode", API_INT, false},
    {NULL},
};

static const struct api_param_spec P_CopyCaster[] = {
    {"SrcCasterId", API_STR, true},
    {"CasterName", API_STR, true},
    {"ClientToken", API_STR, true},
    {NULL},
};

static const struct api_param_spec P_CasterId[] = {
    {"CasterId", API_STR, true},
    {NULL},
};

static const struct api_param_spec P_StartCaster[] = {
    {"CasterId", API_STR, true},
    {"PlayerType", API_INT, false},
    {NULL},
};

static const struct api_param_spec P_DescribeCasters[] = {
    {"CasterId", API_STR, false},
    {"CasterName", API_STR, false},
    {"NormType", API_INT, false},
    {"Status", API_INT, false},
    {"ChargeType", API_INT, false},
    {"StartTime", API_STR, false},
    {"EndTime", API_STR, false},
    {"PageNum", API_INT, false},
    {"PageSize", API_INT, false},
    {"OrderByModifyAsc", API_STR, false},
    {"ResourceGroupId", API_STR, false},
    {"Tag", API_LIST, false},
    {NULL},
};

static const struct api_param_spec P_SetCasterConfig[] = {
    {"CasterId", API_STR, true},
    {"CasterName", API_STR, false},
    {"DomainName", API_STR, false},
    {"TranscodeConfig", API_JSON, false},
    {"RecordConfig", API_JSON, false},
    {"SideOutputUrl", API_STR, false},
    {"SideOutputUrlList", API_STR, false},
    {"Delay", API_FLOAT, false},
    {"UrgentMaterialId", API_STR, false},
    {"UrgentLiveStreamUrl", API_STR, false},
    {"UrgentImageId", API_STR, false},
    {"UrgentImageUrl", API_STR, false},
    {"AutoSwitchUrgentOn", API_BOOL, false},
    {"AutoSwitchUrgentConfig", API_JSON, false},
    {"ProgramEffect", API_INT, false},
    {"ProgramName", API_STR, false},
    {"ChannelEnable", API_INT, false},
    {"CallbackUrl", API_STR, false},
    {"SyncGroupsConfig", API_JSON, false},
    {NULL},
};

static const struct api_param_spec P_AddCasterVideoResource[] = {
    {"CasterId", API_STR, true},
    {"ResourceName", API_STR, true},
    {"LocationId", API_STR, false},
    {"LiveStreamUrl", API_STR, false},
    {"VodUrl", API_STR, false},
    {"MaterialId", API_STR, false},
    {"ImageId", API_STR, false},
    {"ImageUrl", API_STR, false},
    {"BeginOffset", API_INT, false},
    {"EndOffset", API_INT, false},
    {"RepeatNum", API_INT, false},
    {"PtsCallbackInterval", API_INT, false},
    {"FixedDelayDuration", API_INT, false},
    {"InputType", API_INT, false},
    {"StreamId", API_STR, false},
    {"StreamMonitor", API_STR, false},
    {NULL},
};

static const struct api_param_spec P_ModifyCasterVideoResource[] = {
    {"CasterId", API_STR, true},
    {"ResourceId", API_STR, true},
    {"ResourceName", API_STR, false},
    {"LiveStreamUrl", API_STR, false},
    {"VodUrl", API_STR, false},
    {"MaterialId", API_STR, false},
    {"ImageId", API_STR, false},
    {"ImageUrl", API_STR, false},
    {"BeginOffset", API_INT, false},
    {"EndOffset", API_INT, false},
    {"RepeatNum", API_INT, false},
    {"PtsCallbackInterval", API_INT, false},
    {"FixedDelayDuration", API_INT, false},
    {"InputType", API_INT, false},
    {NULL},
};

static const struct api_param_spec P_CasterResource[] = {
    {"CasterId", API_STR, true},
    {"ResourceId", API_STR, true},
    {NULL},
};

static const struct api_param_spec P_AddCasterLayout[] = {
    {"CasterId", API_STR, true},
    {"BlendList", API_LIST, true},
    {"MixList", API_LIST, true},
    {"VideoLayer", API_LIST, true},
    {"AudioLayer", API_LIST, true},
    {NULL},
};

static const struct api_param_spec P_ModifyCasterLayout[] = {
    {"CasterId", API_STR, true},
    {"LayoutId", API_STR, true},
    {"BlendList", API_LIST, true},
    {"MixList", API_LIST, true},
    {"VideoLayer", API_LIST, true},
    {"AudioLayer", API_LIST, true},
    {NULL},
};

static const struct api_param_spec P_CasterLayout[] = {
    {"CasterId", API_STR, true},
    {"LayoutId", API_STR, true},
    {NULL},
};

static const struct api_param_spec P_DescribeCasterLayouts[] = {
    {"CasterId", API_STR, true},
    {"LayoutId", API_STR, false},
    {NULL},
};

static const struct api_param_spec P_DescribeCasterScenes[] = {
    {"CasterId", API_STR, true},
    {"SceneId", API_STR, false},
    {NULL},
};

static const struct api_param_spec P_CasterScene[] = {
    {"CasterId", API_STR, true},
    {"SceneId", API_STR, true},
    {NULL},
};

static const struct api_param_spec P_SetCasterSceneConfig[] = {
    {"CasterId", API_STR, true},
    {"SceneId", API_STR, true},
    {"LayoutId", API_STR, false},
    {"ComponentId", API_LIST, false},
    {NULL},
};

static const struct api_param_spec P_UpdateCasterSceneConfig[] = {
    {"CasterId", API_STR, true},
    {"SceneId", API_STR, true},
    {"LayoutId", API_STR, true},
    {"ComponentId", API_LIST, false},
    {NULL},
};

static const struct api_param_spec P_DeleteCasterSceneConfig[] = {
    {"CasterId", API_STR, true},
    {"SceneId", API_STR, true},
    {"Type", API_STR, true},
    {NULL},
};

static const struct api_param_spec P_CopyCasterSceneConfig[] = {
    {"CasterId", API_STR, true},
    {"FromSceneId", API_STR, true},
    {"ToSceneId", API_STR, true},
    {NULL},
};

static const struct api_param_spec P_UpdateCasterSceneAudio[] = {
    {"CasterId", API_STR, true},
    {"SceneId", API_STR, true},
    {"FollowEnable", API_INT, false},
    {"MixList", API_LIST, false},
    {"AudioLayer", API_LIST, false},
    {NULL},
};

const struct api_action api_actions[] = {
    /* ===== domains (api/domain.c) ===== */
    {"AddLiveDomain", api_add_live_domain, 30, 1, P_AddLiveDomain},
    {"AddLiveDomainMapping", api_add_live_domain_mapping, 30, 1, P_DomainMapping},
    {"DeleteLiveDomainMapping", api_delete_live_domain_mapping, 30, 1, P_DomainMapping},
    {"DeleteLiveDomain", api_delete_live_domain, 30, 1, P_DomainName},
    {"StartLiveDomain", api_start_live_domain, 30, 1, P_DomainName},
    {"StopLiveDomain", api_stop_live_domain, 30, 1, P_DomainName},
    {"DescribeLiveDomainDetail", api_describe_live_domain_detail, 50, 1, P_DomainName},
    {"DescribeLiveUserDomains", api_describe_live_user_domains, 100, 1, P_DescribeLiveUserDomains},
    {"BatchSetLiveDomainConfigs", api_batch_set_live_domain_configs, 30, 1, P_BatchSetLiveDomainConfigs},
    {"DescribeLiveDomainConfigs", api_describe_live_domain_configs, 100, 1, P_DescribeLiveDomainConfigs},
    {"DeleteLiveSpecificConfig", api_delete_live_specific_config, 30, 1, P_DeleteLiveSpecificConfig},

    /* ===== streams (api/stream.c) ===== */
    {"DescribeLiveStreamsOnlineList", api_describe_live_streams_online_list, 10000, 60, P_DescribeLiveStreamsOnlineList},
    {"DescribeLiveStreamsPublishList", api_describe_live_streams_publish_list, 3, 1, P_DescribeLiveStreamsPublishList},
    {"ForbidLiveStream", api_forbid_live_stream, 20, 1, P_ForbidLiveStream},
    {"ResumeLiveStream", api_resume_live_stream, 30, 1, P_ResumeLiveStream},
    {"DescribeLiveStreamsBlockList", api_describe_live_streams_block_list, 50, 1, P_DescribeLiveStreamsBlockList},
    {"DescribeLiveStreamsControlHistory", api_describe_live_streams_control_history, 50, 1, P_DescribeLiveStreamsControlHistory},

    /* ===== recording (record/record_api.c) ===== */
    {"AddLiveAppRecordConfig", api_add_live_app_record_config, 30, 1, P_AddLiveAppRecordConfig},
    {"UpdateLiveAppRecordConfig", api_update_live_app_record_config, 30, 1, P_UpdateLiveAppRecordConfig},
    {"DescribeLiveRecordConfig", api_describe_live_record_config, 100, 1, P_DescribeLiveRecordConfig},
    {"DeleteLiveAppRecordConfig", api_delete_live_app_record_config, 50, 1, P_DeleteLiveAppRecordConfig},
    {"RealTimeRecordCommand", api_real_time_record_command, 50, 1, P_RealTimeRecordCommand},
    {"DescribeLiveStreamRecordIndexFiles", api_describe_live_stream_record_index_files, 15, 1, P_DescribeLiveStreamRecordIndexFiles},
    {"DescribeLiveStreamRecordIndexFile", api_describe_live_stream_record_index_file, 100, 1, P_DescribeLiveStreamRecordIndexFile},
    {"DescribeLiveStreamRecordContent", api_describe_live_stream_record_content, 50, 1, P_DescribeLiveStreamRecordContent},
    {"CreateLiveStreamRecordIndexFiles", api_create_live_stream_record_index_files, 45, 1, P_CreateLiveStreamRecordIndexFiles},
    {"DeleteLiveStreamRecordIndexFiles", api_delete_live_stream_record_index_files, 100, 1, P_DeleteLiveStreamRecordIndexFiles},
    {"AddLiveRecordNotifyConfig", api_add_live_record_notify_config, 30, 1, P_LiveRecordNotifyConfig},
    {"UpdateLiveRecordNotifyConfig", api_update_live_record_notify_config, 30, 1, P_LiveRecordNotifyConfig},
    {"DescribeLiveRecordNotifyConfig", api_describe_live_record_notify_config, 50, 1, P_DomainName},
    {"DeleteLiveRecordNotifyConfig", api_delete_live_record_notify_config, 30, 1, P_DomainName},
    {"DescribeLiveRecordNotifyRecords", api_describe_live_record_notify_records, 100, 1, P_DescribeLiveRecordNotifyRecords},

    /* ===== studio (api/caster.c) ===== */
    {"CreateCaster", api_create_caster, 10, 1, P_CreateCaster},
    {"CopyCaster", api_copy_caster, 10, 1, P_CopyCaster},
    {"DeleteCaster", api_delete_caster, 10, 1, P_CasterId},
    {"DescribeCasters", api_describe_casters, 15, 1, P_DescribeCasters},
    {"SetCasterConfig", api_set_caster_config, 10, 1, P_SetCasterConfig},
    {"DescribeCasterConfig", api_describe_caster_config, 15, 1, P_CasterId},
    {"StartCaster", api_start_caster, 10, 1, P_StartCaster},
    {"StopCaster", api_stop_caster, 10, 1, P_CasterId},
    {"RestartCaster", api_restart_caster, 10, 1, P_CasterId},
    {"AddCasterVideoResource", api_add_caster_video_resource, 10, 1, P_AddCasterVideoResource},
    {"ModifyCasterVideoResource", api_modify_caster_video_resource, 10, 1, P_ModifyCasterVideoResource},
    {"DeleteCasterVideoResource", api_delete_caster_video_resource, 10, 1, P_CasterResource},
    {"DescribeCasterVideoResources", api_describe_caster_video_resources, 15, 1, P_CasterId},
    {"AddCasterLayout", api_add_caster_layout, 10, 1, P_AddCasterLayout},
    {"ModifyCasterLayout", api_modify_caster_layout, 10, 1, P_ModifyCasterLayout},
    {"DeleteCasterLayout", api_delete_caster_layout, 10, 1, P_CasterLayout},
    {"DescribeCasterLayouts", api_describe_caster_layouts, 15, 1, P_DescribeCasterLayouts},
    {"DescribeCasterScenes", api_describe_caster_scenes, 15, 1, P_DescribeCasterScenes},
    {"DescribeCasterStreamUrl", api_describe_caster_stream_url, 15, 1, P_CasterId},
    {"StartCasterScene", api_start_caster_scene, 10, 1, P_CasterScene},
    {"StopCasterScene", api_stop_caster_scene, 10, 1, P_CasterScene},
    {"SetCasterSceneConfig", api_set_caster_scene_config, 10, 1, P_SetCasterSceneConfig},
    {"UpdateCasterSceneConfig", api_update_caster_scene_config, 10, 1, P_UpdateCasterSceneConfig},
    {"DeleteCasterSceneConfig", api_delete_caster_scene_config, 10, 1, P_DeleteCasterSceneConfig},
    {"CopyCasterSceneConfig", api_copy_caster_scene_config, 10, 1, P_CopyCasterSceneConfig},
    {"UpdateCasterSceneAudio", api_update_caster_scene_audio, 10, 1, P_UpdateCasterSceneAudio},
    {"DescribeCasterSceneAudio", api_describe_caster_scene_audio, 15, 1, P_CasterScene},
};

/* clang-format on */

const size_t api_action_count = OA_ARRAY_SIZE(api_actions);
