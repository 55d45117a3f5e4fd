// c10d Gloo data parallelism (see distributed.h).
#include "trainer/distributed.h"
#include "trainer/trainer.h"

#include <filesystem>
#include <stdexcept>

#ifdef VERITY_C10D_GLOO
#include <torch/csrc/distributed/c10d/FileStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#endif

namespace verity::trainer {

#ifdef VERITY_C10D_GLOO
struct Distributed::Group {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> pg;
};
#else
struct Distributed::Group {};
#endif

Distributed::Distributed(int rank, int world, const std::string& rendezvous) : rank_(rank), world_(world) {
  if (world < 1 || rank < 0 || rank >= world)
    throw std::invalid_argument("distributed: need 0 <= rank < world_size, got rank " + std::to_string(rank) +
                                " of " + std::to_string(world));
  if (world == 1) return;
#ifdef VERITY_C10D_GLOO
  group_ = std::make_unique<Group>();
  const auto colon = rendezvous.rfind(':');
  if (colon != std::string::npos && !std::filesystem::is_directory(rendezvous)) {
    c10d::TCPStoreOptions o;
    o.port = static_cast<std::uint16_t>(std::stoi(rendezvous.substr(colon + 1)));
    o.isServer = rank == 0;
    o.numWorkers = static_cast<std::size_t>(world);
    group_->store = c10::make_intrusive<c10d::TCPStore>(rendezvous.substr(0, colon), o);
  } else {
    std::filesystem::create_directories(rendezvous);
    group_->store = c10::make_intrusive<c10d::FileStore>(
        (std::filesystem::path(rendezvous) / "c10d-store").string(), world);
  }
  auto opts = c10d::ProcessGroupGloo::Options::create();
  opts->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
  group_->pg = c10::make_intrusive<c10d::ProcessGroupGloo>(group_->store, rank, world, opts);
#else
  (void)rendezvous;
  throw std::runtime_error(
      "world_size " + std::to_string(world) +
      ": this verity-train was built without PyTorch's c10d Gloo headers (install libgloo-dev and rebuild; "
      "CMake then compiles trainer/distributed.cpp with -DUSE_C10D_GLOO -DVERITY_C10D_GLOO)");
#endif
}

Distributed::~Distributed() = default;

bool distributed_available() {
#ifdef VERITY_C10D_GLOO
  return true;
#else
  return false;
#endif
}

std::vector<double> Distributed::sum(const std::vector<double>& values) {
  if (!active() || values.empty()) return values;
#ifdef VERITY_C10D_GLOO
  std::vector<at::Tensor> t{torch::tensor(values, torch::kDouble)};
  group_->pg->allreduce(t)->wait();
  auto c = t[0].contiguous();
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
#else
  return values;
#endif
}

void Distributed::sum_gradients(const std::vector<torch::Tensor>& params) {
  if (!active()) return;
#ifdef VERITY_C10D_GLOO
  torch::NoGradGuard ng;
  std::vector<torch::Tensor> flat;
  for (const auto& p : params)
    flat.push_back(p.grad().defined() ? p.grad().reshape(-1) : torch::zeros({p.numel()}, p.options()));
  std::vector<at::Tensor> t{torch::cat(flat)};
  group_->pg->allreduce(t)->wait();
  int64_t off = 0;
  for (const auto& p : params) {
    auto g = t[0].narrow(0, off, p.numel()).view(p.sizes());
    if (p.grad().defined()) p.mutable_grad().copy_(g);
    else p.mutable_grad() = g.clone();
    off += p.numel();
  }
#endif
}

void Distributed::broadcast(const std::vector<torch::Tensor>& tensors) {
  if (!active() || tensors.empty()) return;
#ifdef VERITY_C10D_GLOO
  torch::NoGradGuard ng;
  std::vector<torch::Tensor> flat;
  for (const auto& p : tensors) flat.push_back(p.detach().reshape(-1).to(torch::kFloat));
  std::vector<at::Tensor> t{torch::cat(flat)};
  group_->pg->broadcast(t)->wait();
  int64_t off = 0;
  for (const auto& p : tensors) {
    p.detach().copy_(t[0].narrow(0, off, p.numel()).view(p.sizes()));
    off += p.numel();
  }
#endif
}

std::vector<double> Distributed::all_gather_rows(const std::vector<double>& rows, int width) {
  if (!active()) return rows;
#ifdef VERITY_C10D_GLOO
  // gloo's allgather needs equal sizes: pad every rank's rows to the largest count
  std::vector<double> counts(static_cast<size_t>(world_), 0.0);
  counts[static_cast<size_t>(rank_)] = double(rows.size() / static_cast<size_t>(width));
  counts = sum(counts);
  int64_t most = 0;
  for (double c : counts) most = std::max<int64_t>(most, int64_t(c));
  auto mine = torch::zeros({most * width}, torch::kDouble);
  if (!rows.empty()) mine.narrow(0, 0, int64_t(rows.size())).copy_(torch::tensor(rows, torch::kDouble));
  std::vector<std::vector<at::Tensor>> out(1);
  for (int r = 0; r < world_; ++r) out[0].push_back(torch::empty({most * width}, torch::kDouble));
  std::vector<at::Tensor> in{mine};
  group_->pg->allgather(out, in)->wait();
  std::vector<double> all;
  for (int r = 0; r < world_; ++r) {
    auto c = out[0][size_t(r)].contiguous();
    const double* d = c.data_ptr<double>();
    all.insert(all.end(), d, d + int64_t(counts[size_t(r)]) * width);
  }
  return all;
#else
  (void)width;
  return rows;
#endif
}

}  // namespace verity::trainer
