/* Shared declarations for the microsandbox QEMU guest agent (PID 1): the
 * handlers' entry points (boot.c, exec.c, fsops.c, net.c, modules.c, users.c)
 * and, through port.h and util.h, the helpers they call. */
#ifndef MSB_AGENT_H
#define MSB_AGENT_H

#include <stdint.h>
#include <sys/types.h>

#include "cbor.h"
#include "proto.h"
#include "port.h"
#include "util.h"

#define AGENT_VERSION "0.1.0-qemu"
#define AGENT_PORT_NAME "agent"
#define RUNTIME_MOUNT_POINT "/.msb"
#define RUNTIME_FS_TAG "msb_runtime"
#define ROOT_FS_TAG "msb_root"
/* Where an image appended to the initramfs is unpacked (the built-in busybox image). */
#define INITRAMFS_ROOT "/rootfs"
#define SCRIPTS_PATH "/.msb/scripts"
#define DEFAULT_GUEST_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define NINEP_OPTS "trans=virtio,version=9p2000.L,msize=262144"

/* ---- configuration kept after bootstrap (boot.c) ---- */
typedef struct {
    char *user;        /* default exec user spec or NULL */
    char *default_cwd; /* default exec cwd or NULL */
    int restricted;    /* security_profile == restricted */
} agent_config_t;
extern agent_config_t g_config;

/* Reads, validates and applies core.bootstrap from the port; sends
 * core.init.resolved and waits for core.init.ack on the way. Returns 0 on
 * success, -1 with err filled on failure. `in` keeps bytes read past the
 * frames consumed here. */
int boot_run(int port_fd, buf_t *in, char *err, size_t errlen);
int boot_resume(const cb_item *p, char *err, size_t errlen);
/* Moves the built-in image (initramfs /rootfs) into the tmpfs that becomes the root, ahead of the bootstrap. */
void boot_prepare_initramfs_root(void);
void mount_dev_proc_sys(void);

/* ---- users (users.c) ---- */
typedef struct {
    uid_t uid;
    gid_t gid;
    int known;        /* found in /etc/passwd */
    char name[64];
    char home[256];
    gid_t groups[64]; /* supplementary groups (including gid) */
    int ngroups;
} resolved_user_t;
/* Resolves "user", "uid", "user:group" or "uid:gid". Returns 0 or -1 (err). */
int resolve_user(const char *spec, resolved_user_t *out, char *err, size_t errlen);

/* ---- rlimits (users.c) ---- */
int rlimit_resource_id(const char *name); /* -1 when unknown */

/* ---- exec sessions (exec.c) ---- */
void exec_handle_request(const msg_t *m, const cb_item *p);
void exec_handle_stdin(const msg_t *m, const cb_item *p);
void exec_handle_signal(const msg_t *m, const cb_item *p);
void exec_handle_resize(const msg_t *m, const cb_item *p);
/* Poll integration: exec_poll_fill adds fds, exec_poll_handle processes them. */
struct pollfd;
int exec_poll_fill(struct pollfd *pfds, int max, int allow_output);
void exec_poll_handle(struct pollfd *pfds, int n);
void exec_on_child_exit(pid_t pid, int status); /* called by the reaper */
void exec_finish_ready(void);                   /* emit exited frames that became due */
int exec_active_count(void);
void exec_terminate_all(int sig);
extern char **environ;

/* ---- filesystem ops (fsops.c) ---- */
void fs_handle_request(const msg_t *m, const cb_item *p);
void fs_handle_data(const msg_t *m, const cb_item *p);
void fs_pump_reads(void); /* produce read chunks while output has room */
int fs_pending_reads(void);
int fs_active_streams(void);
void fs_close_owner_range(uint32_t start, uint32_t end_exclusive);
void fs_clear(void);

/* ---- network (net.c) ---- */
typedef struct {
    char iface[32];
    uint8_t mac[6];
    int have_mac;
    int mtu;
    int have_v4;
    uint8_t v4_addr[4], v4_gw[4], v4_dns[4];
    int v4_prefix, have_v4_dns;
    int have_v6;
    uint8_t v6_addr[16], v6_gw[16], v6_dns[16];
    int v6_prefix, have_v6_dns;
} net_config_t;
int net_loopback_up(char *err, size_t errlen);
int net_configure(const net_config_t *cfg, char *err, size_t errlen);

/* ---- kernel modules (modules.c) ---- */
extern int g_module_debug;
void modules_init(void);
void modules_load_group(const char *group);
void modules_load_for_devices(void);
void modules_load_for_fstype(const char *fstype);

#endif
