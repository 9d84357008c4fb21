/*
 * stream.h - API handlers for live streams: the online list (measured from
 * the hub), publish history, forbid/resume and their history, and the kick
 * that stopping or deleting a domain uses.
 */
#ifndef OA_API_STREAM_H
#define OA_API_STREAM_H

#include "api/api.h"

int api_describe_live_streams_online_list(struct api_req *r);
int api_describe_live_streams_publish_list(struct api_req *r);
int api_forbid_live_stream(struct api_req *r);
int api_resume_live_stream(struct api_req *r);
int api_describe_live_streams_block_list(struct api_req *r);
int api_describe_live_streams_control_history(struct api_req *r);

/*
 * Disconnects, at once, every publisher whose stream is keyed by domain or
 * who published through domain (an ingest domain). Returns how many.
 */
size_t api_streams_kick_domain(const char *domain, const char *why);

#endif
