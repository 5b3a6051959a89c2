// annals-bench-raw: the physical limit of annalsd's write path. In-process,
// no gRPC, no validation, no writer queue: N threads each write WriteBatches
// of --batch events straight into a RocksDB database laid out like annalsd's
// log (storage/format.h), with the same column families and options and the
// same durability (WriteOptions::sync, one fsync per RocksDB write group).
//
//   annals-bench-raw --dir /tmp/raw --concurrency 64 --batch 1 --duration 5s
//
// Per event it writes what annalsd writes:
//   events      BE64 position -> chain hash[32] || stored RecordedEvent
//   streams     dyad || 0x00 || BE64 version -> BE64 position
//   event_ids   id -> BE64 position
//   merkle      the subtrees of 4+ leaves it completes (~1/2 per event)
// and per WriteBatch the meta head (head_position, head_hash,
// merkle_frontier). With --projection (the default) it also writes the
// relationship projector's keys of a plain event as annalsd wrote them on
// 2026-12-05, when the benchmark's targets were set against this limit
// (services/relationships/projector.h has what it writes now: two timeline
// entries, not four, and no refill entry per tag): per event four timeline
// entries (whole log, source, target, dyad), one history entry and three
// refill index entries (the meeting, its two tags); per call (one dyad) the
// dyad's state (--state-bytes) and its two ordering keys, replacing the
// previous two (two deletes).
//
// What it leaves out: reading back a stream's version and the event ids
// (annalsd caches versions and asks the bloom filter about ids), the chain
// order of hashes across threads (each hash is a real SHA-256 of the stored
// bytes, but chained per thread), and the projector's reads of the state.
// Positions come from an atomic counter: unique, not in commit order.
//
// RocksDB runs in this process, its background threads too: the CPU per
// event it reports (cpu_us.client, clients/bench/driver.h) is all the
// work, the database's included.
#include <atomic>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "clients/bench/driver.h"
#include "clients/cli/dashed_flags.h"
#include "rocksdb/db.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/options.h"
#include "rocksdb/table.h"
#include "rocksdb/write_batch.h"
#include "storage/format.h"
#include "storage/hash_chain.h"
#include "storage/rocks_event_log.h"

ABSL_FLAG(std::string, dir, "", "Database directory (required; created).");
ABSL_FLAG(int, concurrency, 8, "Writer threads.");
ABSL_FLAG(int, batch, 1, "Events per WriteBatch.");
ABSL_FLAG(absl::Duration, duration, absl::Seconds(5), "How long.");
ABSL_FLAG(bool, sync, true, "WriteOptions::sync (annalsd --durability sync).");
ABSL_FLAG(bool, projection, true,
          "Also write the relationship projector's keys.");
ABSL_FLAG(int, state_bytes, 1024,
          "Size of the dyad state the projection rewrites per event.");
ABSL_FLAG(std::string, scenario, "raw_append", "Name on the output line.");

namespace annals::bench {
namespace {

namespace format = storage::format;
using format::ColumnFamily;

class RawLog {
 public:
  static std::unique_ptr<RawLog> Open(const std::string& path) {
    // Exactly as the event log opens its database (annalsd's defaults).
    const storage::RocksOptions rocks =
        storage::EventLogRocksOptions(storage::LogOptions(), nullptr);
    auto log = std::unique_ptr<RawLog>(new RawLog);
    rocksdb::DB* db = nullptr;
    rocksdb::Status s = rocksdb::DB::Open(rocks.db, path, rocks.column_families,
                                          &log->handles_, &db);
    if (!s.ok()) {
      std::fprintf(stderr, "annals-bench-raw: cannot open %s: %s\n",
                   path.c_str(), s.ToString().c_str());
      return nullptr;
    }
    log->db_.reset(db);
    return log;
  }

  ~RawLog() {
    for (rocksdb::ColumnFamilyHandle* h : handles_) {
      db_->DestroyColumnFamilyHandle(h).PermitUncheckedError();
    }
  }

  rocksdb::ColumnFamilyHandle* Cf(ColumnFamily cf) const {
    return handles_[static_cast<int>(cf)];
  }
  rocksdb::DB* db() const { return db_.get(); }

 private:
  RawLog() = default;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
};

rocksdb::Slice Key(absl::string_view key) {
  return rocksdb::Slice(key.data(), key.size());
}

// A frontier value of a tree of `size` leaves: BE64 size, then one hash per
// set bit (storage/merkle.h's EncodeFrontier layout).
std::string FrontierValue(uint64_t size, const std::string& hash) {
  std::string value = format::EncodeBigEndian64(size);
  for (uint64_t s = size; s != 0; s &= s - 1) value += hash;
  return value;
}

int Main() {
  const std::string dir = absl::GetFlag(FLAGS_dir);
  if (dir.empty()) {
    std::fprintf(stderr, "annals-bench-raw: --dir is required\n");
    return 2;
  }
  const int concurrency = std::max(1, absl::GetFlag(FLAGS_concurrency));
  const int batch = std::max(1, absl::GetFlag(FLAGS_batch));
  const bool projection = absl::GetFlag(FLAGS_projection);
  const std::string state(std::max(0, absl::GetFlag(FLAGS_state_bytes)), 's');
  std::unique_ptr<RawLog> log = RawLog::Open(dir);
  if (log == nullptr) return 1;

  const std::string run_id = DefaultRunId();
  std::atomic<uint64_t> next_position{1};
  std::vector<std::atomic<uint64_t>> versions(kNumDyads);
  std::vector<std::string> chain(concurrency, storage::ZeroHash());
  rocksdb::WriteOptions write;
  write.sync = absl::GetFlag(FLAGS_sync);

  auto call = [&](int t, int i) -> absl::Status {
    const int n = t * 7919 + i;
    const std::string stream = DyadOf(n);
    const uint64_t first = next_position.fetch_add(batch);
    const uint64_t version = versions[DyadIndexOf(n)].fetch_add(batch) + 1;
    auto [a, b] = CountriesOf(n);
    rocksdb::WriteBatch wb;
    std::string& hash = chain[t];
    for (int k = 0; k < batch; ++k) {
      const uint64_t position = first + k;
      const std::string id = EventId(run_id, t, i, k);
      const std::string stored =
          StoredBytes(MakeEvent(id, n), position, stream, version + k);
      hash = storage::ChainHash(hash, stored);
      const std::string pos = format::EncodeBigEndian64(position);
      wb.Put(log->Cf(ColumnFamily::kEvents), format::EventKey(position),
             format::EventValue(hash, stored));
      wb.Put(log->Cf(ColumnFamily::kStreams),
             format::StreamKey(stream, version + k), pos);
      wb.Put(log->Cf(ColumnFamily::kEventIds), id, pos);
      // Merkle: the leaf hash, then each perfect subtree it completes from
      // level kMerkleFirstStoredLevel up (the lower ones are not stored).
      const uint64_t leaf = position - 1;
      // Hashed as annalsd hashes it (for its frontier), not stored.
      const std::string leaf_hash = storage::Sha256(stored);
      if (leaf_hash.empty()) return absl::InternalError("no leaf hash");
      for (int level = 1; ((leaf + 1) & ((uint64_t{1} << level) - 1)) == 0;
           ++level) {
        if (level < format::kMerkleFirstStoredLevel) continue;
        wb.Put(log->Cf(ColumnFamily::kMerkle),
               format::MerkleKey(level, ((leaf + 1) >> level) - 1), hash);
      }
      if (projection) {
        const uint32_t date = static_cast<uint32_t>(
            (1990 + n % 35) * 10000 + (1 + n % 12) * 100 + 1 + n % 28);
        for (const std::string& subject :
             {std::string(), std::string(kCountries[a]),
              std::string(kCountries[b]), stream}) {
          wb.Put(log->Cf(ColumnFamily::kDyadTimeline),
                 format::TimelineKey(subject, date, date, position),
                 format::TimelineValue(position, v1::Event::kMeeting));
        }
        wb.Put(log->Cf(ColumnFamily::kDyadTimeline),
               format::HistoryKey(stream, position), rocksdb::Slice());
        // The refill index (services/relationships/projector.cc): a meeting
        // that took place, and each of the event's two tags.
        for (const auto& [facet, field] :
             {std::pair<char, std::string>{'m', ""}, {'t', "diplomacy"},
              {'t', "security"}}) {
          std::string key = stream;
          key.push_back('\0');
          key.push_back(0x03);
          key.push_back(facet);
          if (!field.empty()) {
            format::PutBigEndian32(&key, static_cast<uint32_t>(field.size()));
            key.append(field);
          }
          format::PutBigEndian32(&key, date);
          format::PutBigEndian32(&key, date);
          key.append(id);
          wb.Put(log->Cf(ColumnFamily::kDyadTimeline), key, pos);
        }
      }
    }
    // The projector writes a dyad's state and its ordering keys once per
    // commit group; every event of a call is of one dyad.
    if (projection) {
      const uint32_t date = static_cast<uint32_t>(
          (1990 + n % 35) * 10000 + (1 + n % 12) * 100 + 1 + n % 28);
      {
        wb.Put(log->Cf(ColumnFamily::kRelationships), stream, state);
        wb.Delete(log->Cf(ColumnFamily::kRelationships),
                  format::ByActivityKey(date - 1, stream));
        wb.Delete(log->Cf(ColumnFamily::kRelationships),
                  format::ByIndexKey(0, stream));
        wb.Put(log->Cf(ColumnFamily::kRelationships),
               format::ByActivityKey(date, stream), rocksdb::Slice());
        wb.Put(log->Cf(ColumnFamily::kRelationships),
               format::ByIndexKey(static_cast<int32_t>(n % 100), stream),
               rocksdb::Slice());
      }
    }
    const uint64_t head = first + batch - 1;
    wb.Put(log->Cf(ColumnFamily::kMeta), Key(format::kMetaHeadPosition),
           format::EncodeBigEndian64(head));
    wb.Put(log->Cf(ColumnFamily::kMeta), Key(format::kMetaHeadHash), hash);
    wb.Put(log->Cf(ColumnFamily::kMeta), Key(format::kMetaMerkleFrontier),
           FrontierValue(head, hash));
    rocksdb::Status s = log->db()->Write(write, &wb);
    if (!s.ok()) return absl::InternalError(s.ToString());
    return absl::OkStatus();
  };
  RunResult r =
      RunLoop(concurrency, batch, absl::GetFlag(FLAGS_duration), call);
  return Report(absl::GetFlag(FLAGS_scenario), concurrency, batch, r);
}

}  // namespace
}  // namespace annals::bench

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "annals-bench-raw --dir DIR [--concurrency N] [--batch N] "
      "[--duration D] [--sync] [--projection]");
  std::vector<std::string> storage = annals::UnderscoreFlagNames(argc, argv);
  absl::ParseCommandLine(argc, argv);
  return annals::bench::Main();
}
