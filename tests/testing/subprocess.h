// Running the real binaries from tests: start a process in the background,
// or run one to completion and capture its output and exit code.
#ifndef ANNALS_TESTS_TESTING_SUBPROCESS_H_
#define ANNALS_TESTS_TESTING_SUBPROCESS_H_

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace annals::testing {

struct RunResult {
  int exit_code = -1;  // -1 when killed by a signal
  std::string out;
  std::string err;
};

inline std::string ReadFileOrEmpty(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// What a child's environment holds beyond this process's.
struct ChildEnvironment {
  // "NAME=VALUE" entries, replacing this process's of the same name.
  std::vector<std::string> set;
  // The name of a variable to set to the child's own pid, as systemd sets
  // WATCHDOG_PID for a service: only the child knows it before it runs its
  // program. Empty: none.
  std::string pid_variable;
};

// The environment of a child: this process's with `env` applied. The last
// entry is pid_variable's, its value 20 spaces to be overwritten.
inline std::vector<std::string> ChildEnvironmentEntries(
    const ChildEnvironment& env) {
  std::vector<std::string> entries;
  auto name_of = [](const std::string& entry) {
    return entry.substr(0, entry.find('='));
  };
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry = *e;
    bool replaced = name_of(entry) == env.pid_variable;
    for (const std::string& set : env.set) {
      replaced = replaced || name_of(set) == name_of(entry);
    }
    if (!replaced) entries.push_back(entry);
  }
  entries.insert(entries.end(), env.set.begin(), env.set.end());
  if (!env.pid_variable.empty()) {
    entries.push_back(env.pid_variable + "=" + std::string(20, ' '));
  }
  return entries;
}

// Starts `argv` with stdin from `stdin_path` ("" for /dev/null) and stdout
// and stderr appended to the given files, its environment this process's
// with `env` applied. Returns the pid, or -1.
inline pid_t Spawn(const std::vector<std::string>& argv,
                   const std::string& stdin_path, const std::string& out_path,
                   const std::string& err_path,
                   const ChildEnvironment& env = {}) {
  std::vector<std::string> entries = ChildEnvironmentEntries(env);
  std::vector<char*> envp;
  for (std::string& entry : entries) envp.push_back(entry.data());
  envp.push_back(nullptr);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  if (!env.pid_variable.empty()) {
    // fork, then only async-signal-safe calls until execve: this process
    // has threads. The pid is written into the entry's room by hand.
    const int in = ::open(stdin_path.empty() ? "/dev/null" : stdin_path.c_str(),
                          O_RDONLY | O_CLOEXEC);
    const int out =
        ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    const int err =
        ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    char* room = envp[envp.size() - 2] + env.pid_variable.size() + 1;
    const pid_t pid = (in < 0 || out < 0 || err < 0) ? -1 : fork();
    if (pid == 0) {
      char digits[20];
      int n = 0;
      for (pid_t own = getpid(); own > 0; own /= 10) {
        digits[n++] = static_cast<char>('0' + own % 10);
      }
      for (int i = 0; i < n; ++i) room[i] = digits[n - 1 - i];
      room[n] = '\0';
      if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0) _exit(127);
      execve(args[0], args.data(), envp.data());
      _exit(127);
    }
    for (int fd : {in, out, err}) {
      if (fd >= 0) ::close(fd);
    }
    return pid;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(
      &actions, 0, stdin_path.empty() ? "/dev/null" : stdin_path.c_str(),
      O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0644);
  pid_t pid = -1;
  if (posix_spawn(&pid, args[0], &actions, nullptr, args.data(),
                  envp.data()) != 0) {
    pid = -1;
  }
  posix_spawn_file_actions_destroy(&actions);
  return pid;
}

// Waits for `pid`; its exit code, or -1 when a signal ended it.
inline int WaitExit(pid_t pid) {
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// Runs `argv` to completion with `stdin_path` as its input; output captured
// through files in `scratch_dir`, removed once read.
inline RunResult RunProcess(const std::vector<std::string>& argv,
                     const std::string& scratch_dir,
                     const std::string& stdin_path = "") {
  static int counter = 0;
  const std::string base =
      scratch_dir + "/run" + std::to_string(getpid()) + "_" + std::to_string(++counter);
  RunResult result;
  const pid_t pid = Spawn(argv, stdin_path, base + ".out", base + ".err");
  if (pid < 0) return result;
  result.exit_code = WaitExit(pid);
  result.out = ReadFileOrEmpty(base + ".out");
  result.err = ReadFileOrEmpty(base + ".err");
  std::remove((base + ".out").c_str());
  std::remove((base + ".err").c_str());
  return result;
}

// An annalsd started by StartAnnalsd.
struct StartedServer {
  pid_t pid = -1;       // -1 when it could not be spawned
  std::string port;     // the port it bound, "" when it did not start
  std::string address;  // "127.0.0.1:<port>"
  std::string error;    // why it did not start (with its log); "" when it did
  int exit_code = 0;    // when it exited before serving: its code, -1 on a signal
};

// Starts the annalsd binary at `annalsd` listening on `listen` over
// `dir`/data, with `flags` added, its output in `dir`/annalsd.{out,log},
// and waits up to 20 s for the port it writes to `dir`/port (removed
// first). The caller stops `pid` whether or not it started.
inline StartedServer StartAnnalsd(const std::string& annalsd,
                                  const std::string& dir,
                                  const std::vector<std::string>& flags = {},
                                  const std::string& listen = "127.0.0.1:0") {
  const std::string port_file = dir + "/port";
  const std::string log = dir + "/annalsd.log";
  std::remove(port_file.c_str());
  std::vector<std::string> argv = {annalsd,        "--listen",    listen,
                                   "--data-dir",   dir + "/data", "--port-file",
                                   port_file};
  argv.insert(argv.end(), flags.begin(), flags.end());
  StartedServer server;
  server.pid = Spawn(argv, "", dir + "/annalsd.out", log);
  if (server.pid < 0) {
    server.error = "annalsd could not be spawned";
    return server;
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    const std::string port = ReadFileOrEmpty(port_file);
    if (!port.empty() && port.back() == '\n') {
      server.port = port.substr(0, port.size() - 1);
      server.address = "127.0.0.1:" + server.port;
      return server;
    }
    int status = 0;
    if (waitpid(server.pid, &status, WNOHANG) != 0) {
      server.pid = -1;
      server.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      server.error = "annalsd exited early: " + ReadFileOrEmpty(log);
      return server;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  server.error = "annalsd did not start within 20 s: " + ReadFileOrEmpty(log);
  return server;
}

// Waits up to `limit` (20 s) for `done`, asking every 20 ms: for what a
// real process does in its own time.
template <typename Done>
bool Eventually(Done done,
                std::chrono::seconds limit = std::chrono::seconds(20)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

}  // namespace annals::testing

#endif  // ANNALS_TESTS_TESTING_SUBPROCESS_H_
