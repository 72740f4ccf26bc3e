"""MHFormer (Li et al., CVPR 2022) in PyTorch, written from ../shared/docs/mhformer-reference.md.

The module tree is laid out so that `state_dict()` uses exactly the tensor names of the official
checkpoints (`model_*.pth`), so official weights load with `strict=True` and our trained weights can be
read by any implementation of the official model (the Swift one in Sources/).

Also here: the in-the-wild demo pipeline (`demo_predict`): window per output frame, edge padding,
screen normalisation, flip test-time augmentation, middle frame, root zeroed. It is batched over
output frames, which gives the same numbers as the official one-window-at-a-time loop (eval mode).

Shapes: B batch, T frames (window), J=17 joints, C channel, D d_hid.
"""
import numpy as np
import torch
import torch.nn as nn

# Flip pairs of the Human3.6M-17 order and the demo's screen normalisation live in the numpy-only data module.
from data import JOINTS_LEFT, JOINTS_RIGHT, normalize_screen  # noqa: F401 (re-exported)

N_JOINTS = 17


# --------------------------------------------------------------------------------------------
# Building blocks
# --------------------------------------------------------------------------------------------
class Mlp(nn.Module):
    """Linear -> exact-erf GELU -> Linear (dropout is a no-op in eval, p=0.1 in training)."""

    def __init__(self, dim, hidden, drop=0.1):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()  # approximate='none' (erf), as the official model
        self.fc2 = nn.Linear(hidden, dim)
        self.drop = nn.Dropout(drop)

    def forward(self, x):
        return self.drop(self.fc2(self.drop(self.act(self.fc1(x)))))


def _heads_attention(q, k, v, scale):
    """q, k, v: (B, H, N, d) -> (B, N, H*d). Scale is applied after q @ k^T, as the official code."""
    attn = (q @ k.transpose(-2, -1)) * scale
    attn = attn.softmax(dim=-1)
    out = attn @ v  # (B, H, N, d)
    b, h, n, d = out.shape
    return out.transpose(1, 2).reshape(b, n, h * d)


class Attention(nn.Module):
    """timm-style multi-head self-attention with packed qkv: features [q | k | v], heads contiguous."""

    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.scale = (dim // heads) ** -0.5
        self.qkv = nn.Linear(dim, dim * 3)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):  # x: (B, N, dim)
        b, n, c = x.shape
        qkv = self.qkv(x).reshape(b, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        return self.proj(_heads_attention(qkv[0], qkv[1], qkv[2], self.scale))


class CrossAttention(nn.Module):
    """Attention with separate query / key / value sources (CHI). Output belongs to the value stream."""

    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.scale = (dim // heads) ** -0.5
        self.linear_q = nn.Linear(dim, dim)
        self.linear_k = nn.Linear(dim, dim)
        self.linear_v = nn.Linear(dim, dim)
        self.proj = nn.Linear(dim, dim)

    def _split(self, x):  # (B, N, C) -> (B, H, N, C/H)
        b, n, c = x.shape
        return x.reshape(b, n, self.heads, c // self.heads).permute(0, 2, 1, 3)

    def forward(self, x_q, x_k, x_v):
        q = self._split(self.linear_q(x_q))
        k = self._split(self.linear_k(x_k))
        v = self._split(self.linear_v(x_v))
        return self.proj(_heads_attention(q, k, v, self.scale))


class DropPath(nn.Module):
    """Stochastic depth: drops the whole residual branch per sample in training; identity in eval."""

    def __init__(self, p):
        super().__init__()
        self.p = p

    def forward(self, x):
        if self.p == 0.0 or not self.training:
            return x
        keep = 1.0 - self.p
        mask = x.new_empty((x.shape[0],) + (1,) * (x.dim() - 1)).bernoulli_(keep)
        return x * mask / keep


# --------------------------------------------------------------------------------------------
# MHG: per-coordinate-trajectory transformer (tokens = 34 coordinates, features = T frames)
# --------------------------------------------------------------------------------------------
class EncoderBlock(nn.Module):
    def __init__(self, dim, hidden, heads, drop_path):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = Mlp(dim, hidden)
        self.drop_path = DropPath(drop_path)

    def forward(self, x):
        x = x + self.drop_path(self.attn(self.norm1(x)))
        return x + self.drop_path(self.mlp(self.norm2(x)))


class Encoder(nn.Module):
    """`Transformer(depth=4, embed_dim=T, mlp_hidden=2T, h=9, length=34)`; returns its final-LN output."""

    def __init__(self, frames, depth=4, heads=9, length=2 * N_JOINTS):
        super().__init__()
        self.pos_embed = nn.Parameter(torch.zeros(1, length, frames))
        self.pos_drop = nn.Dropout(0.1)
        rates = [r.item() for r in torch.linspace(0, 0.2, depth)]
        self.blocks = nn.ModuleList([EncoderBlock(frames, 2 * frames, heads, r) for r in rates])
        self.norm = nn.LayerNorm(frames, eps=1e-6)

    def forward(self, x):  # (B, 34, T)
        x = self.pos_drop(x + self.pos_embed)
        for blk in self.blocks:
            x = blk(x)
        return self.norm(x)


# --------------------------------------------------------------------------------------------
# SHR / CHI: hypothesis transformer (tokens = T frames, features = C)
# --------------------------------------------------------------------------------------------
class SHRBlock(nn.Module):
    """Self-hypothesis refinement: one MSA per hypothesis, then one shared MLP over the concatenation."""

    def __init__(self, dim, d_hid, heads, drop_path):
        super().__init__()
        self.norm1_1 = nn.LayerNorm(dim, eps=1e-6)
        self.norm1_2 = nn.LayerNorm(dim, eps=1e-6)
        self.norm1_3 = nn.LayerNorm(dim, eps=1e-6)
        self.attn_1 = Attention(dim, heads)
        self.attn_2 = Attention(dim, heads)
        self.attn_3 = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim * 3, eps=1e-6)
        self.mlp = Mlp(dim * 3, d_hid)
        self.drop_path = DropPath(drop_path)

    def forward(self, x1, x2, x3):  # each (B, T, C)
        x1 = x1 + self.drop_path(self.attn_1(self.norm1_1(x1)))
        x2 = x2 + self.drop_path(self.attn_2(self.norm1_2(x2)))
        x3 = x3 + self.drop_path(self.attn_3(self.norm1_3(x3)))
        return _shared_mlp(self, x1, x2, x3)


def _shared_mlp(block, x1, x2, x3):
    """Z = concat(x1,x2,x3); Z += MLP(LN(Z)); split back into three (B, T, C) streams."""
    c = x1.shape[-1]
    z = torch.cat([x1, x2, x3], dim=-1)
    z = z + block.drop_path(block.mlp(block.norm2(z)))
    return z[..., :c], z[..., c:2 * c], z[..., 2 * c:]


class CHIBlock(nn.Module):
    """Cross-hypothesis interaction. SEQUENTIAL: later lines see the already updated hypotheses."""

    def __init__(self, dim, d_hid, heads, drop_path):
        super().__init__()
        for i in (1, 2, 3):
            for j in (1, 2, 3):
                setattr(self, f"norm3_{i}{j}", nn.LayerNorm(dim, eps=1e-6))
        self.attn_1 = CrossAttention(dim, heads)
        self.attn_2 = CrossAttention(dim, heads)
        self.attn_3 = CrossAttention(dim, heads)
        self.norm2 = nn.LayerNorm(dim * 3, eps=1e-6)
        self.mlp = Mlp(dim * 3, d_hid)
        self.drop_path = DropPath(drop_path)

    def forward(self, x1, x2, x3):
        # (query, key, value) sources: (x2, x3, x1), (x1', x3, x2), (x1', x2', x3)
        x1 = x1 + self.drop_path(self.attn_1(self.norm3_11(x2), self.norm3_12(x3), self.norm3_13(x1)))
        x2 = x2 + self.drop_path(self.attn_2(self.norm3_21(x1), self.norm3_22(x3), self.norm3_23(x2)))
        x3 = x3 + self.drop_path(self.attn_3(self.norm3_31(x1), self.norm3_32(x2), self.norm3_33(x3)))
        return _shared_mlp(self, x1, x2, x3)


class HypothesisTransformer(nn.Module):
    """`layers-1` SHR blocks, exactly one CHI block, final LayerNorm over 3C."""

    def __init__(self, layers, channel, d_hid, frames, heads=8):
        super().__init__()
        self.pos_embed_1 = nn.Parameter(torch.zeros(1, frames, channel))
        self.pos_embed_2 = nn.Parameter(torch.zeros(1, frames, channel))
        self.pos_embed_3 = nn.Parameter(torch.zeros(1, frames, channel))
        self.pos_drop_1 = nn.Dropout(0.1)
        self.pos_drop_2 = nn.Dropout(0.1)
        self.pos_drop_3 = nn.Dropout(0.1)
        rates = [r.item() for r in torch.linspace(0, 0.2, layers)]
        self.SHR_blocks = nn.ModuleList(
            [SHRBlock(channel, d_hid, heads, rates[i]) for i in range(layers - 1)])
        self.CHI_blocks = nn.ModuleList([CHIBlock(channel, d_hid, heads, rates[layers - 1])])
        self.norm = nn.LayerNorm(channel * 3, eps=1e-6)

    def forward(self, x1, x2, x3, trace=None):
        x1 = self.pos_drop_1(x1 + self.pos_embed_1)
        x2 = self.pos_drop_2(x2 + self.pos_embed_2)
        x3 = self.pos_drop_3(x3 + self.pos_embed_3)
        for i, blk in enumerate(self.SHR_blocks):
            x1, x2, x3 = blk(x1, x2, x3)
            _record(trace, f"shr{i}_out", x1, x2, x3)
        x1, x2, x3 = self.CHI_blocks[0](x1, x2, x3)
        _record(trace, "chi_out", x1, x2, x3)
        return self.norm(torch.cat([x1, x2, x3], dim=-1))


def _record(trace, name, x1, x2, x3):
    if trace is not None:
        trace[f"{name}_x1"], trace[f"{name}_x2"], trace[f"{name}_x3"] = x1, x2, x3


# --------------------------------------------------------------------------------------------
# The full model
# --------------------------------------------------------------------------------------------
class MHFormer(nn.Module):
    def __init__(self, frames=27, channel=512, d_hid=1024, layers=3, n_joints=N_JOINTS):
        super().__init__()
        assert frames % 9 == 0 and frames % 2 == 1, "T must be odd and a multiple of 9"
        assert channel % 8 == 0, "channel must be a multiple of 8 (8 heads)"
        self.frames, self.channel, self.d_hid, self.layers = frames, channel, d_hid, layers
        self.n_joints = n_joints
        coords = 2 * n_joints
        self.norm_1 = nn.LayerNorm(frames)  # eps 1e-5 (QUIRK: every other LN uses 1e-6)
        self.norm_2 = nn.LayerNorm(frames)
        self.norm_3 = nn.LayerNorm(frames)
        self.Transformer_encoder_1 = Encoder(frames)
        self.Transformer_encoder_2 = Encoder(frames)
        self.Transformer_encoder_3 = Encoder(frames)
        for k in (1, 2, 3):
            setattr(self, f"embedding_{k}", self._embedding(frames, coords, channel))
        self.Transformer_hypothesis = HypothesisTransformer(layers, channel, d_hid, frames)
        self.regression = nn.Sequential(
            nn.BatchNorm1d(channel * 3, momentum=0.1),
            nn.Conv1d(channel * 3, 3 * n_joints, kernel_size=1),
        )

    @staticmethod
    def _embedding(frames, coords, channel):
        # The official code picks the variant by T: the 27-frame checkpoint has Conv+BN+ReLU+Dropout.
        if frames > 27:
            return nn.Conv1d(coords, channel, kernel_size=1)
        return nn.Sequential(
            nn.Conv1d(coords, channel, kernel_size=1),
            nn.BatchNorm1d(channel, momentum=0.1),
            nn.ReLU(inplace=True),
            nn.Dropout(0.25),
        )

    def forward(self, x, trace=None):
        """x: (B, T, J, 2) normalised 2D -> (B, T, J, 3) root-relative camera-frame metres.

        `trace`, if a dict, receives the intermediate activations under the fixture names.
        """
        b, t, j, _ = x.shape
        x0 = x.reshape(b, t, j * 2).permute(0, 2, 1).contiguous()  # (B, 34, T), row = 2j + c
        _put(trace, "mhg_in", x0)
        streams = []
        x_res = x0
        for k in (1, 2, 3):
            normed = getattr(self, f"norm_{k}")(x_res)
            enc = getattr(self, f"Transformer_encoder_{k}")(normed)
            x_res = x_res + enc  # residual stream X_k feeds both the next stage and embedding_k
            emb = getattr(self, f"embedding_{k}")(x_res)  # (B, C, T)
            _put(trace, f"mhg_norm_{k}", normed)
            _put(trace, f"mhg_encoder_{k}_out", enc)
            _put(trace, f"mhg_x{k}", x_res)
            _put(trace, f"embedding_{k}_out", emb)
            streams.append(emb.permute(0, 2, 1))  # (B, T, C)
        z = self.Transformer_hypothesis(*streams, trace=trace)  # (B, T, 3C)
        _put(trace, "hypothesis_out", z)
        r = self.regression(z.permute(0, 2, 1))  # (B, 51, T), channel = 3j + c
        _put(trace, "regression_out", r)
        y = r.permute(0, 2, 1).reshape(b, t, j, 3)
        _put(trace, "output", y)
        return y


def _put(trace, name, value):
    if trace is not None:
        trace[name] = value


def param_count(model):
    return sum(p.numel() for p in model.parameters())


# --------------------------------------------------------------------------------------------
# Demo pipeline (demo/vis.py), batched
# --------------------------------------------------------------------------------------------
def window_indices(n, frames):
    """(N, T) int64 source-frame index of every window position; clipping to [0, N-1] equals the
    official clipped window + 'edge' padding (the first/last frame repeated)."""
    pad = (frames - 1) // 2
    offsets = np.arange(-pad, pad + 1)
    return np.clip(np.arange(n)[:, None] + offsets[None, :], 0, n - 1)


def flip_pose(x):
    """Mirror x (..., J, C) about x=0 and swap left/right joints (works for 2D inputs and 3D outputs)."""
    out = x.clone() if torch.is_tensor(x) else x.copy()
    out[..., 0] *= -1
    out[..., JOINTS_LEFT + JOINTS_RIGHT, :] = out[..., JOINTS_RIGHT + JOINTS_LEFT, :]
    return out


@torch.no_grad()
def predict_windows(model, windows, flip=True, batch=256):
    """windows: (N, T, J, 2) float32 normalised -> (N, J, 3) middle-frame output, flip-averaged,
    root set to zero after averaging (as the demo)."""
    model.eval()
    pad = (windows.shape[1] - 1) // 2
    outs = []
    for s in range(0, len(windows), batch):
        x = torch.as_tensor(windows[s:s + batch])
        y = model(x)[:, pad]  # only the middle frame is used
        if flip:
            y = (y + flip_pose(model(flip_pose(x))[:, pad])) / 2
        outs.append(y)
    out = torch.cat(outs).numpy().astype(np.float32)
    out[:, 0, :] = 0.0
    return out


def demo_predict(model, kp_px, w, h, flip=True, batch=256):
    """kp_px: (N, 17, 2) pixels of a video of size w x h -> (N, 17, 3) root-relative camera-frame
    metres, one result per frame, exactly as the official demo computes it."""
    kp_n = normalize_screen(kp_px, w, h)
    windows = kp_n[window_indices(len(kp_n), model.frames)]  # (N, T, 17, 2)
    return predict_windows(model, windows, flip=flip, batch=batch)


# Display transform of the demo: H36M S1 camera 0 orientation (w, x, y, z), float32.
DEMO_ROT = np.array([0.1407056450843811, -0.1500701755285263, -0.755240797996521, 0.6223280429840088],
                    dtype=np.float32)


def qrot(q, v):
    """Rotate vectors v (..., 3) by the unit quaternion q (4,) = (w, x, y, z): v + 2(w(q×v) + q×(q×v))."""
    q = torch.as_tensor(q).expand(v.shape[:-1] + (4,))
    qvec = q[..., 1:]
    uv = torch.cross(qvec, v, dim=-1)
    uuv = torch.cross(qvec, uv, dim=-1)
    return v + 2 * (q[..., :1] * uv + uuv)


def camera_to_world_demo(pose_cam):
    """(N, 17, 3) camera frame -> the demo's display frame, with the lowest joint put on z=0."""
    world = qrot(torch.from_numpy(DEMO_ROT), torch.as_tensor(pose_cam, dtype=torch.float32)).numpy()
    world[..., 2] -= world[..., 2].min(axis=-1, keepdims=True)
    return world


def build_from_state_dict(sd):
    """Infer (frames, channel, d_hid, layers) from an official-format state dict and build the model."""
    frames = sd["norm_1.weight"].shape[0]
    channel = sd["Transformer_hypothesis.pos_embed_1"].shape[-1]
    d_hid = sd["Transformer_hypothesis.CHI_blocks.0.mlp.fc1.weight"].shape[0]
    shr = {k.split(".")[2] for k in sd if k.startswith("Transformer_hypothesis.SHR_blocks.")}
    model = MHFormer(frames=frames, channel=channel, d_hid=d_hid, layers=len(shr) + 1)
    model.load_state_dict({k: torch.as_tensor(v) for k, v in sd.items()}, strict=True)
    return model.eval()


if __name__ == "__main__":
    for t in (27, 81, 243, 351):
        m = MHFormer(frames=t)
        print(t, param_count(m), sum(b.numel() for b in m.buffers()), len(m.state_dict()))
