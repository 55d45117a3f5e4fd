// `verity train|eval|curriculum|runtime ...` run in the sibling binary `verity-train`, the only one
// that links libtorch. Debian's libtorch pulls in ~280 shared libraries (OpenCV, Qt, ffmpeg ...)
// and costs seconds at start-up: keeping it out of `verity` keeps generate/score/list instant.
#pragma once

namespace verity::cli {

bool is_trainer_command(const char* name);
// Replaces this process with verity-train and the same arguments; returns only on failure (exit code).
int exec_trainer(int argc, char** argv);

}  // namespace verity::cli
