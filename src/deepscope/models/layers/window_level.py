"""Forecast from each window's own level (`data.series.relative: true`).

A network that reads scaled values can only answer in the range it was trained on, so a series that trends
out of that range (airline passengers in the test years) defeats it. Seen relative to its last value, every
window starts at 0 and the network forecasts the change from there; the level is added back to its output.
With `scale: log` the change is a ratio. The idea is the instance normalisation of RevIN (Kim et al., 2022)
with the last value as the reference, so the model starts from the naive forecast.

    level = WindowLevel("history", value_channels=1, target_channel=0, outputs=["Passengers"])
    batch, last = level.remove(batch)        # history (B, L, C): value channels minus their last value
    outputs = level.restore(outputs, last)   # forecasts (B, H) plus the target's last value
"""

from __future__ import annotations

import torch
from torch import nn

Batch = dict[str, torch.Tensor]


class WindowLevel(nn.Module):
    def __init__(self, input_name: str, *, value_channels: int, target_channel: int, outputs: list[str]):
        super().__init__()
        self.input_name, self.value_channels, self.target_channel = input_name, value_channels, target_channel
        self.outputs = list(outputs)

    def remove(self, batch: Batch) -> tuple[Batch, torch.Tensor]:
        """(batch with the window's value channels relative to their last step, the target's last value (B, 1))."""
        window = batch[self.input_name]  # (B, L, C): value channels first, then calendar covariates
        last = window[:, -1:, : self.value_channels]  # (B, 1, V)
        values = window[..., : self.value_channels] - last
        relative = torch.cat([values, window[..., self.value_channels:]], dim=-1)
        return {**batch, self.input_name: relative}, last[:, 0, self.target_channel : self.target_channel + 1]

    def restore(self, outputs: dict[str, torch.Tensor], level: torch.Tensor) -> dict[str, torch.Tensor]:
        return {name: out + level.to(out.dtype) if name in self.outputs else out for name, out in outputs.items()}
