/*
 * Test driver for native/netfilter: makes one socket call the way libslirp would and prints what came of it.
 * Run with LD_PRELOAD=libmsb-netfilter.so and MSB_NET_POLICY set; the filter's denials are EACCES (datagrams) and
 * ECONNREFUSED (connects), so tests pair a connect with a listener that counts what really arrived.
 *
 *   netfilter_probe udp ADDR PORT [FROM_PORT]   sendto from a socket (bound to FROM_PORT when given)
 *   netfilter_probe udpmsg ADDR PORT            the same through sendmsg
 *   netfilter_probe unspec                      sendto an AF_UNSPEC address on a UDP socket
 *   netfilter_probe tcp ADDR PORT               connect
 * ADDR is IPv4 or IPv6 (an IPv6 form uses an AF_INET6 socket). Prints "ok" or the errno name.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int report(int rc)
{
    if (rc >= 0) { puts("ok"); return 0; }
    puts(errno == EACCES ? "EACCES" : errno == ECONNREFUSED ? "ECONNREFUSED" : strerror(errno));
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "unspec") == 0) {
        int fd = socket(AF_INET, SOCK_DGRAM, 0);
        struct sockaddr sa = { .sa_family = AF_UNSPEC };
        return report((int)sendto(fd, "x", 1, 0, &sa, sizeof(sa)));
    }
    if (argc < 4) { fprintf(stderr, "usage: netfilter_probe udp|udpmsg|tcp ADDR PORT [FROM_PORT] | unspec\n"); return 2; }
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    socklen_t len;
    int family;
    int port = atoi(argv[3]);
    if (strchr(argv[2], ':')) {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
        in6->sin6_family = family = AF_INET6;
        in6->sin6_port = htons((uint16_t)port);
        if (inet_pton(AF_INET6, argv[2], &in6->sin6_addr) != 1) return 2;
        len = sizeof(*in6);
    } else {
        struct sockaddr_in *in = (struct sockaddr_in *)&ss;
        in->sin_family = family = AF_INET;
        in->sin_port = htons((uint16_t)port);
        if (inet_pton(AF_INET, argv[2], &in->sin_addr) != 1) return 2;
        len = sizeof(*in);
    }
    int tcp = strcmp(argv[1], "tcp") == 0;
    int fd = socket(family, tcp ? SOCK_STREAM : SOCK_DGRAM, 0);
    if (fd < 0) { perror("socket"); return 2; }
    if (argc > 4) {
        struct sockaddr_storage local;
        memset(&local, 0, sizeof(local));
        if (family == AF_INET) {
            ((struct sockaddr_in *)&local)->sin_family = AF_INET;
            ((struct sockaddr_in *)&local)->sin_port = htons((uint16_t)atoi(argv[4]));
        } else {
            ((struct sockaddr_in6 *)&local)->sin6_family = AF_INET6;
            ((struct sockaddr_in6 *)&local)->sin6_port = htons((uint16_t)atoi(argv[4]));
        }
        if (bind(fd, (struct sockaddr *)&local, len) < 0) { perror("bind"); return 2; }
    }
    if (tcp) return report(connect(fd, (struct sockaddr *)&ss, len));
    if (strcmp(argv[1], "udpmsg") == 0) {
        struct iovec iov = { .iov_base = "x", .iov_len = 1 };
        struct msghdr msg = { .msg_name = &ss, .msg_namelen = len, .msg_iov = &iov, .msg_iovlen = 1 };
        return report((int)sendmsg(fd, &msg, 0));
    }
    return report((int)sendto(fd, "x", 1, 0, (struct sockaddr *)&ss, len));
}
