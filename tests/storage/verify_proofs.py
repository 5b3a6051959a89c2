#!/usr/bin/env python3
"""Independent checker of annals' Merkle proofs (RFC 6962 / RFC 9162).

Written apart from storage/merkle.cc, with hashlib only. Reads a file of
lines written by tests/storage/merkle_test.cc:

    leaf <index> <hex data>           the leaves, in order
    root <size> <hex root>            annals' root of the first <size> leaves
    incl <index> <size> <hex,hex,...> annals' audit path ("-" when empty)
    cons <old> <new> <hex,hex,...>    annals' consistency proof ("-" if empty)

For every line it recomputes the answer from the RFC 6962 definitions
(MTH, PATH, PROOF) and also runs the RFC 9162 verification algorithms on
annals' proof. Prints "OK <count>" and exits 0, or prints the first
mismatch and exits 1.
"""
import hashlib
import sys
from functools import lru_cache


def sha(b):
    return hashlib.sha256(b).digest()


def main(path):
    leaves = []
    checks = []
    with open(path) as f:
        for line in f:
            parts = line.split()
            if not parts:
                continue
            if parts[0] == "leaf":
                assert int(parts[1]) == len(leaves)
                leaves.append(bytes.fromhex(parts[2]) if len(parts) > 2 else b"")
            else:
                checks.append(parts)
    leaf_hashes = [sha(b"\x00" + d) for d in leaves]

    @lru_cache(maxsize=None)
    def mth(lo, hi):
        n = hi - lo
        if n == 0:
            return sha(b"")
        if n == 1:
            return leaf_hashes[lo]
        k = 1
        while k * 2 < n:
            k *= 2
        return sha(b"\x01" + mth(lo, lo + k) + mth(lo + k, hi))

    def path_of(m, lo, hi):
        n = hi - lo
        if n == 1:
            return []
        k = 1
        while k * 2 < n:
            k *= 2
        if m < k:
            return path_of(m, lo, lo + k) + [mth(lo + k, hi)]
        return path_of(m - k, lo + k, hi) + [mth(lo, lo + k)]

    def subproof(m, lo, hi, b):
        n = hi - lo
        if m == n:
            return [] if b else [mth(lo, hi)]
        k = 1
        while k * 2 < n:
            k *= 2
        if m <= k:
            return subproof(m, lo, lo + k, b) + [mth(lo + k, hi)]
        return subproof(m - k, lo + k, hi, False) + [mth(lo, lo + k)]

    def verify_inclusion(index, size, leaf, proof, root):
        if index >= size:
            return False
        fn, sn, r = index, size - 1, leaf
        for p in proof:
            if sn == 0:
                return False
            if fn & 1 or fn == sn:
                r = sha(b"\x01" + p + r)
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
            else:
                r = sha(b"\x01" + r + p)
            fn >>= 1
            sn >>= 1
        return sn == 0 and r == root

    def verify_consistency(m, n, proof, old_root, new_root):
        if m == n:
            return not proof and old_root == new_root
        if not proof:
            return False
        if m & (m - 1) == 0:
            proof = [old_root] + proof
        fn, sn = m - 1, n - 1
        while fn & 1:
            fn >>= 1
            sn >>= 1
        fr = sr = proof[0]
        for c in proof[1:]:
            if sn == 0:
                return False
            if fn & 1 or fn == sn:
                fr = sha(b"\x01" + c + fr)
                sr = sha(b"\x01" + c + sr)
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
            else:
                sr = sha(b"\x01" + sr + c)
            fn >>= 1
            sn >>= 1
        return sn == 0 and fr == old_root and sr == new_root

    def hashes(field):
        return [] if field == "-" else [bytes.fromhex(h) for h in field.split(",")]

    for parts in checks:
        kind = parts[0]
        if kind == "root":
            size, got = int(parts[1]), bytes.fromhex(parts[2])
            if got != mth(0, size):
                print("root of size %d differs" % size)
                return 1
        elif kind == "incl":
            index, size, got = int(parts[1]), int(parts[2]), hashes(parts[3])
            if got != path_of(index, 0, size):
                print("inclusion proof of leaf %d in size %d differs from PATH" % (index, size))
                return 1
            if not verify_inclusion(index, size, leaf_hashes[index], got, mth(0, size)):
                print("inclusion proof of leaf %d in size %d does not verify" % (index, size))
                return 1
        elif kind == "cons":
            m, n, got = int(parts[1]), int(parts[2]), hashes(parts[3])
            if got != subproof(m, 0, n, True):
                print("consistency proof %d -> %d differs from PROOF" % (m, n))
                return 1
            if not verify_consistency(m, n, got, mth(0, m), mth(0, n)):
                print("consistency proof %d -> %d does not verify" % (m, n))
                return 1
        else:
            print("unknown line kind %r" % kind)
            return 1
    print("OK %d" % len(checks))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
