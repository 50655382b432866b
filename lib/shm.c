/* shm.c: memfd-backed shared mappings kept in a table, so that their fds can be passed to
 * workers that did not fork from this process (see shm.h). */
#define _GNU_SOURCE
#include "shm.h"

#include <errno.h>
#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

/* The table: live mappings and their memfds. The lock guards every entry; it is held only
 * while an entry is added, removed or copied (never across a system call that waits). */
static pthread_mutex_t shm_lock = PTHREAD_MUTEX_INITIALIZER;
static struct shm_region table[SHM_MAX];
static int used;

void *shm_map(size_t len, unsigned flags)
{
    if (len == 0)
        len = 1;
    int fd = memfd_create("parlab-shm", MFD_CLOEXEC);
    if (fd < 0)
        return NULL;
    if (ftruncate(fd, (off_t)len)) {
        int e = errno;
        close(fd);
        errno = e;
        return NULL;
    }
    int mf = MAP_SHARED | (flags & SHM_POPULATE ? MAP_POPULATE : 0) |
             (flags & SHM_NORESERVE ? MAP_NORESERVE : 0);
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, mf, fd, 0);
    if (p == MAP_FAILED) {
        int e = errno;
        close(fd);
        errno = e;
        return NULL;
    }
    pthread_mutex_lock(&shm_lock);
    if (used == SHM_MAX) {
        pthread_mutex_unlock(&shm_lock);
        munmap(p, len);
        close(fd);
        errno = EMFILE;
        return NULL;
    }
    table[used++] = (struct shm_region){ (uint64_t)(uintptr_t)p, len, fd };
    pthread_mutex_unlock(&shm_lock);
    return p;
}

void shm_unmap(void *p, size_t len)
{
    int fd = -1;
    if (!p)
        return;
    pthread_mutex_lock(&shm_lock);
    for (int i = 0; i < used; i++)
        if (table[i].addr == (uint64_t)(uintptr_t)p) {
            fd = table[i].fd;
            len = (size_t)table[i].len;
            table[i] = table[--used];
            break;
        }
    pthread_mutex_unlock(&shm_lock);
    munmap(p, len ? len : 1);
    if (fd >= 0)
        close(fd);
}

int shm_regions(struct shm_region *out, int max)
{
    pthread_mutex_lock(&shm_lock);
    int n = used;
    if (n <= max)
        for (int i = 0; i < n; i++)
            out[i] = table[i];
    pthread_mutex_unlock(&shm_lock);
    return n <= max ? n : -E2BIG;
}

int shm_live(void)
{
    pthread_mutex_lock(&shm_lock);
    int n = used;
    pthread_mutex_unlock(&shm_lock);
    return n;
}

void shm_forget_all(void)
{
    /* Called in a child just forked, which has one thread: a lock another thread of the
     * parent held at the fork would never be released here, so it starts afresh. */
    pthread_mutex_init(&shm_lock, NULL);
    pthread_mutex_lock(&shm_lock);
    for (int i = 0; i < used; i++) {
        munmap((void *)(uintptr_t)table[i].addr, (size_t)table[i].len);
        close(table[i].fd);
    }
    used = 0;
    pthread_mutex_unlock(&shm_lock);
}
