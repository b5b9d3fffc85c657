#pragma once

namespace ethos::sql {

// The name of a VFS, registered on first use, that is SQLite's default VFS
// with the writes to each WAL file gathered into one write per commit
// (wal_vfs.cpp says how and why). Null if it could not be registered; the
// caller then uses the default VFS.
const char* wal_coalescing_vfs();

// Since the process started: the writes SQLite asked of WAL files through
// that VFS, and the writes it made to them. For tests.
struct WalWriteCounts {
  unsigned long long asked = 0;
  unsigned long long made = 0;
};
WalWriteCounts wal_write_counts();

}  // namespace ethos::sql
