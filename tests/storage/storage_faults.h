// Injected storage faults for the storage tests: WAL files that fail
// while told to, and a recorder of what EventLog::WatchWritable reports.
#ifndef ANNALS_TESTS_STORAGE_STORAGE_FAULTS_H_
#define ANNALS_TESTS_STORAGE_STORAGE_FAULTS_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "rocksdb/file_system.h"

namespace annals::storage::testing {

// What an injected fault fails with.
enum class Fault { kNone, kNoSpace, kIoError };

inline rocksdb::IOStatus Injected(Fault fault, const char* what) {
  switch (fault) {
    case Fault::kNone:
      return rocksdb::IOStatus::OK();
    case Fault::kNoSpace:
      return rocksdb::IOStatus::NoSpace(what);
    case Fault::kIoError:
      return rocksdb::IOStatus::IOError(what);
  }
  return rocksdb::IOStatus::OK();
}

// A WAL file that fails every append while its control (`fail`) is set.
class FailingWalFile : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  using Control = std::atomic<Fault>;  // fail
  FailingWalFile(std::unique_ptr<rocksdb::FSWritableFile> file,
                 const std::atomic<Fault>* fail)
      : FSWritableFileOwnerWrapper(std::move(file)), fail_(fail) {}
  rocksdb::IOStatus Append(const rocksdb::Slice& data,
                           const rocksdb::IOOptions& options,
                           rocksdb::IODebugContext* dbg) override {
    if (fail_->load() != Fault::kNone) return Injected(*fail_, "injected fault");
    return target()->Append(data, options, dbg);
  }
  rocksdb::IOStatus Append(const rocksdb::Slice& data,
                           const rocksdb::IOOptions& options,
                           const rocksdb::DataVerificationInfo& info,
                           rocksdb::IODebugContext* dbg) override {
    if (fail_->load() != Fault::kNone) return Injected(*fail_, "injected fault");
    return target()->Append(data, options, info, dbg);
  }

 private:
  const std::atomic<Fault>* fail_;
};

// Wraps the WAL files (*.log) of a database in `WalFile`, each given
// &control (a WalFile::Control).
template <typename WalFile>
class WalFileSystem : public rocksdb::FileSystemWrapper {
 public:
  WalFileSystem() : FileSystemWrapper(rocksdb::FileSystem::Default()) {}
  const char* Name() const override { return "WalFileSystem"; }
  rocksdb::IOStatus NewWritableFile(
      const std::string& name, const rocksdb::FileOptions& options,
      std::unique_ptr<rocksdb::FSWritableFile>* file,
      rocksdb::IODebugContext* dbg) override {
    return Wrap(name, target()->NewWritableFile(name, options, file, dbg),
                file);
  }
  rocksdb::IOStatus ReuseWritableFile(
      const std::string& name, const std::string& old_name,
      const rocksdb::FileOptions& options,
      std::unique_ptr<rocksdb::FSWritableFile>* file,
      rocksdb::IODebugContext* dbg) override {
    return Wrap(name,
                target()->ReuseWritableFile(name, old_name, options, file, dbg),
                file);
  }

  typename WalFile::Control control;

 private:
  rocksdb::IOStatus Wrap(const std::string& name, rocksdb::IOStatus s,
                         std::unique_ptr<rocksdb::FSWritableFile>* file) {
    if (s.ok() && absl::EndsWith(name, ".log")) {
      *file = std::make_unique<WalFile>(std::move(*file), &control);
    }
    return s;
  }
};
using FailingWalFileSystem = WalFileSystem<FailingWalFile>;

// Records every state WatchWritable reports, and waits for one.
class WritableStates {
 public:
  std::function<void(const absl::Status&)> Listener() {
    return [this](const absl::Status& state) {
      absl::MutexLock lock(&mu_);
      states_.push_back(state);
    };
  }
  // Waits (up to 30 s) until the last state reported is OK (or not, and
  // then says `saying`).
  bool WaitUntil(bool writable, absl::string_view saying = "") {
    absl::MutexLock lock(&mu_);
    auto reached = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return !states_.empty() && states_.back().ok() == writable &&
             absl::StrContains(states_.back().message(), saying);
    };
    return mu_.AwaitWithTimeout(absl::Condition(&reached), absl::Seconds(30));
  }
  std::vector<absl::Status> states() {
    absl::MutexLock lock(&mu_);
    return states_;
  }

 private:
  absl::Mutex mu_;
  std::vector<absl::Status> states_ ABSL_GUARDED_BY(mu_);
};

}  // namespace annals::storage::testing

#endif  // ANNALS_TESTS_STORAGE_STORAGE_FAULTS_H_
