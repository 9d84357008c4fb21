/*
 * domain.h - domains (the DomainName of the API) and their settings.
 *
 * A domain is either a play domain ("liveVideo", which also keys streams) or
 * an ingest domain ("liveEdge"), mapped to a play domain with
 * AddLiveDomainMapping. Names are case-insensitive and unique across all
 * accounts; a name starting with '.' is a wildcard for every host under it.
 * Per-domain features (URL auth "aliauth", ...) are JSON argument lists keyed
 * by function name, stored as the API received them.
 */
#ifndef OA_STORE_DOMAIN_H
#define OA_STORE_DOMAIN_H

#include "core/common.h"

#include <jansson.h>

struct domain {
    char name[256];
    int64_t account_id;
    char type[16];   /* liveVideo | liveEdge */
    char status[16]; /* online | offline | configuring */
    char region[64];
    char scope[16];
    char description[256];
    char resource_group[128];
    int64_t created, modified; /* Unix seconds */
};

/* 0, OA_ENOTFOUND or OA_EDB. Exact name, case-insensitive. */
int domain_get(const char *name, struct domain *out);
/* 0, OA_EEXIST (any account owns it) or OA_EDB. */
int domain_add(const struct domain *d);
/*
 * Deletes the domain and its mappings, configs, blocks and control history,
 * and remembers the name: domain_resolve() then refuses hosts under it rather
 * than falling back to the default domain, until the name is added again.
 */
int domain_delete(const char *name);
int domain_set_status(const char *name, const char *status);
/* Reassigns ownership (used for the default domain at startup). */
int domain_set_account(const char *name, int64_t account_id);

/* Calls fn for every domain of account_id (all accounts when < 0), by name. */
int domain_foreach(int64_t account_id, void (*fn)(const struct domain *d, void *arg), void *arg);

/* Maps an ingest domain to a play domain (replacing an earlier mapping). */
int domain_map(const char *push_domain, const char *pull_domain);
/* Removes an ingest domain's mapping (none is not an error). */
int domain_unmap(const char *push_domain);
/* The play domain an ingest domain maps to; OA_ENOTFOUND if unmapped. */
int domain_mapping_get(const char *push_domain, char pull[256]);
/* Sets *has to whether some ingest domain is mapped to this play domain; 0 or OA_EDB. */
int domain_has_ingest(const char *pull_domain, bool *has);

/*
 * Resolves the host a client used (RTMP tcUrl host, HTTP Host, or a vhost
 * parameter) to a domain: exact match, else the longest wildcard, else the
 * default domain (config `domain`) - unless the host names a deleted
 * domain. *d is the matched domain; play_domain is the domain that keys
 * streams (an ingest domain's mapped play domain). Returns 0, or
 * OA_ENOTFOUND when the host names a deleted domain or even the default
 * domain does not exist.
 */
int domain_resolve(const char *host, struct domain *d, char play_domain[256]);

/* The stored JSON args (new reference) of a function; OA_ENOTFOUND if none. */
int domain_config_get(const char *domain, const char *function, json_t **args, int64_t *config_id);
/* Stores args (borrowed) for function; assigns a config id. */
int domain_config_set(const char *domain, const char *function, json_t *args);
int domain_config_delete(const char *domain, const char *function);

#endif
