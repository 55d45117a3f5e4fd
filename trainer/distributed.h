// Internal to trainer/: data parallelism across processes with PyTorch's own c10d Gloo process group
// (FileStore or TCPStore rendezvous). Live only with -DVERITY_C10D_GLOO, which CMake sets (with torch's
// USE_C10D_GLOO) when it finds the c10d and gloo headers; without it a world size above 1 throws a clear
// error and a world of 1 runs as before.
#pragma once
#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

namespace verity::trainer {

class Distributed {
 public:
  // world == 1: no process group, every collective is the identity. `rendezvous`: a directory (a
  // c10d::FileStore file "c10d-store" inside it) or host:port (c10d::TCPStore, rank 0 serves).
  Distributed(int rank, int world, const std::string& rendezvous);
  ~Distributed();
  int rank() const { return rank_; }
  int world() const { return world_; }
  bool active() const { return world_ > 1; }
  // Every rank gets the sum over ranks of `values` (float64).
  std::vector<double> sum(const std::vector<double>& values);
  // Sums the gradients of `params` over ranks (undefined gradients count as zeros), in one flat buffer.
  void sum_gradients(const std::vector<torch::Tensor>& params);
  // Copies rank 0's tensors to every rank (parameters, and anything else that must start identical).
  void broadcast(const std::vector<torch::Tensor>& tensors);
  // Rows of `width` doubles from every rank, concatenated in rank order (ranks may send different counts).
  std::vector<double> all_gather_rows(const std::vector<double>& rows, int width);

 private:
  int rank_ = 0, world_ = 1;
  struct Group;
  std::unique_ptr<Group> group_;
};

}  // namespace verity::trainer
