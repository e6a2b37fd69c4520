"""The same model on LitServe, with its own batching at the same maximum batch and wait as deepscope's.

    python bench/serving/litserve_app.py RUN PORT MAX_BATCH MAX_WAIT_MS     # MAX_BATCH 1: no batching
"""

from __future__ import annotations

import sys

import litserve as ls
import torch

from deepscope.models.saving import load_model


class ImageAPI(ls.LitAPI):
    def setup(self, device):
        saved = load_model(sys.argv[1])
        self.model = saved.model.eval()
        image = saved.inputs["image"]
        self.shape, self.scale = image.shape, image.fitted["scale"]
        self.mean = torch.tensor(image.fitted["mean"]).view(-1, 1, 1)
        self.std = torch.tensor(image.fitted["std"]).view(-1, 1, 1)
        self.output = next(iter(saved.outputs))

    def decode_request(self, request):
        return (torch.tensor(request["image"]).view(*self.shape) / self.scale - self.mean) / self.std

    def batch(self, inputs):
        return torch.stack(inputs)

    def predict(self, x):
        if x.ndim == 3:  # unbatched
            x = x.unsqueeze(0)
        with torch.inference_mode():
            return self.model({"image": x})[self.output].softmax(-1)

    def unbatch(self, output):
        return list(output)

    def encode_response(self, probabilities):
        probabilities = probabilities.reshape(-1)
        return {"label": int(probabilities.argmax()), "probabilities": probabilities.tolist()}


if __name__ == "__main__":
    max_batch, wait_ms = int(sys.argv[3]), float(sys.argv[4])
    api = ImageAPI(max_batch_size=max_batch, batch_timeout=wait_ms / 1000 if max_batch > 1 else 0.0)
    ls.LitServer(api, accelerator="cpu", workers_per_device=1).run(
        host="127.0.0.1", port=int(sys.argv[2]), log_level="warning", generate_client_file=False)
