/* Files: read-only maps, whole-file reads, atomic writes, free space. */
#include "xuan/base.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

/* Reads the file into fresh anonymous pages, then makes them read-only. */
static int read_anon(int fd, uint64_t size, const char *path, void **out, xuan_error *err) {
    void *p = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return xuan_fail(err, XUAN_ERR_NOMEM, "%s: cannot allocate %.2f GiB to read it into: %s (try without --no-mmap)",
                         path, (double)size / (1u << 30), strerror(errno));
    uint64_t done = 0;
    while (done < size) {
        size_t want = size - done > (1u << 30) ? (1u << 30) : (size_t)(size - done);
        ssize_t r = pread(fd, (uint8_t *)p + done, want, (off_t)done);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            const char *why = r < 0 ? strerror(errno) : "the file shrank";
            munmap(p, (size_t)size);
            return xuan_fail(err, XUAN_ERR_IO, "%s: read failed at byte %llu of %llu: %s", path,
                             (unsigned long long)done, (unsigned long long)size, why);
        }
        done += (uint64_t)r;
    }
    mprotect(p, (size_t)size, PROT_READ);
    *out = p;
    return 0;
}

/* Locks the pages; a refusal is a warning that says what to raise. */
static bool lock_pages(const void *p, uint64_t size, const char *path) {
    if (mlock(p, (size_t)size) == 0) return true;
    int e = errno;
    struct rlimit rl = {0};
    getrlimit(RLIMIT_MEMLOCK, &rl);
    char lim[32];
    if (rl.rlim_cur == RLIM_INFINITY) snprintf(lim, sizeof lim, "unlimited");
    else snprintf(lim, sizeof lim, "%.1f MiB", (double)rl.rlim_cur / (1u << 20));
    xuan_log(XUAN_LOG_WARN,
             "%s: cannot lock %.2f GiB in memory (%s; RLIMIT_MEMLOCK is %s): the weights stay unlocked; "
             "raise the limit ('ulimit -l unlimited', or memlock in /etc/security/limits.conf) or use --no-mmap",
             path, (double)size / (1u << 30), strerror(e), lim);
    return false;
}

int xuan_map_file_ex(xuan_map *m, const char *path, unsigned flags, xuan_error *err) {
    *m = (xuan_map){.fd = -1};
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return xuan_fail(err, XUAN_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return xuan_fail(err, XUAN_ERR_IO, "%s: cannot stat: %s", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return xuan_fail(err, XUAN_ERR_IO, "%s: not a regular file", path);
    }
    if (st.st_size > 0) {
        void *p = NULL;
        if (flags & XUAN_MAP_READ) {
            int rc = read_anon(fd, (uint64_t)st.st_size, path, &p, err);
            if (rc) {
                close(fd);
                return rc;
            }
            m->anon = true;
        } else {
            p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
            if (p == MAP_FAILED) {
                int e = errno;
                close(fd);
                return xuan_fail(err, XUAN_ERR_IO, "%s: cannot map: %s", path, strerror(e));
            }
        }
        m->data = p;
        if (flags & XUAN_MAP_LOCK) m->locked = lock_pages(p, (uint64_t)st.st_size, path);
    }
    m->size = (uint64_t)st.st_size;
    m->fd = fd;
    return 0;
}

int xuan_map_file(xuan_map *m, const char *path, xuan_error *err) { return xuan_map_file_ex(m, path, 0, err); }

uint64_t xuan_major_faults(void) {
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
    return (uint64_t)ru.ru_majflt;
}

void xuan_unmap(xuan_map *m) {
    if (m->data) munmap((void *)m->data, (size_t)m->size); /* also unlocks */
    if (m->fd >= 0) close(m->fd);
    *m = (xuan_map){.fd = -1};
}

int xuan_read_file(const char *path, uint64_t max_bytes, char **out, size_t *out_len,
                   xuan_error *err) {
    *out = NULL;
    if (out_len) *out_len = 0;
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f) return xuan_fail(err, XUAN_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    xuan_buf b = {0};
    char chunk[65536];
    size_t n;
    int rc = 0;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (b.len + n > max_bytes) {
            rc = xuan_fail(err, XUAN_ERR_FORMAT, "%s: larger than the limit of %llu bytes", path,
                           (unsigned long long)max_bytes);
            break;
        }
        if (xuan_buf_append(&b, chunk, n)) {
            rc = xuan_fail(err, XUAN_ERR_NOMEM, "%s: out of memory reading file", path);
            break;
        }
    }
    if (!rc && ferror(f)) rc = xuan_fail(err, XUAN_ERR_IO, "%s: read error", path);
    if (f != stdin) fclose(f);
    if (rc) {
        xuan_buf_free(&b);
        return rc;
    }
    if (!b.data && xuan_buf_append(&b, "", 0)) return xuan_fail(err, XUAN_ERR_NOMEM, "out of memory");
    *out = b.data;
    if (out_len) *out_len = b.len;
    return 0;
}

int xuan_write_file_atomic(const char *path, const void *data, size_t len, xuan_error *err) {
    xuan_buf tmp = {0};
    if (xuan_buf_printf(&tmp, "%s.tmp.%ld", path, (long)getpid()))
        return xuan_fail(err, XUAN_ERR_NOMEM, "out of memory");
    int fd = open(tmp.data, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int rc = 0;
    if (fd < 0) {
        rc = xuan_fail(err, XUAN_ERR_IO, "%s: cannot create: %s", tmp.data, strerror(errno));
        goto done;
    }
    const uint8_t *p = data;
    size_t left = len;
    while (left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            rc = xuan_fail(err, XUAN_ERR_IO, "%s: write failed: %s", tmp.data, strerror(errno));
            break;
        }
        p += w;
        left -= (size_t)w;
    }
    if (!rc && fsync(fd) != 0)
        rc = xuan_fail(err, XUAN_ERR_IO, "%s: fsync failed: %s", tmp.data, strerror(errno));
    close(fd);
    if (!rc && rename(tmp.data, path) != 0)
        rc = xuan_fail(err, XUAN_ERR_IO, "%s: rename failed: %s", path, strerror(errno));
    if (rc) unlink(tmp.data);
done:
    xuan_buf_free(&tmp);
    return rc;
}

bool xuan_file_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

int64_t xuan_disk_free(const char *path) {
    struct statvfs vs;
    if (statvfs(path, &vs) != 0) {
        char copy[4096];
        snprintf(copy, sizeof copy, "%s", path);
        if (statvfs(dirname(copy), &vs) != 0) return -1;
    }
    return (int64_t)((uint64_t)vs.f_bavail * (uint64_t)vs.f_frsize);
}
