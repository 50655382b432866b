/* shm.h: shared memory that can be handed to another process. Every MAP_SHARED mapping
 * that pool workers read (the pool's block, a job's state, its result slots) is made here:
 * a memfd, mapped, and kept in a table with its fd. A forked worker inherits the mapping;
 * a worker that was not forked from the owner of the memory (the forkserver's and spawn's
 * workers, lib/start.c) receives the fds and maps each region at the owner's address, so
 * that pointers into shared memory mean the same in both. */
#ifndef PARLAB_SHM_H
#define PARLAB_SHM_H

#include <stddef.h>
#include <stdint.h>

#define SHM_POPULATE  0x1u   /* take the page faults now (MAP_POPULATE) */
#define SHM_NORESERVE 0x2u   /* a large arena mostly untouched (MAP_NORESERVE) */
#define SHM_MAX 512          /* regions alive at once in one process */

/* Returns len bytes (at least 1) of zeroed shared memory, page aligned, or NULL with
 * errno set (EMFILE when SHM_MAX regions are alive), as malloc does. Free with shm_unmap,
 * which returns nothing and also closes its memfd. Thread-safe. */
void *shm_map(size_t len, unsigned flags);
void shm_unmap(void *p, size_t len);

/* One live region, as a worker not forked from this process must map it. */
struct shm_region {
    uint64_t addr, len;
    int fd;                  /* owned by the table: do not close */
};
/* Copies up to max live regions into out. Returns the number copied, or -E2BIG when there are
 * more. The fds stay valid until shm_unmap of their region. */
int shm_regions(struct shm_region *out, int max);
/* Returns nothing: turns every region into reservation and closes its fd, for a process
 * just forked from the owner that must not hold the owner's regions (the forkserver,
 * forked before the job). Only in a child that has one thread, right after fork(). */
void shm_forget_all(void);
/* Reserves the arena that later regions are carved from (see shm.c), before a forkserver
 * forks: 0, or -ENOMEM when no address space could be reserved (regions then go where
 * the kernel puts them, as before). Once is enough; thread-safe. */
int shm_arena_reserve(void);
/* Returns 1 when [addr, addr+len) lies within address space this process holds as
 * reservation (the arena, or a region a forkserver inherited), so a worker may map a
 * region there with MAP_FIXED; 0 otherwise. */
int shm_reserved(uint64_t addr, uint64_t len);
/* Returns nothing: carves no more regions from the arena, for a worker that mapped its
 * owner's regions there (they are not in its table). */
void shm_arena_leave(void);
/* Returns the number of live regions (tests look for leaks with it). */
int shm_live(void);

#endif
