#!/usr/bin/env python3
"""The C++ trainer's model in Python PyTorch (Debian's python3-torch), for bench/trainer_compare.sh.

Same architecture as trainer/model.cpp (pre-LayerNorm blocks, fused qkv, hand-written attention with an
additive mask, RoPE / learned / sinusoidal / no positions, GELU MLP, untied output head), same batch
shapes, same token ids, same measurements as bench/trainer_bench.cpp: training tokens/s (forward,
cross-entropy, backward, Adam) and greedy sampling tokens/s with and without a KV cache. Prints one JSON
object; every figure is the best of --repeats timed runs.
"""
import argparse
import json
import math
import os
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as the C++ side: BLAS pool 1, torch intra-op N
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402


def inv_freq(dim):
    return torch.pow(10000.0, -torch.arange(0, dim, 2, dtype=torch.float) / dim)


def rotate(x, cos, sin):
    h = x.size(-1) // 2
    x1, x2 = x[..., :h], x[..., h:]
    return torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], -1)


class Block(nn.Module):
    def __init__(self, width, heads):
        super().__init__()
        self.heads, self.head_dim = heads, width // heads
        self.ln1, self.ln2 = nn.LayerNorm(width), nn.LayerNorm(width)
        self.qkv, self.proj = nn.Linear(width, 3 * width), nn.Linear(width, width)
        self.fc1, self.fc2 = nn.Linear(width, 4 * width), nn.Linear(4 * width, width)

    def forward(self, x, cos, sin, mask, cache=None, layer=0):
        B, T, C = x.shape
        qkv = self.qkv(self.ln1(x)).view(B, T, 3, self.heads, self.head_dim).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        if cos is not None:
            q, k = rotate(q, cos, sin), rotate(k, cos, sin)
        if cache is not None:
            if cache[0][layer] is not None:
                k = torch.cat([cache[0][layer], k], 2)
                v = torch.cat([cache[1][layer], v], 2)
            cache[0][layer], cache[1][layer] = k, v
        att = torch.matmul(q, k.transpose(-2, -1)) * (1.0 / math.sqrt(self.head_dim)) + mask
        y = torch.matmul(torch.softmax(att, -1), v).transpose(1, 2).reshape(B, T, C)
        h = x + self.proj(y)
        return h + self.fc2(F.gelu(self.fc1(self.ln2(h))))


class GPT(nn.Module):
    def __init__(self, vocab, layers, width, heads, pos, max_len=1024):
        super().__init__()
        self.pos_kind, self.width, self.heads, self.max_len = pos, width, heads, max_len
        self.tok = nn.Embedding(vocab, width)
        self.pos = nn.Embedding(max_len, width) if pos == "learned" else None
        self.blocks = nn.ModuleList(Block(width, heads) for _ in range(layers))
        self.lnf = nn.LayerNorm(width)
        self.head = nn.Linear(width, vocab, bias=False)

    def forward(self, tokens, positions, key_valid, cache=None):
        B, T = tokens.shape
        Tk = key_valid.size(1)
        x = self.tok(tokens)
        cos = sin = None
        if self.pos_kind == "learned":
            x = x + self.pos(positions.clamp(0, self.max_len - 1))
        elif self.pos_kind == "sinusoidal":
            ang = positions.float().unsqueeze(-1) * inv_freq(self.width)
            x = x + torch.cat([ang.sin(), ang.cos()], -1)
        elif self.pos_kind == "rope":
            ang = (positions.float().unsqueeze(-1) * inv_freq(self.width // self.heads)).unsqueeze(1)
            cos, sin = ang.cos(), ang.sin()
        qi = torch.arange(Tk - T, Tk).unsqueeze(1)
        kj = torch.arange(0, Tk).unsqueeze(0)
        allowed = (kj <= qi).unsqueeze(0) & key_valid.unsqueeze(1)
        mask = torch.zeros(B, 1, T, Tk).masked_fill(~allowed.unsqueeze(1), -1e9)
        for i, b in enumerate(self.blocks):
            x = b(x, cos, sin, mask, cache, i)
        return self.head(self.lnf(x))


def lcg_tokens(rows, length, vocab, seed):
    """The same ids as tokens() in bench/trainer_bench.cpp."""
    x, out = seed, []
    for _ in range(rows):
        row = []
        for _ in range(length):
            x = (x * 6364136223846793005 + 1442695040888963407) % (1 << 64)
            row.append(4 + (x >> 33) % (vocab - 4))
        out.append(row)
    return torch.tensor(out, dtype=torch.long)


def fit(model, batch, steps, lr):
    B, T = batch.shape
    pos = torch.arange(T).unsqueeze(0).expand(B, T)
    valid = torch.ones(B, T, dtype=torch.bool)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    for _ in range(steps):
        logits = model(batch, pos, valid)
        loss = F.cross_entropy(logits[:, :-1].reshape(-1, logits.size(2)), batch[:, 1:].reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        loss.item()


@torch.no_grad()
def generate(model, prompts, max_new, use_cache):
    """Greedy decoding of equal-length prompts, as sample() in trainer/model.cpp."""
    B, P = prompts.shape
    tokens, valid = prompts, torch.ones(B, P, dtype=torch.bool)
    positions = torch.arange(P).unsqueeze(0).expand(B, P)
    cache = [[None] * len(model.blocks), [None] * len(model.blocks)] if use_cache else None
    logits = model(tokens, positions, valid, cache)
    last_pos = positions[:, -1]
    for step in range(max_new):
        nxt = logits[:, -1].argmax(-1)
        if step + 1 == max_new:
            break
        last_pos = last_pos + 1
        valid = torch.cat([valid, torch.ones(B, 1, dtype=torch.bool)], 1)
        nt = nxt.unsqueeze(1)
        if use_cache:
            logits = model(nt, last_pos.unsqueeze(1), valid, cache)
        else:
            tokens = torch.cat([tokens, nt], 1)
            positions = torch.cat([positions, last_pos.unsqueeze(1)], 1)
            logits = model(tokens, positions, valid)


def blas_in_use():
    """As runtime_summary() in C++: OpenBLAS's own config string when the loaded BLAS is OpenBLAS."""
    import ctypes
    with open("/proc/self/maps") as maps:
        libs = sorted({line.split()[-1] for line in maps if "blas" in line.lower() and ".so" in line})
    for lib in libs:
        try:
            f = ctypes.CDLL(lib).openblas_get_config
            f.restype = ctypes.c_char_p
            return f().decode()  # "OpenBLAS 0.3.21 ..."
        except (AttributeError, OSError):
            continue
    return "reference BLAS (" + ", ".join(libs) + ")"


def best_seconds(repeats, f):
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        f()
        best = min(best, time.perf_counter() - t0)
    return best


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    for name, default in [("layers", 2), ("width", 64), ("heads", 4), ("vocab", 320), ("batch", 32), ("seq", 64),
                          ("train-steps", 20), ("prompt", 48), ("new", 32), ("threads", 1), ("repeats", 3)]:
        ap.add_argument("--" + name, type=int, default=default)
    ap.add_argument("--pos", default="rope")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    model = GPT(a.vocab, a.layers, a.width, a.heads, a.pos)
    batch = lcg_tokens(a.batch, a.seq, a.vocab, 1)
    fit(model, batch, 2, 1e-3)  # warm-up
    train_s = best_seconds(a.repeats, lambda: fit(model, batch, a.train_steps, 1e-3))
    prompts = lcg_tokens(a.batch, a.prompt, a.vocab, 2)
    generate(model, prompts, 2, True)  # warm-up
    cache_s = best_seconds(a.repeats, lambda: generate(model, prompts, a.new, True))
    nocache_s = best_seconds(a.repeats, lambda: generate(model, prompts, a.new, False))
    blas = blas_in_use()
    print(json.dumps({
        "impl": "python",
        "runtime": f"torch {torch.__version__}, {torch.get_num_threads()} threads, {blas}",
        "parameters": sum(p.numel() for p in model.parameters()),
        "train_tokens_per_s": a.batch * a.seq * a.train_steps / train_s,
        "sample_cache_tokens_per_s": a.batch * a.new / cache_s,
        "sample_nocache_tokens_per_s": a.batch * a.new / nocache_s,
    }))


if __name__ == "__main__":
    main()
