"""Baselines for the model card: a single-frame MLP lifter (Martinez et al., ICCV 2017 style) and the
mean pose. Both take and return the MHFormer tensors, (B, T, 17, 2) -> (B, T, 17, 3), with
`frames = 1`, so mhformer.demo_predict (flip TTA, root zeroing) runs them unchanged."""
import torch
import torch.nn as nn


class ResidualBlock(nn.Module):
    """Two (Linear -> BatchNorm -> ReLU -> Dropout) layers with a skip connection."""

    def __init__(self, width, dropout):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Linear(width, width), nn.BatchNorm1d(width), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(width, width), nn.BatchNorm1d(width), nn.ReLU(), nn.Dropout(dropout),
        )

    def forward(self, x):
        return x + self.layers(x)


class MLPLifter(nn.Module):
    """34 normalised 2D coordinates of one frame -> 51 root-relative camera-frame coordinates."""

    frames = 1

    def __init__(self, width=1024, blocks=2, dropout=0.5, n_joints=17):
        super().__init__()
        self.inp = nn.Sequential(nn.Linear(2 * n_joints, width), nn.BatchNorm1d(width), nn.ReLU(),
                                 nn.Dropout(dropout))
        self.blocks = nn.Sequential(*[ResidualBlock(width, dropout) for _ in range(blocks)])
        self.out = nn.Linear(width, 3 * n_joints)

    def forward(self, x):  # (B, T, J, 2): every frame is lifted on its own
        b, t, j, _ = x.shape
        y = self.out(self.blocks(self.inp(x.reshape(b * t, j * 2))))
        return y.reshape(b, t, j, 3)


class MeanPose(nn.Module):
    """Predicts one fixed root-relative camera-frame pose (the training mean) whatever the input."""

    frames = 1

    def __init__(self, mean_pose):
        super().__init__()
        self.register_buffer("mean_pose", torch.as_tensor(mean_pose, dtype=torch.float32))  # (17, 3)

    def forward(self, x):
        b, t = x.shape[:2]
        return self.mean_pose.expand(b, t, -1, -1).clone()
