// The hash chain over the log's stored bytes.
//
//   h_0 = 32 zero bytes
//   h_n = SHA-256(h_{n-1} || stored bytes of position n)
//
// The chain hash of the head commits to every event before it: changing any
// stored byte of any position changes every hash from that position on.
#ifndef ANNALS_STORAGE_HASH_CHAIN_H_
#define ANNALS_STORAGE_HASH_CHAIN_H_

#include <initializer_list>
#include <string>

#include "absl/strings/string_view.h"

namespace annals::storage {

// h_0: 32 zero bytes.
std::string ZeroHash();

// SHA-256 of `data`, 32 bytes.
std::string Sha256(absl::string_view data);

// SHA-256 of pieces[0] || pieces[1] || ..., 32 bytes. Any thread.
std::string Sha256Of(std::initializer_list<absl::string_view> pieces);

// SHA-256(previous || stored): the chain hash of a position whose stored
// bytes are `stored`, given the chain hash of the position before it.
// Requires: previous.size() == 32.
std::string ChainHash(absl::string_view previous, absl::string_view stored);

}  // namespace annals::storage

#endif  // ANNALS_STORAGE_HASH_CHAIN_H_
