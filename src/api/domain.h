/*
 * domain.h - API handlers for domains and their configs (AddLiveDomain,
 * DescribeLiveUserDomains, BatchSetLiveDomainConfigs, ...), and the
 * ownership helpers every handler that takes a DomainName uses.
 */
#ifndef OA_API_DOMAIN_H
#define OA_API_DOMAIN_H

#include "api/api.h"
#include "store/domain.h"

/*
 * Loads the domain called `name` if the caller owns it. Returns 0, or -1
 * with InvalidDomain.NotFound (404) recorded when it does not exist or
 * belongs to another account - the two are indistinguishable by design -
 * or InternalError on a store failure.
 */
int api_domain_owned(struct api_req *r, const char *name, struct domain *d);

/*
 * The domain that keys d's streams: the play domain an ingest domain is
 * mapped to, else d itself (as domain_resolve() decides for publishes).
 */
void api_domain_stream_key(const struct domain *d, char out[256]);

int api_add_live_domain(struct api_req *r);
int api_add_live_domain_mapping(struct api_req *r);
int api_delete_live_domain_mapping(struct api_req *r);
int api_delete_live_domain(struct api_req *r);
int api_start_live_domain(struct api_req *r);
int api_stop_live_domain(struct api_req *r);
int api_describe_live_domain_detail(struct api_req *r);
int api_describe_live_user_domains(struct api_req *r);
int api_batch_set_live_domain_configs(struct api_req *r);
int api_describe_live_domain_configs(struct api_req *r);
int api_delete_live_specific_config(struct api_req *r);

#endif
