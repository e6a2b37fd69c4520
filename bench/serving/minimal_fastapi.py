"""The reference a PyTorch user would write by hand: FastAPI + the model, no batching, nothing else.

    python bench/serving/minimal_fastapi.py RUN PORT

The same model and the same preprocessing as deepscope's (the fitted image normalisation), a JSON body
{"image": [784 floats]}; a sync endpoint, which FastAPI runs in its thread pool."""

from __future__ import annotations

import sys

import torch
import uvicorn
from fastapi import FastAPI
from pydantic import BaseModel

from deepscope.models.saving import load_model

saved = load_model(sys.argv[1])
model = saved.model.eval()
image = saved.inputs["image"]
shape = image.shape  # (C, H, W)
mean = torch.tensor(image.fitted["mean"]).view(1, -1, 1, 1)
std = torch.tensor(image.fitted["std"]).view(1, -1, 1, 1)
scale = image.fitted["scale"]
output = next(iter(saved.outputs))
app = FastAPI()


class Item(BaseModel):
    image: list[float]


@app.post("/predict")
def predict(item: Item) -> dict:
    x = (torch.tensor(item.image).view(1, *shape) / scale - mean) / std
    with torch.inference_mode():
        probabilities = model({"image": x})[output].softmax(-1)[0]
    return {"label": int(probabilities.argmax()), "probabilities": probabilities.tolist()}


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning", access_log=False)
