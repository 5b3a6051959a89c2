// annals-bench-postgres: the PostgreSQL peer. An event table with the same
// guarantees annals gives an append with expected version "any":
//
//   CREATE TABLE events (position bigserial PRIMARY KEY, stream text NOT NULL,
//     version bigint NOT NULL, id text NOT NULL UNIQUE, data bytea NOT NULL,
//     UNIQUE (stream, version));
//
// --mode transaction (default): one call = one transaction from the client
// (BEGIN; SELECT max(version) of the stream; INSERT the --batch events with
// versions max+1.. in one statement; COMMIT): four round trips. Two
// transactions appending to one stream at once collide on UNIQUE (stream,
// version); the loser rolls back and retries.
//
// --mode function: one call = one round trip, as event stores on
// PostgreSQL run it (Message DB's write_message): SELECT write_events(stream,
// ids, data), a server-side function that takes a transaction-scoped
// advisory lock on the stream, reads its version and inserts the batch, in
// the statement's own transaction. Appends to one stream wait for the lock
// instead of colliding.
//
// Both commit with synchronous_commit on (set per session, whatever the
// server's default). `data` is the same stored RecordedEvent bytes annalsd
// writes (clients/bench/driver.h).
//
//   annals-bench-postgres --conninfo "host=127.0.0.1 port=5499 dbname=bench"
//       --concurrency 64 --batch 1 --duration 5s
//
// Each thread has its own connection. The table is created if missing
// (--reset drops it first). Every connection is made before the measured
// loop; --cpu-pids postgres=POSTMASTER_PID reports the server's CPU per
// event over it, all its processes' (clients/bench/cpu_meter.h).
#include <libpq-fe.h>

#include <atomic>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "clients/bench/driver.h"
#include "clients/cli/dashed_flags.h"

ABSL_FLAG(std::string, conninfo, "host=127.0.0.1 dbname=postgres",
          "libpq connection string.");
ABSL_FLAG(int, concurrency, 8, "Client threads, one connection each.");
ABSL_FLAG(int, batch, 1, "Events per transaction.");
ABSL_FLAG(absl::Duration, duration, absl::Seconds(5), "How long.");
ABSL_FLAG(bool, reset, false, "Drop and recreate the events table first.");
ABSL_FLAG(int, max_retries, 20,
          "Retries of a transaction that lost a (stream, version) race.");
ABSL_FLAG(std::string, scenario, "postgres_append", "Name on the output line.");
ABSL_FLAG(std::string, mode, "transaction",
          "transaction: BEGIN, SELECT, INSERT, COMMIT from the client; "
          "function: one SELECT of a server-side function per append.");

ABSL_FLAG(std::string, cpu_pids, "",
          "LABEL=PID,... of server processes on this machine (the "
          "postmaster) whose CPU, with their descendants', per event of the "
          "measured loop is reported as cpu_us.LABEL, next to this "
          "process's (cpu_us.client).");

namespace annals::bench {
namespace {

struct PgConnDeleter {
  void operator()(PGconn* c) const { PQfinish(c); }
};
using PgConn = std::unique_ptr<PGconn, PgConnDeleter>;

struct PgResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using PgResult = std::unique_ptr<PGresult, PgResultDeleter>;

constexpr const char* kUniqueViolation = "23505";

absl::StatusOr<PgConn> Connect(const std::string& conninfo) {
  PgConn conn(PQconnectdb(conninfo.c_str()));
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    return absl::UnavailableError(
        absl::StrCat("connect: ", PQerrorMessage(conn.get())));
  }
  return conn;
}

// Runs `sql` (no parameters); OK when it returned `expected`.
absl::Status Exec(PGconn* conn, const char* sql,
                  ExecStatusType expected = PGRES_COMMAND_OK) {
  PgResult r(PQexec(conn, sql));
  if (PQresultStatus(r.get()) != expected) {
    return absl::InternalError(
        absl::StrCat(sql, ": ", PQresultErrorMessage(r.get())));
  }
  return absl::OkStatus();
}

// The server-side append of --mode function (Message DB's write_message,
// for a batch): the stream's lock, its version, the rows.
constexpr char kWriteEventsFunction[] =
    "CREATE OR REPLACE FUNCTION write_events(p_stream text, p_ids text[], "
    "p_data bytea[]) RETURNS bigint LANGUAGE plpgsql AS $$ "
    "DECLARE v_version bigint; "
    "BEGIN "
    "PERFORM pg_advisory_xact_lock(hashtextextended(p_stream, 0)); "
    "SELECT coalesce(max(version), 0) INTO v_version FROM events "
    "WHERE stream = p_stream; "
    "INSERT INTO events (stream, version, id, data) "
    "SELECT p_stream, v_version + t.o, t.i, t.d "
    "FROM unnest(p_ids, p_data) WITH ORDINALITY AS t(i, d, o); "
    "RETURN v_version + cardinality(p_ids); "
    "END $$";

absl::Status CreateTable(const std::string& conninfo, bool reset) {
  absl::StatusOr<PgConn> conn = Connect(conninfo);
  if (!conn.ok()) return conn.status();
  if (reset) {
    absl::Status s = Exec(conn->get(), "DROP TABLE IF EXISTS events");
    if (!s.ok()) return s;
  }
  absl::Status created = Exec(conn->get(),
              "CREATE TABLE IF NOT EXISTS events ("
              "position bigserial PRIMARY KEY, stream text NOT NULL, "
              "version bigint NOT NULL, id text NOT NULL UNIQUE, "
              "data bytea NOT NULL, UNIQUE (stream, version))");
  if (!created.ok()) return created;
  return Exec(conn->get(), kWriteEventsFunction);
}

// The array literals of --mode function's parameters: ids as text, data as
// bytea in hex (each element "\\x<hex>": the array literal's backslash
// escapes the bytea's).
std::string TextArray(const std::vector<std::string>& ids) {
  std::string out = "{";
  for (size_t k = 0; k < ids.size(); ++k) {
    absl::StrAppend(&out, k == 0 ? "" : ",", "\"", ids[k], "\"");
  }
  return out + "}";
}
std::string ByteaArray(const std::vector<std::string>& data) {
  std::string out = "{";
  for (size_t k = 0; k < data.size(); ++k) {
    absl::StrAppend(&out, k == 0 ? "" : ",", "\"\\\\x",
                    absl::BytesToHexString(data[k]), "\"");
  }
  return out + "}";
}

// One --mode function append: a single statement, its own transaction.
absl::Status AppendByFunction(PGconn* conn, const std::string& stream,
                              const std::vector<std::string>& ids,
                              const std::vector<std::string>& data) {
  const std::string id_array = TextArray(ids);
  const std::string data_array = ByteaArray(data);
  const char* values[] = {stream.c_str(), id_array.c_str(),
                          data_array.c_str()};
  PgResult r(PQexecParams(conn,
                          "SELECT write_events($1, $2::text[], $3::bytea[])",
                          3, nullptr, values, nullptr, nullptr, 0));
  if (PQresultStatus(r.get()) != PGRES_TUPLES_OK) {
    return absl::InternalError(PQresultErrorMessage(r.get()));
  }
  return absl::OkStatus();
}

// The INSERT of `batch` rows: ($1 stream, $2 first version, then id and data
// per row).
std::string InsertSql(int batch) {
  std::string sql = "INSERT INTO events (stream, version, id, data) VALUES ";
  for (int k = 0; k < batch; ++k) {
    absl::StrAppend(&sql, k == 0 ? "" : ", ", "($1, $2::bigint + ", k, ", $",
                    3 + 2 * k, ", $", 4 + 2 * k, ")");
  }
  return sql;
}

// One transaction appending `ids`/`data` to `stream`. Returns
// AbortedError when it lost a race on (stream, version).
absl::Status AppendOnce(PGconn* conn, const std::string& insert_sql,
                        const std::string& stream,
                        const std::vector<std::string>& ids,
                        const std::vector<std::string>& data) {
  absl::Status s = Exec(conn, "BEGIN");
  if (!s.ok()) return s;
  auto fail = [&](absl::Status status) {
    Exec(conn, "ROLLBACK").IgnoreError();
    return status;
  };
  const char* stream_param[] = {stream.c_str()};
  PgResult max(PQexecParams(
      conn, "SELECT coalesce(max(version), 0) FROM events WHERE stream = $1",
      1, nullptr, stream_param, nullptr, nullptr, 0));
  if (PQresultStatus(max.get()) != PGRES_TUPLES_OK) {
    return fail(absl::InternalError(PQresultErrorMessage(max.get())));
  }
  const std::string first_version =
      absl::StrCat(std::stoll(PQgetvalue(max.get(), 0, 0)) + 1);
  const int n = 2 + 2 * static_cast<int>(ids.size());
  std::vector<const char*> values(n);
  std::vector<int> lengths(n, 0);
  std::vector<int> formats(n, 0);
  values[0] = stream.c_str();
  values[1] = first_version.c_str();
  for (size_t k = 0; k < ids.size(); ++k) {
    values[2 + 2 * k] = ids[k].c_str();
    values[3 + 2 * k] = data[k].data();
    lengths[3 + 2 * k] = static_cast<int>(data[k].size());
    formats[3 + 2 * k] = 1;  // binary bytea
  }
  PgResult insert(PQexecParams(conn, insert_sql.c_str(), n, nullptr,
                               values.data(), lengths.data(), formats.data(),
                               0));
  if (PQresultStatus(insert.get()) != PGRES_COMMAND_OK) {
    const char* state = PQresultErrorField(insert.get(), PG_DIAG_SQLSTATE);
    if (state != nullptr && std::string(state) == kUniqueViolation) {
      return fail(absl::AbortedError(PQresultErrorMessage(insert.get())));
    }
    return fail(absl::InternalError(PQresultErrorMessage(insert.get())));
  }
  return Exec(conn, "COMMIT");
}

int Main() {
  const std::string conninfo = absl::GetFlag(FLAGS_conninfo);
  const int concurrency = std::max(1, absl::GetFlag(FLAGS_concurrency));
  const int batch = std::max(1, absl::GetFlag(FLAGS_batch));
  const int max_retries = absl::GetFlag(FLAGS_max_retries);
  const std::string mode = absl::GetFlag(FLAGS_mode);
  if (mode != "transaction" && mode != "function") {
    std::fprintf(stderr,
                 "annals-bench-postgres: --mode must be 'transaction' or "
                 "'function', got '%s'\n",
                 mode.c_str());
    return 2;
  }
  const bool by_function = mode == "function";
  std::optional<CpuMeter> cpu =
      CpuMeterOf("annals-bench-postgres", absl::GetFlag(FLAGS_cpu_pids));
  if (!cpu.has_value()) return 2;
  if (absl::Status s = CreateTable(conninfo, absl::GetFlag(FLAGS_reset));
      !s.ok()) {
    std::fprintf(stderr, "annals-bench-postgres: %s\n", s.ToString().c_str());
    return 1;
  }
  std::vector<PgConn> conns;
  for (int t = 0; t < concurrency; ++t) {
    absl::StatusOr<PgConn> conn = Connect(conninfo);
    absl::Status s = conn.status();
    if (s.ok()) s = Exec(conn->get(), "SET synchronous_commit = on");
    if (!s.ok()) {
      std::fprintf(stderr, "annals-bench-postgres: %s\n", s.ToString().c_str());
      return 1;
    }
    conns.push_back(*std::move(conn));
  }
  const std::string insert_sql = InsertSql(batch);
  const std::string run_id = DefaultRunId();
  std::atomic<uint64_t> retries{0};
  auto call = [&](int t, int i) -> absl::Status {
    const int n = t * 7919 + i;
    const std::string stream = DyadOf(n);
    std::vector<std::string> ids, data;
    for (int k = 0; k < batch; ++k) {
      ids.push_back(EventId(run_id, t, i, k));
      data.push_back(StoredBytes(MakeEvent(ids.back(), n), 0, stream, 0));
    }
    if (by_function) return AppendByFunction(conns[t].get(), stream, ids, data);
    absl::Status s;
    for (int attempt = 0; attempt <= max_retries; ++attempt) {
      s = AppendOnce(conns[t].get(), insert_sql, stream, ids, data);
      if (!absl::IsAborted(s)) return s;
      retries.fetch_add(1, std::memory_order_relaxed);
    }
    return s;
  };
  RunResult r = RunLoop(concurrency, batch, absl::GetFlag(FLAGS_duration),
                        call, &*cpu);
  std::fprintf(stderr, "annals-bench-postgres: %llu retries after a race\n",
               static_cast<unsigned long long>(retries.load()));
  return Report(absl::GetFlag(FLAGS_scenario), concurrency, batch, r);
}

}  // namespace
}  // namespace annals::bench

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "annals-bench-postgres --conninfo STR [--concurrency N] [--batch N] "
      "[--duration D] [--reset] [--mode transaction|function] "
      "[--cpu-pids LABEL=PID,...]");
  std::vector<std::string> storage = annals::UnderscoreFlagNames(argc, argv);
  absl::ParseCommandLine(argc, argv);
  return annals::bench::Main();
}
