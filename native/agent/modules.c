/* Kernel modules from the initramfs, loaded by group on demand.
 *
 * /etc/msb/modules lists "GROUP PATH" lines in insmod order. The "boot" group
 * is loaded first; blk/net/9p follow when such virtio devices exist; the
 * filesystem groups (ext4, erofs, overlay) when a mount needs them. Paths are
 * opened relative to the initramfs root, kept open across the switch to the
 * real root. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "agent.h"

static int g_initramfs = -1;
static char *g_loaded[128];
static int g_nloaded;
static char *g_groups_done[16];
static int g_ngroups_done;
int g_module_debug;

void modules_init(void)
{
    g_initramfs = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
}

static int already(char **list, int n, const char *s)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(list[i], s))
            return 1;
    return 0;
}

void modules_load_group(const char *group)
{
    if (g_initramfs < 0 || already(g_groups_done, g_ngroups_done, group))
        return;
    if (g_ngroups_done < 16)
        g_groups_done[g_ngroups_done++] = xstrdup(group);
    int lfd = openat(g_initramfs, "etc/msb/modules", O_RDONLY | O_CLOEXEC);
    if (lfd < 0)
        return;
    FILE *f = fdopen(lfd, "r");
    if (!f) {
        close(lfd);
        return;
    }
    char line[512];
    while (fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\r\n")] = 0;
        char *sp = strchr(line, ' ');
        if (!sp || line[0] == '#')
            continue;
        *sp = 0;
        const char *path = sp + 1;
        if (strcmp(line, group) != 0 || already(g_loaded, g_nloaded, path))
            continue;
        int fd = openat(g_initramfs, path[0] == '/' ? path + 1 : path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            logmsg("module %s: %s", path, strerror(errno));
            continue;
        }
        uint64_t t0 = boottime_ns();
        if (syscall(SYS_finit_module, fd, "", 0) < 0 && errno != EEXIST && errno != ENODEV)
            logmsg("load module %s: %s", path, strerror(errno));
        close(fd);
        if (g_module_debug)
            logmsg("module %s (%s): %.1f ms", strrchr(path, '/') ? strrchr(path, '/') + 1 : path, group,
                   (boottime_ns() - t0) / 1e6);
        if (g_nloaded < 128)
            g_loaded[g_nloaded++] = xstrdup(path);
    }
    fclose(f);
}

/* Loads the driver groups for the virtio devices QEMU attached. */
void modules_load_for_devices(void)
{
    DIR *d = opendir("/sys/bus/virtio/devices");
    if (!d)
        return;
    int blk = 0, net = 0, ninep = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char p[300], id[32];
        snprintf(p, sizeof(p), "/sys/bus/virtio/devices/%s/device", e->d_name);
        if (read_small(p, id, sizeof(id)) < 0)
            continue;
        unsigned long v = strtoul(id, NULL, 16);
        blk |= v == 2;
        net |= v == 1;
        ninep |= v == 9;
    }
    closedir(d);
    if (blk)
        modules_load_group("blk");
    if (net)
        modules_load_group("net");
    if (ninep)
        modules_load_group("9p");
}

/* Loads what mounting a filesystem of this type needs (NULL: probing, so all). */
void modules_load_for_fstype(const char *fstype)
{
    if (!fstype) {
        modules_load_group("ext4");
        modules_load_group("erofs");
        return;
    }
    if (!strcmp(fstype, "ext4") || !strcmp(fstype, "ext3") || !strcmp(fstype, "ext2"))
        modules_load_group("ext4");
    else if (!strcmp(fstype, "erofs"))
        modules_load_group("erofs");
    else if (!strcmp(fstype, "overlay"))
        modules_load_group("overlay");
}
