/* Guest network setup with plain ioctls: loopback, then the configured
 * interface (found by MAC, renamed, MTU, IPv4/IPv6 address, default route,
 * resolv.conf). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent.h"

struct in6_ifreq_compat {
    struct in6_addr addr;
    uint32_t prefixlen;
    int ifindex;
};

static int set_flags_up(int s, const char *ifname)
{
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    snprintf(ifr.ifr_name, IFNAMSIZ, "%s", ifname);
    if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
        return -1;
    ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
    return ioctl(s, SIOCSIFFLAGS, &ifr);
}

int net_loopback_up(char *err, size_t errlen)
{
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        return -1;
    }
    int r = set_flags_up(s, "lo");
    if (r < 0)
        snprintf(err, errlen, "bring up lo: %s", strerror(errno));
    close(s);
    return r;
}

/* Finds the interface whose MAC matches, else the first non-loopback one. */
static int find_iface(const net_config_t *c, char *out, size_t outlen)
{
    DIR *d = opendir("/sys/class/net");
    if (!d)
        return -1;
    struct dirent *e;
    char first[IFNAMSIZ] = {0};
    int found = -1;
    char want[32];
    snprintf(want, sizeof(want), "%02x:%02x:%02x:%02x:%02x:%02x", c->mac[0], c->mac[1], c->mac[2], c->mac[3],
             c->mac[4], c->mac[5]);
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' || !strcmp(e->d_name, "lo"))
            continue;
        if (!first[0])
            snprintf(first, sizeof(first), "%s", e->d_name);
        char p[300], addr[64] = {0};
        snprintf(p, sizeof(p), "/sys/class/net/%s/address", e->d_name);
        read_small(p, addr, sizeof(addr));
        if (c->have_mac && !strcasecmp(addr, want)) {
            snprintf(out, outlen, "%s", e->d_name);
            found = 0;
            break;
        }
    }
    closedir(d);
    if (found < 0 && first[0]) {
        snprintf(out, outlen, "%s", first);
        found = 0;
    }
    return found;
}

int net_configure(const net_config_t *c, char *err, size_t errlen)
{
    char cur[IFNAMSIZ];
    int found = -1;
    /* virtio_net may still be probing right after module load */
    for (int i = 0; i < 200 && found < 0; i++) {
        found = find_iface(c, cur, sizeof(cur));
        if (found < 0)
            usleep(10000);
    }
    if (found < 0) {
        snprintf(err, errlen, "network: no interface found for %s (is a virtio-net device attached?)", c->iface);
        return -1;
    }
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        return -1;
    }
    struct ifreq ifr;
#define FAIL(...)                                                                                                      \
    do {                                                                                                               \
        snprintf(err, errlen, __VA_ARGS__);                                                                            \
        close(s);                                                                                                      \
        return -1;                                                                                                     \
    } while (0)

    if (strcmp(cur, c->iface) != 0) {
        memset(&ifr, 0, sizeof(ifr));
        snprintf(ifr.ifr_name, IFNAMSIZ, "%s", cur);
        snprintf(ifr.ifr_newname, IFNAMSIZ, "%s", c->iface);
        if (ioctl(s, SIOCSIFNAME, &ifr) < 0)
            FAIL("rename %s to %s: %s", cur, c->iface, strerror(errno));
    }
    if (c->have_mac) {
        memset(&ifr, 0, sizeof(ifr));
        snprintf(ifr.ifr_name, IFNAMSIZ, "%s", c->iface);
        ifr.ifr_hwaddr.sa_family = 1; /* ARPHRD_ETHER */
        memcpy(ifr.ifr_hwaddr.sa_data, c->mac, 6);
        if (ioctl(s, SIOCSIFHWADDR, &ifr) < 0 && errno != EBUSY)
            FAIL("set MAC on %s: %s", c->iface, strerror(errno));
    }
    if (c->mtu > 0) {
        memset(&ifr, 0, sizeof(ifr));
        snprintf(ifr.ifr_name, IFNAMSIZ, "%s", c->iface);
        ifr.ifr_mtu = c->mtu;
        if (ioctl(s, SIOCSIFMTU, &ifr) < 0)
            FAIL("set MTU %d on %s: %s", c->mtu, c->iface, strerror(errno));
    }
    if (set_flags_up(s, c->iface) < 0)
        FAIL("bring up %s: %s", c->iface, strerror(errno));

    if (c->have_v4) {
        struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;
        memset(&ifr, 0, sizeof(ifr));
        snprintf(ifr.ifr_name, IFNAMSIZ, "%s", c->iface);
        sin->sin_family = AF_INET;
        memcpy(&sin->sin_addr, c->v4_addr, 4);
        if (ioctl(s, SIOCSIFADDR, &ifr) < 0)
            FAIL("set IPv4 address on %s: %s", c->iface, strerror(errno));
        uint32_t mask = c->v4_prefix ? htonl(0xffffffffu << (32 - c->v4_prefix)) : 0;
        memset(&ifr, 0, sizeof(ifr));
        snprintf(ifr.ifr_name, IFNAMSIZ, "%s", c->iface);
        sin->sin_family = AF_INET;
        sin->sin_addr.s_addr = mask;
        if (ioctl(s, SIOCSIFNETMASK, &ifr) < 0)
            FAIL("set IPv4 netmask on %s: %s", c->iface, strerror(errno));

        struct rtentry rt;
        memset(&rt, 0, sizeof(rt));
        struct sockaddr_in *dst = (struct sockaddr_in *)&rt.rt_dst;
        struct sockaddr_in *gw = (struct sockaddr_in *)&rt.rt_gateway;
        struct sockaddr_in *gm = (struct sockaddr_in *)&rt.rt_genmask;
        dst->sin_family = gw->sin_family = gm->sin_family = AF_INET;
        memcpy(&gw->sin_addr, c->v4_gw, 4);
        rt.rt_flags = RTF_UP | RTF_GATEWAY;
        rt.rt_dev = (char *)c->iface;
        if (ioctl(s, SIOCADDRT, &rt) < 0 && errno != EEXIST)
            FAIL("add IPv4 default route via gateway: %s", strerror(errno));
    }
    close(s);

    if (c->have_v6) {
        int s6 = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (s6 < 0) {
            snprintf(err, errlen, "IPv6 socket: %s", strerror(errno));
            return -1;
        }
        struct in6_ifreq_compat r6;
        memset(&r6, 0, sizeof(r6));
        memcpy(&r6.addr, c->v6_addr, 16);
        r6.prefixlen = (uint32_t)c->v6_prefix;
        r6.ifindex = (int)if_nametoindex(c->iface);
        if (ioctl(s6, SIOCSIFADDR, &r6) < 0 && errno != EEXIST) {
            snprintf(err, errlen, "set IPv6 address on %s: %s", c->iface, strerror(errno));
            close(s6);
            return -1;
        }
        struct in6_rtmsg rt6;
        memset(&rt6, 0, sizeof(rt6));
        memcpy(&rt6.rtmsg_gateway, c->v6_gw, 16);
        rt6.rtmsg_flags = RTF_UP | RTF_GATEWAY;
        rt6.rtmsg_metric = 1;
        rt6.rtmsg_ifindex = r6.ifindex;
        if (ioctl(s6, SIOCADDRT, &rt6) < 0 && errno != EEXIST) {
            snprintf(err, errlen, "add IPv6 default route: %s", strerror(errno));
            close(s6);
            return -1;
        }
        close(s6);
    }

    if (c->have_v4_dns || c->have_v6_dns) {
        char content[256];
        size_t o = 0;
        char a[64];
        if (c->have_v4_dns) {
            inet_ntop(AF_INET, c->v4_dns, a, sizeof(a));
            o += (size_t)snprintf(content + o, sizeof(content) - o, "nameserver %s\n", a);
        }
        if (c->have_v6_dns) {
            inet_ntop(AF_INET6, c->v6_dns, a, sizeof(a));
            snprintf(content + o, sizeof(content) - o, "nameserver %s\n", a);
        }
        if (write_file("/etc/resolv.conf", content, 0644) < 0 && errno != EROFS) {
            snprintf(err, errlen, "failed to write /etc/resolv.conf: %s", strerror(errno));
            return -1;
        }
    }
    return 0;
}
