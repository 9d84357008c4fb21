/*
 * main.c - command line: settings from defaults, --config FILE and flags,
 * then either an `account` command or the server.
 */
#include "app/app.h"
#include "core/config.h"
#include "core/err.h"
#include "core/log.h"
#include "core/util.h"
#include "store/account.h"

#include <getopt.h>

static void usage(FILE *out)
{
    fprintf(out, "usage: onair [--config FILE] [--rtmp ADDR:PORT] [--http ADDR:PORT] [--data DIR]\n"
                 "             [--domain NAME] [--access-key ID:SECRET] [--set KEY=VALUE]...\n"
                 "       onair [--config FILE] [--data DIR] account create [NAME]\n"
                 "       onair [--config FILE] [--data DIR] account disable|enable ACCESS_KEY_ID\n"
                 "       onair --help-config   (every setting with its default)\n");
}

/* `account create [NAME]`, `account disable|enable ID`: the exit status. */
static int account_command(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[0], "account") != 0) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    bool create = strcmp(cmd, "create") == 0;
    bool toggle = strcmp(cmd, "disable") == 0 || strcmp(cmd, "enable") == 0;
    if ((!create && !toggle) || (create && argc > 3) || (toggle && argc != 3)) {
        usage(stderr);
        return 2;
    }
    if (app_open_state() != 0) {
        fprintf(stderr, "onair: cannot open the state in %s\n", oa_cfg.data_dir);
        return 1;
    }
    int status = 0;
    if (create) {
        char key_id[ACCOUNT_KEY_ID_MAX + 1], secret[ACCOUNT_SECRET_MAX + 1];
        int64_t id;
        if (account_create(argc > 2 ? argv[2] : "account", key_id, secret, &id) != 0) {
            fprintf(stderr, "onair: cannot create an account in %s\n", oa_cfg.data_dir);
            status = 1;
        } else {
            printf("AccessKeyId: %s\nAccessKeySecret: %s\n", key_id, secret);
        }
    } else {
        bool active = strcmp(cmd, "enable") == 0;
        int r = account_set_key_status(argv[2], active);
        if (r == OA_ENOTFOUND) {
            fprintf(stderr, "onair: no AccessKeyId %s in %s\n", argv[2], oa_cfg.data_dir);
            status = 1;
        } else if (r != 0) {
            fprintf(stderr, "onair: cannot change AccessKeyId %s in %s\n", argv[2],
                    oa_cfg.data_dir);
            status = 1;
        } else {
            printf("AccessKeyId %s: %s\n", argv[2], active ? "Active" : "Inactive");
        }
    }
    app_close_state();
    return status;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'}, {"rtmp", required_argument, NULL, 'r'},
        {"http", required_argument, NULL, 'h'},   {"data", required_argument, NULL, 'd'},
        {"domain", required_argument, NULL, 'D'}, {"access-key", required_argument, NULL, 'k'},
        {"set", required_argument, NULL, 's'},    {"help", no_argument, NULL, 'H'},
        {"help-config", no_argument, NULL, 'C'},  {NULL, 0, NULL, 0},
    };
    struct {
        const char *key;
        const char *value;
    } over[64];
    int nover = 0, c;
    const char *config = NULL;
    char err[512];

    oa_config_defaults(&oa_cfg);
    while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
        const char *key = NULL;
        switch (c) {
        case 'c':
            config = optarg;
            continue;
        case 'r':
            key = "rtmp_listen";
            break;
        case 'h':
            key = "http_listen";
            break;
        case 'd':
            key = "data_dir";
            break;
        case 'D':
            key = "domain";
            break;
        case 'k':
            key = "access_key";
            break;
        case 's': {
            char *eq = strchr(optarg, '=');
            if (!eq) {
                fprintf(stderr, "onair: --set needs KEY=VALUE\n");
                return 2;
            }
            *eq = '\0';
            key = optarg;
            optarg = eq + 1;
            break;
        }
        case 'H':
            usage(stdout);
            return 0;
        case 'C':
            oa_config_print_help(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
        if (nover == (int)OA_ARRAY_SIZE(over)) {
            fprintf(stderr, "onair: too many options\n");
            return 2;
        }
        over[nover].key = key;
        over[nover++].value = optarg;
    }
    /* The file first, then flags, so flags win. */
    if (config && oa_config_load_file(&oa_cfg, config, err, sizeof(err)) != 0) {
        fprintf(stderr, "onair: %s\n", err);
        return 2;
    }
    for (int i = 0; i < nover; i++) {
        if (oa_config_set(&oa_cfg, over[i].key, over[i].value, err, sizeof(err)) != 0) {
            fprintf(stderr, "onair: %s\n", err);
            return 2;
        }
    }
    int level = oa_log_level_parse(oa_cfg.log_level);
    if (level < 0) {
        fprintf(stderr, "onair: log_level must be error, warn, info or debug\n");
        return 2;
    }
    oa_log_level = level;

    if (optind < argc)
        return account_command(argc - optind, argv + optind);

    int r = app_start();
    if (r == 0)
        app_run();
    app_stop();
    return r == 0 ? 0 : 1;
}
