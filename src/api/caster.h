/*
 * caster.h - API handlers for the production studio (casters, video
 * resources, layouts, scenes). They validate parameters, call the model
 * (studio/caster.h) and render its answers; docs/api.md "Production
 * studio" describes every choice. Loop thread, like every handler.
 */
#ifndef OA_API_CASTER_H
#define OA_API_CASTER_H

#include "api/api.h"

int api_create_caster(struct api_req *r);
int api_copy_caster(struct api_req *r);
int api_delete_caster(struct api_req *r);
int api_describe_casters(struct api_req *r);
int api_set_caster_config(struct api_req *r);
int api_describe_caster_config(struct api_req *r);
int api_start_caster(struct api_req *r);
int api_stop_caster(struct api_req *r);
int api_restart_caster(struct api_req *r);

int api_add_caster_video_resource(struct api_req *r);
int api_modify_caster_video_resource(struct api_req *r);
int api_delete_caster_video_resource(struct api_req *r);
int api_describe_caster_video_resources(struct api_req *r);

int api_add_caster_layout(struct api_req *r);
int api_modify_caster_layout(struct api_req *r);
int api_delete_caster_layout(struct api_req *r);
int api_describe_caster_layouts(struct api_req *r);

int api_describe_caster_scenes(struct api_req *r);
int api_describe_caster_stream_url(struct api_req *r);
int api_start_caster_scene(struct api_req *r);
int api_stop_caster_scene(struct api_req *r);
int api_set_caster_scene_config(struct api_req *r);
int api_update_caster_scene_config(struct api_req *r);
int api_delete_caster_scene_config(struct api_req *r);
int api_copy_caster_scene_config(struct api_req *r);
int api_update_caster_scene_audio(struct api_req *r);
int api_describe_caster_scene_audio(struct api_req *r);

#endif
