/* core.exec.* sessions: spawn (pipes or a PTY), stream stdin/stdout/stderr,
 * signals, resize, and the exit report once output has drained. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "agent.h"

#define MAX_SESSIONS 256
#define READ_CHUNK (256 * 1024)

typedef struct {
    int used;
    uint32_t id;
    pid_t pid;
    int tty;
    int in_fd;  /* stdin pipe write end, or PTY master for tty sessions */
    int out_fd; /* stdout pipe read end, or PTY master */
    int err_fd; /* stderr pipe read end, -1 for tty */
    buf_t pending;
    int eof_requested;
    int exited;
    int status;
} session_t;

static session_t g_sessions[MAX_SESSIONS];

enum { STAGE_CHDIR = 1, STAGE_USER, STAGE_RLIMIT, STAGE_EXEC, STAGE_PTY, STAGE_SECURITY, STAGE_SETSID };

static session_t *find_session(uint32_t id)
{
    for (int i = 0; i < MAX_SESSIONS; i++)
        if (g_sessions[i].used && g_sessions[i].id == id)
            return &g_sessions[i];
    return NULL;
}

int exec_active_count(void)
{
    int n = 0;
    for (int i = 0; i < MAX_SESSIONS; i++)
        n += g_sessions[i].used;
    return n;
}

static const char *errno_name(int e)
{
    switch (e) {
    case ENOENT: return "ENOENT";
    case EACCES: return "EACCES";
    case EPERM: return "EPERM";
    case ENOEXEC: return "ENOEXEC";
    case E2BIG: return "E2BIG";
    case ELOOP: return "ELOOP";
    case ENAMETOOLONG: return "ENAMETOOLONG";
    case EINVAL: return "EINVAL";
    case ENOMEM: return "ENOMEM";
    case EAGAIN: return "EAGAIN";
    case EMFILE: return "EMFILE";
    case ENFILE: return "ENFILE";
    case ENOTDIR: return "ENOTDIR";
    case EISDIR: return "EISDIR";
    case ETXTBSY: return "ETXTBSY";
    case EPIPE: return "EPIPE";
    case EBADF: return "EBADF";
    case EIO: return "EIO";
    case ENOSPC: return "ENOSPC";
    case EFBIG: return "EFBIG";
    default: return NULL;
    }
}

static const char *classify(int stage, int e)
{
    switch (stage) {
    case STAGE_CHDIR: return "bad_cwd";
    case STAGE_USER: return "user_setup_failed";
    case STAGE_RLIMIT: return "resource_limit";
    case STAGE_PTY: return "pty_setup_failed";
    default: break;
    }
    switch (e) {
    case ENOENT: return "not_found";
    case EACCES:
    case EPERM: return "permission_denied";
    case ENOEXEC: return "not_executable";
    case E2BIG:
    case ELOOP:
    case ENAMETOOLONG:
    case EINVAL: return "bad_args";
    case ENOMEM: return "out_of_memory";
    case EAGAIN:
    case EMFILE:
    case ENFILE: return "resource_limit";
    default: return "other";
    }
}

static const char *stage_name(int stage)
{
    switch (stage) {
    case STAGE_CHDIR: return "chdir";
    case STAGE_USER: return "setuid";
    case STAGE_RLIMIT: return "setrlimit";
    case STAGE_EXEC: return "execve";
    case STAGE_PTY: return "openpty";
    case STAGE_SECURITY: return "security_profile";
    case STAGE_SETSID: return "setsid";
    default: return "spawn";
    }
}

static void send_exec_failed(uint32_t id, const char *kind, int err, const char *message, const char *stage)
{
    buf_t b;
    buf_init(&b);
    cb_map(&b, 5);
    cb_text(&b, "kind");
    cb_text(&b, kind);
    cb_text(&b, "errno");
    if (err)
        cb_int(&b, err);
    else
        cb_null(&b);
    cb_text(&b, "errno_name");
    if (err && errno_name(err))
        cb_text(&b, errno_name(err));
    else
        cb_null(&b);
    cb_text(&b, "message");
    cb_text(&b, message);
    cb_text(&b, "stage");
    if (stage)
        cb_text(&b, stage);
    else
        cb_null(&b);
    send_msg(id, T_EXEC_FAILED, &b);
    buf_free(&b);
    logmsg("exec %u failed: %s", id, message);
}

/* ---- environment ---- */

typedef struct {
    char **v;
    int n, cap;
} strvec_t;

static void sv_push(strvec_t *s, char *x)
{
    if (s->n + 2 > s->cap) {
        s->cap = s->cap ? s->cap * 2 : 32;
        s->v = realloc(s->v, (size_t)s->cap * sizeof(char *));
        if (!s->v)
            abort();
    }
    s->v[s->n++] = x;
    s->v[s->n] = NULL;
}

static void sv_free(strvec_t *s)
{
    for (int i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    memset(s, 0, sizeof(*s));
}

static int key_len(const char *kv)
{
    const char *eq = strchr(kv, '=');
    return eq ? (int)(eq - kv) : -1;
}

/* Sets or replaces KEY=VALUE in env. */
static void env_set(strvec_t *env, char *kv)
{
    int kl = key_len(kv);
    for (int i = 0; i < env->n; i++)
        if (key_len(env->v[i]) == kl && !strncmp(env->v[i], kv, (size_t)kl)) {
            free(env->v[i]);
            env->v[i] = kv;
            return;
        }
    sv_push(env, kv);
}

static const char *env_get(const strvec_t *env, const char *key)
{
    size_t kl = strlen(key);
    for (int i = 0; i < env->n; i++)
        if (!strncmp(env->v[i], key, kl) && env->v[i][kl] == '=')
            return env->v[i] + kl + 1;
    return NULL;
}

/* Finds the program: paths with '/' are used as given, others are looked up
 * on PATH. Returns a new string or NULL (errno set) when nothing matches. */
static __attribute__((noinline)) char *find_program(const char *cmd, const char *path)
{
    if (strchr(cmd, '/'))
        return xstrdup(cmd);
    if (!cmd[0]) {
        errno = ENOENT;
        return NULL;
    }
    char *dup = xstrdup(path ? path : DEFAULT_GUEST_PATH), *save = NULL;
    char *found = NULL;
    int saw_eacces = 0;
    for (char *dir = strtok_r(dup, ":", &save); dir && !found; dir = strtok_r(NULL, ":", &save)) {
        char cand[4096];
        snprintf(cand, sizeof(cand), "%s/%s", dir[0] ? dir : ".", cmd);
        struct stat st;
        if (stat(cand, &st) == 0 && S_ISREG(st.st_mode)) {
            if (access(cand, X_OK) == 0)
                found = xstrdup(cand);
            else
                saw_eacces = 1;
        }
    }
    free(dup);
    if (!found)
        errno = saw_eacces ? EACCES : ENOENT;
    return found;
}

/* ---- child side ---- */

static void __attribute__((noreturn)) child_fail(int errfd, int stage)
{
    int msg[2] = {stage, errno};
    ssize_t w = write(errfd, msg, sizeof(msg));
    (void)w;
    _exit(127);
}

static int drop_cap_sys_admin(void)
{
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        return -1;
    if (prctl(PR_CAPBSET_DROP, CAP_SYS_ADMIN, 0, 0, 0) < 0 && errno != EINVAL)
        return -1;
    struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2];
    if (syscall(SYS_capget, &hdr, data) < 0)
        return -1;
    uint32_t bit = 1u << (CAP_SYS_ADMIN % 32);
    int idx = CAP_SYS_ADMIN / 32;
    data[idx].effective &= ~bit;
    data[idx].permitted &= ~bit;
    data[idx].inheritable &= ~bit;
    return (int)syscall(SYS_capset, &hdr, data);
}

/* ---- spawn ---- */

static int set_nonblock(int fd) { return fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

void exec_handle_request(const msg_t *m, const cb_item *p)
{
    if (find_session(m->id)) {
        send_core_error(m->id, "invalid_session", "an exec session with this id is already running", T_EXEC_REQUEST);
        return;
    }
    session_t *s = NULL;
    for (int i = 0; i < MAX_SESSIONS; i++)
        if (!g_sessions[i].used) {
            s = &g_sessions[i];
            break;
        }
    if (!s) {
        send_exec_failed(m->id, "resource_limit", 0, "too many concurrent exec sessions", "spawn");
        return;
    }

    char msg[1200];
    char *cmd = cb_strdup(cb_get(p, "cmd"));
    if (!cmd) {
        send_core_error(m->id, "invalid_payload", "decode payload for core.exec.request: cmd must be a string",
                        T_EXEC_REQUEST);
        return;
    }
    strvec_t argv = {0}, env = {0};
    sv_push(&argv, xstrdup(cmd));
    const cb_item *args = cb_get(p, "args");
    for (uint64_t i = 0; args && args->type == CB_ARRAY && i < args->u; i++) {
        char *a = cb_strdup(&args->items[i]);
        if (!a) {
            send_exec_failed(m->id, "bad_args", EINVAL, "argument is not a string without NUL", "spawn");
            goto out;
        }
        sv_push(&argv, a);
    }
    for (char **e = environ; e && *e; e++)
        sv_push(&env, xstrdup(*e));
    const cb_item *renv = cb_get(p, "env");
    int req_home = 0, req_path = 0;
    for (uint64_t i = 0; renv && renv->type == CB_ARRAY && i < renv->u; i++) {
        char *kv = cb_strdup(&renv->items[i]);
        if (!kv || key_len(kv) <= 0) {
            free(kv); /* upstream skips entries without '=' */
            continue;
        }
        if (!strncmp(kv, "HOME=", 5))
            req_home = 1;
        if (!strncmp(kv, "PATH=", 5))
            req_path = 1;
        env_set(&env, kv);
    }
    if (req_path) {
        char *p = scripts_path(env_get(&env, "PATH"));
        size_t n = strlen(p) + 6;
        char *kv = xcalloc(n, 1);
        snprintf(kv, n, "PATH=%s", p);
        free(p);
        env_set(&env, kv);
    }

    char *cwd = cb_strdup(cb_get(p, "cwd"));
    if (!cwd && g_config.default_cwd)
        cwd = xstrdup(g_config.default_cwd);
    char *user = cb_strdup(cb_get(p, "user"));
    if (user && !user[0]) {
        free(user);
        user = NULL;
    }
    const char *user_spec = user ? user : g_config.user;
    resolved_user_t ru;
    int switch_user = 0;
    char uerr[300];
    if (user_spec) {
        if (resolve_user(user_spec, &ru, uerr, sizeof(uerr)) < 0) {
            send_exec_failed(m->id, "user_setup_failed", 0, uerr, "resolve_user");
            goto out2;
        }
        switch_user = 1;
    }
    if (!req_home) {
        resolved_user_t home_user;
        const char *home = NULL;
        if (switch_user)
            home = ru.known ? ru.home : NULL;
        else if (resolve_user("0", &home_user, uerr, sizeof(uerr)) == 0 && home_user.known)
            home = home_user.home;
        if (home && home[0]) {
            size_t n = strlen(home) + 6;
            char *kv = xcalloc(n, 1);
            snprintf(kv, n, "HOME=%s", home);
            env_set(&env, kv);
        }
    }

    int tty = 0;
    cb_as_bool(cb_get(p, "tty"), &tty);
    uint64_t rows = 24, cols = 80;
    cb_as_u64(cb_get(p, "rows"), &rows);
    cb_as_u64(cb_get(p, "cols"), &cols);

    struct {
        int id;
        struct rlimit rl;
    } rls[32];
    int nrl = 0;
    const cb_item *rlim = cb_get(p, "rlimits");
    for (uint64_t i = 0; rlim && rlim->type == CB_ARRAY && i < rlim->u && nrl < 32; i++) {
        char *name = cb_strdup(cb_get(&rlim->items[i], "resource"));
        uint64_t soft, hard;
        int id = name ? rlimit_resource_id(name) : -1;
        free(name);
        if (id < 0 || cb_as_u64(cb_get(&rlim->items[i], "soft"), &soft) < 0 ||
            cb_as_u64(cb_get(&rlim->items[i], "hard"), &hard) < 0)
            continue; /* unknown names are filtered, as upstream */
        rls[nrl].id = id;
        rls[nrl].rl.rlim_cur = soft;
        rls[nrl].rl.rlim_max = hard;
        nrl++;
    }

    char *prog = find_program(cmd, env_get(&env, "PATH"));
    if (!prog) {
        int e = errno;
        if (e == ENOENT)
            snprintf(msg, sizeof(msg), "command not found: %s", cmd);
        else
            snprintf(msg, sizeof(msg), "cannot execute %s: %s", cmd, strerror(e));
        send_exec_failed(m->id, classify(STAGE_EXEC, e), e, msg, "execvp");
        goto out2;
    }

    int inp[2] = {-1, -1}, outp[2] = {-1, -1}, errp[2] = {-1, -1}, ep[2] = {-1, -1};
    int master = -1, slave = -1;
    if (tty) {
        struct winsize ws = {(unsigned short)rows, (unsigned short)cols, 0, 0};
        if (openpty(&master, &slave, NULL, NULL, &ws) < 0) {
            int e = errno;
            snprintf(msg, sizeof(msg), "failed to allocate a PTY: %s", strerror(e));
            send_exec_failed(m->id, "pty_setup_failed", e, msg, "openpty");
            free(prog);
            goto out2;
        }
        fcntl(master, F_SETFD, FD_CLOEXEC);
        fcntl(slave, F_SETFD, FD_CLOEXEC);
    } else if (pipe2(inp, O_CLOEXEC) < 0 || pipe2(outp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) {
        int e = errno;
        snprintf(msg, sizeof(msg), "failed to create pipes: %s", strerror(e));
        send_exec_failed(m->id, classify(0, e), e, msg, "pipe");
        free(prog);
        for (int i = 0; i < 2; i++) {
            if (inp[i] >= 0) close(inp[i]);
            if (outp[i] >= 0) close(outp[i]);
            if (errp[i] >= 0) close(errp[i]);
        }
        goto out2;
    }
    if (pipe2(ep, O_CLOEXEC) < 0) {
        int e = errno;
        snprintf(msg, sizeof(msg), "failed to create error pipe: %s", strerror(e));
        send_exec_failed(m->id, classify(0, e), e, msg, "pipe");
        free(prog);
        goto out2;
    }

    /* vfork: the child borrows the agent's memory until execve instead of copying its page tables (and then
     * taking copy-on-write faults in the agent), which under software emulation is most of a command's start-up.
     * The child only makes system calls and exits through child_fail/_exit; the agent has no signal handlers
     * (signals arrive on a signalfd), so unmasking in the child runs none of its code. */
    pid_t pid = vfork();
    if (pid == 0) {
        sigset_t all;
        sigemptyset(&all);
        sigprocmask(SIG_SETMASK, &all, NULL);
        signal(SIGPIPE, SIG_DFL);
        close(ep[0]);
        if (setsid() < 0)
            child_fail(ep[1], STAGE_SETSID);
        if (tty) {
            if (ioctl(slave, TIOCSCTTY, 0) < 0)
                child_fail(ep[1], STAGE_PTY);
            if (dup2(slave, 0) < 0 || dup2(slave, 1) < 0 || dup2(slave, 2) < 0)
                child_fail(ep[1], STAGE_PTY);
        } else {
            if (dup2(inp[0], 0) < 0 || dup2(outp[1], 1) < 0 || dup2(errp[1], 2) < 0)
                child_fail(ep[1], STAGE_EXEC);
        }
        if (cwd && chdir(cwd) < 0)
            child_fail(ep[1], STAGE_CHDIR);
        if (g_config.restricted && drop_cap_sys_admin() < 0)
            child_fail(ep[1], STAGE_SECURITY);
        if (switch_user) {
            if (setgroups((size_t)ru.ngroups, ru.groups) < 0 || setgid(ru.gid) < 0 || setuid(ru.uid) < 0)
                child_fail(ep[1], STAGE_USER);
        }
        for (int i = 0; i < nrl; i++)
            if (setrlimit(rls[i].id, &rls[i].rl) < 0)
                child_fail(ep[1], STAGE_RLIMIT);
        execve(prog, argv.v, env.v);
        child_fail(ep[1], STAGE_EXEC);
    }
    int fork_errno = errno;
    close(ep[1]);
    if (tty) {
        close(slave);
    } else {
        close(inp[0]);
        close(outp[1]);
        close(errp[1]);
    }
    if (pid < 0) {
        snprintf(msg, sizeof(msg), "fork failed: %s", strerror(fork_errno));
        send_exec_failed(m->id, classify(0, fork_errno), fork_errno, msg, "fork");
        close(ep[0]);
        if (tty)
            close(master);
        else {
            close(inp[1]);
            close(outp[0]);
            close(errp[0]);
        }
        free(prog);
        goto out2;
    }

    int info[2];
    ssize_t r;
    do
        r = read(ep[0], info, sizeof(info));
    while (r < 0 && errno == EINTR);
    close(ep[0]);
    free(prog);
    if (r == (ssize_t)sizeof(info)) {
        int st;
        waitpid(pid, &st, 0);
        if (tty)
            close(master);
        else {
            close(inp[1]);
            close(outp[0]);
            close(errp[0]);
        }
        int stage = info[0], e = info[1];
        if (stage == STAGE_CHDIR)
            snprintf(msg, sizeof(msg), "cannot change to working directory %s: %s", cwd ? cwd : "", strerror(e));
        else if (stage == STAGE_USER)
            snprintf(msg, sizeof(msg), "cannot switch to user %s: %s", user_spec ? user_spec : "", strerror(e));
        else if (stage == STAGE_EXEC && e == ENOENT)
            snprintf(msg, sizeof(msg), "command not found: %s", cmd);
        else
            snprintf(msg, sizeof(msg), "failed to start %s (%s): %s", cmd, stage_name(stage), strerror(e));
        send_exec_failed(m->id, classify(stage, e), e, msg, stage_name(stage));
        goto out2;
    }

    memset(s, 0, sizeof(*s));
    s->used = 1;
    s->id = m->id;
    s->pid = pid;
    s->tty = tty;
    if (tty) {
        set_nonblock(master);
        s->in_fd = master;
        s->out_fd = master;
        s->err_fd = -1;
    } else {
        set_nonblock(inp[1]);
        set_nonblock(outp[0]);
        set_nonblock(errp[0]);
        /* bigger pipes mean fewer producer/agent switches for bulk output */
        fcntl(outp[0], F_SETPIPE_SZ, 1 << 20);
        fcntl(errp[0], F_SETPIPE_SZ, 1 << 20);
        s->in_fd = inp[1];
        s->out_fd = outp[0];
        s->err_fd = errp[0];
    }
    buf_init(&s->pending);

    buf_t b;
    buf_init(&b);
    cb_map(&b, 1);
    cb_text(&b, "pid");
    cb_uint(&b, (uint64_t)pid);
    send_msg(m->id, T_EXEC_STARTED, &b);
    buf_free(&b);

out2:
    free(cwd);
    free(user);
out:
    free(cmd);
    sv_free(&argv);
    sv_free(&env);
}

/* ---- stdin ---- */

static void close_stdin(session_t *s)
{
    if (s->tty || s->in_fd < 0)
        return;
    close(s->in_fd);
    s->in_fd = -1;
    buf_free(&s->pending);
}

static void send_stdin_error(session_t *s, int e)
{
    buf_t b;
    buf_init(&b);
    char message[200];
    snprintf(message, sizeof(message), "write to stdin failed: %s", strerror(e));
    cb_map(&b, 3);
    cb_text(&b, "errno");
    cb_int(&b, e);
    cb_text(&b, "errno_name");
    if (errno_name(e))
        cb_text(&b, errno_name(e));
    else
        cb_null(&b);
    cb_text(&b, "message");
    cb_text(&b, message);
    send_msg(s->id, T_EXEC_STDIN_ERROR, &b);
    buf_free(&b);
}

/* Writes as much pending stdin as the pipe takes now. */
static void flush_stdin(session_t *s)
{
    while (s->in_fd >= 0 && s->pending.len) {
        ssize_t w = write(s->in_fd, s->pending.data, s->pending.len);
        if (w > 0) {
            buf_consume(&s->pending, (size_t)w);
            continue;
        }
        if (w < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        int e = w < 0 ? errno : EPIPE;
        send_stdin_error(s, e);
        buf_free(&s->pending);
        if (!s->tty) {
            close(s->in_fd);
            s->in_fd = -1;
        }
        return;
    }
    if (s->eof_requested && !s->pending.len)
        close_stdin(s);
}

void exec_handle_stdin(const msg_t *m, const cb_item *p)
{
    session_t *s = find_session(m->id);
    if (!s)
        return;
    const cb_item *d = cb_get(p, "data");
    if (!d || (d->type != CB_BYTES && d->type != CB_ARRAY)) {
        send_core_error(m->id, "invalid_payload", "decode payload for core.exec.stdin: data must be bytes",
                        T_EXEC_STDIN);
        return;
    }
    size_t len = d->type == CB_BYTES ? d->len : (size_t)d->u;
    if (len == 0) {
        s->eof_requested = 1;
        flush_stdin(s);
        return;
    }
    if (s->in_fd < 0) {
        send_stdin_error(s, EPIPE);
        return;
    }
    if (d->type == CB_BYTES)
        buf_append(&s->pending, d->ptr, d->len);
    else
        for (uint64_t i = 0; i < d->u; i++) {
            uint8_t c = (uint8_t)d->items[i].u;
            buf_append(&s->pending, &c, 1);
        }
    flush_stdin(s);
}

void exec_handle_signal(const msg_t *m, const cb_item *p)
{
    session_t *s = find_session(m->id);
    int64_t sig;
    if (!s || cb_as_i64(cb_get(p, "signal"), &sig) < 0 || sig < 1 || sig > 64)
        return;
    if (kill(-s->pid, (int)sig) < 0)
        kill(s->pid, (int)sig);
}

void exec_handle_resize(const msg_t *m, const cb_item *p)
{
    session_t *s = find_session(m->id);
    uint64_t rows, cols;
    if (!s || !s->tty || cb_as_u64(cb_get(p, "rows"), &rows) < 0 || cb_as_u64(cb_get(p, "cols"), &cols) < 0)
        return;
    struct winsize ws = {(unsigned short)rows, (unsigned short)cols, 0, 0};
    ioctl(s->out_fd, TIOCSWINSZ, &ws);
}

void exec_terminate_all(int sig)
{
    for (int i = 0; i < MAX_SESSIONS; i++)
        if (g_sessions[i].used && !g_sessions[i].exited)
            kill(-g_sessions[i].pid, sig);
}

/* ---- output and exit ---- */

void exec_on_child_exit(pid_t pid, int status)
{
    for (int i = 0; i < MAX_SESSIONS; i++)
        if (g_sessions[i].used && g_sessions[i].pid == pid && !g_sessions[i].exited) {
            g_sessions[i].exited = 1;
            g_sessions[i].status = status;
            return;
        }
    /* orphans re-parented to PID 1 are simply reaped */
}

static void read_output(session_t *s, int which)
{
    int *fdp = which == 1 ? &s->out_fd : &s->err_fd;
    static uint8_t chunk[READ_CHUNK];
    /* one read per poll round keeps sessions fair and respects back-pressure */
    ssize_t n = read(*fdp, chunk, sizeof(chunk));
    if (n > 0) {
        buf_t b;
        buf_init(&b);
        buf_reserve(&b, (size_t)n + 16);
        cb_map(&b, 1);
        cb_text(&b, "data");
        cb_bytes(&b, chunk, (size_t)n);
        send_msg(s->id, which == 1 ? T_EXEC_STDOUT : T_EXEC_STDERR, &b);
        buf_free(&b);
        g_ctr_exec_bytes += (uint64_t)n;
        return;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    /* EOF, or EIO from a PTY master whose slave side is gone */
    if (s->tty) {
        close(s->out_fd);
        s->out_fd = -1;
        s->in_fd = -1;
    } else {
        close(*fdp);
        *fdp = -1;
    }
}

static struct {
    int idx;
    int which; /* 0 stdin, 1 stdout, 2 stderr */
} g_map[512];

int exec_poll_fill(struct pollfd *pfds, int max, int allow_output)
{
    int n = 0;
    for (int i = 0; i < MAX_SESSIONS && n + 3 <= max && n + 3 <= 512; i++) {
        session_t *s = &g_sessions[i];
        if (!s->used)
            continue;
        if (allow_output && s->out_fd >= 0) {
            pfds[n] = (struct pollfd){s->out_fd, POLLIN, 0};
            g_map[n].idx = i;
            g_map[n++].which = 1;
        }
        if (allow_output && s->err_fd >= 0) {
            pfds[n] = (struct pollfd){s->err_fd, POLLIN, 0};
            g_map[n].idx = i;
            g_map[n++].which = 2;
        }
        if (s->in_fd >= 0 && s->pending.len) {
            pfds[n] = (struct pollfd){s->in_fd, POLLOUT, 0};
            g_map[n].idx = i;
            g_map[n++].which = 0;
        }
    }
    return n;
}

void exec_poll_handle(struct pollfd *pfds, int n)
{
    for (int k = 0; k < n; k++) {
        if (!pfds[k].revents)
            continue;
        session_t *s = &g_sessions[g_map[k].idx];
        if (!s->used)
            continue;
        if (g_map[k].which == 0) {
            if (s->tty) {
                /* the master is also the output fd: never close it from here */
                if (pfds[k].revents & (POLLERR | POLLHUP))
                    buf_free(&s->pending);
                else
                    flush_stdin(s);
            } else if (pfds[k].revents & (POLLERR | POLLHUP)) {
                if (s->pending.len)
                    send_stdin_error(s, EPIPE);
                buf_free(&s->pending);
                close(s->in_fd);
                s->in_fd = -1;
            } else {
                flush_stdin(s);
            }
        } else if (g_map[k].which == 1 && s->out_fd == pfds[k].fd) {
            read_output(s, 1);
        } else if (g_map[k].which == 2 && s->err_fd == pfds[k].fd) {
            read_output(s, 2);
        }
    }
}

void exec_finish_ready(void)
{
    for (int i = 0; i < MAX_SESSIONS; i++) {
        session_t *s = &g_sessions[i];
        if (!s->used || !s->exited || s->out_fd >= 0 || s->err_fd >= 0)
            continue;
        int code = WIFEXITED(s->status) ? WEXITSTATUS(s->status) : -1;
        buf_t b;
        buf_init(&b);
        cb_map(&b, 1);
        cb_text(&b, "code");
        cb_int(&b, code);
        send_msg(s->id, T_EXEC_EXITED, &b);
        buf_free(&b);
        if (!s->tty && s->in_fd >= 0)
            close(s->in_fd);
        buf_free(&s->pending);
        memset(s, 0, sizeof(*s));
    }
}
