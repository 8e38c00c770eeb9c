/* Guest user/group resolution from /etc/passwd and /etc/group (static
 * binaries cannot use NSS), plus rlimit resource names. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "agent.h"

static int parse_id(const char *s, unsigned long *out)
{
    if (!*s)
        return -1;
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (*end || errno || v > 0xfffffffful)
        return -1;
    *out = v;
    return 0;
}

/* Splits a colon-separated line in place into at most max fields. */
static int split_colon(char *line, char **fields, int max)
{
    int n = 0;
    fields[n++] = line;
    for (char *c = line; *c && n < max; c++)
        if (*c == ':') {
            *c = 0;
            fields[n++] = c + 1;
        }
    return n;
}

/* Looks up a passwd entry by name (name != NULL) or uid. */
static int passwd_lookup(const char *name, uid_t uid, resolved_user_t *out)
{
    FILE *f = fopen("/etc/passwd", "r");
    if (!f)
        return 0;
    char line[1024];
    int found = 0;
    while (fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\r\n")] = 0;
        char *fl[7];
        if (split_colon(line, fl, 7) < 7)
            continue;
        unsigned long u, g;
        if (parse_id(fl[2], &u) < 0 || parse_id(fl[3], &g) < 0)
            continue;
        if (name ? strcmp(fl[0], name) == 0 : (uid_t)u == uid) {
            out->uid = (uid_t)u;
            out->gid = (gid_t)g;
            out->known = 1;
            snprintf(out->name, sizeof(out->name), "%s", fl[0]);
            snprintf(out->home, sizeof(out->home), "%s", fl[5]);
            found = 1;
            break;
        }
    }
    fclose(f);
    return found;
}

static int group_lookup(const char *name, gid_t *gid)
{
    FILE *f = fopen("/etc/group", "r");
    if (!f)
        return 0;
    char line[4096];
    int found = 0;
    while (fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\r\n")] = 0;
        char *fl[4];
        if (split_colon(line, fl, 4) < 3)
            continue;
        unsigned long g;
        if (strcmp(fl[0], name) == 0 && parse_id(fl[2], &g) == 0) {
            *gid = (gid_t)g;
            found = 1;
            break;
        }
    }
    fclose(f);
    return found;
}

/* Supplementary groups: every group listing the user as a member, plus gid. */
static void collect_groups(resolved_user_t *u)
{
    u->ngroups = 0;
    u->groups[u->ngroups++] = u->gid;
    if (!u->known)
        return;
    FILE *f = fopen("/etc/group", "r");
    if (!f)
        return;
    char line[4096];
    while (fgets(line, sizeof(line), f) && u->ngroups < 64) {
        line[strcspn(line, "\r\n")] = 0;
        char *fl[4];
        if (split_colon(line, fl, 4) < 4)
            continue;
        unsigned long g;
        if (parse_id(fl[2], &g) < 0 || (gid_t)g == u->gid)
            continue;
        char *save = NULL;
        for (char *m = strtok_r(fl[3], ",", &save); m; m = strtok_r(NULL, ",", &save))
            if (strcmp(m, u->name) == 0) {
                u->groups[u->ngroups++] = (gid_t)g;
                break;
            }
    }
    fclose(f);
}

static void trim(char *s)
{
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = 0;
    size_t i = 0;
    while (s[i] == ' ' || s[i] == '\t')
        i++;
    if (i)
        memmove(s, s + i, n - i + 1);
}

int resolve_user(const char *spec, resolved_user_t *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", spec);
    char *group = strchr(buf, ':');
    if (group)
        *group++ = 0;
    trim(buf);
    if (group)
        trim(group);
    if (!buf[0]) {
        snprintf(err, errlen, "user spec has empty user");
        return -1;
    }
    unsigned long id;
    if (parse_id(buf, &id) == 0) {
        if (!passwd_lookup(NULL, (uid_t)id, out)) {
            out->uid = (uid_t)id;
            out->gid = getgid();
            out->known = 0;
        }
    } else if (!passwd_lookup(buf, 0, out)) {
        snprintf(err, errlen, "guest user not found: %s", buf);
        return -1;
    }
    if (group) {
        if (!group[0]) {
            snprintf(err, errlen, "user spec has empty group");
            return -1;
        }
        gid_t g;
        if (parse_id(group, &id) == 0)
            out->gid = (gid_t)id;
        else if (group_lookup(group, &g))
            out->gid = g;
        else {
            snprintf(err, errlen, "guest group not found: %s", group);
            return -1;
        }
    }
    collect_groups(out);
    return 0;
}

static const struct {
    const char *name;
    int id;
} RLIMITS[] = {
    {"cpu", RLIMIT_CPU},         {"fsize", RLIMIT_FSIZE},   {"data", RLIMIT_DATA},
    {"stack", RLIMIT_STACK},     {"core", RLIMIT_CORE},     {"rss", RLIMIT_RSS},
    {"nproc", RLIMIT_NPROC},     {"nofile", RLIMIT_NOFILE}, {"memlock", RLIMIT_MEMLOCK},
    {"as", RLIMIT_AS},           {"locks", RLIMIT_LOCKS},   {"sigpending", RLIMIT_SIGPENDING},
    {"msgqueue", RLIMIT_MSGQUEUE}, {"nice", RLIMIT_NICE},   {"rtprio", RLIMIT_RTPRIO},
    {"rttime", RLIMIT_RTTIME},
};

int rlimit_resource_id(const char *name)
{
    for (size_t i = 0; i < sizeof(RLIMITS) / sizeof(RLIMITS[0]); i++)
        if (strcasecmp(RLIMITS[i].name, name) == 0)
            return RLIMITS[i].id;
    return -1;
}
