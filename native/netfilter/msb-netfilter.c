/*
 * msb-netfilter: the host side of a QEMU sandbox's network policy.
 *
 * QEMU's user-mode network (libslirp) turns every guest connection into an ordinary socket call of the QEMU
 * process: connect() for TCP, sendto()/sendmsg() for UDP and ICMP. Preloaded into QEMU (LD_PRELOAD), this library
 * checks each of those calls against the sandbox's policy before libc sees it, so nothing the guest does can lift
 * the policy: the decision is made outside the VM, on the address QEMU is about to reach.
 *
 * The policy arrives in MSB_NET_POLICY, one directive per line (written by the SDK's QemuNetworkPolicy):
 *   default allow|deny             what happens when no rule matches (egress)
 *   resolver ADDR                  the host's DNS servers: slirp forwards the guest's DNS (gateway port 53) to them
 *   published udp|tcp PORT         a port published on the host: what QEMU sends from a socket bound to it is a reply
 *                                  to whoever connected to the published port, never the guest reaching out
 *   rule allow|deny PROTOS PORTS DEST
 *       PROTOS  any | a comma list of tcp, udp, icmp
 *       PORTS   any | a comma list of N or N-M (the destination port)
 *       DEST    any | group:public|private|host|link_local|metadata|multicast | cidr:ADDR/LEN
 * Rules are matched first to last; the first match decides. Addresses are classified as upstream microsandbox does,
 * in QEMU's view of them: slirp maps the guest's gateway to the host's loopback, so 127.0.0.0/8 and ::1 are the
 * "host" group, and so is a resolver reached on port 53 (the guest asked the gateway's DNS), 0.0.0.0/8 (Linux delivers
 * it locally) and every address of the host's own interfaces, read with getifaddrs and refreshed every two seconds
 * (stricter than upstream, whose host group is the gateway alone: a service on the host's LAN or public address is
 * still the host's).
 *
 * A policy that cannot be read denies everything (fail closed). Denied calls fail with ECONNREFUSED / EACCES, so the
 * guest sees a refused connection or a dropped datagram; the first denials are logged on stderr (QEMU's log).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>

enum { P_TCP = 1, P_UDP = 2, P_ICMP = 4, P_ANY = 7 };
enum { G_PUBLIC = 1, G_PRIVATE, G_HOST, G_LINK_LOCAL, G_METADATA, G_MULTICAST };
enum { D_ANY, D_GROUP, D_CIDR };

#define MAX_RULES 256
#define MAX_PORTS 16
#define MAX_RESOLVERS 8
#define MAX_LOCALS 256
#define MAX_PUBLISHED 64

struct addr { int family; uint8_t bytes[16]; };

struct rule {
    int allow, protos, nports, dest, group, prefix;
    uint16_t lo[MAX_PORTS], hi[MAX_PORTS];
    struct addr net;
};

static struct rule rules[MAX_RULES];
static int nrules, default_allow, broken;
static struct addr resolvers[MAX_RESOLVERS];
static int nresolvers;
static struct addr locals[MAX_LOCALS];
static int nlocals;
static struct timespec locals_read;
static pthread_mutex_t locals_lock = PTHREAD_MUTEX_INITIALIZER;
static struct { int proto; uint16_t port; } published[MAX_PUBLISHED];
static int npublished;
static atomic_int denials_logged;

static int (*real_connect)(int, const struct sockaddr *, socklen_t);
static ssize_t (*real_sendto)(int, const void *, size_t, int, const struct sockaddr *, socklen_t);
static ssize_t (*real_sendmsg)(int, const struct msghdr *, int);
static int (*real_sendmmsg)(int, struct mmsghdr *, unsigned int, int);

static int parse_addr(const char *text, struct addr *out)
{
    memset(out, 0, sizeof(*out));
    if (inet_pton(AF_INET, text, out->bytes) == 1) { out->family = AF_INET; return 0; }
    if (inet_pton(AF_INET6, text, out->bytes) == 1) { out->family = AF_INET6; return 0; }
    return -1;
}

static int parse_protos(char *text, int *out)
{
    if (strcmp(text, "any") == 0) { *out = P_ANY; return 0; }
    *out = 0;
    for (char *save = NULL, *p = strtok_r(text, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
        if (strcmp(p, "tcp") == 0) *out |= P_TCP;
        else if (strcmp(p, "udp") == 0) *out |= P_UDP;
        else if (strcmp(p, "icmp") == 0) *out |= P_ICMP;
        else return -1;
    }
    return *out ? 0 : -1;
}

static int parse_ports(char *text, struct rule *r)
{
    if (strcmp(text, "any") == 0) { r->nports = 0; return 0; }
    for (char *save = NULL, *p = strtok_r(text, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
        if (r->nports == MAX_PORTS) return -1;
        char *end;
        unsigned long lo = strtoul(p, &end, 10), hi = lo;
        if (*end == '-') hi = strtoul(end + 1, &end, 10);
        if (*end || lo > 65535 || hi > 65535 || lo > hi) return -1;
        r->lo[r->nports] = (uint16_t)lo;
        r->hi[r->nports++] = (uint16_t)hi;
    }
    return r->nports ? 0 : -1;
}

static int parse_dest(char *text, struct rule *r)
{
    static const char *const groups[] = { NULL, "public", "private", "host", "link_local", "metadata", "multicast" };
    if (strcmp(text, "any") == 0) { r->dest = D_ANY; return 0; }
    if (strncmp(text, "group:", 6) == 0) {
        for (int g = G_PUBLIC; g <= G_MULTICAST; g++)
            if (strcmp(text + 6, groups[g]) == 0) { r->dest = D_GROUP; r->group = g; return 0; }
        return -1;
    }
    if (strncmp(text, "cidr:", 5) == 0) {
        char *slash = strchr(text + 5, '/');
        if (!slash) return -1;
        *slash = 0;
        char *end;
        long prefix = strtol(slash + 1, &end, 10);
        if (*end || parse_addr(text + 5, &r->net) < 0) return -1;
        if (prefix < 0 || prefix > (r->net.family == AF_INET ? 32 : 128)) return -1;
        r->dest = D_CIDR;
        r->prefix = (int)prefix;
        return 0;
    }
    return -1;
}

static int parse_line(char *line)
{
    char *save = NULL, *word = strtok_r(line, " \t", &save);
    if (!word) return 0;
    if (strcmp(word, "default") == 0) {
        char *action = strtok_r(NULL, " \t", &save);
        if (!action || strtok_r(NULL, " \t", &save)) return -1;
        if (strcmp(action, "allow") == 0) default_allow = 1;
        else if (strcmp(action, "deny") == 0) default_allow = 0;
        else return -1;
        return 0;
    }
    if (strcmp(word, "resolver") == 0) {
        char *a = strtok_r(NULL, " \t", &save);
        if (!a || nresolvers == MAX_RESOLVERS || parse_addr(a, &resolvers[nresolvers]) < 0) return -1;
        nresolvers++;
        return 0;
    }
    if (strcmp(word, "published") == 0) {
        char *proto = strtok_r(NULL, " \t", &save), *port = strtok_r(NULL, " \t", &save), *end;
        if (!proto || !port || strtok_r(NULL, " \t", &save) || npublished == MAX_PUBLISHED) return -1;
        unsigned long n = strtoul(port, &end, 10);
        if (*end || n == 0 || n > 65535) return -1;
        if (strcmp(proto, "udp") == 0) published[npublished].proto = P_UDP;
        else if (strcmp(proto, "tcp") == 0) published[npublished].proto = P_TCP;
        else return -1;
        published[npublished++].port = (uint16_t)n;
        return 0;
    }
    if (strcmp(word, "rule") == 0) {
        if (nrules == MAX_RULES) return -1;
        struct rule *r = &rules[nrules];
        memset(r, 0, sizeof(*r));
        char *action = strtok_r(NULL, " \t", &save), *protos = strtok_r(NULL, " \t", &save);
        char *ports = strtok_r(NULL, " \t", &save), *dest = strtok_r(NULL, " \t", &save);
        if (!action || !protos || !ports || !dest || strtok_r(NULL, " \t", &save)) return -1;
        if (strcmp(action, "allow") == 0) r->allow = 1;
        else if (strcmp(action, "deny") != 0) return -1;
        if (parse_protos(protos, &r->protos) < 0 || parse_ports(ports, r) < 0 || parse_dest(dest, r) < 0) return -1;
        nrules++;
        return 0;
    }
    return -1;
}

__attribute__((constructor)) static void load_policy(void)
{
    real_connect = dlsym(RTLD_NEXT, "connect");
    real_sendto = dlsym(RTLD_NEXT, "sendto");
    real_sendmsg = dlsym(RTLD_NEXT, "sendmsg");
    real_sendmmsg = dlsym(RTLD_NEXT, "sendmmsg");
    const char *text = getenv("MSB_NET_POLICY");
    if (!text) { broken = 1; fprintf(stderr, "msb-netfilter: MSB_NET_POLICY is not set; denying all egress\n"); return; }
    char *copy = strdup(text);
    if (!copy) { broken = 1; return; }
    for (char *save = NULL, *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (parse_line(line) < 0) {
            broken = 1;
            fprintf(stderr, "msb-netfilter: unreadable policy line; denying all egress\n");
            break;
        }
    }
    free(copy);
}

static int in_prefix(const struct addr *a, const struct addr *net, int prefix)
{
    if (a->family != net->family) return 0;
    int full = prefix / 8, rest = prefix % 8;
    if (memcmp(a->bytes, net->bytes, (size_t)full) != 0) return 0;
    if (rest == 0) return 1;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (a->bytes[full] & mask) == (net->bytes[full] & mask);
}

static int listed(const struct addr *list, int n, const struct addr *a)
{
    for (int i = 0; i < n; i++)
        if (list[i].family == a->family && memcmp(list[i].bytes, a->bytes, a->family == AF_INET ? 4 : 16) == 0)
            return 1;
    return 0;
}

static int is_resolver(const struct addr *a) { return listed(resolvers, nresolvers, a); }

/* The host's own addresses, from getifaddrs (every interface, up or down), re-read at most every two seconds. */
static int is_local(const struct addr *a)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    pthread_mutex_lock(&locals_lock);
    if (locals_read.tv_sec == 0 || now.tv_sec - locals_read.tv_sec >= 2) {
        struct ifaddrs *list;
        if (getifaddrs(&list) == 0) {
            nlocals = 0;
            for (struct ifaddrs *i = list; i && nlocals < MAX_LOCALS; i = i->ifa_next) {
                if (!i->ifa_addr) continue;
                struct addr *l = &locals[nlocals];
                memset(l, 0, sizeof(*l));
                if (i->ifa_addr->sa_family == AF_INET) {
                    l->family = AF_INET;
                    memcpy(l->bytes, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, 4);
                    nlocals++;
                } else if (i->ifa_addr->sa_family == AF_INET6) {
                    l->family = AF_INET6;
                    memcpy(l->bytes, &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr, 16);
                    nlocals++;
                }
            }
            freeifaddrs(list);
            locals_read = now;
        }
    }
    int hit = listed(locals, nlocals, a);
    pthread_mutex_unlock(&locals_lock);
    return hit;
}

static int classify(const struct addr *a, int port)
{
    const uint8_t *b = a->bytes;
    if (a->family == AF_INET) {
        if (b[0] == 127) return G_HOST; /* slirp: the guest's gateway is the host's loopback */
        if (b[0] == 0) return G_HOST; /* 0.0.0.0/8: Linux delivers it to the host itself */
        if (port == 53 && is_resolver(a)) return G_HOST;
        if (is_local(a)) return G_HOST;
        if (b[0] == 169 && b[1] == 254 && b[2] == 169 && b[3] == 254) return G_METADATA;
        if (b[0] == 10 || (b[0] == 172 && (b[1] & 0xf0) == 16) || (b[0] == 192 && b[1] == 168) ||
            (b[0] == 100 && (b[1] & 0xc0) == 64)) return G_PRIVATE;
        if (b[0] == 169 && b[1] == 254) return G_LINK_LOCAL;
        if ((b[0] & 0xf0) == 224) return G_MULTICAST;
        if (b[0] == 255) return 0; /* broadcast: in no group */
        return G_PUBLIC;
    }
    static const uint8_t loopback6[16] = { [15] = 1 };
    static const uint8_t any6[16] = { 0 };
    if (memcmp(b, loopback6, 16) == 0 || memcmp(b, any6, 16) == 0) return G_HOST;
    if (port == 53 && is_resolver(a)) return G_HOST;
    if (is_local(a)) return G_HOST;
    if (b[0] == 0 && b[1] == 0 && b[2] == 0 && b[3] == 0 && b[4] == 0 && b[5] == 0 && b[6] == 0 && b[7] == 0 &&
        b[8] == 0 && b[9] == 0 && b[10] == 0xff && b[11] == 0xff) { /* IPv4-mapped */
        struct addr v4 = { .family = AF_INET };
        memcpy(v4.bytes, b + 12, 4);
        return classify(&v4, port);
    }
    if ((b[0] & 0xfe) == 0xfc) return G_PRIVATE;
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return G_LINK_LOCAL;
    if (b[0] == 0xff) return G_MULTICAST;
    return G_PUBLIC;
}

/* 1 allow, 0 deny */
static int decide(const struct addr *given, int port, int proto)
{
    if (broken) return 0;
    struct addr mapped;
    const struct addr *a = given;
    static const uint8_t v4prefix[12] = { [10] = 0xff, [11] = 0xff };
    if (given->family == AF_INET6 && memcmp(given->bytes, v4prefix, 12) == 0) {
        /* ::ffff:a.b.c.d is a.b.c.d: classify and match CIDR rules on the IPv4 address */
        memset(&mapped, 0, sizeof(mapped));
        mapped.family = AF_INET;
        memcpy(mapped.bytes, given->bytes + 12, 4);
        a = &mapped;
    }
    int group = classify(a, port);
    for (int i = 0; i < nrules; i++) {
        const struct rule *r = &rules[i];
        if (!(r->protos & proto)) continue;
        if (r->nports) {
            int hit = 0;
            for (int p = 0; p < r->nports && !hit; p++) hit = port >= r->lo[p] && port <= r->hi[p];
            if (!hit) continue;
        }
        if (r->dest == D_GROUP && r->group != group) continue;
        if (r->dest == D_CIDR && !in_prefix(a, &r->net, r->prefix)) continue;
        return r->allow;
    }
    return default_allow;
}

static int socket_proto(int fd)
{
    int type = 0, protocol = 0;
    socklen_t len = sizeof(type);
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0) return P_TCP;
    len = sizeof(protocol);
    if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &protocol, &len) < 0) protocol = 0;
    if (protocol == IPPROTO_ICMP || protocol == IPPROTO_ICMPV6 || type == SOCK_RAW) return P_ICMP;
    return type == SOCK_DGRAM ? P_UDP : P_TCP;
}

static int local_port(int fd)
{
    struct sockaddr_storage local;
    socklen_t len = sizeof(local);
    if (getsockname(fd, (struct sockaddr *)&local, &len) < 0) return -1;
    if (local.ss_family == AF_INET) return ntohs(((struct sockaddr_in *)&local)->sin_port);
    if (local.ss_family == AF_INET6) return ntohs(((struct sockaddr_in6 *)&local)->sin6_port);
    return -1;
}

/* 1: not an IP destination, or allowed; 0: denied (logged). `sending` is 1 for sendto/sendmsg, 0 for connect. */
static int permitted(int fd, const struct sockaddr *sa, socklen_t len, int sending)
{
    struct addr a = { 0 };
    int port;
    if (!sa) return 1;
    if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        a.family = AF_INET;
        memcpy(a.bytes, &in->sin_addr, 4);
        port = ntohs(in->sin_port);
    } else if (sa->sa_family == AF_INET6 && len >= 24) { /* SIN6_LEN_RFC2133: the kernel accepts it without a scope id */
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        a.family = AF_INET6;
        memcpy(a.bytes, &in6->sin6_addr, 16);
        port = ntohs(in6->sin6_port);
    } else if (sa->sa_family == AF_INET || sa->sa_family == AF_INET6) {
        return 1; /* too short for its family: the kernel refuses it (EINVAL) */
    } else if (sa->sa_family == AF_UNSPEC) {
        /* connect(AF_UNSPEC) dissolves an association; a datagram sent "to" AF_UNSPEC is taken as IPv4: deny it */
        return !sending;
    } else {
        return 1; /* unix sockets and the like: QEMU's own plumbing */
    }
    int proto = socket_proto(fd);
    if (sending && npublished > 0) {
        /* A reply from the host side of a published port to whoever connected to it, not the guest reaching out. */
        int lport = local_port(fd);
        for (int i = 0; i < npublished; i++)
            if (published[i].proto == proto && published[i].port == lport) return 1;
    }
    if (decide(&a, port, proto)) return 1;
    if (atomic_fetch_add(&denials_logged, 1) < 64) {
        char text[INET6_ADDRSTRLEN] = "?";
        inet_ntop(a.family, a.bytes, text, sizeof(text));
        fprintf(stderr, "msb-netfilter: denied %s to %s port %d by the sandbox's network policy\n",
                proto == P_TCP ? "tcp" : proto == P_UDP ? "udp" : "icmp", text, port);
    }
    return 0;
}

int connect(int fd, const struct sockaddr *sa, socklen_t len)
{
    if (!permitted(fd, sa, len, 0)) { errno = ECONNREFUSED; return -1; }
    if (!real_connect) { errno = ENOSYS; return -1; }
    return real_connect(fd, sa, len);
}

ssize_t sendto(int fd, const void *buf, size_t n, int flags, const struct sockaddr *sa, socklen_t len)
{
    if (!permitted(fd, sa, len, 1)) { errno = EACCES; return -1; }
    if (!real_sendto) { errno = ENOSYS; return -1; }
    return real_sendto(fd, buf, n, flags, sa, len);
}

ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
    if (msg && !permitted(fd, (const struct sockaddr *)msg->msg_name, msg->msg_namelen, 1)) { errno = EACCES; return -1; }
    if (!real_sendmsg) { errno = ENOSYS; return -1; }
    return real_sendmsg(fd, msg, flags);
}

int sendmmsg(int fd, struct mmsghdr *msgs, unsigned int n, int flags)
{
    for (unsigned int i = 0; msgs && i < n; i++)
        if (!permitted(fd, (const struct sockaddr *)msgs[i].msg_hdr.msg_name, msgs[i].msg_hdr.msg_namelen, 1)) { errno = EACCES; return -1; }
    if (!real_sendmmsg) { errno = ENOSYS; return -1; }
    return real_sendmmsg(fd, msgs, n, flags);
}
