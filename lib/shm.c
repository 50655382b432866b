/* shm.c: memfd-backed shared mappings kept in a table, so that their fds can be passed to
 * workers that did not fork from this process (see shm.h).
 *
 * Where a region lies matters to a forkserver's worker: it maps the region at the owner's
 * address, in a copy of the server's address space, where anything the server held then
 * (a page of the owner's that the owner later freed and reused, or the server's own
 * memory) may sit. So once a forkserver is wanted (shm_arena_reserve, before the server
 * forks), regions are carved from an arena: address space reserved with PROT_NONE and no
 * memory behind it, which the kernel gives to no other mapping, in the owner or in the
 * server. A region given back becomes reservation again. The server turns the regions it
 * inherited into reservation too (shm_forget_all). A worker may then map over any part of
 * either (shm_reserved), and over nothing else. */
#define _GNU_SOURCE
#include "shm.h"

#include <errno.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

/* The table: live mappings and their memfds. The lock guards every entry and the arena;
 * it is held only while an entry is added, removed or copied, or a gap chosen (never
 * across a system call that waits). */
static pthread_mutex_t shm_lock = PTHREAD_MUTEX_INITIALIZER;
static struct shm_region table[SHM_MAX];
static int used;

/* The arena (0 bytes when there is none), and in a forkserver the regions it inherited
 * and keeps reserved. */
#define ARENA_MAX ((size_t)64 << 30)
#define ARENA_MIN ((size_t)64 << 20)
static uintptr_t arena;
static size_t arena_len;
struct span {
    uintptr_t addr;
    size_t len;
};
static struct span kept[SHM_MAX];
static int nkept;
/* Gaps of the arena claimed by a shm_map still mapping (outside the lock), and how many
 * shm_map calls are between the two holds of the lock (each will need an entry). */
static struct span claim[SHM_MAX];
static int nclaim, inflight;

static size_t page_round(size_t len)
{
    size_t pg = (size_t)sysconf(_SC_PAGESIZE);
    return (len + pg - 1) / pg * pg;
}

/* Makes [p, p+len) reservation: no access, no memory behind it. 0, or -1 with errno. */
static int reserve_at(uintptr_t p, size_t len)
{
    void *r = mmap((void *)p, len, PROT_NONE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
    return r == MAP_FAILED ? -1 : 0;
}

/* Does [base, base+blen) hold all of [p, p+len)? */
static int contains(uintptr_t base, size_t blen, uintptr_t p, size_t len)
{
    return p >= base && len <= blen && p - base <= blen - len;
}

static int in_arena(uintptr_t p, size_t len)
{
    return arena_len && contains(arena, arena_len, p, len);
}

/* If [a, a+n) overlaps [*at, *at+len), moves *at past it and returns 1. */
static int skip(uintptr_t *at, size_t len, uintptr_t a, size_t n)
{
    if (a < *at + len && a + n > *at) {
        *at = a + n;
        return 1;
    }
    return 0;
}

/* With shm_lock held: the lowest gap of len bytes (page-rounded) in the arena that no
 * entry of the table and no claim covers, or 0. */
static uintptr_t arena_gap(size_t len)
{
    uintptr_t at = arena, end = arena + arena_len;
    for (;;) {
        if (at > end || len > end - at)
            return 0;
        int moved = 0;
        for (int i = 0; i < used; i++)
            moved |= skip(&at, len, (uintptr_t)table[i].addr, page_round((size_t)table[i].len));
        for (int i = 0; i < nclaim; i++)
            moved |= skip(&at, len, claim[i].addr, claim[i].len);
        if (!moved)
            return at;
    }
}

int shm_arena_reserve(void)
{
    pthread_mutex_lock(&shm_lock);
    int rc = 0;
    if (!arena_len) {
        size_t len = ARENA_MAX;
        struct rlimit rl;
        /* Under an address-space limit, take at most a quarter of it. */
        if (getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
            rl.rlim_cur / 4 < len)
            len = page_round((size_t)(rl.rlim_cur / 4));
        void *p = MAP_FAILED;
        for (; len >= ARENA_MIN; len /= 2)
            if ((p = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                          -1, 0)) != MAP_FAILED)
                break;
        if (p == MAP_FAILED) {
            rc = -ENOMEM;
        } else {
            arena = (uintptr_t)p;
            arena_len = len;
        }
    }
    pthread_mutex_unlock(&shm_lock);
    return rc;
}

void shm_arena_leave(void)
{
    pthread_mutex_lock(&shm_lock);
    arena_len = 0;   /* the reservation stays, unused */
    pthread_mutex_unlock(&shm_lock);
}

int shm_reserved(uint64_t addr, uint64_t len)
{
    uintptr_t p = (uintptr_t)addr;
    size_t n = page_round((size_t)len);
    pthread_mutex_lock(&shm_lock);
    int yes = in_arena(p, n);
    for (int i = 0; i < nkept && !yes; i++)
        yes = contains(kept[i].addr, kept[i].len, p, n);
    pthread_mutex_unlock(&shm_lock);
    return yes;
}

/* Gives [p, p+len) back: to the arena as reservation, or to the kernel. */
static void release(uintptr_t p, size_t len)
{
    size_t n = page_round(len);
    if (in_arena(p, n) && reserve_at(p, n) == 0)
        return;
    munmap((void *)p, n);
    if (in_arena(p, n)) {
        /* No reservation there any more: the kernel may hand the hole out, so carve no
         * more from this arena. */
        arena_len = 0;
    }
}

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
    /* Claim a gap of the arena, map there outside the lock, then enter the region. */
    size_t n = page_round(len);
    uintptr_t at = 0;
    pthread_mutex_lock(&shm_lock);
    if (used + inflight == SHM_MAX) {
        pthread_mutex_unlock(&shm_lock);
        close(fd);
        errno = EMFILE;
        return NULL;
    }
    inflight++;
    if (arena_len && (at = arena_gap(n)))
        claim[nclaim++] = (struct span){ at, n };
    pthread_mutex_unlock(&shm_lock);
    void *p = mmap((void *)at, len, PROT_READ | PROT_WRITE, mf | (at ? MAP_FIXED : 0), fd, 0);
    int e = errno;
    pthread_mutex_lock(&shm_lock);
    inflight--;
    for (int i = 0; at && i < nclaim; i++)
        if (claim[i].addr == at) {
            claim[i] = claim[--nclaim];
            break;
        }
    if (p == MAP_FAILED && at)
        release(at, len);   /* a failed MAP_FIXED may have taken the reservation away */
    if (p != MAP_FAILED)
        table[used++] = (struct shm_region){ (uint64_t)(uintptr_t)p, len, fd };
    pthread_mutex_unlock(&shm_lock);
    if (p == MAP_FAILED) {
        close(fd);
        errno = e;
        return NULL;
    }
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
    release((uintptr_t)p, len ? len : 1);
    pthread_mutex_unlock(&shm_lock);
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
    nkept = 0;
    for (int i = 0; i < used + nclaim; i++) {
        /* Each region (and each gap being mapped) becomes reservation; outside the
         * arena it is listed, so that a worker may map there. */
        struct span s = i < used ? (struct span){ (uintptr_t)table[i].addr,
                                                  page_round((size_t)table[i].len) }
                                 : claim[i - used];
        if (i < used)
            close(table[i].fd);
        if (reserve_at(s.addr, s.len) != 0)
            release(s.addr, s.len);
        else if (!in_arena(s.addr, s.len))
            kept[nkept++] = s;
    }
    used = nclaim = inflight = 0;
    pthread_mutex_unlock(&shm_lock);
}
