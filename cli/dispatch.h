// Commands that run in a sibling binary: `verity train|eval|curriculum|runtime|experiment` in
// `verity-train`, the only one that links libtorch (Debian's libtorch pulls in ~280 shared libraries
// and costs seconds at start-up), and `verity serve` in `verity-serve`, the only one that links
// cpp-httplib (with OpenSSL and, for the curriculum, SQLite, it was 55% of the instructions of every
// other command's start-up). Keeping them out of `verity` keeps generate/score/list instant.
#pragma once

namespace verity::cli {

// The sibling binary that runs `command`, or nullptr when `verity` runs it itself.
const char* sibling_binary(const char* command);
// Replaces this process with the sibling binary (next to this one) and the same arguments; returns
// only on failure (exit code).
int exec_sibling(const char* binary, int argc, char** argv);

}  // namespace verity::cli
