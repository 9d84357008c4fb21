/*
 * record_api.h - API handlers for recording (spec section 4): record
 * configs, RealTimeRecordCommand, the recording index and index playlists,
 * recording callbacks and their history. docs/api.md "Recording" documents
 * every choice. Handlers run on the event-loop thread; anything that
 * touches objects (index playlists, RemoveFile) runs on a worker thread.
 */
#ifndef OA_RECORD_RECORD_API_H
#define OA_RECORD_RECORD_API_H

#include "api/api.h"

int api_add_live_app_record_config(struct api_req *r);
int api_update_live_app_record_config(struct api_req *r);
int api_describe_live_record_config(struct api_req *r);
int api_delete_live_app_record_config(struct api_req *r);
int api_real_time_record_command(struct api_req *r);
int api_describe_live_stream_record_index_files(struct api_req *r);
int api_describe_live_stream_record_index_file(struct api_req *r);
int api_describe_live_stream_record_content(struct api_req *r);
int api_create_live_stream_record_index_files(struct api_req *r);
int api_delete_live_stream_record_index_files(struct api_req *r);
int api_add_live_record_notify_config(struct api_req *r);
int api_update_live_record_notify_config(struct api_req *r);
int api_describe_live_record_notify_config(struct api_req *r);
int api_delete_live_record_notify_config(struct api_req *r);
int api_describe_live_record_notify_records(struct api_req *r);

#endif
