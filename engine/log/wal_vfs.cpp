#include <ethos/log/wal_vfs.hpp>

#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <mutex>
#include <string>

// A shim over SQLite's default VFS that gathers the writes to a WAL file
// into one write per commit.
//
// SQLite appends each WAL frame with two writes, its 24-byte header and its
// page, so a group commit of ten decisions (about 25 pages with the indexes)
// costs some fifty write() calls before its fsync. Here consecutive writes
// to a WAL file collect in a buffer that goes to the file in one pwrite()
// before anything that needs the file to be up to date: a sync (every commit
// syncs, synchronous = FULL), a read, a size, a truncation, a file control,
// a write that does not continue the buffer (a frame rewritten in place, the
// header of a restarted WAL), or close. What reaches the disk, and when it is
// synced, is unchanged: a commit is reported only after xSync, and xSync
// writes the buffer first. A write error that the buffer delayed is
// returned by the call that flushed it, so the commit fails as it would
// have. Other files (the database, its shared memory) pass straight through.
//
// One connection uses a file object from one thread at a time (SQLite's
// rule), so the buffer needs no lock.

namespace ethos::sql {

namespace {

// The unix VFS writes less than 128 KiB per call (it masks the length to 17
// bits), so the buffer goes out in pieces of at most this, and a large
// transaction flushes as it goes.
constexpr size_t kPiece = 64 * 1024;

struct ShimFile {
  sqlite3_file base;   // base.pMethods = &kMethods; must come first
  sqlite3_file* real;  // the default VFS's file, in the same allocation, after this struct
  bool wal;
  std::string* pending;  // WAL only: bytes not yet written, starting at `offset`
  sqlite3_int64 offset;
};

std::atomic<unsigned long long> g_asked{0}, g_made{0};

sqlite3_vfs* root() { return static_cast<sqlite3_vfs*>(sqlite3_vfs_find(nullptr)); }

ShimFile* shim(sqlite3_file* f) { return reinterpret_cast<ShimFile*>(f); }

int flush(ShimFile* f) {
  if (!f->wal || f->pending->empty()) return SQLITE_OK;
  const std::string& p = *f->pending;
  int rc = SQLITE_OK;
  for (size_t done = 0; done < p.size() && rc == SQLITE_OK; done += kPiece) {
    size_t n = std::min(kPiece, p.size() - done);
    g_made.fetch_add(1, std::memory_order_relaxed);
    rc = f->real->pMethods->xWrite(f->real, p.data() + done, static_cast<int>(n),
                                   f->offset + static_cast<sqlite3_int64>(done));
  }
  f->pending->clear();
  return rc;
}

int x_close(sqlite3_file* file) {
  ShimFile* f = shim(file);
  int rc = flush(f);
  int rc2 = f->real->pMethods->xClose(f->real);
  delete f->pending;
  f->pending = nullptr;
  return rc != SQLITE_OK ? rc : rc2;
}

int x_read(sqlite3_file* file, void* out, int amount, sqlite3_int64 offset) {
  ShimFile* f = shim(file);
  if (int rc = flush(f); rc != SQLITE_OK) return rc;
  return f->real->pMethods->xRead(f->real, out, amount, offset);
}

int x_write(sqlite3_file* file, const void* data, int amount, sqlite3_int64 offset) {
  ShimFile* f = shim(file);
  if (!f->wal) return f->real->pMethods->xWrite(f->real, data, amount, offset);
  g_asked.fetch_add(1, std::memory_order_relaxed);
  std::string& p = *f->pending;
  if (!p.empty() && offset != f->offset + static_cast<sqlite3_int64>(p.size())) {
    if (int rc = flush(f); rc != SQLITE_OK) return rc;
  }
  if (p.empty()) f->offset = offset;
  p.append(static_cast<const char*>(data), static_cast<size_t>(amount));
  return p.size() >= kPiece ? flush(f) : SQLITE_OK;
}

int x_truncate(sqlite3_file* file, sqlite3_int64 size) {
  ShimFile* f = shim(file);
  if (int rc = flush(f); rc != SQLITE_OK) return rc;
  return f->real->pMethods->xTruncate(f->real, size);
}

int x_sync(sqlite3_file* file, int flags) {
  ShimFile* f = shim(file);
  if (int rc = flush(f); rc != SQLITE_OK) return rc;
  return f->real->pMethods->xSync(f->real, flags);
}

int x_file_size(sqlite3_file* file, sqlite3_int64* size) {
  ShimFile* f = shim(file);
  if (int rc = flush(f); rc != SQLITE_OK) return rc;
  return f->real->pMethods->xFileSize(f->real, size);
}

int x_lock(sqlite3_file* file, int level) {
  return shim(file)->real->pMethods->xLock(shim(file)->real, level);
}
int x_unlock(sqlite3_file* file, int level) {
  return shim(file)->real->pMethods->xUnlock(shim(file)->real, level);
}
int x_check_reserved_lock(sqlite3_file* file, int* out) {
  return shim(file)->real->pMethods->xCheckReservedLock(shim(file)->real, out);
}

int x_file_control(sqlite3_file* file, int op, void* arg) {
  ShimFile* f = shim(file);
  if (int rc = flush(f); rc != SQLITE_OK) return rc;
  return f->real->pMethods->xFileControl(f->real, op, arg);
}

int x_sector_size(sqlite3_file* file) {
  return shim(file)->real->pMethods->xSectorSize(shim(file)->real);
}
int x_device_characteristics(sqlite3_file* file) {
  return shim(file)->real->pMethods->xDeviceCharacteristics(shim(file)->real);
}

int x_shm_map(sqlite3_file* file, int region, int size, int extend, void volatile** out) {
  return shim(file)->real->pMethods->xShmMap(shim(file)->real, region, size, extend, out);
}
int x_shm_lock(sqlite3_file* file, int offset, int n, int flags) {
  return shim(file)->real->pMethods->xShmLock(shim(file)->real, offset, n, flags);
}
void x_shm_barrier(sqlite3_file* file) {
  shim(file)->real->pMethods->xShmBarrier(shim(file)->real);
}
int x_shm_unmap(sqlite3_file* file, int delete_flag) {
  return shim(file)->real->pMethods->xShmUnmap(shim(file)->real, delete_flag);
}
int x_fetch(sqlite3_file* file, sqlite3_int64 offset, int amount, void** out) {
  ShimFile* f = shim(file);
  if (int rc = flush(f); rc != SQLITE_OK) return rc;
  return f->real->pMethods->xFetch(f->real, offset, amount, out);
}
int x_unfetch(sqlite3_file* file, sqlite3_int64 offset, void* p) {
  return shim(file)->real->pMethods->xUnfetch(shim(file)->real, offset, p);
}

const sqlite3_io_methods kMethods = {
    3,
    x_close,
    x_read,
    x_write,
    x_truncate,
    x_sync,
    x_file_size,
    x_lock,
    x_unlock,
    x_check_reserved_lock,
    x_file_control,
    x_sector_size,
    x_device_characteristics,
    x_shm_map,
    x_shm_lock,
    x_shm_barrier,
    x_shm_unmap,
    x_fetch,
    x_unfetch,
};

int x_open(sqlite3_vfs*, const char* name, sqlite3_file* file, int flags, int* out_flags) {
  ShimFile* f = shim(file);
  f->base.pMethods = nullptr;  // SQLite calls no method of a file that failed to open
  f->real = reinterpret_cast<sqlite3_file*>(f + 1);
  f->wal = (flags & SQLITE_OPEN_WAL) != 0;
  f->pending = nullptr;
  f->offset = 0;
  int rc = root()->xOpen(root(), name, f->real, flags, out_flags);
  if (rc != SQLITE_OK) return rc;
  // Every method this shim forwards must exist (the unix VFS has them all).
  if (f->real->pMethods->iVersion < 3) {
    f->real->pMethods->xClose(f->real);
    return SQLITE_CANTOPEN;
  }
  if (f->wal) f->pending = new std::string;
  f->base.pMethods = &kMethods;
  return SQLITE_OK;
}

int x_delete(sqlite3_vfs*, const char* name, int sync_dir) {
  return root()->xDelete(root(), name, sync_dir);
}
int x_access(sqlite3_vfs*, const char* name, int flags, int* out) {
  return root()->xAccess(root(), name, flags, out);
}
int x_full_pathname(sqlite3_vfs*, const char* name, int n, char* out) {
  return root()->xFullPathname(root(), name, n, out);
}
void* x_dl_open(sqlite3_vfs*, const char* name) { return root()->xDlOpen(root(), name); }
void x_dl_error(sqlite3_vfs*, int n, char* out) { root()->xDlError(root(), n, out); }
void (*x_dl_sym(sqlite3_vfs*, void* handle, const char* symbol))(void) {
  return root()->xDlSym(root(), handle, symbol);
}
void x_dl_close(sqlite3_vfs*, void* handle) { root()->xDlClose(root(), handle); }
int x_randomness(sqlite3_vfs*, int n, char* out) { return root()->xRandomness(root(), n, out); }
int x_sleep(sqlite3_vfs*, int us) { return root()->xSleep(root(), us); }
int x_current_time(sqlite3_vfs*, double* out) { return root()->xCurrentTime(root(), out); }
int x_get_last_error(sqlite3_vfs*, int n, char* out) {
  return root()->xGetLastError(root(), n, out);
}
int x_current_time_int64(sqlite3_vfs*, sqlite3_int64* out) {
  return root()->xCurrentTimeInt64(root(), out);
}

}  // namespace

WalWriteCounts wal_write_counts() {
  return {g_asked.load(std::memory_order_relaxed), g_made.load(std::memory_order_relaxed)};
}

const char* wal_coalescing_vfs() {
  static sqlite3_vfs vfs;
  static std::once_flag once;
  static bool ok = false;
  std::call_once(once, [] {
    sqlite3_vfs* r = root();
    if (!r || r->iVersion < 2 || !r->xCurrentTimeInt64) return;
    vfs.iVersion = 2;
    vfs.szOsFile = static_cast<int>(sizeof(ShimFile)) + r->szOsFile;
    vfs.mxPathname = r->mxPathname;
    vfs.zName = "ethos-wal";
    vfs.xOpen = x_open;
    vfs.xDelete = x_delete;
    vfs.xAccess = x_access;
    vfs.xFullPathname = x_full_pathname;
    vfs.xDlOpen = x_dl_open;
    vfs.xDlError = x_dl_error;
    vfs.xDlSym = x_dl_sym;
    vfs.xDlClose = x_dl_close;
    vfs.xRandomness = x_randomness;
    vfs.xSleep = x_sleep;
    vfs.xCurrentTime = x_current_time;
    vfs.xGetLastError = x_get_last_error;
    vfs.xCurrentTimeInt64 = x_current_time_int64;
    ok = sqlite3_vfs_register(&vfs, 0) == SQLITE_OK;
  });
  return ok ? vfs.zName : nullptr;
}

}  // namespace ethos::sql
